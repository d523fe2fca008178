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
	case d.In <= 0 || d.Out <= 0:
		return fmt.Errorf("dense %d→%d: sizes must be positive", d.In, d.Out)
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
	x = x[:d.In]
	dst = dst[:d.Out]
	for o := range dst {
		dst[o] = d.B[o] + dot(d.W[o*d.In:o*d.In+d.In], x)
	}
	d.Act.Apply(dst)
}

// Params returns the number of trainable parameters.
func (d *Dense) Params() int { return len(d.W) + len(d.B) }

// Shape returns (In, Out).
func (d *Dense) Shape() (int, int) { return d.In, d.Out }

// dot returns Σ a[i]·b[i] over len(a) elements, accumulating in four
// independent sums so the loop is not bound by one add's latency.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
