package slots

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Verdict is the state of a probation.
type Verdict int

// Verdicts.
const (
	// Running: more samples are needed.
	Running Verdict = iota
	// Passed: the model scored ProbationOptions.Samples samples within
	// the limits; Commit it.
	Passed
	// Failed: a limit was broken; Revert with Probation.Reason.
	Failed
)

// String returns "running", "passed" or "failed".
func (v Verdict) String() string {
	switch v {
	case Running:
		return "running"
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ProbationOptions say what a new model must do to be committed.
type ProbationOptions struct {
	// Samples is how many samples the model must score without error.
	// Required, > 0.
	Samples int
	// MaxScoreFailures is how many samples may fail to score; one more
	// fails the probation. 0 fails it at the first error.
	MaxScoreFailures int
	// MaxAlertsPerHour limits the alert rate over the probation, whose
	// length is Samples × SamplePeriod; 0 means no limit.
	MaxAlertsPerHour float64
	// SamplePeriod is the nominal time between two samples (the agent's
	// configured rate). Required with MaxAlertsPerHour.
	SamplePeriod time.Duration
	// MaxAlertFraction limits the fraction of samples, in (0, 1], that
	// raise an alert; 0 means no limit.
	MaxAlertFraction float64
}

// Probation watches a model on trial, one sample at a time. It is for one
// goroutine (the agent's sampling loop) and Observe does not allocate.
//
// The alert limits apply to the whole probation: it fails as soon as more
// alerts have been seen than the limits allow over Samples samples, since
// the rate can then no longer end below the limit.
type Probation struct {
	o         ProbationOptions
	maxAlerts int  // alerts allowed over the probation; -1: no limit
	byRate    bool // maxAlerts comes from MaxAlertsPerHour

	samples, scored, failures, alerts int
	verdict                           Verdict
}

// NewProbation checks o and returns a running probation.
func NewProbation(o ProbationOptions) (*Probation, error) {
	switch {
	case o.Samples <= 0:
		return nil, fmt.Errorf("slots: probation: Samples %d, want > 0", o.Samples)
	case o.MaxScoreFailures < 0:
		return nil, fmt.Errorf("slots: probation: MaxScoreFailures %d, want >= 0", o.MaxScoreFailures)
	case o.MaxAlertsPerHour < 0 || math.IsNaN(o.MaxAlertsPerHour) || math.IsInf(o.MaxAlertsPerHour, 0):
		return nil, fmt.Errorf("slots: probation: MaxAlertsPerHour %v, want a number >= 0", o.MaxAlertsPerHour)
	case o.MaxAlertsPerHour > 0 && o.SamplePeriod <= 0:
		return nil, errors.New("slots: probation: MaxAlertsPerHour needs SamplePeriod > 0")
	case o.SamplePeriod > 0 && int64(o.Samples) > math.MaxInt64/int64(o.SamplePeriod):
		return nil, fmt.Errorf("slots: probation: %d samples of %v is too long", o.Samples, o.SamplePeriod)
	case !(o.MaxAlertFraction >= 0 && o.MaxAlertFraction <= 1):
		return nil, fmt.Errorf("slots: probation: MaxAlertFraction %v, want 0 to 1", o.MaxAlertFraction)
	}
	p := &Probation{o: o, maxAlerts: -1}
	if o.MaxAlertsPerHour > 0 {
		p.maxAlerts, p.byRate = allowed(o.MaxAlertsPerHour*p.window().Hours()), true
	}
	if o.MaxAlertFraction > 0 {
		if n := allowed(o.MaxAlertFraction * float64(o.Samples)); p.maxAlerts < 0 || n < p.maxAlerts {
			p.maxAlerts, p.byRate = n, false
		}
	}
	return p, nil
}

// allowed rounds a number of alerts down, forgiving float error.
func allowed(x float64) int {
	if x >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Floor(x + 1e-9))
}

// window is the probation's nominal length.
func (p *Probation) window() time.Duration {
	return time.Duration(p.o.Samples) * p.o.SamplePeriod
}

// Observe counts one sample: scoredOK is false when the model failed to
// score it, alert true when it raised an alert. It returns the verdict,
// which stays Passed or Failed once reached (until Reset).
func (p *Probation) Observe(scoredOK, alert bool) Verdict {
	if p.verdict != Running {
		return p.verdict
	}
	p.samples++
	if alert {
		p.alerts++
	}
	if scoredOK {
		p.scored++
	} else {
		p.failures++
	}
	switch {
	case p.failures > p.o.MaxScoreFailures:
		p.verdict = Failed
	case p.maxAlerts >= 0 && p.alerts > p.maxAlerts:
		p.verdict = Failed
	case p.scored >= p.o.Samples:
		p.verdict = Passed
	}
	return p.verdict
}

// Verdict returns the current verdict.
func (p *Probation) Verdict() Verdict { return p.verdict }

// Counts returns the samples observed, the score failures and the alerts
// so far.
func (p *Probation) Counts() (samples, failures, alerts int) {
	return p.samples, p.failures, p.alerts
}

// Reset starts the probation again.
func (p *Probation) Reset() {
	p.samples, p.scored, p.failures, p.alerts, p.verdict = 0, 0, 0, 0, Running
}

// Reason says why the probation failed, for Store.Revert, or how far it
// got; it allocates, so call it once the verdict is known.
func (p *Probation) Reason() string {
	switch {
	case p.failures > p.o.MaxScoreFailures:
		return fmt.Sprintf("score failed on %d of %d samples (at most %d allowed)", p.failures, p.samples, p.o.MaxScoreFailures)
	case p.maxAlerts >= 0 && p.alerts > p.maxAlerts && p.byRate:
		seen := time.Duration(p.samples) * p.o.SamplePeriod
		return fmt.Sprintf("alert rate %s/h above the limit %s/h: %d alerts in %v of samples, at most %d allowed in the %v probation",
			num(float64(p.alerts)/seen.Hours()), num(p.o.MaxAlertsPerHour), p.alerts, seen, p.maxAlerts, p.window())
	case p.maxAlerts >= 0 && p.alerts > p.maxAlerts:
		return fmt.Sprintf("alert fraction %s%% above the limit %s%%: %d alerts in %d samples, at most %d allowed in the %d-sample probation",
			num(100*float64(p.alerts)/float64(p.samples)), num(100*p.o.MaxAlertFraction), p.alerts, p.samples, p.maxAlerts, p.o.Samples)
	case p.verdict == Passed:
		return fmt.Sprintf("passed: %d samples scored, %d score failures, %d alerts", p.scored, p.failures, p.alerts)
	}
	return fmt.Sprintf("running: %d of %d samples scored, %d score failures, %d alerts", p.scored, p.o.Samples, p.failures, p.alerts)
}

// num formats x for people: one decimal at most, no exponent.
func num(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }
