package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
)

// Train on rows where channel 1 follows channel 0, calibrate a threshold,
// and score a row that breaks the relation.
func ExampleAutoencoder() {
	r := rand.New(rand.NewPCG(1, 1))
	rows := make([][]float32, 2000)
	for i := range rows {
		a := float32(r.NormFloat64())
		rows[i] = []float32{a, a + 0.05*float32(r.NormFloat64())}
	}
	o := train.DefaultOptions
	o.Hidden = []int{8, 1, 8}
	res, err := train.Autoencoder(context.Background(), rows, o)
	if err != nil {
		panic(err)
	}
	cal, _ := train.MeanKSigma(res.ValScores, 3)
	ae, _ := infer.NewAutoencoder(infer.Config{Scaler: infer.Scaler{Center: []float32{0, 0}, Scale: []float32{1, 1}}, Layers: res.Layers})
	normal := ae.ScoreFeatures([]float32{1, 1}, nil)
	broken := ae.ScoreFeatures([]float32{1, -1}, nil)
	fmt.Println(float64(normal) < cal.Threshold, float64(broken) > cal.Threshold)
	// Output: true true
}
