package infer_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/infer"
)

// A one-layer linear autoencoder that reconstructs channel 0 and loses
// channel 1: the error, and so the attribution, is all channel 1's.
func ExampleAutoencoder_Push() {
	scaler := infer.Scaler{Center: []float32{10, 5}, Scale: []float32{2, 1}}
	layer := infer.Dense{In: 2, Out: 2, W: []float32{1, 0, 0, 0}, B: []float32{0, 0}, Act: infer.Linear}
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: scaler, Layers: []infer.Layer{&layer}})
	if err != nil {
		panic(err)
	}
	per := make([]float32, 2)
	score, _, _ := ae.Push([]float32{12, 7}, per)
	top := infer.TopShares(make([]infer.Share, 0, 2), per)
	fmt.Printf("score %.1f, channel %d has %.0f%%\n", score, top[0].Channel, 100*top[0].Share)
	// Output: score 2.0, channel 1 has 100%
}
