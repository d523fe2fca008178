package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-edge/vigil/tools/dataset"
	"github.com/vigil-edge/vigil/tools/eval"
)

// faultType is a SKAB file's fold in the leave-one-fault-type-out
// cross-validation: each file under other/ is a fault of its own kind,
// and every other directory (valve1, valve2) holds one kind.
func faultType(path string) string {
	dir := filepath.Base(filepath.Dir(path))
	if dir == "other" {
		return "other/" + filepath.Base(path)
	}
	return dir
}

// parseSeeds reads a list of seeds: "1-5", "1,2,7" or a mix.
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 64)
		}
		if err != nil || b < a || b-a >= 100 {
			return nil, fmt.Errorf("seeds %q: want numbers or ranges like 1-5, comma-separated", s)
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// cvCandidate is one recipe's figures over the folds and seeds.
type cvCandidate struct {
	Args string `json:"args"` // the --try flags; "" for the command line's recipe
	// FoldF1[f][s] is fold f's F1 with seed s, over the fold's files
	// that did not fail (NaN, null in JSON, if all did).
	FoldF1 [][]jsonFloat `json:"fold_f1"`
	// Pooled[s] is the totals over every file with seed s.
	Pooled []cvTotals `json:"pooled"`
	// MeanFold is the mean over folds of their seed-mean F1; Worst the
	// lowest seed-mean fold F1, in fold WorstFold (NaN, null in JSON, if
	// every file failed).
	MeanFold  jsonFloat      `json:"mean_fold_f1"`
	Worst     jsonFloat      `json:"worst_fold_f1"`
	WorstFold string         `json:"worst_fold"`
	Failed    []benchFailure `json:"failed,omitempty"`
	// conf[f][s] is fold f's confusion with seed s, for the pooled
	// figures of any set of folds.
	conf [][]eval.Confusion
}

// cvTotals are one seed's pooled figures; NaN (null in JSON) if every
// file failed.
type cvTotals struct {
	F1  jsonFloat `json:"f1"`
	FAR jsonFloat `json:"far"`
	MAR jsonFloat `json:"mar"`
	// Alarms and FalseAlarms are the alarms raised over the files and
	// those wholly in normal rows (eval.Episodes).
	Alarms      int `json:"alarms"`
	FalseAlarms int `json:"false_alarms"`
}

// cvJSON is the --json output of vigil bench skab --cv.
type cvJSON struct {
	Folds      []string      `json:"folds"`
	Seeds      []uint64      `json:"seeds"`
	Candidates []cvCandidate `json:"candidates"`
	// Nested is, with several candidates, each fold scored by the
	// candidate that had the best mean fold F1 on the other folds.
	Nested []cvHeldOut `json:"nested,omitempty"`
	// Chosen is the candidate with the best mean fold F1 over all folds
	// (index into Candidates; -1 if every candidate had a failure).
	Chosen int `json:"chosen"`
	// MaxFAR and MaxMAR (percent, 0: none) are the limits a candidate's
	// pooled FAR and MAR must keep to be chosen, when any candidate does.
	MaxFAR float64 `json:"max_far,omitempty"`
	MaxMAR float64 `json:"max_mar,omitempty"`
}

type cvHeldOut struct {
	Fold   string    `json:"fold"`
	Chosen int       `json:"chosen"`
	F1     jsonFloat `json:"f1"`
}

// jsonFloat is a float64 whose NaN is null in JSON.
type jsonFloat float64

// MarshalJSON writes null for NaN.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON reads null as NaN.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

// runCV is vigil bench skab --cv fault-type.
func runCV(ctx context.Context, env Env, args []string, o *benchOpts, base *recipe, tabs []*dataset.Table, start time.Time) error {
	seedList := o.seeds
	if seedList == "" {
		seedList = "1-5"
	}
	seeds, err := parseSeeds(seedList)
	if err != nil {
		return usageError{"--" + err.Error()}
	}
	cands := []*recipe{base}
	names := []string{""}
	for _, t := range o.tries {
		fs, _, recipeOf := benchFlags(env)
		targs, err := splitFlags(t)
		if err != nil {
			return usagef("--try %q: %v", t, err)
		}
		if err := parse(fs, append(slices.Clone(args), targs...)); err != nil {
			return fmt.Errorf("--try %q: %w", t, err)
		}
		rc, err := recipeOf()
		if err != nil {
			return fmt.Errorf("--try %q: %w", t, err)
		}
		cands, names = append(cands, rc), append(names, t)
	}
	// Folds in order of first appearance.
	var folds []string
	foldOf := make([]int, len(tabs))
	for i, t := range tabs {
		ft := faultType(t.Files[0].Path)
		j := slices.Index(folds, ft)
		if j < 0 {
			j, folds = len(folds), append(folds, ft)
		}
		foldOf[i] = j
	}
	if len(folds) < 2 {
		return fmt.Errorf("--cv fault-type: the files make %d fold (%s); want two or more", len(folds), strings.Join(folds, ", "))
	}
	var recipes []*recipe
	for _, c := range cands {
		for _, s := range seeds {
			rc := *c
			rc.Options.Seed = s
			recipes = append(recipes, &rc)
		}
	}
	results := fitFiles(ctx, recipes, tabs, o)
	if err := ctx.Err(); err != nil {
		return err
	}
	out := cvJSON{Folds: folds, Seeds: seeds, MaxFAR: o.maxFAR, MaxMAR: o.maxMAR}
	for ci := range cands {
		c := cvCandidate{Args: names[ci], FoldF1: make([][]jsonFloat, len(folds)), conf: make([][]eval.Confusion, len(folds))}
		for si := range seeds {
			res := results[ci*len(seeds)+si]
			byFold := make([]eval.Confusion, len(folds))
			scored := make([]bool, len(folds))
			var all eval.Confusion
			alarms, falseAlarms := 0, 0
			for fi, r := range res {
				if r.err != nil {
					c.Failed = append(c.Failed, benchFailure{File: tabs[fi].Files[0].Path, Error: fmt.Sprintf("%v (seed %d)", r.err, seeds[si])})
					continue
				}
				byFold[foldOf[fi]] = byFold[foldOf[fi]].Add(r.rep.conf)
				scored[foldOf[fi]] = true
				all = all.Add(r.rep.conf)
				alarms, falseAlarms = alarms+r.rep.alarms, falseAlarms+r.rep.falseAlarms
			}
			for f := range folds {
				c.conf[f] = append(c.conf[f], byFold[f])
				f1 := math.NaN()
				if scored[f] {
					f1 = byFold[f].F1()
				}
				c.FoldF1[f] = append(c.FoldF1[f], jsonFloat(f1))
			}
			pooled := cvTotals{F1: jsonFloat(all.F1()), FAR: jsonFloat(all.FAR()), MAR: jsonFloat(all.MAR()), Alarms: alarms, FalseAlarms: falseAlarms}
			if !slices.Contains(scored, true) {
				nan := jsonFloat(math.NaN())
				pooled = cvTotals{F1: nan, FAR: nan, MAR: nan}
			}
			c.Pooled = append(c.Pooled, pooled)
		}
		avg, worst, worstFold := foldSummary(c.FoldF1, folds, -1)
		c.MeanFold, c.Worst, c.WorstFold = jsonFloat(avg), jsonFloat(worst), worstFold
		out.Candidates = append(out.Candidates, c)
	}
	out.Chosen = out.choose(-1)
	if len(cands) > 1 {
		for f := range folds {
			k := out.choose(f)
			h := cvHeldOut{Fold: folds[f], Chosen: k, F1: jsonFloat(math.NaN())}
			if k >= 0 {
				h.F1 = jsonFloat(mean(out.Candidates[k].FoldF1[f]))
			}
			out.Nested = append(out.Nested, h)
		}
	}
	printCV(env.Stdout, &out, tabs, foldOf)
	fmt.Fprintf(env.Stdout, "%d candidates × %d seeds × %d files in %v\n", len(cands), len(seeds), len(tabs), time.Since(start).Round(time.Millisecond))
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, out); err != nil {
			return err
		}
	}
	for _, c := range out.Candidates {
		if len(c.Failed) > 0 {
			return fmt.Errorf("some files failed (listed above; their folds' figures leave them out)")
		}
	}
	return nil
}

// foldSummary is the mean and the worst of the folds' seed-mean F1,
// leaving fold skip out (-1: none) and folds without a figure; both NaN
// if no fold has one.
func foldSummary(foldF1 [][]jsonFloat, folds []string, skip int) (avg, worst float64, worstFold string) {
	worst, n := math.Inf(1), 0
	for f, v := range foldF1 {
		m := mean(v)
		if f == skip || math.IsNaN(m) {
			continue
		}
		avg += m
		n++
		if m < worst {
			worst, worstFold = m, folds[f]
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), ""
	}
	return avg / float64(n), worst, worstFold
}

// choose is the candidate with the best mean fold F1 over every fold
// but skip (-1: none), the first on a tie, among those whose pooled FAR
// and MAR over those folds (the mean over seeds) keep to the limits; if
// none does, among all. A candidate with a failed file is never chosen.
// It returns -1 if none can be.
func (out *cvJSON) choose(skip int) int {
	best, k, within := math.Inf(-1), -1, false
	for i, c := range out.Candidates {
		if len(c.Failed) > 0 {
			continue
		}
		m, _, _ := foldSummary(c.FoldF1, out.Folds, skip)
		far, mar := c.pooledRates(skip)
		ok := (out.MaxFAR <= 0 || far <= out.MaxFAR) && (out.MaxMAR <= 0 || mar <= out.MaxMAR)
		if (ok && !within) || (ok == within && m > best) {
			best, k, within = m, i, ok
		}
	}
	return k
}

// pooledRates are c's FAR and MAR (percent) over every fold but skip,
// each the mean over seeds.
func (c *cvCandidate) pooledRates(skip int) (far, mar float64) {
	if len(c.conf) == 0 {
		return math.NaN(), math.NaN()
	}
	fars, mars := make([]float64, len(c.conf[0])), make([]float64, len(c.conf[0]))
	for s := range fars {
		var all eval.Confusion
		for f := range c.conf {
			if f != skip {
				all = all.Add(c.conf[f][s])
			}
		}
		fars[s], mars[s] = all.FAR(), all.MAR()
	}
	return mean(fars), mean(mars)
}

// mean is the mean of the values of v that are numbers; NaN if none.
func mean[F ~float64](v []F) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			s += float64(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// spread is "±h" with h half the range of v's numbers, or "" for fewer
// than two.
func spread[F ~float64](v []F) string {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			lo, hi, n = min(lo, float64(x)), max(hi, float64(x)), n+1
		}
	}
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" ±%.3f", (hi-lo)/2)
}

// printCV writes the cross-validation's tables.
func printCV(w io.Writer, out *cvJSON, tabs []*dataset.Table, foldOf []int) {
	seeds := make([]string, len(out.Seeds))
	for i, s := range out.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	fmt.Fprintf(w, "leave-one-fault-type-out: %d folds, seeds %s; F1 is the mean over seeds ± half their range;\nalarms (false): alarms raised over every file, and those wholly in normal rows, the mean over seeds\n", len(out.Folds), strings.Join(seeds, ","))
	for i, c := range out.Candidates {
		fmt.Fprintf(w, "candidate %s: %s\n", candidateLabel(i), candidateName(c.Args))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "fold\tfiles\t")
	for i := range out.Candidates {
		fmt.Fprintf(tw, "%s F1\t", candidateLabel(i))
	}
	fmt.Fprintln(tw)
	for f, name := range out.Folds {
		n := 0
		for _, x := range foldOf {
			if x == f {
				n++
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t", name, n)
		for _, c := range out.Candidates {
			if m := mean(c.FoldF1[f]); math.IsNaN(m) {
				fmt.Fprint(tw, "failed\t")
			} else {
				fmt.Fprintf(tw, "%.3f%s\t", m, spread(c.FoldF1[f]))
			}
		}
		fmt.Fprintln(tw)
	}
	row := func(label string, cell func(c cvCandidate) string) {
		fmt.Fprintf(tw, "%s\t\t", label)
		for _, c := range out.Candidates {
			fmt.Fprintf(tw, "%s\t", cell(c))
		}
		fmt.Fprintln(tw)
	}
	orFailed := func(v jsonFloat, s string) string {
		if math.IsNaN(float64(v)) {
			return "failed"
		}
		return s
	}
	row("mean of folds", func(c cvCandidate) string { return orFailed(c.MeanFold, fmt.Sprintf("%.3f", c.MeanFold)) })
	row("worst fold", func(c cvCandidate) string { return orFailed(c.Worst, fmt.Sprintf("%.3f %s", c.Worst, c.WorstFold)) })
	pooled := func(get func(cvTotals) jsonFloat, format string) func(c cvCandidate) string {
		return func(c cvCandidate) string {
			v := make([]float64, len(c.Pooled))
			for i, p := range c.Pooled {
				v[i] = float64(get(p))
			}
			m := mean(v)
			return orFailed(jsonFloat(m), fmt.Sprintf(format, m, spread(v)))
		}
	}
	row("pooled F1", pooled(func(t cvTotals) jsonFloat { return t.F1 }, "%.3f%s"))
	row("pooled FAR %", pooled(func(t cvTotals) jsonFloat { return t.FAR }, "%.2f%s"))
	row("pooled MAR %", pooled(func(t cvTotals) jsonFloat { return t.MAR }, "%.2f%s"))
	row("alarms (false)", func(c cvCandidate) string {
		var a, f []float64
		for _, p := range c.Pooled {
			if !math.IsNaN(float64(p.F1)) {
				a, f = append(a, float64(p.Alarms)), append(f, float64(p.FalseAlarms))
			}
		}
		return orFailed(jsonFloat(mean(a)), fmt.Sprintf("%.0f (%.0f)", mean(a), mean(f)))
	})
	tw.Flush()
	for i, c := range out.Candidates {
		for _, f := range c.Failed {
			fmt.Fprintf(w, "FAILED (candidate %s) %s\n", candidateLabel(i), f.Error)
		}
	}
	if len(out.Nested) > 0 {
		fmt.Fprint(w, "\nnested: each fold scored by the candidate with the best mean fold F1 on the others")
		if out.MaxFAR > 0 || out.MaxMAR > 0 {
			fmt.Fprintf(w, ",\namong those whose pooled %s on the others keep to it (if any does)", out.limits())
		}
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "held-out fold\tchosen\tF1\t")
		var f1s []float64
		worst, worstFold := math.Inf(1), ""
		for _, h := range out.Nested {
			if h.Chosen < 0 {
				fmt.Fprintf(tw, "%s\t-\t-\t\n", h.Fold)
				continue
			}
			f1 := float64(h.F1)
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t\n", h.Fold, candidateLabel(h.Chosen), f1)
			f1s = append(f1s, f1)
			if f1 < worst {
				worst, worstFold = f1, h.Fold
			}
		}
		tw.Flush()
		if len(f1s) > 0 {
			fmt.Fprintf(w, "held-out F1: mean %.3f, worst %.3f (%s)\n", mean(f1s), worst, worstFold)
		}
	}
	if out.Chosen >= 0 {
		fmt.Fprintf(w, "chosen on every fold: candidate %s (%s), mean of folds %.3f\n", candidateLabel(out.Chosen), candidateName(out.Candidates[out.Chosen].Args), out.Candidates[out.Chosen].MeanFold)
	}
}

// limits describes MaxFAR and MaxMAR.
func (out *cvJSON) limits() string {
	var l []string
	if out.MaxFAR > 0 {
		l = append(l, fmt.Sprintf("FAR ≤ %g %%", out.MaxFAR))
	}
	if out.MaxMAR > 0 {
		l = append(l, fmt.Sprintf("MAR ≤ %g %%", out.MaxMAR))
	}
	return strings.Join(l, " and ")
}

// candidateLabel names candidate i as a spreadsheet names its columns:
// A to Z, then AA, AB and on, so every candidate has its own.
func candidateLabel(i int) string {
	label := ""
	for i++; i > 0; i = (i - 1) / 26 {
		label = string(rune('A'+(i-1)%26)) + label
	}
	return label
}

func candidateName(args string) string {
	if args == "" {
		return "the command line's recipe"
	}
	return "with " + args
}
