package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTransformFiniteLengths runs transformFinite on every length from 1
// to 40 (the vector loop's blocks of eight and the tail) against
// Transform, bit for bit, and with one NaN, ±Inf or overflowing value
// placed at each position in turn, which must be reported.
func TestTransformFiniteLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32}
	for n := 1; n <= 40; n++ {
		s := Scaler{Center: make([]float32, n), Scale: make([]float32, n)}
		x := make([]float32, n)
		for i := range x {
			s.Center[i] = float32(r.NormFloat64())
			s.Scale[i] = float32(0.01 + r.Float64())
			x[i] = float32(10 * r.NormFloat64())
		}
		s.Scale[n-1] = 1e-3 // MaxFloat32 / 1e-3 overflows
		inv := s.reciprocals()
		want, got := make([]float32, n), make([]float32, n)
		s.Transform(want, x)
		if !s.transformFinite(got, x, inv) {
			t.Fatalf("n=%d: finite values reported as not finite", n)
		}
		if !sameSlices(got, want) {
			t.Fatalf("n=%d: transformFinite %v, Transform %v", n, got, want)
		}
		for at := range n {
			v := bad[r.IntN(len(bad))]
			if v == math.MaxFloat32 {
				at = n - 1
			}
			y := append([]float32(nil), x...)
			y[at] = v
			if s.transformFinite(got, y, inv) {
				t.Fatalf("n=%d: %v at %d reported finite", n, v, at)
			}
		}
	}
}

// TestScoreSums checks the score's error sums for channel counts that
// the vector loops take (multiples of eight) and that they do not,
// squared and absolute, against float64: each channel's contribution
// (its errors summed in sample order, then scaled) and the score.
func TestScoreSums(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 8))
	for _, c := range []int{1, 3, 8, 12, 16, 24, 480} {
		for _, win := range []int{1, 5} {
			for _, e := range []ErrorKind{SquaredError, AbsoluteError} {
				f := c * win
				ds := []Dense{randDense(r, f, 8, Tanh), randDense(r, 8, f, Linear)}
				a, err := NewAutoencoder(Config{Scaler: identityScaler(c), Features: FeatureSpec{Window: win, Stride: 1, Raw: true}, Layers: DenseLayers(ds), Error: e})
				if err != nil {
					t.Fatal(err)
				}
				x := make([]float32, f)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				recon := make([]float32, f)
				h := make([]float32, 8)
				ds[0].Forward(h, x)
				ds[1].Forward(recon, h)
				want := make([]float64, c)
				var total float64
				for i, v := range x {
					d := float64(recon[i] - v)
					err := d * d
					if e == AbsoluteError {
						err = math.Abs(d)
					}
					want[i%c] += err
					total += err
				}
				per := make([]float32, c)
				s := a.ScoreFeatures(x, per)
				s2 := a.ScoreFeatures(x, nil)
				if math.Float32bits(s) != math.Float32bits(s2) {
					t.Fatalf("c=%d window %d %v: score %v with contributions, %v without", c, win, e, s, s2)
				}
				if d := math.Abs(float64(s) - total/float64(f)); d > 1e-5*total/float64(f) {
					t.Fatalf("c=%d window %d %v: score %v, float64 %v", c, win, e, s, total/float64(f))
				}
				for ch := range per {
					w := want[ch] / float64(f)
					if d := math.Abs(float64(per[ch]) - w); d > 1e-5*w+1e-30 {
						t.Fatalf("c=%d window %d %v: channel %d gives %v, float64 %v", c, win, e, ch, per[ch], w)
					}
				}
			}
		}
	}
}
