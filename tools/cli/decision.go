package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// defaultGapFactor is the gap rule of training and replay when nothing
// else sets one: a step over 5 times a recording's median step.
const defaultGapFactor = 5

// rule is how a replay decides: the agent's decide.Params, and, when
// gapFactor > 0, a gap rule set per recording to gapFactor times its
// median step in place of p.Gap.
type rule struct {
	p         decide.Params
	gapFactor float64
}

// paramsFor returns the parameters for file fi of tab.
func (r rule) paramsFor(tab *dataset.Table, fi int) decide.Params {
	p := r.p
	if r.gapFactor > 0 {
		p.Gap = gapAfter(tab, r.gapFactor, fi)
	}
	return p
}

// describe tells the rule against threshold in the command's output.
func (r rule) describe(threshold float32) string {
	p := r.p
	var b strings.Builder
	fmt.Fprintf(&b, "anomaly once %d of the last %d scores are above %.5g", p.K, p.N, float64(threshold)*p.Enter)
	if p.Enter != 1 {
		fmt.Fprintf(&b, " (%g × threshold)", p.Enter)
	}
	if p.MinDuration > 0 {
		fmt.Fprintf(&b, " for %v", p.MinDuration)
	}
	fmt.Fprintf(&b, ", normal once %d are at or below %.5g", p.K, float64(threshold)*p.Exit)
	if p.Exit != 1 {
		fmt.Fprintf(&b, " (%g × threshold)", p.Exit)
	}
	if p.Cooldown > 0 {
		fmt.Fprintf(&b, " for %v", p.Cooldown)
	}
	switch {
	case r.gapFactor > 0:
		fmt.Fprintf(&b, "; a step over %g× a file's median step is a gap", r.gapFactor)
	case p.Gap > 0:
		fmt.Fprintf(&b, "; a step over %v is a gap", p.Gap)
	}
	return b.String()
}

// gapAfter returns the gap rule for the rows of files fis of tab (all
// files if none given): factor times their median step, or 0 (no rule)
// when the rows carry no time or no positive median step.
func gapAfter(tab *dataset.Table, factor float64, fis ...int) time.Duration {
	step := tab.MedianStep(fis...)
	if step <= 0 {
		return 0
	}
	return time.Duration(factor * float64(max(step, time.Millisecond)))
}

// decisionFlags are the flags that set a replay's decision (vigil eval,
// bench and pack). They override what the model suggests, which
// overrides the defaults: 1 of 1 (the raw threshold), factors of 1, no
// delays, and a gap over 5 times a file's median step.
type decisionFlags struct {
	fs                    *flag.FlagSet
	k, n                  *int
	enter, exit           *float64 // nil when the command's recipe owns them
	minDuration, cooldown *time.Duration
	gap                   *float64 // nil when the command's recipe owns --gap
}

// addDecisionFlags registers the decision flags on fs. With overrides,
// --gap, --enter and --exit override the model's too (vigil eval and
// pack); without, they are the recipe's, which puts them into each model
// it fits (vigil bench), so a --try candidate can change them.
func addDecisionFlags(fs *flag.FlagSet, overrides bool) *decisionFlags {
	f := &decisionFlags{fs: fs}
	f.k = fs.Int("k", 0, "alarm once k of the last n scores are above the threshold (the agent's decision;\ndefault: the model's calibrated k of n, else 1 of 1)")
	f.n = fs.Int("n", 0, "see -k")
	f.minDuration = fs.Duration("min-duration", 0, "on-delay: alarm only once k of n have been above for this long in sample time, e.g. 5s\n(default: the model's, else at once)")
	f.cooldown = fs.Duration("cooldown", 0, "off-delay: end an alarm only once k of n have been at or below for this long in\nsample time; a new entry in between continues it (default: the model's, else at once)")
	if overrides {
		f.enter = fs.Float64("enter", 0, "hysteresis: a score counts toward an alarm when above enter × threshold\n(default: the model's, else 1)")
		f.exit = fs.Float64("exit", 0, "hysteresis: a score counts toward ending an alarm when at or below exit × threshold;\nexit ≤ enter, scores between count toward neither (default: the model's, else 1)")
		f.gap = fs.Float64("gap", 0, fmt.Sprintf("a time step over this many times a file's median step is a gap: the window and the\nverdicts restart (default: the model's gap, else %d)", defaultGapFactor))
	}
	return f
}

// rule merges the flags given with m's suggested decision and the
// defaults, after parsing. A bad combination is a usage error.
func (f *decisionFlags) rule(m *firmware.Model) (rule, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	r := rule{p: decide.Params{K: 1, N: 1, Enter: 1, Exit: 1}, gapFactor: defaultGapFactor}
	md := m.Decision.Params()
	if md.K > 0 {
		r.p.K, r.p.N = md.K, md.N
	}
	if md.Enter > 0 {
		r.p.Enter = md.Enter
	}
	if md.Exit > 0 {
		r.p.Exit = md.Exit
	}
	r.p.MinDuration, r.p.Cooldown = md.MinDuration, md.Cooldown
	if md.Gap > 0 {
		r.p.Gap, r.gapFactor = md.Gap, 0
	}
	if *f.k > 0 || *f.n > 0 {
		r.p.K, r.p.N = *f.k, *f.n
	}
	if f.enter != nil && set["enter"] {
		r.p.Enter = *f.enter
	}
	if f.exit != nil && set["exit"] {
		r.p.Exit = *f.exit
	}
	if set["min-duration"] {
		r.p.MinDuration = *f.minDuration
	}
	if set["cooldown"] {
		r.p.Cooldown = *f.cooldown
	}
	if f.gap != nil && set["gap"] {
		if !(*f.gap > 1) {
			return r, usagef("--gap %v: want a factor above 1", *f.gap)
		}
		r.p.Gap, r.gapFactor = 0, *f.gap
	}
	if err := r.p.Validate(); err != nil {
		return r, usagef("decision (--k, --n, --enter, --exit, --min-duration, --cooldown, or the model's): %v", err)
	}
	r.p = r.p.Normalized()
	return r, nil
}
