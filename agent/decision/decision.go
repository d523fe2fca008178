// Package decision turns a stream of per-sample verdicts (score above
// threshold or not, or no valid sample at all) into a debounced machine
// state, so one noisy score does not flap the state an operator sees.
//
// It holds no clock and does no I/O; the agent feeds it and publishes
// what it returns.
package decision

import "fmt"

// State is what the agent reports about the machine.
type State uint8

// The states. Unknown holds until the first N samples have been judged.
const (
	Unknown     State = iota // not enough samples yet
	Normal                   // fewer than K of the last N scores above threshold
	Anomaly                  // K of the last N scores above threshold
	SensorFault              // the last sample had a missing or invalid value
)

var stateNames = [...]string{Unknown: "unknown", Normal: "normal", Anomaly: "anomaly", SensorFault: "sensor-fault"}

// String returns the state's name as published ("normal", "anomaly",
// "sensor-fault", "unknown").
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Debouncer is a k-of-n state machine: it enters Anomaly once K of the
// last N scores are above the threshold and returns to Normal once K of
// the last N are at or below it. A sensor fault switches to SensorFault at
// once and forgets the history; leaving it takes N valid samples.
// A Debouncer is not safe for concurrent use.
type Debouncer struct {
	k, n  int
	ring  []bool // last n verdicts, true = above
	next  int    // ring index to write
	held  int    // verdicts held, up to n
	above int    // how many held verdicts are true
	state State
}

// New returns a Debouncer in state Unknown; 1 <= k <= n.
func New(k, n int) (*Debouncer, error) {
	if n < 1 || k < 1 || k > n {
		return nil, fmt.Errorf("decision: k=%d n=%d, want 1 <= k <= n", k, n)
	}
	return &Debouncer{k: k, n: n, ring: make([]bool, n)}, nil
}

// State returns the current state.
func (d *Debouncer) State() State { return d.state }

// Observe records whether the latest valid sample scored above the
// threshold and returns the state afterwards and whether it changed.
func (d *Debouncer) Observe(above bool) (State, bool) {
	if d.held == d.n && d.ring[d.next] {
		d.above--
	}
	d.ring[d.next] = above
	if above {
		d.above++
	}
	d.next = (d.next + 1) % d.n
	d.held = min(d.held+1, d.n)

	s := d.state
	switch {
	case d.above >= d.k && (s != Unknown && s != SensorFault || d.held == d.n):
		// Enter at once when k are above; after start-up or a fault only
		// when the window is full, so the verdict rests on n samples.
		s = Anomaly
	case d.held == d.n && (s == Unknown || s == SensorFault):
		s = Normal
	case s == Anomaly && d.held-d.above >= d.k:
		s = Normal
	}
	changed := s != d.state
	d.state = s
	return s, changed
}

// Fault records a sample that could not be scored. It returns whether
// the state changed (to SensorFault).
func (d *Debouncer) Fault() bool {
	clear(d.ring)
	d.next, d.held, d.above = 0, 0, 0
	changed := d.state != SensorFault
	d.state = SensorFault
	return changed
}
