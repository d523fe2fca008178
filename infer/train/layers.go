package train

import (
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// tensor is a parameter array with its gradient (summed over the current
// batch) and the optimiser's per-parameter state.
type tensor struct {
	w     []float32
	g     []float32
	m, v  []float64 // Adam moments; RMSprop uses v
	decay bool      // weights take L2 weight decay, biases do not
}

func newTensor(w []float32, decay bool) *tensor {
	return &tensor{w: w, g: make([]float32, len(w)), m: make([]float64, len(w)), v: make([]float64, len(w)), decay: decay}
}

// trainable is an infer layer with its backward pass.
type trainable interface {
	infer.Layer
	// act returns the activation applied after the linear part.
	act() infer.Activation
	// backward takes the layer's input x and dLoss/d(pre-activation
	// output) dz, adds the parameter gradients, and writes dLoss/dx into
	// dx unless dx is nil.
	backward(x, dz, dx []float32)
	// tensors returns the parameters: weights, then biases.
	tensors() []*tensor
	// layer returns the trained layer for infer.
	layer() infer.Layer
}

// glorot fills w with Glorot-uniform values (Keras' default).
func glorot(r *rand.Rand, w []float32, fanIn, fanOut int) {
	limit := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((2*r.Float64() - 1) * limit)
	}
}

type denseT struct {
	d      infer.Dense
	tw, tb *tensor
}

func newDense(r *rand.Rand, in, out int, act infer.Activation) *denseT {
	d := infer.Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Act: act}
	glorot(r, d.W, in, out)
	return &denseT{d: d, tw: newTensor(d.W, true), tb: newTensor(d.B, false)}
}

func (l *denseT) Shape() (int, int)        { return l.d.Shape() }
func (l *denseT) Forward(dst, x []float32) { l.d.Forward(dst, x) }
func (l *denseT) Params() int              { return l.d.Params() }
func (l *denseT) Validate() error          { return l.d.Validate() }
func (l *denseT) act() infer.Activation    { return l.d.Act }
func (l *denseT) tensors() []*tensor       { return []*tensor{l.tw, l.tb} }
func (l *denseT) layer() infer.Layer       { d := l.d; return &d }
func (l *denseT) backward(x, dz, dx []float32) {
	in := l.d.In
	if dx != nil {
		clear(dx)
	}
	for o, d := range dz {
		if d == 0 {
			continue
		}
		l.tb.g[o] += d
		row, grow := l.d.W[o*in:(o+1)*in], l.tw.g[o*in:(o+1)*in]
		for j, xv := range x[:in] {
			grow[j] += d * xv
		}
		if dx != nil {
			for j, w := range row {
				dx[j] += d * w
			}
		}
	}
}

type convT struct {
	c      infer.Conv1D
	tw, tb *tensor
}

func newConv(r *rand.Rand, in, out, k, s, p, length int, act infer.Activation) *convT {
	c := infer.Conv1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, Length: length,
		W: make([]float32, in*out*k), B: make([]float32, out), Act: act}
	glorot(r, c.W, in*k, out*k)
	return &convT{c: c, tw: newTensor(c.W, true), tb: newTensor(c.B, false)}
}

func (l *convT) Shape() (int, int)        { return l.c.Shape() }
func (l *convT) Forward(dst, x []float32) { l.c.Forward(dst, x) }
func (l *convT) Params() int              { return l.c.Params() }
func (l *convT) Validate() error          { return l.c.Validate() }
func (l *convT) act() infer.Activation    { return l.c.Act }
func (l *convT) tensors() []*tensor       { return []*tensor{l.tw, l.tb} }
func (l *convT) layer() infer.Layer       { c := l.c; return &c }

// backward of y[t][o] = B[o] + Σ_k Σ_c W[o][k][c] · x[t·S − P + k][c].
func (l *convT) backward(x, dz, dx []float32) {
	c := &l.c
	ci, co, k := c.InChannels, c.OutChannels, c.Kernel
	if dx != nil {
		clear(dx)
	}
	for t := 0; t < c.OutLength(); t++ {
		first := t*c.Stride - c.Padding
		k0, k1 := max(0, -first), min(k, c.Length-first)
		for o := 0; o < co; o++ {
			d := dz[t*co+o]
			if d == 0 {
				continue
			}
			l.tb.g[o] += d
			for kk := k0; kk < k1; kk++ {
				xin := x[(first+kk)*ci : (first+kk+1)*ci]
				w := c.W[(o*k+kk)*ci : (o*k+kk+1)*ci]
				g := l.tw.g[(o*k+kk)*ci : (o*k+kk+1)*ci]
				for j, xv := range xin {
					g[j] += d * xv
				}
				if dx != nil {
					dxin := dx[(first+kk)*ci : (first+kk+1)*ci]
					for j, wv := range w {
						dxin[j] += d * wv
					}
				}
			}
		}
	}
}

type deconvT struct {
	c      infer.ConvTranspose1D
	tw, tb *tensor
}

func newDeconv(r *rand.Rand, in, out, k, s, p, op, length int, act infer.Activation) *deconvT {
	c := infer.ConvTranspose1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, OutputPadding: op, Length: length,
		W: make([]float32, in*out*k), B: make([]float32, out), Act: act}
	glorot(r, c.W, in*k, out*k)
	return &deconvT{c: c, tw: newTensor(c.W, true), tb: newTensor(c.B, false)}
}

func (l *deconvT) Shape() (int, int)        { return l.c.Shape() }
func (l *deconvT) Forward(dst, x []float32) { l.c.Forward(dst, x) }
func (l *deconvT) Params() int              { return l.c.Params() }
func (l *deconvT) Validate() error          { return l.c.Validate() }
func (l *deconvT) act() infer.Activation    { return l.c.Act }
func (l *deconvT) tensors() []*tensor       { return []*tensor{l.tw, l.tb} }
func (l *deconvT) layer() infer.Layer       { c := l.c; return &c }

// backward of y[u][o] = B[o] + Σ_{t,k: t·S − P + k = u} Σ_c W[k][o][c] · x[t][c].
func (l *deconvT) backward(x, dz, dx []float32) {
	c := &l.c
	ci, co := c.InChannels, c.OutChannels
	lout := c.OutLength()
	if dx != nil {
		clear(dx)
	}
	for u := 0; u < lout; u++ {
		for o, d := range dz[u*co : (u+1)*co] {
			l.tb.g[o] += d
		}
	}
	for t := 0; t < c.Length; t++ {
		xin := x[t*ci : (t+1)*ci]
		for kk := 0; kk < c.Kernel; kk++ {
			u := t*c.Stride - c.Padding + kk
			if u < 0 || u >= lout {
				continue
			}
			for o, d := range dz[u*co : (u+1)*co] {
				if d == 0 {
					continue
				}
				w := c.W[(kk*co+o)*ci : (kk*co+o+1)*ci]
				g := l.tw.g[(kk*co+o)*ci : (kk*co+o+1)*ci]
				for j, xv := range xin {
					g[j] += d * xv
				}
				if dx != nil {
					dxin := dx[t*ci : (t+1)*ci]
					for j, wv := range w {
						dxin[j] += d * wv
					}
				}
			}
		}
	}
}
