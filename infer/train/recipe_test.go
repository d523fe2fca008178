package train

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// pumpRecording is n samples of the simulated pump at 1 Hz.
func pumpRecording(tb testing.TB, n int) *Recording {
	tb.Helper()
	p, err := sim.New(sim.Opts{Seed: 7, Rate: 1})
	if err != nil {
		tb.Fatal(err)
	}
	rec := &Recording{Channels: slices.Clone(sensors.SKABChannels), Sources: []string{"sim"}}
	for range n {
		s := sensors.Sample{Values: make([]float32, len(rec.Channels))}
		p.Next(&s)
		rec.Rows = append(rec.Rows, s.Values)
	}
	return rec
}

func TestRecipeFit(t *testing.T) {
	rec := pumpRecording(t, 400)
	r := DefaultRecipe()
	r.Options.Epochs = 10
	var epochs int
	fit, err := r.Fit(context.Background(), rec, func(Epoch) { epochs++ })
	if err != nil {
		t.Fatal(err)
	}
	if epochs != len(fit.Result.History) || epochs == 0 {
		t.Errorf("progress saw %d epochs, history has %d", epochs, len(fit.Result.History))
	}
	// 400 rows make 396 windows of 5; the scaler and threshold are sane.
	// (firmware's TestFromFit packs and loads the model.)
	if len(fit.Scaled) != 396 || fit.Calibration.Threshold <= 0 || fit.K == 0 || fit.Rows != 400 || fit.Tool != "vigil train" ||
		len(fit.Scaler.Scale) != 8 || fit.ScalerKind != ScalerRobust || fit.Enter != r.Enter || fit.Exit != r.Exit {
		t.Errorf("windows %d, threshold %v, k %d, rows %d, tool %q, hysteresis %v/%v", len(fit.Scaled), fit.Calibration.Threshold, fit.K, fit.Rows, fit.Tool, fit.Enter, fit.Exit)
	}
	// Rows marked abnormal and gaps cut windows out.
	rec.Normal = make([]bool, len(rec.Rows))
	for i := range rec.Normal {
		rec.Normal[i] = i < 200 || i >= 205
	}
	rec.Segments = []Segment{{0, 300}, {300, 400}}
	fit, err = r.Fit(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	// [0,300) loses the 9 windows touching rows 200–204: 296 − 9;
	// [300,400) has 96.
	if len(fit.Scaled) != 296-9+96 {
		t.Errorf("%d windows, want %d", len(fit.Scaled), 296-9+96)
	}
	bad := []struct {
		name string
		edit func(*Recipe, *Recording)
	}{
		{"no channels", func(_ *Recipe, rec *Recording) { rec.Channels = nil }},
		{"short row", func(_ *Recipe, rec *Recording) { rec.Rows[3] = rec.Rows[3][:2] }},
		{"marks", func(_ *Recipe, rec *Recording) { rec.Normal = make([]bool, 5) }},
		{"scaler", func(r *Recipe, _ *Recording) { r.Scaler = "log" }},
		{"threshold", func(r *Recipe, _ *Recording) { r.Threshold.Method = "guess" }},
		{"segment", func(_ *Recipe, rec *Recording) { rec.Segments = []Segment{{0, 500}} }},
		{"too few", func(_ *Recipe, rec *Recording) { rec.Rows, rec.Normal, rec.Segments = rec.Rows[:1], nil, nil }},
		{"exit above enter", func(r *Recipe, _ *Recording) { r.Enter, r.Exit = 1.2, 1.3 }},
	}
	for _, tc := range bad {
		r, rec := DefaultRecipe(), pumpRecording(t, 400)
		r.Options.Epochs = 1
		tc.edit(&r, rec)
		if _, err := r.Fit(context.Background(), rec, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestCheckHysteresis(t *testing.T) {
	tests := []struct {
		enter, exit float64
		ok          bool
	}{
		{0, 0, true}, {1.2, 0.7, true}, {1, 1, true}, {2, 0, true}, {0, 0.5, true},
		{0, 1.5, false}, // exit above the unset entry level, which is 1
		{0.8, 0, false}, // the unset exit (1) is above the entry
		{1.2, 1.3, false}, {-1, 0, false}, {1, -0.5, false},
		{math.Inf(1), 1, false}, {math.NaN(), 0.5, false}, {1, math.NaN(), false},
	}
	for _, tc := range tests {
		r := Recipe{Enter: tc.enter, Exit: tc.exit}
		if err := r.CheckHysteresis(); (err == nil) != tc.ok {
			t.Errorf("enter %v exit %v: error %v, want ok %v", tc.enter, tc.exit, err, tc.ok)
		}
	}
}

func TestThresholdCalibrate(t *testing.T) {
	scores := []float32{1, 2, 3, 4, 5}
	c, err := Threshold{Method: "mean+ksigma", Sigma: 3, Factor: 1.2}.Calibrate(scores)
	if err != nil || c.Method != "mean+ksigma×1.2" || c.Threshold < 1.2*(3+3*1.41) || c.Threshold > 1.2*(3+3*1.42) {
		t.Errorf("mean+ksigma ×1.2: %+v, %v", c, err)
	}
	if c, err := (Threshold{Method: "percentile", Percentile: 50, Factor: 1}).Calibrate(scores); err != nil || c.Threshold != 3 || c.Method != "percentile" {
		t.Errorf("percentile 50: %+v, %v", c, err)
	}
	for _, th := range []Threshold{{Method: "mean+ksigma", Sigma: 0, Factor: 1}, {Method: "median", Factor: 1}} {
		if _, err := th.Calibrate(scores); err == nil {
			t.Errorf("%+v: no error", th)
		}
	}
}

// BenchmarkLearn400 is the gateway's learn mode on the smallest useful
// recording: 400 samples of 8 channels through the default recipe
// (go test -run '^$' -bench Learn400 -cpu 1 ./infer/train/).
func BenchmarkLearn400(b *testing.B) {
	rec := pumpRecording(b, 400)
	r := DefaultRecipe()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Fit(context.Background(), rec, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// A one-channel recording that drifts is never widened: the model would
// be blind to the only channel it has.
func TestOneChannelNeverWidened(t *testing.T) {
	rec := &Recording{Channels: []string{"value"}}
	for i := range 400 {
		rec.Rows = append(rec.Rows, []float32{float32(i) / 10})
	}
	r := DefaultRecipe()
	r.Options.Epochs, r.SlowInflate = 2, 4
	fit, err := r.Fit(context.Background(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fit.Widened) != 0 || fit.WidenFactor != 0 {
		t.Errorf("widened %v ×%v, want none", fit.Widened, fit.WidenFactor)
	}
	// The same ramp beside a steady channel is widened.
	for i := range rec.Rows {
		rec.Rows[i] = append(rec.Rows[i], float32(i%3))
	}
	rec.Channels = append(rec.Channels, "steady")
	r.SlowInflate = 0
	if fit, err = r.Fit(context.Background(), rec, nil); err != nil || !slices.Equal(fit.Widened, []string{"value"}) {
		t.Errorf("two channels: widened %+v, %v; want [value]", fit, err)
	}
}
