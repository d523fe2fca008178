package firmware_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
)

// Pack a one-channel model and load it back, ready to score.
func ExampleDecode() {
	m := &firmware.Model{
		Name: "demo", Kind: firmware.KindAutoencoder,
		Channels:  []firmware.Channel{{Name: "Pressure", Unit: "bar"}},
		Scaler:    firmware.Scaler{Kind: "standard", Center: []float32{1}, Scale: []float32{0.5}},
		Layers:    firmware.FromDense([]infer.Dense{{In: 1, Out: 1, W: []float32{0}, B: []float32{0}}}),
		Threshold: firmware.Threshold{Value: 9, Method: "mean+ksigma", K: 3},
	}
	data, err := firmware.Pack(m)
	if err != nil {
		panic(err)
	}
	l, err := firmware.Decode(data, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		panic(err)
	}
	score, _, _ := l.Autoencoder.Push([]float32{2.5}, nil) // z = 3, reconstructed as 0
	fmt.Println(l.Model.ChannelNames(), score, score > l.Model.Threshold.Value)
	// Output: [Pressure] 9 false
}
