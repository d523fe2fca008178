package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// Kind is a kind of fault the simulator can inject. The zero Kind is no
// fault.
type Kind uint8

// The fault kinds.
const (
	// ValveClosed: a valve closes partly. Flow falls by about 28 %,
	// pressure rises by about 1 bar and current falls slightly.
	ValveClosed Kind = iota + 1
	// RotorImbalance: both accelerometers rise by about 6 standard
	// deviations; current rises a little.
	RotorImbalance
	// Cavitation: the accelerometers' sample-to-sample noise grows
	// fourfold, pressure ripples by ±0.6 bar at 0.3 Hz and flow falls by
	// about 5 %.
	Cavitation
	// SensorDropout: one channel (Fault.Channel) reads NaN; no ramp.
	SensorDropout
	// SensorStuck: one channel holds the value it read when the fault
	// began; no ramp.
	SensorStuck
	// SensorSpike: one channel reads SpikeSigmas standard deviations too
	// high on one sample in every second; no ramp.
	SensorSpike
	// SensorDrift: one channel's calibration drifts upwards by
	// DriftSigmasPerSecond standard deviations every second.
	SensorDrift
)

// The sizes of the sensor faults, in standard deviations of the channel.
const (
	SpikeSigmas          = 20
	DriftSigmasPerSecond = 0.5
)

var kindNames = [...]string{"none", "valve-closed", "rotor-imbalance", "cavitation", "sensor-dropout", "sensor-stuck", "sensor-spike", "sensor-drift"}

// isSensor reports whether k is a fault of one sensor (it takes a
// Channel) rather than of the machine.
func (k Kind) isSensor() bool { return k >= SensorDropout && k <= SensorDrift }

// String returns the name ParseFault accepts, e.g. "valve-closed"; the zero
// Kind is "none".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k >= ValveClosed && k <= SensorDrift }

// ParseKind returns the Kind named s ("valve-closed", "rotor-imbalance",
// "cavitation" or "sensor-dropout").
func ParseKind(s string) (Kind, error) {
	for k := ValveClosed; k <= SensorDrift; k++ {
		if s == kindNames[k] {
			return k, nil
		}
	}
	return 0, fmt.Errorf("sim: unknown fault kind %q; want one of %s", s, strings.Join(kindNames[1:], ", "))
}

// Fault is one fault injected into a Pump's output.
type Fault struct {
	Kind Kind
	// Start is when the fault begins, measured from Opts.Start in
	// simulated time.
	Start time.Duration
	// Duration is how long it lasts; 0 means until the end of the run.
	// The effect ramps in over the first RampTime (and out over the last)
	// but the fault counts as active for the whole window.
	Duration time.Duration
	// Channel is the index in sensors.SKABChannels of the faulty
	// sensor; only the sensor faults (dropout, stuck, spike, drift) use
	// it.
	Channel int

	held      float64 // SensorStuck: the value held, once holding
	holding   bool
	lastSpike int64 // SensorSpike: the whole second of the last spike
	spiked    bool
}

// RampTime is how long a fault takes to reach full size, and to fade. For
// faults shorter than 4 RampTimes the ramps take a quarter of the duration.
const RampTime = 3 * time.Second

// String returns the form ParseFault accepts, e.g. "valve-closed@20s+15s"
// or "sensor-dropout:Current@1m0s".
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	if f.Kind.isSensor() && f.Channel >= 0 && f.Channel < len(sensors.SKABChannels) {
		b.WriteString(":" + sensors.SKABChannels[f.Channel])
	}
	b.WriteString("@" + f.Start.String())
	if f.Duration > 0 {
		b.WriteString("+" + f.Duration.String())
	}
	return b.String()
}

// ParseFault parses a fault as given on a command line:
// KIND[:CHANNEL]@START[+DURATION], e.g. "valve-closed@20s+15s",
// "cavitation@1m" (until the end) or "sensor-dropout:Pressure@10s+5s".
// START and DURATION are Go durations; CHANNEL, for sensor-dropout only, is
// a SKAB channel name (default Accelerometer1RMS).
func ParseFault(s string) (Fault, error) {
	bad := func(format string, args ...any) (Fault, error) {
		return Fault{}, fmt.Errorf("sim: fault %q: "+format, append([]any{s}, args...)...)
	}
	spec, when, ok := strings.Cut(s, "@")
	if !ok {
		return bad("want KIND@START[+DURATION], e.g. valve-closed@20s+15s")
	}
	kindName, channel, hasChannel := strings.Cut(spec, ":")
	kind, err := ParseKind(kindName)
	if err != nil {
		return bad("unknown kind %q; want one of %s", kindName, strings.Join(kindNames[1:], ", "))
	}
	f := Fault{Kind: kind}
	if hasChannel {
		if !kind.isSensor() {
			return bad("only the sensor faults (sensor-dropout, -stuck, -spike, -drift) take a :CHANNEL")
		}
		f.Channel = -1
		for i, c := range sensors.SKABChannels {
			if c == channel {
				f.Channel = i
			}
		}
		if f.Channel < 0 {
			return bad("unknown channel %q; want one of %s", channel, strings.Join(sensors.SKABChannels, ", "))
		}
	}
	start, dur, hasDur := strings.Cut(when, "+")
	if f.Start, err = time.ParseDuration(start); err != nil || f.Start < 0 {
		return bad("start %q is not a duration of 0 or more, such as 20s or 1m30s", start)
	}
	if hasDur {
		if f.Duration, err = time.ParseDuration(dur); err != nil || f.Duration <= 0 {
			return bad("duration %q is not a positive duration, such as 15s", dur)
		}
	}
	return f, nil
}

func (f Fault) validate() error {
	switch {
	case !f.Kind.valid():
		return fmt.Errorf("sim: fault %v: unknown kind", f.Kind)
	case f.Start < 0:
		return fmt.Errorf("sim: fault %v: negative Start", f)
	case f.Duration < 0:
		return fmt.Errorf("sim: fault %v: negative Duration", f)
	case f.Channel < 0 || f.Channel >= len(sensors.SKABChannels):
		return fmt.Errorf("sim: fault %v: Channel %d is not a SKAB channel index (0..%d)", f, f.Channel, len(sensors.SKABChannels)-1)
	case f.Channel != 0 && !f.Kind.isSensor():
		return fmt.Errorf("sim: fault %v: only the sensor faults take a Channel", f)
	}
	return nil
}

// envelope returns whether rel lies in the fault's window and the size of
// its effect there, from 0 to 1.
func (f *Fault) envelope(rel time.Duration) (bool, float64) {
	u := rel - f.Start
	if u < 0 || (f.Duration > 0 && u >= f.Duration) {
		return false, 0
	}
	ramp := RampTime
	if f.Duration > 0 && f.Duration < 4*RampTime {
		ramp = f.Duration / 4
	}
	a := 1.0
	if ramp > 0 {
		a = min(a, float64(u)/float64(ramp))
		if f.Duration > 0 {
			a = min(a, float64(f.Duration-u)/float64(ramp))
		}
	}
	return true, a
}
