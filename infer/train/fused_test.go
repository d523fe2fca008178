package train

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

// config is the infer configuration of a fitted model.
func config(f *Fitted) infer.Config {
	return infer.Config{Scaler: *f.Scaler, Features: f.Features, Layers: f.Result.Layers, Decoder: f.Result.Decoder,
		KLWeight: f.Result.KLWeight, Error: f.Error}
}

// Debounce calibrates a multi-scale model on its fused scores: on the
// validation rows, scored independently here, the pair it returns never
// has k of n scores above the threshold, and k is the least that holds
// for that n. Rows that are not normal and segment starts restart the
// windows.
func TestDebounce(t *testing.T) {
	rec := pumpRecording(t, 600)
	rec.Segments = []Segment{{0, 350}, {350, 600}}
	rec.Normal = make([]bool, len(rec.Rows))
	for i := range rec.Normal {
		rec.Normal[i] = i < 100 || i >= 104
	}
	short, long := DefaultRecipe(), DefaultRecipe()
	short.Options.Epochs, long.Options.Epochs = 5, 5
	long.Features.Window = 20
	fs, err := short.Fit(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := long.Fit(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := config(fs)
	c.Norm = float32(fs.Calibration.Threshold)
	c.Members = []infer.Member{{Config: config(fl), Norm: float32(fl.Calibration.Threshold)}}
	ae, err := infer.NewAutoencoder(c)
	if err != nil {
		t.Fatal(err)
	}
	// A threshold below the fused scores' typical level, so that the
	// debounce has work to do.
	const threshold = 0.6
	k, n, err := short.Debounce(ae, rec, threshold)
	if err != nil {
		t.Fatal(err)
	}
	// The validation rows: the last fifth of the 596 normal rows, 119,
	// all in the second segment (rows 481–599).
	var above []bool
	for i, r := range rec.Rows[350:] {
		s, ready, err := ae.Push(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ready && 350+i >= 481 {
			above = append(above, !(s <= threshold))
		}
	}
	most := func(n int) int { // most scores above in any n in a row
		m := 0
		for i := range above {
			c := 0
			for j := i; j < min(i+n, len(above)); j++ {
				if above[j] {
					c++
				}
			}
			m = max(m, c)
		}
		return m
	}
	if len(above) != 119 || k < 1 || k > n || n > maxDebounce {
		t.Fatalf("%d validation scores; k %d of n %d", len(above), k, n)
	}
	if m := most(n); m >= k && !(k == maxDebounce && n == maxDebounce) {
		t.Errorf("k %d of n %d: %d of %d scores in a row are above %v on the validation rows", k, n, m, n, threshold)
	}
	if k > 1 && most(n) < k-1 {
		t.Errorf("k %d of n %d is not the least k: at most %d in %d are above", k, n, most(n), n)
	}
	if most(1) == 0 {
		t.Errorf("no validation score is above %v: the test does not test the debounce", threshold)
	}
	t.Logf("k %d of n %d; %d of %d validation scores above %v", k, n, most(len(above)), len(above), threshold)

	// A window longer than every run of normal rows scores nothing.
	few := &Recording{Channels: rec.Channels, Rows: rec.Rows[:40], Segments: []Segment{{0, 10}, {10, 20}, {20, 30}, {30, 40}}}
	if _, _, err := short.Debounce(ae, few, threshold); err == nil || !strings.Contains(err.Error(), "scored none of the 8 validation rows") {
		t.Errorf("runs shorter than the window: %v", err)
	}
}
