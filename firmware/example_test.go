package firmware_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
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

// Sign a packed model with a release key, then load it on a gateway that
// trusts only that key's public half (read from its key file in
// practice: ReadPublicKeyFile), and check it fits the installation before
// installing it.
func ExampleSign() {
	m := &firmware.Model{
		Name: "demo", Version: 2, Kind: firmware.KindAutoencoder,
		Channels:  []firmware.Channel{{Name: "Pressure", Unit: "bar"}},
		Scaler:    firmware.Scaler{Kind: "standard", Center: []float32{1}, Scale: []float32{0.5}},
		Layers:    firmware.FromDense([]infer.Dense{{In: 1, Out: 1, W: []float32{0}, B: []float32{0}}}),
		Threshold: firmware.Threshold{Value: 9, Method: "mean+ksigma", K: 3},
	}
	packed, err := firmware.Pack(m)
	if err != nil {
		panic(err)
	}
	// A fixed seed keeps the example's output stable; use nil (crypto/rand).
	pub, priv, err := firmware.GenerateKey("release", bytes.NewReader(make([]byte, 32)))
	if err != nil {
		panic(err)
	}
	signed, err := firmware.Sign(packed, priv)
	if err != nil {
		panic(err)
	}

	l, err := firmware.Decode(signed, firmware.LoadOptions{Trusted: []firmware.PublicKey{pub}})
	if err != nil {
		panic(err)
	}
	fmt.Println("format", l.Format, "signed by", l.Signer, "key", l.KeyID)
	err = l.Compatible(firmware.Compat{Channels: []string{"Pressure"}, Units: map[string]string{"Pressure": "bar"}, Installed: &firmware.Model{Version: 1}})
	fmt.Println("compatible:", err)

	// The same file on a gateway that trusts another key, and then with a
	// byte of the model changed.
	_, other, _ := firmware.GenerateKey("lab", nil)
	_, err = firmware.Decode(signed, firmware.LoadOptions{Trusted: []firmware.PublicKey{other.Public()}})
	fmt.Println(errors.Is(err, firmware.ErrUntrustedKey))
	signed[len(signed)/2] ^= 1
	_, err = firmware.Decode(signed, firmware.LoadOptions{Trusted: []firmware.PublicKey{pub}})
	fmt.Println(errors.Is(err, firmware.ErrDamaged), errors.Is(err, firmware.ErrBadSignature))
	// Output:
	// format 2 signed by release key 139e3940e64b5491
	// compatible: <nil>
	// true
	// true true
}

// Learn a multi-scale model from a recording: the default 5-sample
// network and a 20-sample one, fused on score over threshold, with the
// k-of-n debounce calibrated on the fused score; then pack it.
func ExampleFitModel() {
	r := rand.New(rand.NewPCG(3, 3))
	rec := &train.Recording{Channels: []string{"Pressure", "Flow"}}
	for i := range 600 {
		p := float32(math.Sin(float64(i)/20)) + 0.05*float32(r.NormFloat64())
		rec.Rows = append(rec.Rows, []float32{p, 2*p + 0.05*float32(r.NormFloat64())})
	}
	short := train.DefaultRecipe()
	short.Options.Epochs = 5
	long := short
	long.Features.Window = 20
	m, _, err := firmware.FitModel(context.Background(), &short, []train.Recipe{long}, rec, nil)
	if err != nil {
		panic(err)
	}
	data, err := firmware.Pack(m)
	if err != nil {
		panic(err)
	}
	l, err := firmware.Decode(data, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(l.Model.Members), l.Model.Threshold.Method, l.Model.Threshold.Value, l.Model.Decision.K >= 1)
	// Output: 1 fused: mean of score/threshold 1 true
}
