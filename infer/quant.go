package infer

import (
	"fmt"
	"math"
)

// DenseQ8 is a Dense layer whose weights are stored as int8 with one
// float32 scale per output (symmetric, weight-only quantisation):
// W[o][i] ≈ Scale[o] · Q[o*In+i]. Inputs, biases and outputs stay float32.
// It needs a quarter of the memory of Dense.
type DenseQ8 struct {
	In, Out int
	Q       []int8    // Out rows of In quantised weights
	Scale   []float32 // Out per-row scales
	B       []float32 // Out biases
	Act     Activation
}

// Quantize returns d with its weights quantised to int8, one scale per
// output row chosen so the row's largest magnitude maps to 127.
func Quantize(d *Dense) *DenseQ8 {
	q := &DenseQ8{In: d.In, Out: d.Out, Q: make([]int8, len(d.W)), Scale: make([]float32, d.Out),
		B: append([]float32(nil), d.B...), Act: d.Act}
	for o := 0; o < d.Out; o++ {
		row := d.W[o*d.In : (o+1)*d.In]
		var m float32
		for _, w := range row {
			m = max(m, float32(math.Abs(float64(w))))
		}
		if m == 0 {
			q.Scale[o] = 1
			continue
		}
		s := m / 127
		q.Scale[o] = s
		for i, w := range row {
			v := math.Round(float64(w / s))
			q.Q[o*d.In+i] = int8(max(-127, min(127, v)))
		}
	}
	return q
}

// Shape returns (In, Out).
func (d *DenseQ8) Shape() (int, int) { return d.In, d.Out }

// Params returns the number of stored parameters (weights, scales, biases).
func (d *DenseQ8) Params() int { return len(d.Q) + len(d.Scale) + len(d.B) }

// Validate checks the layer's dimensions, scales and activation.
func (d *DenseQ8) Validate() error {
	switch {
	case d.In <= 0 || d.Out <= 0:
		return fmt.Errorf("dense-q8 %d→%d: sizes must be positive", d.In, d.Out)
	case len(d.Q) != d.In*d.Out:
		return fmt.Errorf("dense-q8 %d→%d: %d weights, want %d", d.In, d.Out, len(d.Q), d.In*d.Out)
	case len(d.Scale) != d.Out || len(d.B) != d.Out:
		return fmt.Errorf("dense-q8 %d→%d: %d scales and %d biases, want %d of each", d.In, d.Out, len(d.Scale), len(d.B), d.Out)
	case !d.Act.Valid():
		return fmt.Errorf("dense-q8 %d→%d: invalid activation %v", d.In, d.Out, d.Act)
	}
	for o, s := range d.Scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("dense-q8 %d→%d: scale %d is %v, want a positive finite number", d.In, d.Out, o, s)
		}
	}
	return nil
}

// Forward writes f(Scale·(Q·x) + b) into dst.
func (d *DenseQ8) Forward(dst, x []float32) {
	dst = dst[:d.Out]
	gemvQ8(dst, d.Q, d.In, x[:d.In], d.In, false)
	scale, bias := d.Scale[:len(dst)], d.B[:len(dst)]
	for o := range dst {
		dst[o] = bias[o] + scale[o]*dst[o]
	}
	d.Act.Apply(dst)
}
