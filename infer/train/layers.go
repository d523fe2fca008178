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
	// backward takes nb samples' inputs x (nb rows of the layer's input
	// length, back to back) and dLoss/d(pre-activation output) dz (nb
	// rows of its output length), adds the parameter gradients summed
	// over the samples in order, and writes dLoss/dx into dx unless dx
	// is nil.
	backward(nb int, x, dz, dx []float32)
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
	ts     [2]*tensor // tw, tb
}

func newDense(r *rand.Rand, in, out int, act infer.Activation) *denseT {
	d := infer.Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Act: act}
	glorot(r, d.W, in, out)
	l := &denseT{d: d, tw: newTensor(d.W, true), tb: newTensor(d.B, false)}
	l.ts = [2]*tensor{l.tw, l.tb}
	return l
}

func (l *denseT) Shape() (int, int)        { return l.d.Shape() }
func (l *denseT) Forward(dst, x []float32) { l.d.Forward(dst, x) }
func (l *denseT) Params() int              { return l.d.Params() }
func (l *denseT) Validate() error          { return l.d.Validate() }
func (l *denseT) act() infer.Activation    { return l.d.Act }
func (l *denseT) tensors() []*tensor       { return l.ts[:] }
func (l *denseT) layer() infer.Layer       { d := l.d; return &d }

// backward: dB += Σ_b dz_b, dW += dzᵀ·x and dx = dz·W over the batch.
func (l *denseT) backward(nb int, x, dz, dx []float32) {
	in, out := l.d.In, l.d.Out
	gb := l.tb.g[:out]
	for b := 0; b < nb; b++ {
		for o, d := range dz[b*out : (b+1)*out] {
			gb[o] += d
		}
	}
	gemmTN(l.tw.g, in, dz, out, x, in, out, in, nb)
	if dx != nil {
		clear(dx[:nb*in])
		gemmNN(dx, in, dz, out, l.d.W, in, nb, in, out)
	}
}

type convT struct {
	c      infer.Conv1D
	tw, tb *tensor
	ts     [2]*tensor // tw, tb
	padded []float32  // backward's scratch: one input between zero steps
}

func newConv(r *rand.Rand, in, out, k, s, p, length int, act infer.Activation) *convT {
	c := infer.Conv1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, Length: length,
		W: make([]float32, in*out*k), B: make([]float32, out), Act: act}
	glorot(r, c.W, in*k, out*k)
	l := &convT{c: c, tw: newTensor(c.W, true), tb: newTensor(c.B, false)}
	l.ts = [2]*tensor{l.tw, l.tb}
	return l
}

func (l *convT) Shape() (int, int)        { return l.c.Shape() }
func (l *convT) Forward(dst, x []float32) { l.c.Forward(dst, x) }
func (l *convT) Params() int              { return l.c.Params() }
func (l *convT) Validate() error          { return l.c.Validate() }
func (l *convT) act() infer.Activation    { return l.c.Act }
func (l *convT) tensors() []*tensor       { return l.ts[:] }
func (l *convT) layer() infer.Layer       { c := l.c; return &c }

// backward of y[t][o] = B[o] + Σ_k Σ_c W[o][k][c] · x[t·S − P + k][c]:
// per sample, dW += dzᵀ·windows over all the output steps, the input
// copied between P zero steps each side so that every window is whole and
// they are rows S·InChannels apart (a padding tap adds an exact zero
// where the per-sample loops skipped it: the sums are unchanged); and,
// step by step across the batch, dx[window of t] += dz[t]·W.
func (l *convT) backward(nb int, x, dz, dx []float32) {
	c := &l.c
	ci, co, k, s, p := c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding
	lin, lout := c.Length, c.OutLength()
	if len(l.padded) != (lin+2*p)*ci {
		l.padded = make([]float32, (lin+2*p)*ci) // the zeros stay
	}
	gb := l.tb.g[:co]
	for b := 0; b < nb; b++ {
		dzb := dz[b*lout*co : (b+1)*lout*co]
		for t := 0; t < lout; t++ {
			for o, d := range dzb[t*co : (t+1)*co] {
				gb[o] += d
			}
		}
		copy(l.padded[p*ci:], x[b*lin*ci:(b+1)*lin*ci])
		gemmTN(l.tw.g, k*ci, dzb, co, l.padded, s*ci, co, k*ci, lout)
	}
	if dx == nil {
		return
	}
	clear(dx[:nb*lin*ci])
	for t := 0; t < lout; t++ {
		first := t*s - p // the input step tap 0 reaches
		k0, k1 := max(0, -first), min(k, lin-first)
		if k1 > k0 {
			gemmNN(dx[(first+k0)*ci:], lin*ci, dz[t*co:], lout*co, c.W[k0*ci:], k*ci, nb, (k1-k0)*ci, co)
		}
	}
}

type deconvT struct {
	c      infer.ConvTranspose1D
	tw, tb *tensor
	ts     [2]*tensor // tw, tb
	padded []float32  // backward's scratch: one output gradient between zero steps
}

func newDeconv(r *rand.Rand, in, out, k, s, p, op, length int, act infer.Activation) *deconvT {
	c := infer.ConvTranspose1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, OutputPadding: op, Length: length,
		W: make([]float32, in*out*k), B: make([]float32, out), Act: act}
	glorot(r, c.W, in*k, out*k)
	l := &deconvT{c: c, tw: newTensor(c.W, true), tb: newTensor(c.B, false)}
	l.ts = [2]*tensor{l.tw, l.tb}
	return l
}

func (l *deconvT) Shape() (int, int)        { return l.c.Shape() }
func (l *deconvT) Forward(dst, x []float32) { l.c.Forward(dst, x) }
func (l *deconvT) Params() int              { return l.c.Params() }
func (l *deconvT) Validate() error          { return l.c.Validate() }
func (l *deconvT) act() infer.Activation    { return l.c.Act }
func (l *deconvT) tensors() []*tensor       { return l.ts[:] }
func (l *deconvT) layer() infer.Layer       { c := l.c; return &c }

// backward of y[u][o] = B[o] + Σ_{t,k: t·S − P + k = u} Σ_c W[k][o][c] · x[t][c]:
// the output steps the taps of input step t reach are consecutive, so
// with W's rows taken as (tap, output channel), per sample dW += dz
// windowsᵀ·x over the input steps, dz copied between P zero steps each
// side so that every window is whole, rows S·OutChannels apart (a tap
// past either end adds an exact zero where the per-sample loops skipped
// it: the sums are unchanged); and, step by step across the batch,
// dx[t] = dz[window of t]·W.
func (l *deconvT) backward(nb int, x, dz, dx []float32) {
	c := &l.c
	ci, co, k, s, p := c.InChannels, c.OutChannels, c.Kernel, c.Stride, c.Padding
	lin, lout := c.Length, c.OutLength()
	if len(l.padded) != (lout+2*p)*co {
		l.padded = make([]float32, (lout+2*p)*co) // the zeros stay
	}
	gb := l.tb.g[:co]
	for b := 0; b < nb; b++ {
		dzb := dz[b*lout*co : (b+1)*lout*co]
		for u := 0; u < lout; u++ {
			for o, d := range dzb[u*co : (u+1)*co] {
				gb[o] += d
			}
		}
		copy(l.padded[p*co:], dzb)
		gemmTN(l.tw.g, ci, l.padded, s*co, x[b*lin*ci:(b+1)*lin*ci], ci, k*co, ci, lin)
	}
	if dx == nil {
		return
	}
	clear(dx[:nb*lin*ci])
	for t := 0; t < lin; t++ {
		first := t*s - p // the output step tap 0 reaches
		k0, k1 := max(0, -first), min(k, lout-first)
		if k1 > k0 {
			gemmNN(dx[t*ci:], lin*ci, dz[(first+k0)*co:], lout*co, c.W[k0*co*ci:], ci, nb, ci, (k1-k0)*co)
		}
	}
}
