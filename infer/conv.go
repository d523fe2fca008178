package infer

import "fmt"

// Conv1D is a one-dimensional convolution over the time axis of a window.
// Its input is Length time steps of InChannels values, time-major
// (x[t*InChannels+c], the layout of a raw FeatureSpec window); its output
// is OutLength() steps of OutChannels values, also time-major:
//
//	y[t][o] = f(B[o] + Σ_k Σ_c W[o][k][c] · x[t·Stride − Padding + k][c])
//
// with zeros outside the input (as PyTorch's Conv1d with zero padding).
// W holds OutChannels × Kernel × InChannels weights in that order.
type Conv1D struct {
	InChannels, OutChannels int
	Kernel, Stride, Padding int
	Length                  int // input time steps
	W                       []float32
	B                       []float32
	Act                     Activation
}

// OutLength returns the number of output time steps.
func (c *Conv1D) OutLength() int {
	return (c.Length+2*c.Padding-c.Kernel)/max(c.Stride, 1) + 1
}

// Shape returns the flattened input and output lengths.
func (c *Conv1D) Shape() (int, int) { return c.Length * c.InChannels, c.OutLength() * c.OutChannels }

// Params returns the number of weights and biases.
func (c *Conv1D) Params() int { return len(c.W) + len(c.B) }

// Validate checks sizes, weights and activation.
func (c *Conv1D) Validate() error {
	return validateConv("conv1d", c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding, c.Length, len(c.W), len(c.B), c.Act,
		c.Length+2*c.Padding >= c.Kernel)
}

func validateConv(kind string, in, out, k, s, p, l, w, b int, act Activation, fits bool) error {
	switch {
	case in <= 0 || out <= 0 || k <= 0 || s <= 0 || p < 0 || l <= 0:
		return fmt.Errorf("%s: channels %d→%d, kernel %d, stride %d, padding %d, length %d: want positive sizes and padding ≥ 0", kind, in, out, k, s, p, l)
	case in*out*k > 1<<24 || l > MaxWindow:
		return fmt.Errorf("%s: %d×%d×%d weights over %d steps is too large", kind, out, k, in, l)
	case !fits:
		return fmt.Errorf("%s: kernel %d does not fit %d steps with padding %d", kind, k, l, p)
	case p >= k:
		return fmt.Errorf("%s: padding %d must be smaller than the kernel %d", kind, p, k)
	case w != in*out*k:
		return fmt.Errorf("%s: %d weights, want %d", kind, w, in*out*k)
	case b != out:
		return fmt.Errorf("%s: %d biases, want %d", kind, b, out)
	case !act.Valid():
		return fmt.Errorf("%s: invalid activation %v", kind, act)
	}
	return nil
}

// Forward computes the convolution. Each output step is a matrix-vector
// product of the weights with a contiguous slice of the input (the taps
// that fall inside it), so it runs on the dense kernels.
func (c *Conv1D) Forward(dst, x []float32) {
	ci, co, k := c.InChannels, c.OutChannels, c.Kernel
	lout := c.OutLength()
	dst = dst[:lout*co]
	x = x[:c.Length*ci]
	for t := 0; t < lout; t++ {
		first := t*c.Stride - c.Padding // input step of tap 0
		k0, k1 := max(0, -first), min(k, c.Length-first)
		row := dst[t*co : t*co+co]
		if k1 <= k0 {
			clear(row)
		} else {
			gemv(row, c.W[k0*ci:], k*ci, x[(first+k0)*ci:], (k1-k0)*ci, false)
		}
		for o, b := range c.B[:co] {
			row[o] += b
		}
	}
	c.Act.Apply(dst)
}

// ConvTranspose1D is the transposed convolution that undoes a Conv1D's
// downsampling in a decoder (as PyTorch's ConvTranspose1d): input Length
// steps of InChannels, output OutLength() = (Length−1)·Stride − 2·Padding +
// Kernel + OutputPadding steps of OutChannels, both time-major:
//
//	y[u][o] = f(B[o] + Σ_{t,k: t·Stride − Padding + k = u} Σ_c W[k][o][c] · x[t][c])
//
// W holds Kernel × OutChannels × InChannels weights in that order.
type ConvTranspose1D struct {
	InChannels, OutChannels int
	Kernel, Stride, Padding int
	OutputPadding           int
	Length                  int // input time steps
	W                       []float32
	B                       []float32
	Act                     Activation
}

// OutLength returns the number of output time steps.
func (c *ConvTranspose1D) OutLength() int {
	return (c.Length-1)*c.Stride - 2*c.Padding + c.Kernel + c.OutputPadding
}

// Shape returns the flattened input and output lengths.
func (c *ConvTranspose1D) Shape() (int, int) {
	return c.Length * c.InChannels, c.OutLength() * c.OutChannels
}

// Params returns the number of weights and biases.
func (c *ConvTranspose1D) Params() int { return len(c.W) + len(c.B) }

// Validate checks sizes, weights and activation.
func (c *ConvTranspose1D) Validate() error {
	if c.OutputPadding < 0 || c.OutputPadding >= max(c.Stride, 1) {
		return fmt.Errorf("convtranspose1d: output padding %d, want 0 to stride−1 (%d)", c.OutputPadding, c.Stride-1)
	}
	return validateConv("convtranspose1d", c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding, c.Length, len(c.W), len(c.B), c.Act,
		c.OutLength() > 0)
}

// Forward computes the transposed convolution by gathering, for each
// output step, the input steps and taps that reach it.
func (c *ConvTranspose1D) Forward(dst, x []float32) {
	ci, co, s := c.InChannels, c.OutChannels, c.Stride
	lout := c.OutLength()
	dst = dst[:lout*co]
	x = x[:c.Length*ci]
	for u := 0; u < lout; u++ {
		row := dst[u*co : u*co+co]
		copy(row, c.B[:co])
		// Taps k with (u + Padding − k) a multiple of Stride, input step t
		// = (u + Padding − k) / Stride inside the input.
		for k := (u + c.Padding) % s; k < c.Kernel; k += s {
			t := (u + c.Padding - k) / s
			if t < 0 {
				break
			}
			if t >= c.Length {
				continue
			}
			gemv(row, c.W[k*co*ci:], ci, x[t*ci:], ci, true)
		}
	}
	c.Act.Apply(dst)
}

// ConvMACs counts the multiply-adds one forward pass of layers performs
// (taps that fall on padding excluded), for reporting GFLOP/s.
func ConvMACs(layers []Layer) int {
	n := 0
	for _, l := range layers {
		switch c := l.(type) {
		case *Conv1D:
			for t := 0; t < c.OutLength(); t++ {
				first := t*c.Stride - c.Padding
				n += max(0, min(c.Kernel, c.Length-first)-max(0, -first)) * c.InChannels * c.OutChannels
			}
		case *ConvTranspose1D:
			lout := c.OutLength()
			for t := 0; t < c.Length; t++ {
				for k := 0; k < c.Kernel; k++ {
					if u := t*c.Stride - c.Padding + k; u >= 0 && u < lout {
						n += c.InChannels * c.OutChannels
					}
				}
			}
		default:
			in, out := l.Shape()
			n += in * out
		}
	}
	return n
}
