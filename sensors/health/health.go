// Package health tells sensor faults from machine faults: per channel it
// flags readings that are missing or non-finite, outside the range the
// sensor can report, or stuck at one value for too long. A flagged sample
// is a sensor fault to report, naming the channel and the reason; it must
// not be scored by the model, whose anomaly would blame the machine.
//
// It keeps no clock: durations are measured in sample time. It does not
// decide what a fault means for the machine's state (see infer/decide and
// the agent) and does not read configuration.
package health

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// Limits configure the checks of one channel. The zero value checks only
// for missing and non-finite values.
type Limits struct {
	// Min and Max bound the readings the sensor can give; a value outside
	// [Min, Max] is a fault (a broken 4–20 mA loop reads 0 mA, say). NaN
	// turns a bound off.
	Min, Max float64
	// Stuck flags a value that has not changed at all for this long
	// (sample time); 0 turns the check off. Quantised sensors can sit on
	// one value for minutes: set it well above that.
	Stuck time.Duration
}

// NoRange is Limits without a range check.
var NoRange = Limits{Min: math.NaN(), Max: math.NaN()}

// Reason says why a channel's reading is a fault.
type Reason uint8

// The reasons.
const (
	OK      Reason = iota
	Missing        // NaN: missing, or not a number
	Inf            // ±Inf: overflowed or a sensor error code
	Low            // below Limits.Min
	High           // above Limits.Max
	Stuck          // unchanged for Limits.Stuck
)

var reasonNames = [...]string{OK: "ok", Missing: "missing", Inf: "infinite", Low: "below range", High: "above range", Stuck: "stuck"}

// String returns the reason's name, e.g. "stuck".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Fault is one channel's fault in the last sample checked.
type Fault struct {
	Channel int // index into the channels
	Reason  Reason
	Value   float32       // the reading
	For     time.Duration // Stuck: how long it has not changed
}

// Checker checks samples of a fixed set of channels. It is not safe for
// concurrent use and does not allocate after New.
type Checker struct {
	names  []string
	lim    []Limits
	last   []float32
	since  []time.Time // when last[i] was first seen
	seen   []bool
	faults []Fault
}

// New returns a Checker for channels, with limits by channel name
// (channels not named get NoRange). Errors name the channel and field.
func New(channels []string, limits map[string]Limits) (*Checker, error) {
	n := len(channels)
	c := &Checker{names: channels, lim: make([]Limits, n), last: make([]float32, n), since: make([]time.Time, n),
		seen: make([]bool, n), faults: make([]Fault, 0, n)}
	known := map[string]bool{}
	for i, ch := range channels {
		known[ch] = true
		l, ok := limits[ch]
		if !ok {
			l = NoRange
		}
		if math.IsInf(l.Min, 0) || math.IsInf(l.Max, 0) {
			return nil, fmt.Errorf("health: %s: min %v max %v: want finite bounds (NaN for none)", ch, l.Min, l.Max)
		}
		if l.Min > l.Max {
			return nil, fmt.Errorf("health: %s: min %v is above max %v", ch, l.Min, l.Max)
		}
		if l.Stuck < 0 {
			return nil, fmt.Errorf("health: %s: stuck %v: want 0 (off) or a positive duration", ch, l.Stuck)
		}
		c.lim[i] = l
	}
	for ch := range limits {
		if !known[ch] {
			return nil, fmt.Errorf("health: limits for %q, which is not among the channels %q", ch, channels)
		}
	}
	return c, nil
}

// Check examines one sample (values in channel order) and returns how
// many channels are faulty; Faults lists them.
func (c *Checker) Check(s *sensors.Sample) int {
	c.faults = c.faults[:0]
	for i, l := range c.lim {
		v := s.Values[i]
		f := Fault{Channel: i, Value: v}
		switch x := float64(v); {
		case math.IsNaN(x):
			f.Reason = Missing
		case math.IsInf(x, 0):
			f.Reason = Inf
		case x < l.Min:
			f.Reason = Low
		case x > l.Max:
			f.Reason = High
		}
		if !math.IsNaN(float64(v)) {
			if !c.seen[i] || v != c.last[i] {
				c.last[i], c.since[i], c.seen[i] = v, s.Time, true
			} else if d := s.Time.Sub(c.since[i]); f.Reason == OK && l.Stuck > 0 && d >= l.Stuck {
				f.Reason, f.For = Stuck, d
			}
		}
		if f.Reason != OK {
			c.faults = append(c.faults, f)
		}
	}
	return len(c.faults)
}

// Faults returns the faults found by the last Check. The slice belongs to
// the Checker and is valid until the next Check.
func (c *Checker) Faults() []Fault { return c.faults }

// Describe renders faults for people, e.g. "Pressure stuck at 4.2 for
// 10m0s; Current below range (-0.1 < 0)". It allocates: call it only when
// a state changes.
func (c *Checker) Describe(faults []Fault) string {
	var b strings.Builder
	for i, f := range faults {
		if i > 0 {
			b.WriteString("; ")
		}
		name := c.names[f.Channel]
		l := c.lim[f.Channel]
		switch f.Reason {
		case Stuck:
			fmt.Fprintf(&b, "%s stuck at %g for %v", name, f.Value, f.For.Round(time.Second))
		case Low:
			fmt.Fprintf(&b, "%s below range (%g < %g)", name, f.Value, l.Min)
		case High:
			fmt.Fprintf(&b, "%s above range (%g > %g)", name, f.Value, l.Max)
		default:
			fmt.Fprintf(&b, "%s %s", name, f.Reason)
		}
	}
	return b.String()
}
