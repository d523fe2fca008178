package infer

import (
	"fmt"
	"math"
)

// MaxMembers bounds the members of a multi-scale model (Config.Members).
const MaxMembers = 4

// Member is one further autoencoder of a multi-scale model
// (Config.Members), over the same channels as the model. Every sample
// goes into every member; a member scores on its own window and stride,
// and its latest score counts until its next. The model's score is the
// mean, over the model itself and its members, of each one's latest
// score divided by its Norm:
//
//	score = (s₀/Norm₀ + Σᵢ sᵢ/Normᵢ) / (1 + len(Members))
//
// With each Norm the member's own calibrated threshold, a fused score of
// 1 means "at threshold on average", so a short window's quick view and
// a long window's view of slow transitions count alike. The fused score
// is due whenever the model itself scores, once every member has scored
// since the last Reset: it uses only the samples seen so far. A channel's
// contribution is fused the same way.
type Member struct {
	// Config is the member's model; its own Members must be empty.
	Config Config
	// Norm divides the member's score: its calibrated threshold.
	Norm float32
}

// fusion is what a multi-scale Autoencoder keeps of its members.
type fusion struct {
	members []*Autoencoder
	inv     []float32   // 1/Norm: [0] the model's own, [i+1] member i's
	latest  []float32   // member i's latest score × inv[i+1]
	has     []bool      // member i has scored since the last reset
	ready   int         // how many have
	own     []float32   // the model's own per-channel contributions
	per     [][]float32 // member i's latest per-channel contributions
}

// newFusion builds the members of c, a model over channels channels.
func newFusion(c Config, channels int) (*fusion, error) {
	if len(c.Members) > MaxMembers {
		return nil, fmt.Errorf("infer: %d members, at most %d", len(c.Members), MaxMembers)
	}
	if !finitePositive(c.Norm) {
		return nil, fmt.Errorf("infer: a multi-scale model's own norm is %v, want a positive finite number (its threshold)", c.Norm)
	}
	n := len(c.Members)
	f := &fusion{members: make([]*Autoencoder, n), inv: make([]float32, n+1), latest: make([]float32, n),
		has: make([]bool, n), own: make([]float32, channels), per: make([][]float32, n)}
	f.inv[0] = 1 / c.Norm
	for i, m := range c.Members {
		switch {
		case len(m.Config.Members) > 0:
			return nil, fmt.Errorf("infer: member %d has members of its own", i)
		case !finitePositive(m.Norm):
			return nil, fmt.Errorf("infer: member %d: norm %v, want a positive finite number (its threshold)", i, m.Norm)
		}
		ae, err := NewAutoencoder(m.Config)
		if err != nil {
			return nil, fmt.Errorf("infer: member %d: %w", i, err)
		}
		if ae.Channels() != channels {
			return nil, fmt.Errorf("infer: member %d reads %d channels, the model %d", i, ae.Channels(), channels)
		}
		f.members[i], f.inv[i+1], f.per[i] = ae, 1/m.Norm, make([]float32, channels)
	}
	return f, nil
}

func finitePositive(v float32) bool {
	return v > 0 && !math.IsInf(float64(v), 0) && !math.IsInf(float64(1/v), 0)
}

// reset empties every member's window and forgets their scores.
func (f *fusion) reset() {
	for i, m := range f.members {
		m.Reset()
		f.has[i] = false
	}
	f.ready = 0
}

// push is Push for the multi-scale model a.
func (f *fusion) push(a *Autoencoder, x, perChannel []float32) (float32, bool, error) {
	for i, m := range f.members {
		s, ok, err := m.push(x, f.per[i])
		if err != nil {
			a.Reset() // no member's window may span the gap either
			return s, false, err
		}
		if ok {
			if !f.has[i] {
				f.has[i] = true
				f.ready++
			}
			f.latest[i] = s * f.inv[i+1]
		}
	}
	var own []float32
	if perChannel != nil {
		own = f.own
	}
	s, ok, err := a.push(x, own)
	if err != nil {
		a.Reset()
		return s, false, err
	}
	if !ok || f.ready < len(f.members) {
		return 0, false, nil
	}
	w := 1 / float32(1+len(f.members))
	sum := s * f.inv[0]
	for _, v := range f.latest {
		sum += v
	}
	if perChannel != nil {
		pc := perChannel[:len(own)]
		for c, v := range own {
			pc[c] = v * f.inv[0]
		}
		for i, p := range f.per {
			p = p[:len(pc)]
			k := f.inv[i+1]
			for c, v := range p {
				pc[c] += v * k
			}
		}
		for c := range pc {
			pc[c] *= w
		}
	}
	return sum * w, true, nil
}

// Members returns the members of a multi-scale model (nil otherwise),
// each with its own window and buffers. The caller must not modify them
// nor push into them.
func (a *Autoencoder) Members() []*Autoencoder {
	if a.fused == nil {
		return nil
	}
	return a.fused.members
}
