package infer

import "fmt"

// Dense is a fully connected layer: y = f(W·x + b).
type Dense struct {
	In, Out int
	// W holds the weights row-major, Out rows of In columns: W[o*In+i]
	// connects input i to output o.
	W []float32
	// B holds Out biases.
	B   []float32
	Act Activation
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
	dst = dst[:d.Out]
	denseF32(dst, d.W, x[:d.In], d.B, d.Act)
}

// Params returns the number of trainable parameters.
func (d *Dense) Params() int { return len(d.W) + len(d.B) }

// Shape returns (In, Out).
func (d *Dense) Shape() (int, int) { return d.In, d.Out }
