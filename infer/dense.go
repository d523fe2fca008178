package infer

import (
	"fmt"
	"unsafe"
)

// Dense is a fully connected layer: y = f(W·x + b).
type Dense struct {
	In, Out int
	// W holds the weights row-major, Out rows of In columns: W[o*In+i]
	// connects input i to output o.
	W []float32
	// B holds Out biases.
	B   []float32
	Act Activation

	packed unsafe.Pointer // *colPlan[float32], stored by Prepare; read atomically
}

// Validate checks the layer's dimensions and activation.
func (d *Dense) Validate() error {
	switch {
	case !sizeOK(MaxVector, d.In) || !sizeOK(MaxVector, d.Out) || !sizeOK(MaxWeights, d.In, d.Out):
		return fmt.Errorf("dense %d→%d: sizes must be positive, at most %d, with at most %d weights", d.In, d.Out, MaxVector, MaxWeights)
	case len(d.W) != d.In*d.Out:
		return fmt.Errorf("dense %d→%d: %d weights, want %d", d.In, d.Out, len(d.W), d.In*d.Out)
	case len(d.B) != d.Out:
		return fmt.Errorf("dense %d→%d: %d biases, want %d", d.In, d.Out, len(d.B), d.Out)
	case !d.Act.Valid():
		return fmt.Errorf("dense %d→%d: invalid activation %v", d.In, d.Out, d.Act)
	}
	return nil
}

// Forward writes f(W·x + b) into dst. len(x) must be d.In and len(dst)
// d.Out; dst and x must not overlap.
func (d *Dense) Forward(dst, x []float32) {
	dst, x = dst[:d.Out], x[:d.In]
	r := 0
	if p := loadCols(&d.packed, d.W, d.In, d.Out); p != nil {
		r = denseColsF32(dst, p, x, d.B, d.Act)
	}
	if r < d.Out {
		denseF32(dst[r:], d.W[r*d.In:], x, d.B[r:], d.Act)
	}
}

// Prepare packs the weights of a layer with at least 64 outputs for the
// column kernels, where the build has them (amd64 with AVX2 and FMA,
// arm64): each weight and input is then read once per 64 outputs, and
// no horizontal sums are needed. On the 480→128→32→128→480 window model
// the layers take 0.5× (short rows) to 1.0× (the large float32 ones,
// bound by streaming their weights from L2) the row kernels' time.
// The packing takes as much memory as W. Each output is then summed in
// column order rather than the row kernels' order, so its last bits can
// differ.
//
// NewAutoencoder prepares its layers. A layer used on its own should be
// prepared once before Forward, and again after W changes in place:
// until then Forward computes with the old weights. Without a packing,
// or when W or the shape were replaced since, Forward runs the row
// kernels: the same results to rounding. A layer that does not validate
// is left unprepared. Prepare is safe to call while other goroutines
// call Forward or Prepare on the layer, as ConvTranspose1D.Prepare is.
func (d *Dense) Prepare() {
	if d.Validate() == nil {
		prepareCols(&d.packed, d.W, d.In, d.Out, useCols)
	}
}

// Params returns the number of trainable parameters.
func (d *Dense) Params() int { return len(d.W) + len(d.B) }

// Shape returns (In, Out).
func (d *Dense) Shape() (int, int) { return d.In, d.Out }
