package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/tools/dataset"
	"github.com/vigil-edge/vigil/tools/plots"
)

func runEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "eval", "--model MODEL.vgm --data FILE.csv|DIR [--data ...] [--nab numenta [--labels combined_windows.json]]")
	model := fs.String("model", "", "model file (required)")
	var data listFlag
	fs.Var(&data, "data", "labelled CSV recording (anomaly column; changepoint for NAB), or a directory of them")
	decision := addDecisionFlags(fs, true)
	plotDir := fs.String("plots", "", "write figures (PNG) to this directory: score histogram, ROC/PR curves,\na score timeline per file, the channels' shares of alarms")
	strict := addStrictFlag(fs)
	skip := fs.Int("skip", 0, "replay the first N rows of each file (the window fills on them) but score only the rows after:\nthe rows a model was trained on say nothing of how it detects")
	nab := fs.String("nab", "skab", "NAB scoring: skab (SKAB's: 60 s windows after each changepoint) or numenta (Numenta's NAB\non NAB-style timestamp,value files, windows from --labels; no anomaly column needed)")
	labels := fs.String("labels", "", "with --nab numenta: NAB's labels/combined_windows.json (default: the first found beside\nthe data or in a labels/ directory, up to 3 directories above)")
	if err := parse(fs, args); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	if *model == "" || len(data) == 0 {
		return usagef("want --model and at least one --data")
	}
	if *skip < 0 {
		return usagef("--skip %d: want a number of rows, 0 or more", *skip)
	}
	if err := checkNABFlags(*nab, *labels, *skip); err != nil {
		return err
	}
	if *nab == "numenta" {
		return evalNumenta(env, numentaEval{model: *model, data: data, labels: *labels, decision: decision, strict: *strict, plots: *plotDir})
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
	if err := invalidRows(env.Stdout, tab, *strict, "replayed as the agent would a sensor fault (no score)"); err != nil {
		return err
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
	for _, f := range tab.Files {
		if *skip >= f.Rows {
			return fmt.Errorf("--skip %d: %s has only %d rows", *skip, f.Path, f.Rows)
		}
	}
	total, perFile, err := evaluate(tab, v, float64(thr), *skip)
	if err != nil {
		return err
	}
	names := make([]string, len(tab.Files))
	for i, f := range tab.Files {
		names[i] = f.Path
	}
	printReport(env.Stdout, names, perFile, total, tab.Changepoints != nil)
	scored := 0
	for _, f := range tab.Files {
		scored += f.Rows - *skip
	}
	fmt.Fprintf(env.Stdout, "scored: %d of %d rows (rows %d onwards of each file)\n", scored, len(tab.Rows), *skip+1)
	for _, f := range tab.Files {
		if *skip == 0 && slices.Contains(l.Model.Training.Sources, filepath.Base(f.Path)) {
			fmt.Fprintf(env.Stdout, "note: the model was trained on a recording named %s: its training rows score as true negatives here; --skip N scores only the rows after them\n",
				filepath.Base(f.Path))
		}
	}
	if *plotDir != "" {
		return evalPlots(*plotDir, tab, v, float64(thr), *skip)
	}
	return nil
}

// printReport writes the per-file table and the totals.
func printReport(w io.Writer, names []string, perFile []report, total report, nab bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tTP\tFP\tFN\tTN\tF1\tFAR %\tMAR %\talarms\tfalse\tNAB S\t")
	for i, r := range perFile {
		c := r.conf
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.3f\t%.2f\t%.2f\t%d\t%d\t%s\t\n", names[i], c.TP, c.FP, c.FN, c.TN, c.F1(), c.FAR(), c.MAR(), r.alarms, r.falseAlarms, nabCell(r, nab))
	}
	tw.Flush()
	c := total.conf
	fmt.Fprintf(w, "\ntotal: F1 %.3f  FAR %.2f %%  MAR %.2f %%  precision %.3f  recall %.3f  (TP %d FP %d FN %d TN %d)\n",
		c.F1(), c.FAR(), c.MAR(), c.Precision(), c.Recall(), c.TP, c.FP, c.FN, c.TN)
	fmt.Fprintf(w, "       ROC-AUC %.3f  PR-AUC %.3f  detection delay %.1f samples (%d of %d anomalies detected)\n",
		total.rocAUC, total.prAUC, total.delay, total.detected, total.events)
	fmt.Fprintf(w, "       alarms raised %d, %d of them wholly in normal rows\n", total.alarms, total.falseAlarms)
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

// evalPlots draws the evaluation figures of a replay into dir: the
// histogram and curves of the scores of every file's rows from train on
// (the rows before were the model's training rows), a timeline of each
// whole file with those rows shaded, and the channels' shares.
func evalPlots(dir string, tab *dataset.Table, v verdicts, threshold float64, train int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var normal, anomalous, scores []float64
	var labels []uint8
	for _, f := range tab.Files {
		for i := f.Start + min(train, f.Rows); i < f.Start+f.Rows; i++ {
			s := v.scores[i]
			scores, labels = append(scores, s), append(labels, tab.Labels[i])
			switch {
			case math.IsNaN(s):
			case tab.Labels[i] == 1:
				anomalous = append(anomalous, s)
			default:
				normal = append(normal, s)
			}
		}
	}
	if err := plots.Histogram(filepath.Join(dir, "histogram.png"), normal, anomalous, threshold); err != nil {
		return err
	}
	if len(normal) > 0 && len(anomalous) > 0 {
		if err := plots.Curves(filepath.Join(dir, "curves.png"), scores, labels, threshold); err != nil {
			return err
		}
	}
	for _, f := range tab.Files {
		name := strings.TrimSuffix(strings.ReplaceAll(filepath.ToSlash(f.Path), "/", "_"), ".csv")
		name = strings.TrimLeft(name, "._")
		lo, hi := f.Start, f.Start+f.Rows
		s := plots.Series{Title: f.Path, Scores: v.scores[lo:hi], Labels: tab.Labels[lo:hi], Alarm: v.alarm[lo:hi],
			Threshold: threshold, Train: min(train, f.Rows)}
		if f.TimeColumn != "" {
			s.Times = tab.Times[lo:hi]
		}
		if err := plots.Timeline(filepath.Join(dir, "timeline-"+name+".png"), s); err != nil {
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
