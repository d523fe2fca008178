package agent

import (
	"sync"
	"time"

	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors"
)

// live keeps the last scored sample for readers on other goroutines (the
// status page), copied at most every liveEvery so the sampling loop pays
// little for it, and without allocating.
type live struct {
	mu        sync.Mutex
	at        time.Time // sample time
	next      time.Time // clock time of the next copy
	values    []float32
	per       []float32 // per-channel error (the shares' numerators)
	score     float32
	threshold float32
	// enter and exit are the decision's hysteresis factors.
	enter, exit float64
}

// liveEvery is how often live copies a sample at most.
const liveEvery = 100 * time.Millisecond

// record copies a scored sample, unless one was copied less than
// liveEvery ago.
func (l *live) record(s *sensors.Sample, per []float32, score, threshold float32, d decide.Params) {
	now := time.Now()
	if now.Before(l.next) {
		return
	}
	l.mu.Lock()
	l.next = now.Add(liveEvery)
	l.at = s.Time
	copy(l.values, s.Values)
	copy(l.per, per)
	l.score, l.threshold = score, threshold
	l.enter, l.exit = d.Enter, d.Exit
	l.mu.Unlock()
}

// Live is the last scored sample as the status page shows it.
type Live struct {
	Time      time.Time
	Values    []float32
	Shares    []float32 // each channel's share of the error, summing to 1
	Score     float32   // NaN before the first score
	Threshold float32
	// AlarmAbove and NormalAt are the score levels that start and end an
	// anomaly: the threshold times the decision's enter and exit factors,
	// the threshold itself without hysteresis.
	AlarmAbove, NormalAt float32
	// LastArrival is when the last sample arrived, on the agent's clock
	// (zero before the first).
	LastArrival time.Time
}

// Live returns a copy of the last scored sample; safe from any goroutine.
func (p *Pipeline) Live() Live {
	l := &p.live
	l.mu.Lock()
	out := Live{Time: l.at, Values: append([]float32(nil), l.values...), Shares: append([]float32(nil), l.per...),
		Score: l.score, Threshold: l.threshold,
		AlarmAbove: float32(float64(l.threshold) * l.enter), NormalAt: float32(float64(l.threshold) * l.exit)}
	l.mu.Unlock()
	var sum float32
	for _, v := range out.Shares {
		sum += v
	}
	if sum > 0 {
		for i := range out.Shares {
			out.Shares[i] /= sum
		}
	}
	if ns := p.arrivedNs.Load(); ns != 0 {
		out.LastArrival = time.Unix(0, ns)
	}
	return out
}

// staleTimeout is the stale timeout in force; safe from any goroutine.
func (p *Pipeline) staleTimeout() time.Duration {
	if d := p.staleNs.Load(); d != 0 {
		return time.Duration(d)
	}
	if p.o.StaleAfter > 0 {
		return p.o.StaleAfter
	}
	return StartupStale
}
