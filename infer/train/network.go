package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// network is a stack of trainable layers with work buffers for a batch
// of samples: each buffer holds size slots, sample b's at [b·len, (b+1)·len).
type network struct {
	layers  []trainable
	dropout float64
	size    int         // samples the buffers hold
	in      []float32   // the inputs as the network sees them (noise added)
	acts    [][]float32 // acts[i]: output of layer i after its activation
	outs    [][]float32 // outs[i]: acts[i] after dropout (the next input)
	masks   [][]float32 // masks[i]: dropout multipliers of layer i, or nil
	grads   [][]float32 // grads[i]: dLoss/d(outs[i]), the gradient flowing into layer i+1
	dz      [][]float32 // scratch: dLoss/d(pre-activation) of layer i
	dx0     []float32   // dLoss/d(input), computed only on request
}

// newNetwork returns the network with buffers for one sample; reserve
// makes room for a batch.
func newNetwork(layers []trainable, dropout float64) *network {
	n := &network{layers: layers, dropout: dropout}
	n.reserve(1)
	return n
}

// reserve makes the buffers hold at least size samples. It allocates
// only when they grow; their contents are then lost.
func (n *network) reserve(size int) {
	if size <= n.size {
		return
	}
	n.size = size
	in, _ := n.layers[0].Shape()
	n.in, n.dx0 = make([]float32, size*in), make([]float32, size*in)
	n.acts, n.outs, n.masks, n.grads, n.dz = nil, nil, nil, nil, nil
	for i, l := range n.layers {
		_, out := l.Shape()
		a := make([]float32, size*out)
		n.acts = append(n.acts, a)
		n.grads = append(n.grads, make([]float32, size*out))
		n.dz = append(n.dz, make([]float32, size*out))
		if n.dropout > 0 && i < len(n.layers)-1 {
			n.outs = append(n.outs, make([]float32, size*out))
			n.masks = append(n.masks, make([]float32, size*out))
		} else {
			n.outs = append(n.outs, a)
			n.masks = append(n.masks, nil)
		}
	}
}

// slot returns sample b's part of a buffer holding per samples each.
func slot(buf []float32, b, per int) []float32 { return buf[b*per : (b+1)*per] }

// width returns layer i's output length.
func (n *network) width(i int) int { _, out := n.layers[i].Shape(); return out }

// inWidth returns the network's input length.
func (n *network) inWidth() int { in, _ := n.layers[0].Shape(); return in }

// denseLayers builds sizes[0]→…→sizes[n-1].
func denseLayers(r *rand.Rand, sizes []int, hidden, out infer.Activation) []trainable {
	var ls []trainable
	for i := 1; i < len(sizes); i++ {
		act := hidden
		if i == len(sizes)-1 {
			act = out
		}
		ls = append(ls, newDense(r, sizes[i-1], sizes[i], act))
	}
	return ls
}

// Check reports whether a describes a network that can be built, as the
// trainer would build it: positive window, kernel, stride and filter
// counts, every layer valid. Channels 0 is taken as 1 (the shape does not
// depend on it).
func (a ConvArch) Check() error {
	a.Channels = max(a.Channels, 1)
	_, err := convLayers(rand.New(rand.NewPCG(0, 0)), &a, infer.ReLU, infer.Linear)
	return err
}

// convLayers builds the convolutional autoencoder a describes: a Conv1D
// per filter count, each halving (by the stride) the time axis, then the
// mirror image in transposed convolutions back to Window × Channels.
func convLayers(r *rand.Rand, a *ConvArch, hidden, out infer.Activation) ([]trainable, error) {
	if a.Window <= 0 || a.Channels <= 0 || a.Kernel <= 0 || a.Stride <= 0 || len(a.Filters) == 0 {
		return nil, fmt.Errorf("train: convolutional architecture %+v: want positive window, channels, kernel, stride and at least one filter count", *a)
	}
	pad := a.Kernel / 2
	var enc []trainable
	lengths := []int{a.Window}
	ch := []int{a.Channels}
	for _, f := range a.Filters {
		if f <= 0 {
			return nil, fmt.Errorf("train: filter count %d, want positive", f)
		}
		c := newConv(r, ch[len(ch)-1], f, a.Kernel, a.Stride, pad, lengths[len(lengths)-1], hidden)
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("train: encoder layer %d: %w", len(enc), err)
		}
		enc = append(enc, c)
		lengths = append(lengths, c.c.OutLength())
		ch = append(ch, f)
	}
	dec := enc
	for i := len(a.Filters); i > 0; i-- {
		lin, lout := lengths[i], lengths[i-1]
		op := lout - ((lin-1)*a.Stride - 2*pad + a.Kernel)
		act := hidden
		if i == 1 {
			act = out
		}
		d := newDeconv(r, ch[i], ch[i-1], a.Kernel, a.Stride, pad, op, lin, act)
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("train: decoder layer %d cannot restore %d steps from %d: %w", len(a.Filters)-i, lout, lin, err)
		}
		dec = append(dec, d)
	}
	return dec, nil
}

// forward runs x through the network in slot 0; see forwardAt.
func (n *network) forward(x []float32, r *rand.Rand, o *Options) []float32 {
	return n.forwardAt(0, x, r, o)
}

// forwardAt runs x through the network in slot b. When training (r not
// nil) it adds input noise and applies dropout, drawing from r in the
// same order for every sample; the output is the last layer's
// activations, valid until slot b is used again.
func (n *network) forwardAt(b int, x []float32, r *rand.Rand, o *Options) []float32 {
	in := slot(n.in, b, n.inWidth())
	copy(in, x)
	if r != nil && o.InputNoise > 0 {
		for i := range in {
			in[i] += float32(o.InputNoise * r.NormFloat64())
		}
	}
	var act []float32
	for i, l := range n.layers {
		w := n.width(i)
		act = slot(n.acts[i], b, w)
		l.Forward(act, in)
		if m := n.masks[i]; m != nil {
			out, m := slot(n.outs[i], b, w), slot(m, b, w)
			if r == nil { // evaluation: inverted dropout needs no scaling
				copy(out, act)
			} else {
				keep := float32(1 / (1 - o.Dropout))
				for j, a := range act {
					m[j] = 0
					if r.Float64() >= o.Dropout {
						m[j] = keep
					}
					out[j] = a * m[j]
				}
			}
		}
		in = slot(n.outs[i], b, w)
	}
	return act
}

// mse returns the mean squared error between out and target and, if grad
// is non-nil, writes d(mse)/d(out) into it.
func mse(out, target, grad []float32) float64 {
	var s float64
	c := float32(len(out))
	for i, o := range out {
		d := o - target[i]
		s += float64(d) * float64(d)
		if grad != nil {
			grad[i] = 2 * d / c
		}
	}
	return s / float64(len(out))
}

// backward is backwardBatch for the one sample in slot 0.
func (n *network) backward(wantInput bool) { n.backwardBatch(1, wantInput) }

// backwardBatch adds the parameter gradients, summed in slot order, of
// the samples in slots 0 to nb−1, last passed to forwardAt in training
// mode, given each one's dLoss/d(output) in its slot of grads[last].
// With wantInput it also leaves dLoss/d(input) in dx0's slots.
func (n *network) backwardBatch(nb int, wantInput bool) {
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := n.layers[i]
		w := nb * n.width(i)
		g, dz, y := n.grads[i][:w], n.dz[i][:w], n.acts[i][:w]
		act := l.act()
		if m := n.masks[i]; m != nil {
			m = m[:w]
			for j := range dz {
				dz[j] = g[j] * m[j] * act.Derivative(y[j])
			}
		} else {
			for j := range dz {
				dz[j] = g[j] * act.Derivative(y[j])
			}
		}
		x := n.in
		var dx []float32
		if i > 0 {
			x, dx = n.outs[i-1], n.grads[i-1]
		} else if wantInput {
			dx = n.dx0
		}
		l.backward(nb, x, dz, dx)
	}
}

func (n *network) zeroGrad() {
	for _, l := range n.layers {
		for _, t := range l.tensors() {
			clear(t.g)
		}
	}
}

// step applies one optimiser step (t counts steps from 1) with the
// gradients averaged over batch samples, plus L2 weight decay.
func (n *network) step(o *Options, t int, batch int) {
	inv := 1 / float64(batch)
	var lr, b1, b2 float64
	if o.Optimizer == RMSprop {
		lr, b2 = o.LearningRate, o.Rho
	} else {
		b1, b2 = o.Beta1, o.Beta2
		lr = o.LearningRate * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))
	}
	for _, l := range n.layers {
		for _, tn := range l.tensors() {
			tn.update(o.Optimizer == RMSprop, inv, o.WeightDecay, lr, b1, b2, o.Epsilon)
		}
	}
}

// update applies one step to the tensor's weights from its gradient
// scaled by inv: RMSprop (rms) or Adam with the bias-corrected rate lr,
// plus weight decay wd if the tensor takes it. The choices are made once,
// outside the loops; each parameter's arithmetic is the same either way.
func (tn *tensor) update(rms bool, inv, wd, lr, b1, b2, eps float64) {
	w := tn.w
	g, m, v := tn.g[:len(w)], tn.m[:len(w)], tn.v[:len(w)]
	c1, c2 := 1-b1, 1-b2
	for j, gj := range g {
		d := float64(gj) * inv
		if tn.decay {
			d += wd * float64(w[j])
		}
		vj := b2*v[j] + c2*d*d
		v[j] = vj
		if rms {
			w[j] -= float32(lr * d / (math.Sqrt(vj) + eps))
			continue
		}
		mj := b1*m[j] + c1*d
		m[j] = mj
		w[j] -= float32(lr * mj / (math.Sqrt(vj) + eps))
	}
}

// snapshot copies every parameter.
func (n *network) snapshot() [][]float32 {
	var s [][]float32
	for _, l := range n.layers {
		for _, t := range l.tensors() {
			s = append(s, append([]float32(nil), t.w...))
		}
	}
	return s
}

// restore loads parameters saved by snapshot.
func (n *network) restore(s [][]float32) {
	i := 0
	for _, l := range n.layers {
		for _, t := range l.tensors() {
			copy(t.w, s[i])
			i++
		}
	}
}

// inferLayers returns copies of the trained layers for infer.
func (n *network) inferLayers() []infer.Layer {
	out := make([]infer.Layer, len(n.layers))
	for i, l := range n.layers {
		out[i] = l.layer()
	}
	return out
}
