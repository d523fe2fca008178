package firmware

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/vigil-edge/vigil/infer/train"
)

// TestFromFit: a trained recipe becomes a model file that packs, loads
// and keeps what training learnt; the scaler names agree with train's.
func TestFromFit(t *testing.T) {
	if train.ScalerRobust != ScalerRobust || train.ScalerStandard != ScalerStandard || train.ScalerMinMax != ScalerMinMax {
		t.Fatal("train's scaler names differ from the model file's")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rec := &train.Recording{Channels: []string{"a", "b"}, Units: []string{"bar", ""}, Sources: []string{"r.csv"}, Digest: "d1"}
	for i := range 400 {
		x := rng.NormFloat64()
		rec.Rows = append(rec.Rows, []float32{float32(x), float32(2*x + 0.1*rng.NormFloat64() + float64(i%3))})
	}
	r := train.DefaultRecipe()
	r.Options.Epochs = 5
	fit, err := r.Fit(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromFit(fit)
	if err != nil {
		t.Fatal(err)
	}
	m.Name, m.Version = "t", 3
	b, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	got := l.Model
	if got.Threshold.Value != float32(fit.Calibration.Threshold) || int(got.Decision.K) != fit.K || got.Scaler.Kind != ScalerRobust ||
		got.Channels[0] != (Channel{Name: "a", Unit: "bar"}) || got.Training.Rows != 400 || got.Training.DatasetDigest != "d1" ||
		got.Training.Tool != "vigil train" || got.Kind != KindAutoencoder || got.Features.Window != 5 {
		t.Errorf("model %+v from fit", got)
	}
}
