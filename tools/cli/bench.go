package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// benchJSON is the --json output of vigil bench skab.
type benchJSON struct {
	Files []benchFile `json:"files"`
	// Failed names the files whose model could not be fitted, and why;
	// the totals leave them out.
	Failed []benchFailure `json:"failed,omitempty"`
	Total  struct {
		F1  float64 `json:"f1"`
		FAR float64 `json:"far"`
		MAR float64 `json:"mar"`
		// Alarms counts the alarms raised in the test parts, FalseAlarms
		// those wholly in normal rows (eval.Episodes).
		Alarms      int     `json:"alarms"`
		FalseAlarms int     `json:"false_alarms"`
		NABStandard float64 `json:"nab_standard"`
		NABLowFP    float64 `json:"nab_low_fp"`
		NABLowFN    float64 `json:"nab_low_fn"`
		// ROCAUC and PRAUC are the mean of the files' own AUCs, weighted
		// by size; the pooled ones rank every test row's score over its
		// file's threshold.
		ROCAUC       float64 `json:"roc_auc"`
		PRAUC        float64 `json:"pr_auc"`
		PooledROCAUC float64 `json:"pooled_roc_auc"`
		PooledPRAUC  float64 `json:"pooled_pr_auc"`
	} `json:"total"`
	Model struct {
		Params      int    `json:"params"`
		PackedBytes int    `json:"packed_bytes"`
		Weights     string `json:"weights"`
	} `json:"model"`
}

type benchFile struct {
	File string `json:"file"`
	TP   int    `json:"tp"`
	FP   int    `json:"fp"`
	FN   int    `json:"fn"`
	TN   int    `json:"tn"`
	// Alarms and FalseAlarms as in the total.
	Alarms      int `json:"alarms"`
	FalseAlarms int `json:"false_alarms"`
}

type benchFailure struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// benchOpts are vigil bench skab's own flags, besides the recipe's.
type benchOpts struct {
	data      listFlag
	jsonOut   string
	plotDir   string
	trainRows int
	decision  *decisionFlags
	weights   weightsFlags
	kind      string // of weights: float32, int8 or f16
	cv        string
	seeds     string
	tries     listFlag
	maxFAR    float64
	maxMAR    float64
	strict    *bool
}

// benchFlags registers every flag of vigil bench skab on a new set. The
// cross-validation parses each --try candidate with a fresh set, so a
// candidate is the command line with its flags appended.
func benchFlags(env Env) (*flag.FlagSet, *benchOpts, func() (*recipe, error)) {
	fs := newFlags(env, "bench skab", "--data DIR [--json FILE] [--cv fault-type [--seeds 1-5] [--try FLAGS]...] [model flags]")
	o := &benchOpts{}
	fs.Var(&o.data, "data", "SKAB files or directories (read recursively; files without labels are skipped)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.plotDir, "plots", "", "write figures (PNG) to this directory: pooled score histogram and curves\n(scores over each file's threshold), a timeline per file")
	fs.IntVar(&o.trainRows, "train-rows", 400, "rows at the start of each file to fit its scaler and model on (the leaderboard's 400)")
	o.decision = addDecisionFlags(fs, false) // --gap, --enter and --exit are the recipe's, and go into each model
	o.weights = addWeightsFlags(fs, "score with")
	fs.StringVar(&o.cv, "cv", "", "fault-type: cross-validate by fault type: every file under other/ is a fold, every other\ndirectory (valve1, valve2) one; figures per fold, their mean and the worst, over --seeds")
	fs.StringVar(&o.seeds, "seeds", "", "with --cv: the seeds every figure is averaged over, as a list or range (default 1-5)")
	fs.Float64Var(&o.maxFAR, "max-far", 0, "with --cv and --try: choose only among candidates whose pooled FAR (percent) on the folds\nit is chosen on is at most this, when any is (0: no limit)")
	fs.Float64Var(&o.maxMAR, "max-mar", 0, "with --cv and --try: likewise for the pooled MAR (percent)")
	o.strict = addStrictFlag(fs)
	fs.Var(&o.tries, "try", "with --cv: a candidate recipe, as model flags added to the command line's\n(e.g. --try '--slow-share 0'); repeat it to compare candidates: each fold is then also\nscored with the candidate that did best on the other folds (nested leave-one-out)")
	return fs, o, addRecipeFlags(fs)
}

func runBench(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "skab" {
		return usagef("usage: vigil bench skab --data DIR [--json FILE] (the only benchmark is skab)")
	}
	fs, o, recipeOf := benchFlags(env)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	o.data = append(o.data, fs.Args()...)
	if len(o.data) == 0 {
		return usagef("want --data")
	}
	rc, err := recipeOf()
	if err != nil {
		return err
	}
	if o.kind, err = o.weights.kind(); err != nil {
		return err
	}
	if _, err := o.decision.rule(&firmware.Model{}); err != nil {
		return err // a bad flag, before any model is fitted
	}
	if o.cv == "" && (o.seeds != "" || len(o.tries) > 0 || o.maxFAR != 0 || o.maxMAR != 0) {
		return usagef("--seeds, --try, --max-far and --max-mar go with --cv fault-type")
	}
	if !(o.maxFAR >= 0 && o.maxFAR <= 100) || !(o.maxMAR >= 0 && o.maxMAR <= 100) {
		return usagef("--max-far %v --max-mar %v: want percentages from 0 to 100", o.maxFAR, o.maxMAR)
	}
	if o.cv != "" && o.cv != "fault-type" {
		return usagef("--cv %q: the only cross-validation is fault-type", o.cv)
	}
	start := time.Now()
	tabs, err := benchTables(o.data, rc.channels)
	if err != nil {
		return err
	}
	for _, t := range tabs {
		if err := invalidRows(env.Stdout, t, *o.strict, "left out of training and scored as sensor faults"); err != nil {
			return err
		}
	}
	if o.cv != "" {
		return runCV(ctx, env, args[1:], o, rc, tabs, start)
	}
	results := fitFiles(ctx, []*recipe{rc}, tabs, o)[0]
	return benchReport(env, o, tabs, results, start)
}

// benchTables reads every labelled file of data, each on its own; the
// published results beside SKAB's data are not data.
func benchTables(data []string, channels []string) ([]*dataset.Table, error) {
	files, err := dataset.Expand(data)
	if err != nil {
		return nil, err
	}
	var tabs []*dataset.Table
	for _, f := range files {
		if strings.Contains(filepath.ToSlash(f), "/reference/") {
			continue
		}
		tab, err := dataset.ReadFiles([]string{f}, channels)
		if err != nil {
			return nil, err
		}
		if tab.Labels != nil {
			tabs = append(tabs, tab)
		}
	}
	if len(tabs) == 0 {
		return nil, errors.New("no labelled files found")
	}
	return tabs, nil
}

// benchResult is one file's model and its verdicts on the file's test
// rows, or why there is none.
type benchResult struct {
	rep    report
	v      verdicts
	thr    float64
	rule   rule // how the file's alarms were decided
	params int
	bytes  int
	err    error
}

// fitFiles fits every recipe to every file's first trainRows rows and
// replays the whole file through the packed model, on every CPU:
// results[recipe][file]. A file that fails (training diverged, too few
// rows) has its error, naming the file, and the others go on.
func fitFiles(ctx context.Context, recipes []*recipe, tabs []*dataset.Table, o *benchOpts) [][]benchResult {
	results := make([][]benchResult, len(recipes))
	for i := range results {
		results[i] = make([]benchResult, len(tabs))
	}
	type job struct{ r, f int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				res := fitFile(ctx, recipes[j.r], tabs[j.f], o)
				if res.err != nil {
					res.err = fmt.Errorf("%s: %w", tabs[j.f].Files[0].Path, res.err)
				}
				results[j.r][j.f] = res
			}
		}()
	}
	for r := range recipes {
		for f := range tabs {
			jobs <- job{r, f}
		}
	}
	close(jobs)
	wg.Wait()
	return results
}

// fitFile is one file of the benchmark: fit, pack, load, replay, score.
func fitFile(ctx context.Context, rc *recipe, tab *dataset.Table, o *benchOpts) benchResult {
	m, _, err := rc.fit(ctx, tab.Slice(0, 0, o.trainRows), nil)
	if err != nil {
		return benchResult{err: err}
	}
	if err := convertWeights(m, o.kind); err != nil {
		return benchResult{err: err}
	}
	b, err := firmware.Pack(m)
	if err != nil {
		return benchResult{err: err}
	}
	l, err := firmware.Decode(b, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return benchResult{err: err}
	}
	r, err := o.decision.rule(m)
	if err != nil {
		return benchResult{err: err}
	}
	v, err := replay(l.Autoencoder, m.Threshold.Value, tab, r)
	if err != nil {
		return benchResult{err: err}
	}
	_, per, err := evaluate(tab, v, float64(m.Threshold.Value), o.trainRows)
	if err != nil {
		return benchResult{err: err}
	}
	return benchResult{rep: per[0], v: v, thr: float64(m.Threshold.Value), rule: r, params: l.Autoencoder.Params(), bytes: len(b)}
}

// benchReport prints (and writes as JSON, and plots) one recipe's
// results. Files that failed are listed and left out of the totals; the
// command then fails, after reporting the rest.
func benchReport(env Env, o *benchOpts, tabs []*dataset.Table, results []benchResult, start time.Time) error {
	var names []string
	var perFile []report
	var total report
	out := benchJSON{}
	var ok []int // files with results
	for i, r := range results {
		name := tabs[i].Files[0].Path
		if r.err != nil {
			out.Failed = append(out.Failed, benchFailure{File: name, Error: r.err.Error()})
			continue
		}
		ok = append(ok, i)
		names = append(names, name)
		perFile = append(perFile, r.rep)
		total.add(r.rep)
		c := r.rep.conf
		out.Files = append(out.Files, benchFile{File: name, TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN, Alarms: r.rep.alarms, FalseAlarms: r.rep.falseAlarms})
	}
	if len(ok) == 0 {
		return fmt.Errorf("every file failed; the first: %s", out.Failed[0].Error)
	}
	// Each file has its own model: AUCs averaged by file size, delays
	// over all detected anomalies.
	total.rocAUC, total.prAUC, total.delay, total.detected, total.events = pooled(perFile)
	marked := true
	for _, i := range ok {
		marked = marked && tabs[i].Changepoints != nil
	}
	printReport(env.Stdout, names, perFile, total, marked)
	// The AUCs above are each file's own (its model, its threshold),
	// averaged by size; pooled, every test row's score over its file's
	// threshold ranks against every other's.
	var ns []float64
	var nl []uint8
	for _, i := range ok {
		r := results[i]
		for j := o.trainRows; j < len(tabs[i].Rows); j++ {
			if !math.IsNaN(r.v.scores[j]) {
				ns, nl = append(ns, r.v.scores[j]/r.thr), append(nl, tabs[i].Labels[j])
			}
		}
	}
	out.Total.PooledROCAUC, out.Total.PooledPRAUC = aucs(ns, nl)
	fmt.Fprintf(env.Stdout, "       (AUCs: the mean of the files' own, weighted by size; pooled over every file's score/threshold: ROC-AUC %.3f  PR-AUC %.3f)\n",
		out.Total.PooledROCAUC, out.Total.PooledPRAUC)
	nab := nabTotals(perFile)
	c := total.conf
	out.Total.F1, out.Total.FAR, out.Total.MAR = c.F1(), c.FAR(), c.MAR()
	out.Total.Alarms, out.Total.FalseAlarms = total.alarms, total.falseAlarms
	out.Total.NABStandard, out.Total.NABLowFP, out.Total.NABLowFN = nab[0], nab[1], nab[2]
	out.Total.ROCAUC, out.Total.PRAUC = total.rocAUC, total.prAUC
	first := results[ok[0]]
	out.Model.Params, out.Model.PackedBytes, out.Model.Weights = first.params, first.bytes, o.kind
	p := first.rule.p
	fmt.Fprintf(env.Stdout, "decision: each file's own calibrated k of n (the first's: %d of %d), alarm above %g× and normal at or below %g× its threshold\n",
		p.K, p.N, p.Enter, p.Exit)
	fmt.Fprintf(env.Stdout, "model: %d parameters, %d bytes packed (%s weights); %d files in %v\n",
		out.Model.Params, out.Model.PackedBytes, out.Model.Weights, len(ok), time.Since(start).Round(time.Millisecond))
	printFailures(env.Stdout, out.Failed)
	if o.plotDir != "" {
		// One table of every file, scores over its threshold, the first
		// trainRows of each its model's training rows.
		all := &dataset.Table{Channels: tabs[0].Channels}
		v := verdicts{shares: make([]float64, len(tabs[0].Channels))}
		for _, i := range ok {
			t, r := tabs[i], results[i]
			v.alarms += r.v.alarms
			for c, sh := range r.v.shares {
				v.shares[c] += sh
			}
			f := t.Files[0]
			f.Start = len(all.Rows)
			all.Files = append(all.Files, f)
			all.Rows, all.Labels, all.Times = append(all.Rows, t.Rows...), append(all.Labels, t.Labels...), append(all.Times, t.Times...)
			for j := range t.Rows {
				v.scores = append(v.scores, r.v.scores[j]/r.thr)
				v.alarm = append(v.alarm, r.v.alarm[j])
			}
		}
		if err := evalPlots(o.plotDir, all, v, 1, o.trainRows); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, out); err != nil {
			return err
		}
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("%d of %d files failed (listed above; the totals leave them out)", len(out.Failed), len(results))
	}
	return nil
}

// printFailures lists the files whose model could not be fitted.
func printFailures(w io.Writer, failed []benchFailure) {
	for _, f := range failed {
		fmt.Fprintf(w, "FAILED %s\n", f.Error)
	}
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// pooled combines the files' curves and delays: AUCs averaged with the
// files' sizes as weights (each file has its own model and threshold),
// delays over all detected anomalies.
func pooled(files []report) (roc, pr, delay float64, detected, events int) {
	var w, wr, wp float64
	for _, f := range files {
		n := float64(f.conf.N())
		if !math.IsNaN(f.rocAUC) {
			roc, wr = roc+n*f.rocAUC, wr+n
		}
		if !math.IsNaN(f.prAUC) {
			pr, wp = pr+n*f.prAUC, wp+n
		}
		if f.detected > 0 {
			delay += f.delay * float64(f.detected)
			w += float64(f.detected)
		}
		detected += f.detected
		events += f.events
	}
	return roc / wr, pr / wp, delay / w, detected, events
}
