package slots

import (
	"math"
	"strings"
	"testing"
	"time"
)

// observe feeds p one sample per character of seq: '.' scored, 'x' score
// failed, '!' scored with an alert. It returns the final verdict and the
// 1-based sample at which the verdict was first not Running (0: never).
func observe(p *Probation, seq string) (Verdict, int) {
	v, at := Running, 0
	for i, c := range seq {
		v = p.Observe(c != 'x', c == '!')
		if v != Running && at == 0 {
			at = i + 1
		}
	}
	return v, at
}

var probationTests = []struct {
	name   string
	o      ProbationOptions
	seq    string
	want   Verdict
	at     int
	reason string
}{
	{"passes", ProbationOptions{Samples: 5}, ".....", Passed, 5, "passed: 5 samples scored, 0 score failures, 0 alerts"},
	{"still running", ProbationOptions{Samples: 5}, "....", Running, 0, "running: 4 of 5 samples scored"},
	{"verdict stays", ProbationOptions{Samples: 2}, "..xxx!!!", Passed, 2, "passed: 2 samples scored"},
	{"first score failure", ProbationOptions{Samples: 5}, "..x..", Failed, 3, "score failed on 1 of 3 samples (at most 0 allowed)"},
	{"failures tolerated", ProbationOptions{Samples: 5, MaxScoreFailures: 3}, "x.x.x...", Passed, 8, "passed: 5 samples scored, 3 score failures"},
	{"too many failures", ProbationOptions{Samples: 5, MaxScoreFailures: 2}, "..xxx", Failed, 5, "score failed on 3 of 5 samples (at most 2 allowed)"},
	{
		"alert rate over the limit",
		ProbationOptions{Samples: 360, SamplePeriod: 10 * time.Second, MaxAlertsPerHour: 4},
		strings.Repeat(".", 145) + "!!!!!", Failed, 150,
		"alert rate 12/h above the limit 4/h: 5 alerts in 25m0s of samples, at most 4 allowed in the 1h0m0s probation",
	},
	{
		"alert rate at the limit",
		ProbationOptions{Samples: 360, SamplePeriod: 10 * time.Second, MaxAlertsPerHour: 4},
		"!!!!" + strings.Repeat(".", 356), Passed, 360, "passed: 360 samples scored, 0 score failures, 4 alerts",
	},
	{
		"no alert allowed in a short probation",
		ProbationOptions{Samples: 60, SamplePeriod: time.Second, MaxAlertsPerHour: 30},
		"...!", Failed, 4, "alert rate 900/h above the limit 30/h: 1 alerts in 4s of samples, at most 0 allowed in the 1m0s probation",
	},
	{
		"alert fraction over the limit",
		ProbationOptions{Samples: 100, MaxAlertFraction: 0.02},
		"!.!.!", Failed, 5, "alert fraction 60% above the limit 2%: 3 alerts in 5 samples, at most 2 allowed in the 100-sample probation",
	},
	{
		"fraction tighter than rate",
		ProbationOptions{Samples: 100, SamplePeriod: time.Minute, MaxAlertsPerHour: 60, MaxAlertFraction: 0.01},
		"!!", Failed, 2, "alert fraction",
	},
	{
		"rate tighter than fraction",
		ProbationOptions{Samples: 100, SamplePeriod: time.Minute, MaxAlertsPerHour: 0.6, MaxAlertFraction: 0.5},
		"!!", Failed, 2, "alert rate 60/h above the limit 0.6/h: 2 alerts in 2m0s of samples, at most 1 allowed",
	},
	{"alerts end it first", ProbationOptions{Samples: 10, MaxAlertFraction: 0.1}, "!!x", Failed, 2, "alert fraction"},
}

func TestProbation(t *testing.T) {
	for _, tt := range probationTests {
		p, err := NewProbation(tt.o)
		if err != nil {
			t.Fatalf("%s: NewProbation(%+v): %v", tt.name, tt.o, err)
		}
		v, at := observe(p, tt.seq)
		if v != tt.want || at != tt.at || p.Verdict() != v {
			t.Errorf("%s: verdict %v at sample %d, want %v at %d", tt.name, v, at, tt.want, tt.at)
		}
		if r := p.Reason(); !strings.HasPrefix(r, tt.reason) {
			t.Errorf("%s: Reason() = %q, want it to start with %q", tt.name, r, tt.reason)
		}
		p.Reset()
		if n, f, a := p.Counts(); n+f+a != 0 || p.Verdict() != Running {
			t.Errorf("%s: after Reset: counts %d %d %d, verdict %v", tt.name, n, f, a, p.Verdict())
		}
		if v2, at2 := observe(p, tt.seq); v2 != v || at2 != at {
			t.Errorf("%s: after Reset: verdict %v at %d, want %v at %d", tt.name, v2, at2, v, at)
		}
	}
}

func TestNewProbationRefuses(t *testing.T) {
	tests := []struct {
		o    ProbationOptions
		want string
	}{
		{ProbationOptions{}, "Samples 0, want > 0"},
		{ProbationOptions{Samples: 1, MaxScoreFailures: -1}, "MaxScoreFailures -1"},
		{ProbationOptions{Samples: 1, MaxAlertsPerHour: -1}, "MaxAlertsPerHour -1"},
		{ProbationOptions{Samples: 1, MaxAlertsPerHour: math.NaN()}, "MaxAlertsPerHour NaN"},
		{ProbationOptions{Samples: 1, MaxAlertsPerHour: math.Inf(1), SamplePeriod: time.Second}, "MaxAlertsPerHour +Inf"},
		{ProbationOptions{Samples: 1, MaxAlertsPerHour: 4}, "needs SamplePeriod"},
		{ProbationOptions{Samples: 1, MaxAlertFraction: 1.5}, "MaxAlertFraction 1.5"},
		{ProbationOptions{Samples: 1, MaxAlertFraction: math.NaN()}, "MaxAlertFraction NaN"},
		{ProbationOptions{Samples: math.MaxInt32, SamplePeriod: 1000 * time.Hour}, "too long"},
	}
	for _, tt := range tests {
		_, err := NewProbation(tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewProbation(%+v) = %v, want an error containing %q", tt.o, err, tt.want)
		}
	}
}

// Observe runs in the agent's sampling loop: no allocation, whatever the
// outcome.
func TestObserveAllocs(t *testing.T) {
	for _, seq := range []struct {
		scored, alert bool
	}{{true, false}, {true, true}, {false, false}} {
		p, err := NewProbation(ProbationOptions{Samples: 100, MaxScoreFailures: 50, MaxAlertFraction: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(200, func() { p.Observe(seq.scored, seq.alert) }); n != 0 {
			t.Errorf("Observe(%v, %v): %v allocations per call, want 0", seq.scored, seq.alert, n)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	p, err := NewProbation(ProbationOptions{Samples: math.MaxInt32, SamplePeriod: time.Millisecond, MaxAlertsPerHour: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Observe(true, i%1024 == 0)
	}
}
