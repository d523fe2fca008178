package infer

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// A transposed convolution computed by phase decomposition. Output step u
// has phase p = (u + Padding) mod Stride; the taps that reach it are
// k = p, p+S, p+2S, … (S the stride) on input steps t = (u+Padding−k)/S,
// which are consecutive and descend as k ascends. Packing, per phase, the
// OutChannels × InChannels blocks of those taps side by side in reverse
// tap order makes each output step one matrix-vector product of a packed
// matrix with a contiguous slice of the input, as in Conv1D.Forward —
// instead of one short product per tap.

// convTPlan is a ConvTranspose1D's weights packed by phase. Phase p holds
// n = phaseTaps(p) blocks: an OutChannels × n·InChannels matrix at
// off[p], whose column block j is tap k = p + (n−1−j)·Stride.
type convTPlan struct {
	// What it was packed from: Forward uses the plan only while the layer
	// still has these weights and shape (a copied layer whose weights were
	// replaced, as QuantizeLayer makes, falls back to gathering).
	srcW         []float32
	srcQ         []int8
	ci, co, k, s int

	w   []float32 // packed float32 weights, or
	q   []int8    // packed int8 weights (the layer's Scale still applies)
	off []int     // off[p]: start of phase p's matrix; len Stride
}

// phaseTaps returns the number of taps of phase p: k = p, p+stride, …
// below kernel.
func phaseTaps(p, kernel, stride int) int {
	if p >= kernel {
		return 0
	}
	return (kernel - p + stride - 1) / stride
}

// pack calls f(i, j) for every packed position i with the index j of the
// weight (in W or Q) it holds.
func (c *ConvTranspose1D) pack(f func(i, j int)) {
	ci, co, s := c.InChannels, c.OutChannels, c.Stride
	i := 0
	for p := 0; p < s; p++ {
		n := phaseTaps(p, c.Kernel, s)
		for o := 0; o < co; o++ {
			for b := 0; b < n; b++ {
				k := p + (n-1-b)*s
				j := (k*co + o) * ci // W[k][o][0]
				for ch := 0; ch < ci; ch++ {
					f(i, j+ch)
					i++
				}
			}
		}
	}
}

// Prepare packs the weights by phase so that Forward computes each output
// step as one matrix-vector product; on the conv autoencoder's transposed
// layers that is about twice as fast as gathering tap by tap. The packing
// takes as much memory as W or Q.
//
// NewAutoencoder prepares its layers. A layer used on its own should be
// prepared once before Forward, and again after W or Q change in place:
// until then Forward computes with the old weights. Without a packing, or
// when W, Q or the shape were replaced since (as in the copy QuantizeLayer
// makes), Forward gathers instead: the same results, slower. A layer that
// does not validate is left unprepared.
//
// Prepare is safe to call while other goroutines call Forward or Prepare
// on the layer: a new packing is published atomically, and a current one
// (as when Autoencoder.Clone prepares shared layers) is only read.
func (c *ConvTranspose1D) Prepare() {
	if c.Validate() != nil {
		return
	}
	if p := c.plan(); p != nil && p.matches(c) {
		return
	}
	p := &convTPlan{srcW: c.W, srcQ: c.Q, ci: c.InChannels, co: c.OutChannels, k: c.Kernel, s: c.Stride,
		off: make([]int, c.Stride)}
	for ph, at := 0, 0; ph < c.Stride; ph++ {
		p.off[ph] = at
		at += phaseTaps(ph, c.Kernel, c.Stride) * c.OutChannels * c.InChannels
	}
	if len(c.Q) > 0 {
		p.q = make([]int8, len(c.Q))
		c.pack(func(i, j int) { p.q[i] = c.Q[j] })
	} else {
		p.w = make([]float32, len(c.W))
		c.pack(func(i, j int) { p.w[i] = c.W[j] })
	}
	atomic.StorePointer(&c.packed, unsafe.Pointer(p))
}

// plan returns the layer's packing if it has one for its current weights
// and shape, else nil.
func (c *ConvTranspose1D) plan() *convTPlan {
	p := (*convTPlan)(atomic.LoadPointer(&c.packed))
	if p == nil || p.ci != c.InChannels || p.co != c.OutChannels || p.k != c.Kernel || p.s != c.Stride ||
		!sameSlice(p.srcW, c.W) || !sameSlice(p.srcQ, c.Q) {
		return nil
	}
	return p
}

// sameSlice reports whether a and b are the same memory (not merely
// equal values).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// matches reports whether p holds exactly c's current weights, bit for
// bit (NaNs included).
func (p *convTPlan) matches(c *ConvTranspose1D) bool {
	same := true
	if len(c.Q) > 0 {
		c.pack(func(i, j int) { same = same && p.q[i] == c.Q[j] })
	} else {
		c.pack(func(i, j int) { same = same && math.Float32bits(p.w[i]) == math.Float32bits(c.W[j]) })
	}
	return same
}

// forwardPhases is Forward with the packing p. The output steps of a
// phase, Stride apart, use the same packed matrix on input slices one
// step apart; those whose every tap falls inside the input run on the
// multi-vector kernels, the few at the edges one at a time.
func (c *ConvTranspose1D) forwardPhases(p *convTPlan, dst, x []float32) {
	ci, co, s := c.InChannels, c.OutChannels, c.Stride
	lout := c.OutLength()
	dst = dst[:lout*co]
	x = x[:c.Length*ci]
	for ph := 0; ph < s; ph++ {
		// The phase's first output step is u0; its m-th, u0 + m·Stride,
		// reads input steps lo0 + m to lo0 + m + n − 1. The interior
		// ones, m0 ≤ m < m1, are those with every step inside the input.
		u0 := ((ph-c.Padding)%s + s) % s
		if u0 >= lout {
			continue
		}
		n := phaseTaps(ph, c.Kernel, s)
		steps := (lout - u0 + s - 1) / s
		lo0 := (u0+c.Padding-ph)/s - n + 1
		m0, m1 := max(0, -lo0), min(steps, c.Length-n-lo0+1)
		if n == 0 || m1 <= m0 {
			m0, m1 = steps, steps // no interior
		}
		if m1 > m0 {
			d, xm := dst[(u0+m0*s)*co:], x[(lo0+m0)*ci:]
			if p.q != nil {
				gemvMultiQ8(d, co, s*co, p.q[p.off[ph]:], n*ci, xm, ci, n*ci, m1-m0, c.Scale, c.B, c.Act)
			} else {
				gemvMulti(d, co, s*co, p.w[p.off[ph]:], n*ci, xm, ci, n*ci, m1-m0, nil, c.B, c.Act)
			}
		}
		for m := 0; m < steps; m++ {
			if m == m0 {
				m = m1 - 1 // the interior, done above
				continue
			}
			u, lo := u0+m*s, lo0+m // lo: input step of column block 0
			row := dst[u*co : u*co+co]
			j0, j1 := max(0, -lo), min(n, c.Length-lo)
			switch {
			case j1 <= j0:
				clear(row)
			case p.q != nil:
				gemvQ8(row, p.q[p.off[ph]+j0*ci:], n*ci, x[(lo+j0)*ci:], (j1-j0)*ci, false)
			default:
				gemv(row, p.w[p.off[ph]+j0*ci:], n*ci, x[(lo+j0)*ci:], (j1-j0)*ci, false)
			}
			biasAct(row, c.Scale, c.B, c.Act)
		}
	}
}
