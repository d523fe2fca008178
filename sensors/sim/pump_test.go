package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// run returns n samples of a pump made with opts, as float64 columns, and
// the sample times.
func run(t testing.TB, opts Opts, n int) ([numChannels][]float64, []time.Time) {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var cols [numChannels][]float64
	times := make([]time.Time, n)
	s := sensors.Sample{Values: make([]float32, numChannels)}
	for i := range n {
		p.Next(&s)
		times[i] = s.Time
		for c, v := range s.Values {
			cols[c] = append(cols[c], float64(v))
		}
	}
	return cols, times
}

func meanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

func corr(x, y []float64) float64 {
	mx, sx := meanStd(x)
	my, sy := meanStd(y)
	c := 0.0
	for i := range x {
		c += (x[i] - mx) * (y[i] - my)
	}
	return c / float64(len(x)) / sx / sy
}

var newTests = []struct {
	name string
	opts Opts
	err  string
}{
	{"defaults", Opts{}, ""},
	{"slow rate", Opts{Rate: 0.5}, ""},
	{"negative rate", Opts{Rate: -1}, "Opts.Rate -1"},
	{"NaN rate", Opts{Rate: math.NaN()}, "Opts.Rate NaN"},
	{"huge rate", Opts{Rate: 1e6}, "Opts.Rate"},
	{"bad kind", Opts{Faults: []Fault{{Kind: 9}}}, "unknown kind"},
	{"negative start", Opts{Faults: []Fault{{Kind: Cavitation, Start: -time.Second}}}, "negative Start"},
	{"negative duration", Opts{Faults: []Fault{{Kind: Cavitation, Duration: -time.Second}}}, "negative Duration"},
	{"bad channel", Opts{Faults: []Fault{{Kind: SensorDropout, Channel: 8}}}, "Channel 8 is not a SKAB channel"},
	{"channel on other kind", Opts{Faults: []Fault{{Kind: ValveClosed, Channel: 2}}}, "only the sensor faults"},
}

func TestNew(t *testing.T) {
	for _, tt := range newTests {
		_, err := New(tt.opts)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: New(%+v) = %v, want error containing %q", tt.name, tt.opts, err, tt.err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	opts := Opts{Seed: 42, Faults: []Fault{{Kind: Cavitation, Start: 10 * time.Second, Duration: 20 * time.Second}}}
	a, ta := run(t, opts, 1000)
	b, tb := run(t, opts, 1000)
	c, _ := run(t, Opts{Seed: 43, Faults: opts.Faults}, 1000)
	differs := false
	for ch := range a {
		for i := range a[ch] {
			if math.Float64bits(a[ch][i]) != math.Float64bits(b[ch][i]) || !ta[i].Equal(tb[i]) {
				t.Fatalf("seed 42 gave different samples: channel %d sample %d: %v vs %v", ch, i, a[ch][i], b[ch][i])
			}
			differs = differs || a[ch][i] != c[ch][i]
		}
	}
	if !differs {
		t.Error("seeds 42 and 43 gave the same samples")
	}
	// A fingerprint: the generator must not change silently (datasets
	// and models made from a seed would no longer match). The tolerance
	// admits last-bit differences of math functions and fused
	// multiply-adds between architectures.
	fingerprint := []float64{0.21341302, 0.27016374, 1.6596563, -0.20204811, 90.06999, 29.303051, 226.5361, 125.90797}
	for ch, want := range fingerprint {
		if got := a[ch][999]; math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("seed 42, sample 999, %s = %v, want %v", sensors.SKABChannels[ch], got, want)
		}
	}
}

func TestTimes(t *testing.T) {
	start := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))
	_, times := run(t, Opts{Rate: 3, Start: start}, 3001)
	for _, k := range []int{0, 1, 2, 3, 3000} {
		want := start.Add(time.Duration(math.Round(float64(k) * 1e9 / 3))).UTC()
		if !times[k].Equal(want) || times[k].Location() != time.UTC {
			t.Errorf("sample %d at %v, want %v", k, times[k], want)
		}
	}
	_, times = run(t, Opts{}, 2)
	if !times[0].Equal(defaultStart) || times[1].Sub(times[0]) != 100*time.Millisecond {
		t.Errorf("default times %v, want from %v at 10 Hz", times, defaultStart)
	}
}

// TestMarginals checks that every channel's mean and spread match SKAB's
// anomaly-free recording, for several seeds, over a run long enough
// (200 000 s) for the slowest factor to average out.
func TestMarginals(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	for _, seed := range []uint64{1, 2, 3} {
		cols, _ := run(t, Opts{Seed: seed, Rate: 1}, n)
		for c, x := range cols {
			m, s := meanStd(x)
			if math.Abs(m-channelMean[c]) > 0.3*channelStd[c] || math.Abs(s/channelStd[c]-1) > 0.2 {
				t.Errorf("seed %d %s: mean %.4f std %.4f, want %.4f and %.4f", seed, sensors.SKABChannels[c], m, s, channelMean[c], channelStd[c])
			}
		}
	}
}

var structureTests = []struct {
	a, b     int
	min, max float64
}{
	{chAcc1, chAcc2, 0.5, 1},                // shared vibration factor
	{chFlow, chPressure, -1, -0.3},          // pump curve
	{chFlow, chCurrent, 0.2, 1},             // load
	{chTemperature, chThermocouple, 0.6, 1}, // thermal drift
	{chCurrent, chVoltage, 0.3, 0.6},        // mains
	{chVoltage, chPressure, -0.05, 0.05},    // unrelated
}

// TestStructure checks that the channels share the latent factors the
// package documents, so a model has something to learn.
func TestStructure(t *testing.T) {
	cols, _ := run(t, Opts{Seed: 7, Rate: 1}, 100_000)
	for _, tt := range structureTests {
		if r := corr(cols[tt.a], cols[tt.b]); r < tt.min || r > tt.max {
			t.Errorf("corr(%s, %s) = %.2f, want within [%.2f, %.2f]", sensors.SKABChannels[tt.a], sensors.SKABChannels[tt.b], r, tt.min, tt.max)
		}
	}
	// Slow factors: the thermocouple changes little from one second to
	// the next, the voltage not at all.
	lag1 := func(x []float64) float64 { return corr(x[1:], x[:len(x)-1]) }
	if r := lag1(cols[chThermocouple]); r < 0.9 {
		t.Errorf("Thermocouple lag-1 autocorrelation %.2f, want > 0.9", r)
	}
	if r := lag1(cols[chVoltage]); math.Abs(r) > 0.05 {
		t.Errorf("Voltage lag-1 autocorrelation %.2f, want about 0", r)
	}
}

func TestNextShortSample(t *testing.T) {
	p, err := New(Opts{Faults: []Fault{{Kind: SensorDropout, Channel: chFlow}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3} {
		s := sensors.Sample{Values: make([]float32, n)}
		p.Next(&s) // must not panic
		for _, v := range s.Values {
			if v == 0 {
				t.Errorf("short sample not filled: %v", s.Values)
			}
		}
	}
}

func TestNextAllocs(t *testing.T) {
	p, err := New(Opts{Faults: []Fault{
		{Kind: ValveClosed, Start: 0}, {Kind: RotorImbalance}, {Kind: Cavitation}, {Kind: SensorDropout, Channel: 3},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, numChannels)}
	if n := testing.AllocsPerRun(1000, func() { p.Next(&s) }); n != 0 {
		t.Errorf("Next allocates %v times per sample, want 0", n)
	}
}

func BenchmarkNext(b *testing.B) {
	p, err := New(Opts{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, numChannels)}
	b.ReportAllocs()
	for b.Loop() {
		p.Next(&s)
	}
}

func BenchmarkNextAllFaults(b *testing.B) {
	p, err := New(Opts{Seed: 1, Faults: []Fault{
		{Kind: ValveClosed}, {Kind: RotorImbalance}, {Kind: Cavitation}, {Kind: SensorDropout},
	}})
	if err != nil {
		b.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, numChannels)}
	b.ReportAllocs()
	for b.Loop() {
		p.Next(&s)
	}
}
