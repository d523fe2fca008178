package infer

import (
	"fmt"
	"math"
	"unsafe"
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

	packed unsafe.Pointer // *colPlan[int8], stored by Prepare; read atomically
}

// Quantize returns d with its weights quantised to int8, one scale per
// output row chosen so the row's largest magnitude maps to 127.
func Quantize(d *Dense) *DenseQ8 {
	q, scale := quantizeRows(d.W, d.Out, func(i int) int { return i / d.In })
	return &DenseQ8{In: d.In, Out: d.Out, Q: q, Scale: scale, B: append([]float32(nil), d.B...), Act: d.Act}
}

// QuantizeLayer returns l with int8 weights and a float32 scale per output
// channel: a DenseQ8 for a Dense, a convolution with Q and Scale for a
// float32 convolution. Layers already quantised come back as they are.
func QuantizeLayer(l Layer) Layer {
	switch c := l.(type) {
	case *Dense:
		return Quantize(c)
	case *Conv1D:
		if len(c.W) == 0 {
			return c
		}
		per := c.Kernel * c.InChannels
		q := *c
		q.Q, q.Scale = quantizeRows(c.W, c.OutChannels, func(i int) int { return i / per })
		q.W = nil
		return &q
	case *ConvTranspose1D:
		if len(c.W) == 0 {
			return c
		}
		q := *c
		q.Q, q.Scale = quantizeRows(c.W, c.OutChannels, func(i int) int { return i / c.InChannels % c.OutChannels })
		q.W = nil
		return &q
	}
	return l
}

// quantizeRows quantises w symmetrically to int8 with one scale per
// output: group(i) names the output weight i belongs to, and each output's
// largest magnitude maps to 127 (an all-zero output gets scale 1).
func quantizeRows(w []float32, outputs int, group func(i int) int) ([]int8, []float32) {
	peak := make([]float32, outputs)
	for i, v := range w {
		g := group(i)
		peak[g] = max(peak[g], float32(math.Abs(float64(v))))
	}
	scale := make([]float32, outputs)
	for o, m := range peak {
		scale[o] = 1
		if m > 0 {
			scale[o] = m / 127
		}
	}
	q := make([]int8, len(w))
	for i, v := range w {
		r := math.Round(float64(v / scale[group(i)]))
		q[i] = int8(max(-127, min(127, r)))
	}
	return q, scale
}

// Shape returns (In, Out).
func (d *DenseQ8) Shape() (int, int) { return d.In, d.Out }

// Params returns the number of stored parameters (weights, scales, biases).
func (d *DenseQ8) Params() int { return len(d.Q) + len(d.Scale) + len(d.B) }

// Validate checks the layer's dimensions, scales and activation.
func (d *DenseQ8) Validate() error {
	switch {
	case !sizeOK(MaxVector, d.In) || !sizeOK(MaxVector, d.Out) || !sizeOK(MaxWeights, d.In, d.Out):
		return fmt.Errorf("dense-q8 %d→%d: sizes must be positive, at most %d, with at most %d weights", d.In, d.Out, MaxVector, MaxWeights)
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
	dst, x = dst[:d.Out], x[:d.In]
	r := 0
	if p := loadCols(&d.packed, d.Q, d.In, d.Out); p != nil {
		r = denseColsQ8(dst, p, x, d.B, d.Scale, d.Act)
	}
	if r < d.Out {
		denseQ8(dst[r:], d.Q[r*d.In:], x, d.B[r:], d.Scale[r:], d.Act)
	}
}

// Prepare packs the weights for the column kernels as Dense.Prepare
// does.
func (d *DenseQ8) Prepare() {
	if d.Validate() == nil {
		prepareCols(&d.packed, d.Q, d.In, d.Out, useCols)
	}
}
