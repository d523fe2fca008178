package plots

import (
	"bytes"
	"image/png"
	"slices"
	"time"

	"gonum.org/v1/plot/vg/vgimg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// isPNG checks that path is a PNG of the figures' size and returns how
// many of its pixels have the threshold's red.
func isPNG(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	w, h := int(Width.Dots(vgimg.DefaultDPI)+0.5), int(Height.Dots(vgimg.DefaultDPI)+0.5)
	if bd := img.Bounds(); bd.Dx() != w || bd.Dy() != h {
		t.Errorf("%s: %v, want %d×%d", path, bd, w, h)
	}
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r>>8 == uint32(red.R) && g>>8 == uint32(red.G) && b>>8 == uint32(red.B) {
				n++
			}
		}
	}
	return n
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
	alarm := make([]bool, len(scores))
	times := make([]time.Time, len(scores))
	for i := range scores {
		alarm[i] = i >= 305 && i < 410
		times[i] = time.Date(2020, 3, 9, 10, 14, 33, 0, time.UTC).Add(time.Duration(i) * time.Second)
	}
	huge := slices.Clone(scores)
	huge[350] = 1e6
	steps := []struct {
		name string
		draw func(path string) error
	}{
		{"hist.png", func(p string) error { return Histogram(p, normal, anomalous, 3) }},
		{"loss.png", func(p string) error {
			return Losses(p, []float64{1, 0.5, 0.3, 0.31}, []float64{1.1, 0.6, 0.35, 0.4}, 3)
		}},
		{"curves.png", func(p string) error { return Curves(p, scores, labels, 3) }},
		{"timeline.png", func(p string) error {
			return Timeline(p, Series{Title: "valve1/0.csv", Scores: scores, Labels: labels, Alarm: alarm, Times: times, Threshold: 3, Train: 100})
		}},
		{"timeline-index.png", func(p string) error {
			return Timeline(p, Series{Title: "no times, one huge score", Scores: huge, Threshold: 3})
		}},
		{"attribution.png", func(p string) error {
			return Attribution(p, []string{"Pressure", "Current", "Flow"}, []float64{0.6, 0.3, 0.1})
		}},
	}
	for _, s := range steps {
		p := filepath.Join(dir, s.name)
		if err := s.draw(p); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		// The threshold (a red line, or the operating point) is drawn
		// inside the frame of every figure that has one.
		if n := isPNG(t, p); n < 20 && s.name != "loss.png" && s.name != "attribution.png" {
			t.Errorf("%s: %d pixels of the threshold's red, want the threshold in view", s.name, n)
		}
	}
	// The operating point and the AUCs match the scores.
	roc, pr, _ := curvePoints(scores, labels)
	if a := area(roc, false); a < 0.95 || a > 1 {
		t.Errorf("ROC AUC %.3f, want about 0.98 for scores shifted by 4", a)
	}
	if a := area(pr, true); a < 0.85 || a > 1 {
		t.Errorf("PR AUC %.3f", a)
	}
	op, base := operatingPoint(scores, labels, 3)
	if base != 100.0/599 || op[0].Y < 0.9 || op[0].X > 0.1 {
		t.Errorf("operating point %v, base %v", op, base)
	}
	bad := []func() error{
		func() error { return Histogram(filepath.Join(dir, "x.png"), nil, anomalous, 1) },
		func() error { return Losses(filepath.Join(dir, "x.png"), []float64{1}, nil, 1) },
		func() error { return Curves(filepath.Join(dir, "x.png"), scores[:10], labels[:10], 1) },
		func() error {
			return Timeline(filepath.Join(dir, "x.png"), Series{Scores: scores, Labels: labels[:3], Threshold: 1})
		},
		func() error { return Timeline(filepath.Join(dir, "x.png"), Series{Scores: scores, Threshold: 0}) },
		func() error {
			return Timeline(filepath.Join(dir, "x.png"), Series{Scores: scores, Times: times[:2], Threshold: 1})
		},
		func() error { return Attribution(filepath.Join(dir, "x.png"), []string{"a"}, nil) },
		func() error { return Histogram(filepath.Join(dir, "no", "such", "dir.png"), normal, nil, 1) },
	}
	for i, f := range bad {
		if f() == nil {
			t.Errorf("bad case %d drew a figure", i)
		}
	}
}
