package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// unfused is how the layers computed their output before the epilogue
// was fused into the kernels: the row sums (the dispatched gemv kernels),
// then a pass adding the bias (b + s·sum for int8), then a pass applying
// the activation.
func unfused(l Layer, x []float32) []float32 {
	_, out := l.Shape()
	y := make([]float32, out)
	switch d := l.(type) {
	case *Dense:
		gemv(y, d.W, d.In, x, d.In, false)
		for o, b := range d.B {
			y[o] += b
		}
		d.Act.Apply(y)
	case *DenseQ8:
		gemvQ8(y, d.Q, d.In, x, d.In, false)
		for o := range y {
			y[o] = d.B[o] + d.Scale[o]*y[o]
		}
		d.Act.Apply(y)
	case *DenseF16:
		gemvF16(y, d.H, d.In, x, d.In, false)
		for o, b := range d.B {
			y[o] += b
		}
		d.Act.Apply(y)
	}
	return y
}

// sameFloat reports whether a and b are the same float32: equal bits, or
// both NaN.
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestDenseFusedEpilogue checks the layers' fused bias, scale and
// activation against the unfused passes, bit for bit, for every
// activation and weight type, on shapes with fewer than eight columns,
// column tails, and row counts that are not a multiple of four; and
// against a float64 loop to float32 rounding. Some biases are ±0, ±Inf
// and NaN, and some rows all-zero, so that signed zeros and NaNs take the
// same path through both.
func TestDenseFusedEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 3))
	special := []float32{float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, rows := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 32} {
		for _, cols := range []int{1, 3, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 64, 96} {
			for _, act := range allActivations {
				d := randDense(r, cols, rows, act)
				if rows >= 5 {
					for i := range d.W[:cols] { // row 0: all zero
						d.W[i] = 0
					}
					d.B[0] = special[r.IntN(len(special))]
					d.B[rows-1] = special[r.IntN(len(special))]
				}
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				q, h := Quantize(&d), ToHalf(&d)
				for _, k := range []struct {
					name   string
					l      Layer
					weight func(o, i int) float64
				}{
					{"float32", &d, func(o, i int) float64 { return float64(d.W[o*cols+i]) }},
					{"int8", q, func(o, i int) float64 { return float64(q.Scale[o]) * float64(q.Q[o*cols+i]) }},
					{"binary16", h, func(o, i int) float64 { return float64(HalfToFloat32(h.H[o*cols+i])) }},
				} {
					got := make([]float32, rows)
					for i := range got {
						got[i] = 42 // every output is written
					}
					k.l.Forward(got, x)
					want := unfused(k.l, x)
					for o := range got {
						if !sameFloat(got[o], want[o]) {
							t.Fatalf("%s %d→%d %v: y[%d] = %v, unfused %v", k.name, cols, rows, act, o, got[o], want[o])
						}
						s, mag := float64(d.B[o]), math.Abs(float64(d.B[o]))
						for i := range x {
							s += k.weight(o, i) * float64(x[i])
							mag += math.Abs(k.weight(o, i) * float64(x[i]))
						}
						ref := []float32{float32(s)}
						act.Apply(ref)
						if diff := math.Abs(float64(got[o] - ref[0])); !sameFloat(got[o], ref[0]) && !(diff <= 1e-5*mag) {
							t.Fatalf("%s %d→%d %v: y[%d] = %v, float64 %v", k.name, cols, rows, act, o, got[o], ref[0])
						}
					}
				}
			}
		}
	}
}

// TestDenseForwardAllocs: the layers' Forward allocates nothing, on a
// shape with a column tail and a row remainder, on a whole one, and
// prepared for the column kernels with a block remainder.
func TestDenseForwardAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{13, 7}, {32, 16}, {130, 100}} {
		d := randDense(r, sh[0], sh[1], Tanh)
		x, y := make([]float32, sh[0]), make([]float32, sh[1])
		for _, l := range []Layer{&d, Quantize(&d), ToHalf(&d)} {
			if p, ok := l.(interface{ Prepare() }); ok {
				p.Prepare()
			}
			if a := testing.AllocsPerRun(100, func() { l.Forward(y, x) }); a != 0 {
				t.Errorf("%T %d→%d: %v allocs per Forward, want 0", l, sh[0], sh[1], a)
			}
		}
	}
}
