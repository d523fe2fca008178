package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// network is a stack of trainable layers with per-sample work buffers.
type network struct {
	layers []trainable
	in     []float32   // the input as the network sees it (noise added)
	acts   [][]float32 // acts[i]: output of layer i after its activation
	outs   [][]float32 // outs[i]: acts[i] after dropout (the next input)
	masks  [][]float32 // masks[i]: dropout multipliers of layer i, or nil
	grads  [][]float32 // grads[i]: dLoss/d(outs[i]), the gradient flowing into layer i+1
	dz     [][]float32 // scratch: dLoss/d(pre-activation) of layer i
	dx0    []float32   // dLoss/d(input), computed only by gradient checks
}

func newNetwork(layers []trainable, dropout float64) *network {
	n := &network{layers: layers}
	in, _ := layers[0].Shape()
	n.in, n.dx0 = make([]float32, in), make([]float32, in)
	for i, l := range layers {
		_, out := l.Shape()
		a := make([]float32, out)
		n.acts = append(n.acts, a)
		n.grads = append(n.grads, make([]float32, out))
		n.dz = append(n.dz, make([]float32, out))
		if dropout > 0 && i < len(layers)-1 {
			n.outs = append(n.outs, make([]float32, out))
			n.masks = append(n.masks, make([]float32, out))
		} else {
			n.outs = append(n.outs, a)
			n.masks = append(n.masks, nil)
		}
	}
	return n
}

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

// forward runs x through the network. When training it adds input noise
// and applies dropout; the output is the last layer's activations.
func (n *network) forward(x []float32, r *rand.Rand, o *Options) []float32 {
	copy(n.in, x)
	if r != nil && o.InputNoise > 0 {
		for i := range n.in {
			n.in[i] += float32(o.InputNoise * r.NormFloat64())
		}
	}
	in := n.in
	for i, l := range n.layers {
		l.Forward(n.acts[i], in)
		if m := n.masks[i]; m != nil {
			out := n.outs[i]
			if r == nil { // evaluation: inverted dropout needs no scaling
				copy(out, n.acts[i])
			} else {
				keep := float32(1 / (1 - o.Dropout))
				for j, a := range n.acts[i] {
					m[j] = 0
					if r.Float64() >= o.Dropout {
						m[j] = keep
					}
					out[j] = a * m[j]
				}
			}
		}
		in = n.outs[i]
	}
	return n.acts[len(n.acts)-1]
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

// backward adds the parameter gradients for the sample last passed to
// forward (in training mode), given dLoss/d(output) in grads[last]. With
// wantInput it also leaves dLoss/d(input) in dx0.
func (n *network) backward(wantInput bool) {
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := n.layers[i]
		g, dz, y := n.grads[i], n.dz[i], n.acts[i]
		act := l.act()
		m := n.masks[i]
		for j := range dz {
			d := g[j]
			if m != nil {
				d *= m[j]
			}
			dz[j] = d * act.Derivative(y[j])
		}
		x := n.in
		var dx []float32
		if i > 0 {
			x, dx = n.outs[i-1], n.grads[i-1]
		} else if wantInput {
			dx = n.dx0
		}
		l.backward(x, dz, dx)
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
			for j := range tn.w {
				g := float64(tn.g[j]) * inv
				if tn.decay {
					g += o.WeightDecay * float64(tn.w[j])
				}
				tn.v[j] = b2*tn.v[j] + (1-b2)*g*g
				if o.Optimizer == RMSprop {
					tn.w[j] -= float32(lr * g / (math.Sqrt(tn.v[j]) + o.Epsilon))
					continue
				}
				tn.m[j] = b1*tn.m[j] + (1-b1)*g
				tn.w[j] -= float32(lr * tn.m[j] / (math.Sqrt(tn.v[j]) + o.Epsilon))
			}
		}
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
