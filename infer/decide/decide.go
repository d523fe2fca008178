package decide

import (
	"fmt"
	"math"
	"time"
)

// State is what the gateway reports about the machine.
type State uint8

// The states. A Decider starts in Unknown and never returns to it.
const (
	Unknown     State = iota // not enough verdicts yet
	Normal                   // the last decision found no anomaly
	Anomaly                  // K of the last N scores above Enter×threshold
	SensorFault              // the last sample had a missing or invalid value
	Stale                    // no valid sample arrived in time (the agent's clock decides; see Decider.Stale)
)

var stateNames = [...]string{Unknown: "unknown", Normal: "normal", Anomaly: "anomaly", SensorFault: "sensor-fault", Stale: "stale"}

// String returns the state's name as published: "unknown", "normal",
// "anomaly", "sensor-fault" or "stale"; other values print as State(N).
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ParseState returns the state String names. The error names the bad
// value and the valid ones.
func ParseState(s string) (State, error) {
	for i, name := range stateNames {
		if s == name {
			return State(i), nil
		}
	}
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return Unknown, fmt.Errorf("decide: state %q, want unknown, normal, anomaly, sensor-fault or stale", s)
}

// MarshalText returns the state's name, so a State marshals to JSON as
// "anomaly"; it fails for a value that is none of the five states.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("decide: state %d is not a state", uint8(s))
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText is ParseState for encoding packages.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MaxN is the longest verdict window a Decider keeps.
const MaxN = 1000

// Params configure a Decider. Zero values mean "as before": Enter and
// Exit 0 mean 1, and zero durations turn their rules off.
type Params struct {
	// K and N: anomaly once K of the last N scores are above
	// Enter×threshold, normal again once K of the last N are at or below
	// Exit×threshold; 1 <= K <= N <= MaxN.
	K, N int
	// Enter and Exit are hysteresis factors of the threshold: a score
	// counts toward entering an anomaly when it is above Enter×threshold
	// and toward leaving it when it is at or below Exit×threshold; with
	// Exit < Enter a score between counts toward neither. 0 means 1. Both
	// finite, 0 < Exit <= Enter.
	Enter, Exit float64
	// MinDuration is an on-delay: the entry condition (K above) must have
	// held at every verdict for at least this long in sample time before
	// Anomaly is entered. 0 enters at once.
	MinDuration time.Duration
	// Cooldown is an off-delay: the exit condition (K below, and not K
	// above) must have held at every verdict for at least this long in
	// sample time before Normal is entered again; an entry condition in
	// between keeps the same anomaly going (no new alert). 0 leaves at
	// once.
	Cooldown time.Duration
	// Gap: a sample more than Gap after the previous one (sample time)
	// clears the verdict history, keeping the state (see Decider.Next).
	// 0 turns the rule off.
	Gap time.Duration
}

// DefaultParams returns the agent's decision when neither its
// configuration nor the model suggests one: anomaly once 6 of the last 8
// scores are above the threshold, normal once 6 of 8 are at or below it,
// no delays and no gap rule.
func DefaultParams() Params { return Params{K: 6, N: 8, Enter: 1, Exit: 1} }

// Validate reports the first parameter out of range; the error names the
// field and the range wanted.
func (p Params) Validate() error {
	if p.N < 1 || p.K < 1 || p.K > p.N || p.N > MaxN {
		return fmt.Errorf("decide: k=%d n=%d, want 1 <= k <= n <= %d", p.K, p.N, MaxN)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"enter", p.Enter}, {"exit", p.Exit}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("decide: %s %v, want a positive finite factor of the threshold (0 means 1)", f.name, f.v)
		}
	}
	if q := p.Normalized(); q.Exit > q.Enter {
		return fmt.Errorf("decide: exit %v > enter %v, want 0 < exit <= enter (0 means 1)", q.Exit, q.Enter)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"min duration", p.MinDuration}, {"cooldown", p.Cooldown}, {"gap", p.Gap}} {
		if f.d < 0 {
			return fmt.Errorf("decide: %s %v, want 0 or more", f.name, f.d)
		}
	}
	return nil
}

// Normalized returns p with zero Enter and Exit factors replaced by 1,
// the values they stand for.
func (p Params) Normalized() Params {
	if p.Enter == 0 {
		p.Enter = 1
	}
	if p.Exit == 0 {
		p.Exit = 1
	}
	return p
}
