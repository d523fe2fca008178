package decide

import (
	"fmt"
	"math"
	"time"
)

// A verdict is one score's bits: above Enter×threshold, at or below
// Exit×threshold, or (in the hysteresis band) neither.
const (
	verdictAbove uint8 = 1 << iota
	verdictBelow
)

// Decider is the k-of-n state machine with hysteresis, on- and off-delays
// and a gap rule (see Params). Feed it every sample in order: Next with
// the sample's time, then Observe with its score, or Fault if it could
// not be scored; call Stale when the caller's clock finds no valid sample
// arriving in time.
//
// From Unknown, SensorFault and Stale (and after Restore) a decision
// needs a full window of N verdicts: Anomaly if K of them are above (and
// the entry condition has held for MinDuration), else Normal. From Normal
// it enters Anomaly as soon as K of the held verdicts are above for
// MinDuration; from Anomaly it returns to Normal once K of them are below,
// and not K above, for Cooldown.
//
// A Decider is not safe for concurrent use. It allocates only in New.
type Decider struct {
	p           Params // normalised
	threshold   float32
	enter, exit float64 // Enter×threshold, Exit×threshold

	ring         []uint8 // the last N verdicts
	next         int     // ring index to write
	held         int     // verdicts held, up to N
	above, below int     // held verdicts above and below

	state State
	// full: the next decision needs a full window (after start-up, a
	// fault, staleness or Restore).
	full bool

	last time.Time // the previous sample's time given to Next
	seen bool      // Next has been called

	// entering and leaving: the entry (exit) condition has held at every
	// verdict since enterSince (leaveSince).
	entering, leaving      bool
	enterSince, leaveSince time.Time
}

// New returns a Decider in state Unknown for scores against threshold
// (positive and finite) with params p, checked by Params.Validate.
func New(threshold float32, p Params) (*Decider, error) {
	if t := float64(threshold); !(t > 0) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("decide: threshold %v, want a positive finite number", threshold)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.Normalized()
	return &Decider{
		p: p, threshold: threshold,
		enter: p.Enter * float64(threshold), exit: p.Exit * float64(threshold),
		ring: make([]uint8, p.N), full: true,
	}, nil
}

// State returns the current state.
func (d *Decider) State() State { return d.state }

// Threshold returns the threshold the Decider was made with.
func (d *Decider) Threshold() float32 { return d.threshold }

// Params returns the Decider's parameters, zero Enter and Exit replaced
// by 1.
func (d *Decider) Params() Params { return d.p }

// Next must be called with every sample's time, valid or not, before the
// sample is scored (Observe) or reported faulty (Fault). It returns true
// when a gap precedes t: with Gap > 0, t is more than Gap after the
// previous sample, or before it (a clock that went backwards: nothing
// measured across it means anything). Gap 0 turns the rule off. On a
// gap the verdict history and the on- and off-delays are cleared and the
// state is kept; the caller must restart its feature window
// (infer.Autoencoder.Reset). The first call never reports a gap.
func (d *Decider) Next(t time.Time) bool {
	gap := d.seen && d.p.Gap > 0 && (t.Before(d.last) || t.Sub(d.last) > d.p.Gap)
	d.last, d.seen = t, true
	if gap {
		d.forget()
	}
	return gap
}

// Observe records the score of a valid sample (or window) at sample time
// t and returns the state afterwards and whether it changed. A NaN score
// counts as above the threshold.
func (d *Decider) Observe(t time.Time, score float32) (State, bool) {
	var v uint8
	s := float64(score)
	if !(s <= d.enter) {
		v |= verdictAbove
	}
	if s <= d.exit {
		v |= verdictBelow
	}
	if d.held == d.p.N {
		old := d.ring[d.next]
		d.above -= int(old & verdictAbove)
		d.below -= int(old&verdictBelow) >> 1
	} else {
		d.held++
	}
	d.ring[d.next] = v
	d.above += int(v & verdictAbove)
	d.below += int(v&verdictBelow) >> 1
	if d.next++; d.next == d.p.N {
		d.next = 0
	}

	// The entry condition wins over the exit condition when both hold
	// (possible when K <= N/2).
	entry := d.above >= d.p.K
	exit := !entry && d.below >= d.p.K
	if !entry {
		d.entering = false
	} else if !d.entering {
		d.entering, d.enterSince = true, t
	}
	if !exit {
		d.leaving = false
	} else if !d.leaving {
		d.leaving, d.leaveSince = true, t
	}
	entered := entry && (d.p.MinDuration == 0 || t.Sub(d.enterSince) >= d.p.MinDuration)
	left := exit && (d.p.Cooldown == 0 || t.Sub(d.leaveSince) >= d.p.Cooldown)

	st := d.state
	switch {
	case d.full:
		if d.held < d.p.N {
			break
		}
		d.full = false
		switch {
		case st == Anomaly:
			// A restored anomaly goes on, without waiting for MinDuration
			// again (it was confirmed before), and ends only as a running
			// one would: once the exit condition has held for Cooldown.
			if left {
				st = Normal
			}
		case entered:
			st = Anomaly
		default:
			st = Normal
		}
	case st == Normal && entered:
		st = Anomaly
	case st == Anomaly && left:
		st = Normal
	}
	changed := st != d.state
	d.state = st
	return st, changed
}

// Fault records a sample at time t that could not be scored (a missing
// or invalid value): the state becomes SensorFault at once and the
// verdict history is forgotten, so leaving SensorFault takes N valid
// verdicts. It returns whether the state changed.
func (d *Decider) Fault(t time.Time) bool {
	return d.interrupt(SensorFault)
}

// Stale records that no valid sample arrived in time, as the caller's
// clock judges it: the state becomes Stale and the verdict history is
// forgotten, so leaving Stale, like leaving SensorFault, takes N valid
// verdicts. It returns whether the state changed.
func (d *Decider) Stale() bool { return d.interrupt(Stale) }

func (d *Decider) interrupt(s State) bool {
	d.forget()
	d.full = true
	changed := d.state != s
	d.state = s
	return changed
}

// Restore sets the state a restarted agent remembers (Normal, Anomaly,
// SensorFault or Stale) without any history: the next decision needs a
// full window of N verdicts, exactly as after a fault, except that
// staying in the restored state is no change. So a restart that finds
// the machine as it was raises no new alert. A restored Anomaly that
// still holds (K of the N above) continues without waiting for
// MinDuration again. Restore(Unknown), or of any other value, does
// nothing.
func (d *Decider) Restore(s State) {
	switch s {
	case Normal, Anomaly, SensorFault, Stale:
		d.forget()
		d.full = true
		d.state = s
	}
}

// forget clears the verdict history and the delays.
func (d *Decider) forget() {
	clear(d.ring)
	d.next, d.held, d.above, d.below = 0, 0, 0, 0
	d.entering, d.leaving = false, false
}
