package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/tools/dataset"
	"github.com/vigil-edge/vigil/tools/plots"
)

func runEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "eval", "--model MODEL.vgm --data FILE.csv|DIR [--data ...]")
	model := fs.String("model", "", "model file (required)")
	var data listFlag
	fs.Var(&data, "data", "labelled CSV recording (anomaly column; changepoint for NAB), or a directory of them")
	decision := addDecisionFlags(fs, true)
	plotDir := fs.String("plots", "", "write figures (PNG) to this directory: score histogram, ROC/PR curves,\na score timeline per file, the channels' shares of alarms")
	if err := parse(fs, args); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	if *model == "" || len(data) == 0 {
		return usagef("want --model and at least one --data")
	}
	l, err := firmware.ReadFile(*model, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return err
	}
	tab, err := dataset.Load(data, l.Model.ChannelNames())
	if err != nil {
		return err
	}
	if tab.Labels == nil {
		return errors.New("eval needs labels: every file must have an anomaly column")
	}
	r, err := decision.rule(l.Model)
	if err != nil {
		return err
	}
	thr := l.Model.Threshold.Value
	fmt.Fprintf(env.Stdout, "decision: %s\n", r.describe(thr))
	v, err := replay(l.Autoencoder, thr, tab, r)
	if err != nil {
		return err
	}
	total, perFile, err := evaluate(tab, v, float64(thr), 0)
	if err != nil {
		return err
	}
	names := make([]string, len(tab.Files))
	for i, f := range tab.Files {
		names[i] = f.Path
	}
	printReport(env.Stdout, names, perFile, total, tab.Changepoints != nil)
	if *plotDir != "" {
		return evalPlots(*plotDir, tab, v, float64(thr), 0)
	}
	return nil
}

// printReport writes the per-file table and the totals.
func printReport(w io.Writer, names []string, perFile []report, total report, nab bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tTP\tFP\tFN\tTN\tF1\tFAR %\tMAR %\tNAB S\t")
	for i, r := range perFile {
		c := r.conf
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.3f\t%.2f\t%.2f\t%s\t\n", names[i], c.TP, c.FP, c.FN, c.TN, c.F1(), c.FAR(), c.MAR(), nabCell(r, nab))
	}
	tw.Flush()
	c := total.conf
	fmt.Fprintf(w, "\ntotal: F1 %.3f  FAR %.2f %%  MAR %.2f %%  precision %.3f  recall %.3f  (TP %d FP %d FN %d TN %d)\n",
		c.F1(), c.FAR(), c.MAR(), c.Precision(), c.Recall(), c.TP, c.FP, c.FN, c.TN)
	fmt.Fprintf(w, "       ROC-AUC %.3f  PR-AUC %.3f  detection delay %.1f samples (%d of %d anomalies detected)\n",
		total.rocAUC, total.prAUC, total.delay, total.detected, total.events)
	if nab {
		t := nabTotals(perFile)
		fmt.Fprintf(w, "       NAB standard %.2f  low FP %.2f  low FN %.2f\n", t[0], t[1], t[2])
	}
}

func nabCell(r report, nab bool) string {
	if !nab {
		return "-"
	}
	return fmt.Sprintf("%.3f", r.nab[0].S)
}

// benchJSON is the --json output of vigil bench skab.
type benchJSON struct {
	Files []benchFile `json:"files"`
	Total struct {
		F1          float64 `json:"f1"`
		FAR         float64 `json:"far"`
		MAR         float64 `json:"mar"`
		NABStandard float64 `json:"nab_standard"`
		NABLowFP    float64 `json:"nab_low_fp"`
		NABLowFN    float64 `json:"nab_low_fn"`
		ROCAUC      float64 `json:"roc_auc"`
		PRAUC       float64 `json:"pr_auc"`
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
}

func runBench(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "skab" {
		return usagef("usage: vigil bench skab --data DIR [--json FILE] (the only benchmark is skab)")
	}
	fs := newFlags(env, "bench skab", "--data DIR [--json FILE] [model flags]")
	var data listFlag
	fs.Var(&data, "data", "SKAB files or directories (read recursively; files without labels are skipped)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	plotDir := fs.String("plots", "", "write figures (PNG) to this directory: pooled score histogram and curves\n(scores over each file's threshold), a timeline per file")
	trainRows := fs.Int("train-rows", 400, "rows at the start of each file to fit its scaler and model on (the leaderboard's 400)")
	decision := addDecisionFlags(fs, false) // --gap is the recipe's, and goes into each model
	int8w := fs.Bool("int8", false, "score with int8 weights")
	recipeOf := addRecipeFlags(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	if len(data) == 0 {
		return usagef("want --data")
	}
	rc, err := recipeOf()
	if err != nil {
		return err
	}
	if _, err := decision.rule(&firmware.Model{}); err != nil {
		return err // a bad flag, before any model is fitted
	}
	start := time.Now()
	files, err := dataset.Expand(data)
	if err != nil {
		return err
	}
	var tabs []*dataset.Table
	for _, f := range files {
		if strings.Contains(filepath.ToSlash(f), "/reference/") {
			continue // published results beside the data, not data
		}
		tab, err := dataset.ReadFiles([]string{f}, rc.channels)
		if err != nil {
			return err
		}
		if tab.Labels != nil {
			tabs = append(tabs, tab)
		}
	}
	if len(tabs) == 0 {
		return errors.New("no labelled files found")
	}
	type result struct {
		rep    report
		v      verdicts
		thr    float64
		params int
		bytes  int
		err    error
	}
	results := make([]result, len(tabs))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = func() result {
					tab := tabs[i]
					m, _, err := rc.fit(ctx, tab.Slice(0, 0, *trainRows), nil)
					if err != nil {
						return result{err: fmt.Errorf("%s: %w", tab.Files[0].Path, err)}
					}
					if *int8w {
						if err := m.QuantizeInt8(); err != nil {
							return result{err: err}
						}
					}
					b, err := firmware.Pack(m)
					if err != nil {
						return result{err: err}
					}
					l, err := firmware.Decode(b, firmware.LoadOptions{AllowUnsigned: true})
					if err != nil {
						return result{err: err}
					}
					r, err := decision.rule(m)
					if err != nil {
						return result{err: err}
					}
					v, err := replay(l.Autoencoder, m.Threshold.Value, tab, r)
					if err != nil {
						return result{err: err}
					}
					_, per, err := evaluate(tab, v, float64(m.Threshold.Value), *trainRows)
					if err != nil {
						return result{err: err}
					}
					return result{rep: per[0], v: v, thr: float64(m.Threshold.Value), params: l.Autoencoder.Params(), bytes: len(b)}
				}()
			}
		}()
	}
	for i := range tabs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	var names []string
	var perFile []report
	var total report
	out := benchJSON{}
	for i, r := range results {
		if r.err != nil {
			return r.err
		}
		name := tabs[i].Files[0].Path
		names = append(names, name)
		perFile = append(perFile, r.rep)
		total.conf = total.conf.Add(r.rep.conf)
		c := r.rep.conf
		out.Files = append(out.Files, benchFile{File: name, TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN})
	}
	// Each file has its own model: AUCs averaged by file size, delays
	// over all detected anomalies.
	total.rocAUC, total.prAUC, total.delay, total.detected, total.events = pooled(perFile)
	marked := true
	for _, t := range tabs {
		marked = marked && t.Changepoints != nil
	}
	printReport(env.Stdout, names, perFile, total, marked)
	nab := nabTotals(perFile)
	c := total.conf
	out.Total.F1, out.Total.FAR, out.Total.MAR = c.F1(), c.FAR(), c.MAR()
	out.Total.NABStandard, out.Total.NABLowFP, out.Total.NABLowFN = nab[0], nab[1], nab[2]
	out.Total.ROCAUC, out.Total.PRAUC = total.rocAUC, total.prAUC
	out.Model.Params, out.Model.PackedBytes, out.Model.Weights = results[0].params, results[0].bytes, "float32"
	if *int8w {
		out.Model.Weights = "int8"
	}
	fmt.Fprintf(env.Stdout, "model: %d parameters, %d bytes packed (%s weights); %d files in %v\n",
		out.Model.Params, out.Model.PackedBytes, out.Model.Weights, len(tabs), time.Since(start).Round(time.Millisecond))
	if *plotDir != "" {
		// One table of every file's test rows, scores over its threshold.
		all := &dataset.Table{Channels: tabs[0].Channels}
		v := verdicts{shares: make([]float64, len(tabs[0].Channels))}
		for i, t := range tabs {
			v.alarms += results[i].v.alarms
			for c, sh := range results[i].v.shares {
				v.shares[c] += sh
			}
			s := t.Slice(0, *trainRows, t.Files[0].Rows)
			s.Files[0].Start = len(all.Rows)
			all.Files = append(all.Files, s.Files[0])
			all.Rows, all.Labels = append(all.Rows, s.Rows...), append(all.Labels, s.Labels...)
			for j := *trainRows; j < t.Files[0].Rows; j++ {
				v.scores = append(v.scores, results[i].v.scores[j]/results[i].thr)
				v.alarm = append(v.alarm, results[i].v.alarm[j])
			}
		}
		if err := evalPlots(*plotDir, all, v, 1, 0); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
	}
	return nil
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

// evalPlots draws the evaluation figures of a replay into dir.
func evalPlots(dir string, tab *dataset.Table, v verdicts, threshold float64, from int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var normal, anomalous []float64
	for i, s := range v.scores {
		if math.IsNaN(s) {
			continue
		}
		if tab.Labels[i] == 1 {
			anomalous = append(anomalous, s)
		} else {
			normal = append(normal, s)
		}
	}
	if err := plots.Histogram(filepath.Join(dir, "histogram.png"), normal, anomalous, threshold); err != nil {
		return err
	}
	if len(normal) > 0 && len(anomalous) > 0 {
		if err := plots.Curves(filepath.Join(dir, "curves.png"), v.scores, tab.Labels); err != nil {
			return err
		}
	}
	for _, f := range tab.Files {
		name := strings.TrimSuffix(strings.ReplaceAll(filepath.ToSlash(f.Path), "/", "_"), ".csv")
		name = strings.TrimLeft(name, "._")
		lo, hi := f.Start+from, f.Start+f.Rows
		if err := plots.Timeline(filepath.Join(dir, "timeline-"+name+".png"), f.Path, v.scores[lo:hi], tab.Labels[lo:hi], threshold); err != nil {
			return err
		}
	}
	if v.alarms > 0 {
		shares := make([]float64, len(v.shares))
		for i, s := range v.shares {
			shares[i] = s / float64(v.alarms)
		}
		return plots.Attribution(filepath.Join(dir, "attribution.png"), tab.Channels, shares)
	}
	return nil
}
