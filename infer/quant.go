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
	x = x[:d.In]
	dst = dst[:d.Out]
	for o := range dst {
		dst[o] = d.B[o] + d.Scale[o]*dotQ8(d.Q[o*d.In:o*d.In+d.In], x)
	}
	d.Act.Apply(dst)
}

// dotQ8 returns Σ q[i]·x[i], dequantising on the fly, in four sums.
func dotQ8(q []int8, x []float32) float32 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += float32(q[i]) * x[i]
		s1 += float32(q[i+1]) * x[i+1]
		s2 += float32(q[i+2]) * x[i+2]
		s3 += float32(q[i+3]) * x[i+3]
	}
	for ; i < len(q); i++ {
		s0 += float32(q[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
