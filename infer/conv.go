package infer

import (
	"fmt"
	"math"
	"unsafe"
)

// Conv1D is a one-dimensional convolution over the time axis of a window.
// Its input is Length time steps of InChannels values, time-major
// (x[t*InChannels+c], the layout of a raw FeatureSpec window); its output
// is OutLength() steps of OutChannels values, also time-major:
//
//	y[t][o] = f(B[o] + Σ_k Σ_c W[o][k][c] · x[t·Stride − Padding + k][c])
//
// with zeros outside the input (as PyTorch's Conv1d with zero padding).
// W holds OutChannels × Kernel × InChannels weights in that order; or, in
// an int8 layer, Q holds them quantised with one Scale per output channel
// (weight = Scale[o]·Q) and W is empty.
type Conv1D struct {
	InChannels, OutChannels int
	Kernel, Stride, Padding int
	Length                  int // input time steps
	W                       []float32
	Q                       []int8
	Scale                   []float32
	B                       []float32
	Act                     Activation
}

// OutLength returns the number of output time steps.
func (c *Conv1D) OutLength() int {
	return (c.Length+2*c.Padding-c.Kernel)/max(c.Stride, 1) + 1
}

// Shape returns the flattened input and output lengths.
func (c *Conv1D) Shape() (int, int) { return c.Length * c.InChannels, c.OutLength() * c.OutChannels }

// Params returns the number of stored parameters.
func (c *Conv1D) Params() int { return len(c.W) + len(c.Q) + len(c.Scale) + len(c.B) }

// Validate checks sizes, weights and activation.
func (c *Conv1D) Validate() error {
	if err := validateQ("conv1d", c.W, c.Q, c.Scale, c.OutChannels); err != nil {
		return err
	}
	fits := c.Stride > 0 && int64(c.Length)+2*int64(c.Padding) >= int64(c.Kernel)
	lout := 0
	if fits && sizeOK(MaxWindow, c.Length) && c.Padding <= MaxWindow && c.Kernel <= MaxWindow {
		lout = c.OutLength()
	}
	return validateConv("conv1d", c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding, c.Length, lout, len(c.W)+len(c.Q), len(c.B), c.Act, fits)
}

// validateQ checks that a convolution holds float32 or int8 weights, not
// both, and that an int8 one has a positive finite scale per output.
func validateQ(kind string, w []float32, q []int8, scale []float32, out int) error {
	switch {
	case len(w) > 0 && len(q) > 0:
		return fmt.Errorf("%s: both float32 and int8 weights", kind)
	case len(q) == 0 && len(scale) > 0:
		return fmt.Errorf("%s: scales without int8 weights", kind)
	case len(q) > 0 && len(scale) != out:
		return fmt.Errorf("%s: %d scales, want %d", kind, len(scale), out)
	}
	for o, sc := range scale {
		if !(sc > 0) || math.IsInf(float64(sc), 0) {
			return fmt.Errorf("%s: scale %d is %v, want a positive finite number", kind, o, sc)
		}
	}
	return nil
}

func validateConv(kind string, in, out, k, s, p, l, lout, w, b int, act Activation, fits bool) error {
	switch {
	case in <= 0 || out <= 0 || k <= 0 || s <= 0 || p < 0 || l <= 0:
		return fmt.Errorf("%s: channels %d→%d, kernel %d, stride %d, padding %d, length %d: want positive sizes and padding ≥ 0", kind, in, out, k, s, p, l)
	case !sizeOK(MaxWeights, in, out, k) || !sizeOK(MaxVector, l, in) || s > MaxWindow || p > MaxWindow:
		return fmt.Errorf("%s: %d×%d×%d weights over %d steps (stride %d) is too large", kind, out, k, in, l, s)
	case fits && !sizeOK(MaxVector, lout, out):
		return fmt.Errorf("%s: output of %d steps × %d channels is over %d values", kind, lout, out, MaxVector)
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
// that fall inside it), so it runs on the dense kernels; the interior
// steps, whose taps all fall inside, run on the multi-vector kernels,
// which reuse each weight for consecutive steps.
func (c *Conv1D) Forward(dst, x []float32) {
	ci, co, k := c.InChannels, c.OutChannels, c.Kernel
	lout := c.OutLength()
	dst = dst[:lout*co]
	x = x[:c.Length*ci]
	lo, hi := c.interior(lout)
	if hi > lo {
		first := lo*c.Stride - c.Padding
		if len(c.Q) > 0 {
			gemvMultiQ8(dst[lo*co:], co, co, c.Q, k*ci, x[first*ci:], c.Stride*ci, k*ci, hi-lo, c.Scale, c.B, c.Act)
		} else {
			gemvMulti(dst[lo*co:], co, co, c.W, k*ci, x[first*ci:], c.Stride*ci, k*ci, hi-lo, nil, c.B, c.Act)
		}
	}
	for t := 0; t < lout; t++ {
		if t == lo && hi > lo {
			t = hi - 1 // the interior is done
			continue
		}
		row := dst[t*co : t*co+co]
		first := t*c.Stride - c.Padding // input step of tap 0
		k0, k1 := max(0, -first), min(k, c.Length-first)
		switch {
		case k1 <= k0:
			clear(row)
		case len(c.Q) > 0:
			gemvQ8(row, c.Q[k0*ci:], k*ci, x[(first+k0)*ci:], (k1-k0)*ci, false)
		default:
			gemv(row, c.W[k0*ci:], k*ci, x[(first+k0)*ci:], (k1-k0)*ci, false)
		}
		biasAct(row, c.Scale, c.B, c.Act)
	}
}

// interior returns the output steps [lo, hi) whose taps all fall inside
// the input: t·Stride − Padding ≥ 0 and t·Stride − Padding + Kernel ≤
// Length. hi ≤ lo when there are none.
func (c *Conv1D) interior(lout int) (lo, hi int) {
	lo = (c.Padding + c.Stride - 1) / c.Stride
	if last := c.Length - c.Kernel + c.Padding; last >= 0 {
		hi = min(lout, last/c.Stride+1)
	}
	return lo, hi
}

// biasAct sets row[o] = f(row[o]·scale[o] + b[o]); no scale means 1. It
// applies ReLU in the same pass, without branches (whose outcome on
// random signs the CPU cannot predict); other activations after it.
func biasAct(row, scale, b []float32, f Activation) {
	b = b[:len(row)]
	switch {
	case len(scale) == 0 && f == ReLU:
		for o, v := range b {
			row[o] = max(row[o]+v, 0)
		}
	case len(scale) == 0:
		for o, v := range b {
			row[o] += v
		}
		f.Apply(row)
	case f == ReLU:
		scale = scale[:len(row)]
		for o, v := range b {
			row[o] = max(row[o]*scale[o]+v, 0)
		}
	default:
		scale = scale[:len(row)]
		for o, v := range b {
			row[o] = row[o]*scale[o] + v
		}
		f.Apply(row)
	}
}

// ConvTranspose1D is the transposed convolution that undoes a Conv1D's
// downsampling in a decoder (as PyTorch's ConvTranspose1d): input Length
// steps of InChannels, output OutLength() = (Length−1)·Stride − 2·Padding +
// Kernel + OutputPadding steps of OutChannels, both time-major:
//
//	y[u][o] = f(B[o] + Σ_{t,k: t·Stride − Padding + k = u} Σ_c W[k][o][c] · x[t][c])
//
// W holds Kernel × OutChannels × InChannels weights in that order; or Q
// holds them as int8 with one Scale per output channel, as in Conv1D.
// Prepare packs them for a faster Forward (NewAutoencoder does it).
type ConvTranspose1D struct {
	InChannels, OutChannels int
	Kernel, Stride, Padding int
	OutputPadding           int
	Length                  int // input time steps
	W                       []float32
	Q                       []int8
	Scale                   []float32
	B                       []float32
	Act                     Activation

	packed unsafe.Pointer // *convTPlan, stored by Prepare; read atomically
}

// OutLength returns the number of output time steps.
func (c *ConvTranspose1D) OutLength() int {
	return (c.Length-1)*c.Stride - 2*c.Padding + c.Kernel + c.OutputPadding
}

// Shape returns the flattened input and output lengths.
func (c *ConvTranspose1D) Shape() (int, int) {
	return c.Length * c.InChannels, c.OutLength() * c.OutChannels
}

// Params returns the number of stored parameters.
func (c *ConvTranspose1D) Params() int { return len(c.W) + len(c.Q) + len(c.Scale) + len(c.B) }

// Validate checks sizes, weights and activation.
func (c *ConvTranspose1D) Validate() error {
	if c.OutputPadding < 0 || c.OutputPadding >= max(c.Stride, 1) {
		return fmt.Errorf("convtranspose1d: output padding %d, want 0 to stride−1 (%d)", c.OutputPadding, c.Stride-1)
	}
	if err := validateQ("convtranspose1d", c.W, c.Q, c.Scale, c.OutChannels); err != nil {
		return err
	}
	// The output length in 64 bits: (Length−1)·Stride can overflow int on
	// 32-bit ARM.
	lout64 := (int64(c.Length)-1)*int64(c.Stride) - 2*int64(c.Padding) + int64(c.Kernel) + int64(c.OutputPadding)
	fits := lout64 > 0
	lout := int(min(lout64, MaxVector+1)) // over the limit reports as such
	return validateConv("convtranspose1d", c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding, c.Length, lout, len(c.W)+len(c.Q), len(c.B), c.Act, fits)
}

// Forward computes the transposed convolution. A prepared layer (see
// Prepare) computes each output step as one matrix-vector product of its
// phase's packed weights with a contiguous slice of the input; any other
// gathers, for each output step, the input steps and taps that reach it.
func (c *ConvTranspose1D) Forward(dst, x []float32) {
	if p := c.plan(); p != nil {
		c.forwardPhases(p, dst, x)
		return
	}
	c.forwardGather(dst, x)
}

// forwardGather is Forward tap by tap: a product of OutChannels rows and
// InChannels columns per tap reaching each output step.
func (c *ConvTranspose1D) forwardGather(dst, x []float32) {
	ci, co, s := c.InChannels, c.OutChannels, c.Stride
	lout := c.OutLength()
	dst = dst[:lout*co]
	x = x[:c.Length*ci]
	for u := 0; u < lout; u++ {
		row := dst[u*co : u*co+co]
		clear(row)
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
			if len(c.Q) > 0 {
				gemvQ8(row, c.Q[k*co*ci:], ci, x[t*ci:], ci, true)
			} else {
				gemv(row, c.W[k*co*ci:], ci, x[t*ci:], ci, true)
			}
		}
		biasAct(row, c.Scale, c.B, c.Act)
	}
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
