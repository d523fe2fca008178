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

// A temperature that warms up during the training rows gets a wide scale;
// the vibration channel, noise around a steady level, keeps its own.
func ExampleWidenSlow() {
	rows := make([][]float32, 400)
	for i := range rows {
		vibration := float32(i%7) * 0.01 // fast and steady
		temperature := 40 + float32(i)*0.02
		rows[i] = []float32{vibration, temperature}
	}
	s, _ := infer.FitStandard(rows)
	share, _ := train.Slowness(rows, 10)
	widened, _ := train.WidenSlow(s, rows, 10, 0.45, 50)
	fmt.Printf("slowness %.2f %.2f, widened %v\n", share[0], share[1], widened)
	// Output: slowness 0.03 1.00, widened [1]
}
