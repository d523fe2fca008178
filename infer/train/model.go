package train

import (
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// model is what the training loop trains: an autoencoder network or a
// variational autoencoder made of two.
type model interface {
	// trainBatch runs the samples xs (at most the reserved batch size)
	// forward in training mode (noise, dropout, sampling, drawn from r
	// sample by sample), adds their gradients and returns sum plus their
	// losses, added one by one in order.
	trainBatch(xs [][]float32, r *rand.Rand, o *Options, sum float64) float64
	// reserve makes room for batches of size samples.
	reserve(size int)
	// score is the sample's deterministic score, as infer computes it.
	score(x []float32) float64
	// nets returns the networks; zeroGrad clears their gradients and
	// step applies one optimiser step to them (see network.step), both
	// without allocating.
	nets() []*network
	zeroGrad()
	step(o *Options, t, batch int)
}

func zeroGrad(m model) { m.zeroGrad() }

func snapshot(m model) [][][]float32 {
	var s [][][]float32
	for _, n := range m.nets() {
		s = append(s, n.snapshot())
	}
	return s
}

func restore(m model, s [][][]float32) {
	for i, n := range m.nets() {
		n.restore(s[i])
	}
}

// ae is a plain autoencoder: one network reconstructing its input.
type ae struct{ net *network }

func (a *ae) nets() []*network              { return []*network{a.net} }
func (a *ae) zeroGrad()                     { a.net.zeroGrad() }
func (a *ae) step(o *Options, t, batch int) { a.net.step(o, t, batch) }

func (a *ae) reserve(size int) { a.net.reserve(size) }

func (a *ae) trainBatch(xs [][]float32, r *rand.Rand, o *Options, sum float64) float64 {
	n := a.net
	last := len(n.layers) - 1
	w := n.width(last)
	for b, x := range xs {
		sum += reconLoss(o.Loss, n.forwardAt(b, x, r, o), x, slot(n.grads[last], b, w), 1)
	}
	n.backwardBatch(len(xs), false)
	return sum
}

// trainStep is trainBatch for the one sample x, returning its loss.
func (a *ae) trainStep(x []float32, r *rand.Rand, o *Options) float64 {
	return a.trainBatch([][]float32{x}, r, o, 0)
}

func (a *ae) score(x []float32) float64 { return mse(a.net.forward(x, nil, nil), x, nil) }

// reconLoss returns the reconstruction loss of out against target, mean
// over values, and writes scale × its gradient into grad. BCE clamps the
// outputs into (0, 1): it expects a sigmoid output and targets in [0, 1].
func reconLoss(kind Loss, out, target, grad []float32, scale float32) float64 {
	if kind != BCE {
		l := mse(out, target, grad)
		if scale != 1 {
			for i := range grad {
				grad[i] *= scale
			}
		}
		return l
	}
	const eps = 1e-7
	var s float64
	n := float64(len(out))
	for i, o := range out {
		p := math.Min(math.Max(float64(o), eps), 1-eps)
		y := float64(target[i])
		s -= y*math.Log(p) + (1-y)*math.Log(1-p)
		grad[i] = scale * float32((p-y)/(p*(1-p))/n)
	}
	return s / n
}

// vae is a variational autoencoder: the encoder gives μ and log σ² of
// the latent code, a sample z = μ + σ·ε feeds the decoder while training,
// and μ itself at scoring time (as infer does).
type vae struct {
	enc, dec *network
	latent   int
	beta     float64   // KL weight
	eps, z   []float32 // per batch slot: the noise drawn and the latent sample
}

func (v *vae) nets() []*network { return []*network{v.enc, v.dec} }
func (v *vae) zeroGrad()        { v.enc.zeroGrad(); v.dec.zeroGrad() }
func (v *vae) step(o *Options, t, batch int) {
	v.enc.step(o, t, batch)
	v.dec.step(o, t, batch)
}

// kl returns −½ Σ (1 + log σ² − μ² − σ²) of an encoder output.
func kl(h []float32, latent int) float64 {
	var s float64
	for i, m := range h[:latent] {
		lv := float64(h[latent+i])
		s += 1 + lv - float64(m)*float64(m) - math.Exp(lv)
	}
	return -0.5 * s
}

func (v *vae) reserve(size int) {
	v.enc.reserve(size)
	v.dec.reserve(size)
	if len(v.eps) < size*v.latent {
		v.eps, v.z = make([]float32, size*v.latent), make([]float32, size*v.latent)
	}
}

func (v *vae) trainBatch(xs [][]float32, r *rand.Rand, o *Options, sum float64) float64 {
	L := v.latent
	encOut, decOut := len(v.enc.layers)-1, len(v.dec.layers)-1
	w := v.dec.width(decOut)
	for b, x := range xs {
		h := v.enc.forwardAt(b, x, r, o)
		mu, lv := h[:L], h[L:2*L]
		eps, z := slot(v.eps, b, L), slot(v.z, b, L)
		for i := range z {
			eps[i] = float32(r.NormFloat64())
			z[i] = mu[i] + float32(math.Exp(0.5*float64(lv[i])))*eps[i]
		}
		out := v.dec.forwardAt(b, z, r, o)
		loss := reconLoss(o.Loss, out, x, slot(v.dec.grads[decOut], b, w), 1)
		loss += v.beta * kl(h, L) / float64(len(x))
		sum += loss
	}
	v.dec.backwardBatch(len(xs), true) // dLoss/dz in dec.dx0
	for b, x := range xs {
		f := float64(len(x))
		h := slot(v.enc.acts[encOut], b, 2*L)
		mu, lv := h[:L], h[L:2*L]
		eps, dz, dh := slot(v.eps, b, L), slot(v.dec.dx0, b, L), slot(v.enc.grads[encOut], b, 2*L)
		for i := 0; i < L; i++ {
			sigma := math.Exp(0.5 * float64(lv[i]))
			dh[i] = dz[i] + float32(v.beta*float64(mu[i])/f)
			dh[L+i] = float32(float64(dz[i])*float64(eps[i])*0.5*sigma + v.beta*0.5*(math.Exp(float64(lv[i]))-1)/f)
		}
	}
	v.enc.backwardBatch(len(xs), false)
	return sum
}

// trainStep is trainBatch for the one sample x, returning its loss.
func (v *vae) trainStep(x []float32, r *rand.Rand, o *Options) float64 {
	return v.trainBatch([][]float32{x}, r, o, 0)
}

// score is infer's VAE score: reconstruction from μ plus the weighted KL
// term over the number of features.
func (v *vae) score(x []float32) float64 {
	h := v.enc.forward(x, nil, nil)
	s := mse(v.dec.forward(h[:v.latent], nil, nil), x, nil)
	if v.beta > 0 {
		s += v.beta * kl(h, v.latent) / float64(len(x))
	}
	return s
}

// newVAE builds the encoder in→hidden…→2·latent (linear head) and the
// mirrored decoder latent→…reversed hidden→in.
func newVAE(r *rand.Rand, in int, o *Options) *vae {
	a := o.VAE
	encSizes := append(append([]int{in}, o.Hidden...), 2*a.Latent)
	enc := denseLayers(r, encSizes, o.Activation, infer.Linear)
	decSizes := []int{a.Latent}
	for i := len(o.Hidden) - 1; i >= 0; i-- {
		decSizes = append(decSizes, o.Hidden[i])
	}
	dec := denseLayers(r, append(decSizes, in), o.Activation, o.Output)
	return &vae{enc: newNetwork(enc, o.Dropout), dec: newNetwork(dec, o.Dropout), latent: a.Latent, beta: a.Beta,
		eps: make([]float32, a.Latent), z: make([]float32, a.Latent)}
}
