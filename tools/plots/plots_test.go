package plots

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func isPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 5000 {
		t.Errorf("%s: %d bytes, not a drawn PNG", path, len(b))
	}
}

func TestFigures(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 1))
	var normal, anomalous, scores []float64
	var labels []uint8
	for i := 0; i < 600; i++ {
		s := r.ExpFloat64()
		l := uint8(0)
		if i >= 300 && i < 400 {
			s += 4
			l = 1
			anomalous = append(anomalous, s)
		} else {
			normal = append(normal, s)
		}
		scores, labels = append(scores, s), append(labels, l)
	}
	scores[5] = math.NaN() // before the first score, as replays give
	steps := []struct {
		name string
		draw func(path string) error
	}{
		{"hist.png", func(p string) error { return Histogram(p, normal, anomalous, 3) }},
		{"loss.png", func(p string) error {
			return Losses(p, []float64{1, 0.5, 0.3, 0.31}, []float64{1.1, 0.6, 0.35, 0.4}, 3)
		}},
		{"curves.png", func(p string) error { return Curves(p, scores, labels) }},
		{"timeline.png", func(p string) error { return Timeline(p, "valve1/0.csv", scores, labels, 3) }},
		{"attribution.png", func(p string) error {
			return Attribution(p, []string{"Pressure", "Current", "Flow"}, []float64{0.6, 0.3, 0.1})
		}},
	}
	for _, s := range steps {
		p := filepath.Join(dir, s.name)
		if err := s.draw(p); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		isPNG(t, p)
	}
	bad := []func() error{
		func() error { return Histogram(filepath.Join(dir, "x.png"), nil, anomalous, 1) },
		func() error { return Losses(filepath.Join(dir, "x.png"), []float64{1}, nil, 1) },
		func() error { return Curves(filepath.Join(dir, "x.png"), scores[:10], labels[:10]) },
		func() error { return Timeline(filepath.Join(dir, "x.png"), "", scores, labels[:3], 1) },
		func() error { return Attribution(filepath.Join(dir, "x.png"), []string{"a"}, nil) },
		func() error { return Histogram(filepath.Join(dir, "no", "such", "dir.png"), normal, nil, 1) },
	}
	for i, f := range bad {
		if f() == nil {
			t.Errorf("bad case %d drew a figure", i)
		}
	}
}
