package train

import (
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// layer is a dense layer with its gradient and optimiser state.
type layer struct {
	infer.Dense
	gW, gB []float32 // gradients summed over the current batch
	mW, vW []float64 // Adam first and second moments
	mB, vB []float64
}

// network is a stack of layers with per-sample work buffers.
type network struct {
	layers []layer
	acts   [][]float32 // acts[0] input, acts[i+1] output of layer i
	grads  [][]float32 // grads[i]: dLoss/d(acts[i])
}

// newNetwork builds sizes[0]→sizes[1]→…→sizes[n-1] with Glorot-uniform
// weights (Keras' default) and zero biases.
func newNetwork(r *rand.Rand, sizes []int, hidden, out infer.Activation) *network {
	n := &network{}
	n.acts = append(n.acts, make([]float32, sizes[0]))
	n.grads = append(n.grads, make([]float32, sizes[0]))
	for i := 1; i < len(sizes); i++ {
		in, o := sizes[i-1], sizes[i]
		act := hidden
		if i == len(sizes)-1 {
			act = out
		}
		l := layer{Dense: infer.Dense{In: in, Out: o, W: make([]float32, in*o), B: make([]float32, o), Act: act}}
		limit := math.Sqrt(6 / float64(in+o))
		for j := range l.W {
			l.W[j] = float32((2*r.Float64() - 1) * limit)
		}
		l.gW, l.gB = make([]float32, len(l.W)), make([]float32, o)
		l.mW, l.vW = make([]float64, len(l.W)), make([]float64, len(l.W))
		l.mB, l.vB = make([]float64, o), make([]float64, o)
		n.layers = append(n.layers, l)
		n.acts = append(n.acts, make([]float32, o))
		n.grads = append(n.grads, make([]float32, o))
	}
	return n
}

// forward runs x through the network; the output is n.acts[len-1].
func (n *network) forward(x []float32) []float32 {
	copy(n.acts[0], x)
	for i := range n.layers {
		n.layers[i].Forward(n.acts[i+1], n.acts[i])
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

// backward adds the gradients of the loss for the sample last passed to
// forward, given dLoss/d(output) in n.grads[len-1].
func (n *network) backward() {
	for i := len(n.layers) - 1; i >= 0; i-- {
		l := &n.layers[i]
		y, dy, x := n.acts[i+1], n.grads[i+1], n.acts[i]
		for o := range dy {
			dy[o] *= l.Act.Derivative(y[o])
		}
		dx := n.grads[i]
		clear(dx)
		for o, d := range dy {
			if d == 0 {
				continue
			}
			l.gB[o] += d
			row := l.W[o*l.In : (o+1)*l.In]
			grow := l.gW[o*l.In : (o+1)*l.In]
			for j, xv := range x {
				grow[j] += d * xv
				dx[j] += d * row[j]
			}
		}
	}
}

func (n *network) zeroGrad() {
	for i := range n.layers {
		clear(n.layers[i].gW)
		clear(n.layers[i].gB)
	}
}

// adam applies one Adam step (t counts steps from 1) with the gradients
// averaged over batch samples.
func (n *network) adam(o *Options, t int, batch int) {
	b1, b2 := o.Beta1, o.Beta2
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	lr := o.LearningRate * math.Sqrt(c2) / c1
	inv := 1 / float64(batch)
	step := func(w []float32, g []float32, m, v []float64) {
		for j := range w {
			gj := float64(g[j]) * inv
			m[j] = b1*m[j] + (1-b1)*gj
			v[j] = b2*v[j] + (1-b2)*gj*gj
			w[j] -= float32(lr * m[j] / (math.Sqrt(v[j]) + o.Epsilon))
		}
	}
	for i := range n.layers {
		l := &n.layers[i]
		step(l.W, l.gW, l.mW, l.vW)
		step(l.B, l.gB, l.mB, l.vB)
	}
}

// snapshot copies the weights into dense layers of their own.
func (n *network) snapshot() []infer.Dense {
	out := make([]infer.Dense, len(n.layers))
	for i := range n.layers {
		d := n.layers[i].Dense
		d.W = append([]float32(nil), d.W...)
		d.B = append([]float32(nil), d.B...)
		out[i] = d
	}
	return out
}

// restore loads weights saved by snapshot.
func (n *network) restore(ws []infer.Dense) {
	for i := range n.layers {
		copy(n.layers[i].W, ws[i].W)
		copy(n.layers[i].B, ws[i].B)
	}
}
