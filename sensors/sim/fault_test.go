package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

var parseFaultTests = []struct {
	in   string
	want Fault
	err  string
}{
	{"valve-closed@20s+15s", Fault{Kind: ValveClosed, Start: 20 * time.Second, Duration: 15 * time.Second}, ""},
	{"rotor-imbalance@1m30s", Fault{Kind: RotorImbalance, Start: 90 * time.Second}, ""},
	{"cavitation@0s+500ms", Fault{Kind: Cavitation, Duration: 500 * time.Millisecond}, ""},
	{"sensor-dropout@5s+1s", Fault{Kind: SensorDropout, Start: 5 * time.Second, Duration: time.Second}, ""},
	{"sensor-dropout:Volume Flow RateRMS@5s", Fault{Kind: SensorDropout, Start: 5 * time.Second, Channel: chFlow}, ""},
	{"sensor-stuck:Pressure@5s+10s", Fault{Kind: SensorStuck, Start: 5 * time.Second, Duration: 10 * time.Second, Channel: chPressure}, ""},
	{"sensor-spike:Current@1s", Fault{Kind: SensorSpike, Start: time.Second, Channel: chCurrent}, ""},
	{"sensor-drift:Pressure@1s", Fault{Kind: SensorDrift, Start: time.Second, Channel: chPressure}, ""},
	{"valve-closed", Fault{}, "want KIND@START[+DURATION], e.g. valve-closed@20s+15s"},
	{"", Fault{}, "want KIND@START"},
	{"leak@20s", Fault{}, `unknown kind "leak"; want one of valve-closed, rotor-imbalance, cavitation, sensor-dropout, sensor-stuck, sensor-spike, sensor-drift`},
	{"Valve-Closed@20s", Fault{}, `unknown kind "Valve-Closed"`},
	{"valve-closed@", Fault{}, `start "" is not a duration`},
	{"valve-closed@20", Fault{}, `start "20" is not a duration`},
	{"valve-closed@-5s", Fault{}, `start "-5s" is not a duration of 0 or more`},
	{"valve-closed@20s+", Fault{}, `duration "" is not a positive duration`},
	{"valve-closed@20s+0s", Fault{}, `duration "0s" is not a positive duration`},
	{"valve-closed@20s+-1s", Fault{}, `duration "-1s"`},
	{"valve-closed@20s+1s+2s", Fault{}, `duration "1s+2s"`},
	{"cavitation:Current@1s", Fault{}, "only the sensor faults"},
	{"sensor-dropout:Speed@1s", Fault{}, `unknown channel "Speed"; want one of Accelerometer1RMS,`},
}

func TestParseFault(t *testing.T) {
	for _, tt := range parseFaultTests {
		got, err := ParseFault(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "sim: fault "+`"`+tt.in) {
				t.Errorf("ParseFault(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		back, err := ParseFault(got.String())
		if err != nil || back != got {
			t.Errorf("ParseFault(%q.String() = %q) = %+v, %v", tt.in, got.String(), back, err)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{0: "none", ValveClosed: "valve-closed", RotorImbalance: "rotor-imbalance",
		Cavitation: "cavitation", SensorDropout: "sensor-dropout", 99: "Kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// effect is an expected change of one channel during a fault's plateau,
// measured against the clean run of the same seed: the mean of the
// paired differences (in channel standard deviations) or the ratio of
// standard deviations.
type effect struct {
	ch       int
	stat     string // "diff" (mean difference / channelStd) or "ratio" (of stds)
	min, max float64
}

var faultEffectTests = []struct {
	kind    Kind
	channel int
	effects []effect // channels not listed must not change at all
}{
	{ValveClosed, 0, []effect{
		{chFlow, "diff", -35.0 / 1.6 * 1.05, -0.25 * 125.24 / 1.6}, // flow down 25-30 %
		{chPressure, "diff", 0.9 / 0.253, 1.1 / 0.253},             // about +1 bar
		{chCurrent, "diff", -0.5, -0.2},                            // slightly down
	}},
	{RotorImbalance, 0, []effect{
		{chAcc1, "diff", 7, 9}, // mostly across the rotor
		{chAcc2, "diff", 1, 3},
		{chCurrent, "diff", 0.2, 0.5},
	}},
	{Cavitation, 0, []effect{
		{chAcc1, "ratio", 3, 5},
		{chAcc2, "ratio", 3, 5},
		{chPressure, "ratio", 1.3, 3},
		{chFlow, "diff", -6.26 / 1.6 * 1.05, -6.26 / 1.6 * 0.95},
	}},
	{SensorDropout, chPressure, nil},
}

// TestFaultEffects runs each fault against the clean run of the same seed
// and checks that it moves the right channels the right way inside its
// window and changes nothing outside it.
func TestFaultEffects(t *testing.T) {
	const rate, seed = 10, 3
	start, dur := 60*time.Second, 40*time.Second
	n := int(150 * rate)
	clean, _ := run(t, Opts{Seed: seed, Rate: rate}, n)
	first, last := int(start.Seconds()*rate), int((start+dur).Seconds()*rate) // window [first, last)
	platFirst, platLast := first+int(RampTime.Seconds()*rate), last-int(RampTime.Seconds()*rate)
	for _, tt := range faultEffectTests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			f := Fault{Kind: tt.kind, Start: start, Duration: dur, Channel: tt.channel}
			p, err := New(Opts{Seed: seed, Rate: rate, Faults: []Fault{f}})
			if err != nil {
				t.Fatal(err)
			}
			var got [numChannels][]float64
			s := sensors.Sample{Values: make([]float32, numChannels)}
			for i := range n {
				p.Next(&s)
				kind, active := p.Active()
				if inWindow := i >= first && i < last; active != inWindow || (active && kind != tt.kind) {
					t.Fatalf("sample %d: Active() = %v, %v; want %v", i, kind, active, inWindow)
				}
				for c, v := range s.Values {
					got[c] = append(got[c], float64(v))
				}
			}
			touched := map[int]bool{}
			for _, e := range tt.effects {
				touched[e.ch] = true
				var v float64
				if e.stat == "diff" {
					for i := platFirst; i < platLast; i++ {
						v += got[e.ch][i] - clean[e.ch][i]
					}
					v /= float64(platLast-platFirst) * channelStd[e.ch]
				} else {
					_, sf := meanStd(got[e.ch][platFirst:platLast])
					_, sc := meanStd(clean[e.ch][platFirst:platLast])
					v = sf / sc
				}
				if v < e.min || v > e.max {
					t.Errorf("%s %s = %.3f, want within [%.3f, %.3f]", sensors.SKABChannels[e.ch], e.stat, v, e.min, e.max)
				}
			}
			if tt.kind == SensorDropout {
				touched[tt.channel] = true
				for i, v := range got[tt.channel] {
					if inWindow := i >= first && i < last; math.IsNaN(v) != inWindow {
						t.Fatalf("sample %d of %s = %v, want NaN only in the window", i, sensors.SKABChannels[tt.channel], v)
					}
				}
			}
			for c := range got {
				for i, v := range got[c] {
					inWindow := i >= first && i < last
					if (!inWindow || !touched[c]) && math.Float64bits(v) != math.Float64bits(clean[c][i]) {
						t.Fatalf("sample %d (window %v) of %s = %v, want the clean %v", i, inWindow, sensors.SKABChannels[c], v, clean[c][i])
					}
				}
			}
		})
	}
}

var envelopeTests = []struct {
	f    Fault
	rel  time.Duration
	in   bool
	size float64
}{
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 9 * time.Second, false, 0},
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 10 * time.Second, true, 0},
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 11500 * time.Millisecond, true, 0.5},
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 20 * time.Second, true, 1},
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 28500 * time.Millisecond, true, 0.5},
	{Fault{Start: 10 * time.Second, Duration: 20 * time.Second}, 30 * time.Second, false, 0},
	{Fault{Start: 10 * time.Second}, time.Hour, true, 1},                                             // open-ended
	{Fault{Start: 10 * time.Second, Duration: 4 * time.Second}, 11 * time.Second, true, 1},           // short: ramps of 1 s
	{Fault{Start: 10 * time.Second, Duration: 4 * time.Second}, 13500 * time.Millisecond, true, 0.5}, // short: ramping out
}

func TestEnvelope(t *testing.T) {
	for _, tt := range envelopeTests {
		in, size := tt.f.envelope(tt.rel)
		if in != tt.in || math.Abs(size-tt.size) > 1e-9 {
			t.Errorf("%+v.envelope(%v) = %v, %v; want %v, %v", tt.f, tt.rel, in, size, tt.in, tt.size)
		}
	}
}

// TestOverlappingFaults checks that overlapping faults both act, that
// Active names the first listed, and that two dropouts drop two channels.
func TestOverlappingFaults(t *testing.T) {
	p, err := New(Opts{Rate: 1, Faults: []Fault{
		{Kind: SensorDropout, Channel: chVoltage, Start: 5 * time.Second},
		{Kind: SensorDropout, Channel: chCurrent},
		{Kind: ValveClosed},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, numChannels)}
	for i := range 20 {
		p.Next(&s)
		kind, _ := p.Active()
		wantKind := SensorDropout
		if i < 5 {
			if !math.IsNaN(float64(s.Values[chCurrent])) || math.IsNaN(float64(s.Values[chVoltage])) {
				t.Fatalf("sample %d: %v, want only Current NaN", i, s.Values)
			}
		} else if !math.IsNaN(float64(s.Values[chCurrent])) || !math.IsNaN(float64(s.Values[chVoltage])) {
			t.Fatalf("sample %d: %v, want Current and Voltage NaN", i, s.Values)
		}
		if kind != wantKind {
			t.Fatalf("sample %d: Active() = %v, want %v", i, kind, wantKind)
		}
		if i > 5 && s.Values[chFlow] > 110 {
			t.Fatalf("sample %d: flow %v, want the valve closed", i, s.Values[chFlow])
		}
	}
}

// The sensor faults change their one channel as documented and leave the
// others (and the random stream) exactly as in the clean run.
func TestSensorFaults(t *testing.T) {
	const rate = 10 // Opts.Rate 0 means 10 samples a second
	clean, _ := run(t, Opts{Seed: 3}, 300)
	std := channelStd[chPressure]
	tests := []struct {
		kind  Kind
		check func(i int, got, was float64) string // "" if sample i (in the fault) is right
	}{
		{SensorStuck, func(i int, got, _ float64) string {
			if held := clean[chPressure][100]; got != float64(float32(held)) {
				return "not the value at the fault's start"
			}
			return ""
		}},
		{SensorSpike, func(i int, got, was float64) string {
			spike := (i-100)%rate == 0
			if d := got - was; spike != (d > SpikeSigmas*std/2) {
				return "spike where none belongs, or missing at a whole second"
			}
			return ""
		}},
		{SensorDrift, func(i int, got, was float64) string {
			want := DriftSigmasPerSecond * std * float64(i-100) / rate
			if math.Abs(got-was-want) > 1e-3 {
				return "drift off the line"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		f := Fault{Kind: tc.kind, Start: 10 * time.Second, Duration: 10 * time.Second, Channel: chPressure}
		got, _ := run(t, Opts{Seed: 3, Faults: []Fault{f}}, 300)
		for c := range got {
			for i := range got[c] {
				in := c == chPressure && i >= 100 && i < 200
				if !in && got[c][i] != clean[c][i] {
					t.Fatalf("%v: channel %d sample %d changed outside the fault", tc.kind, c, i)
				}
				if in {
					if msg := tc.check(i, got[c][i], clean[c][i]); msg != "" {
						t.Fatalf("%v: sample %d = %v (clean %v): %s", tc.kind, i, got[c][i], clean[c][i], msg)
					}
				}
			}
		}
	}
}
