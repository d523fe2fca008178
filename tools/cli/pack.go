package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"text/tabwriter"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/tools/dataset"
)

func runPack(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "pack", "--in MODEL.vgm --out PACKED.vgm [--int8|--f16] [--data LABELLED.csv|DIR ...]")
	in := fs.String("in", "", "model file to pack (required)")
	out := fs.String("out", "", "model file to write (required)")
	weights := addWeightsFlags(fs, "store")
	version := fs.Uint64("version", 0, "set the model version (0 keeps it)")
	name := fs.String("name", "", "set the model name")
	var data listFlag
	fs.Var(&data, "data", "labelled recordings to score with both models, side by side (repeatable)")
	decision := addDecisionFlags(fs, true) // with --data
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usagef("want --in and --out")
	}
	kind, err := weights.kind()
	if err != nil {
		return err
	}
	before, err := firmware.ReadFile(*in, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return err
	}
	inBytes, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	m := before.Model.Clone()
	if err := convertWeights(m, kind); err != nil {
		return err
	}
	if *version != 0 {
		m.Version = *version
	}
	if *name != "" {
		m.Name = *name
	}
	b, err := firmware.Pack(m)
	if err != nil {
		return err
	}
	after, err := firmware.Decode(b, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return err
	}
	if len(data) > 0 {
		if err := compareModels(env, before, after, data, decision); err != nil {
			return err
		}
	}
	if err := firmware.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %d bytes (was %d), id %s, version %d\n", *out, len(b), len(inBytes), after.ID, m.Version)
	return nil
}

// compareModels evaluates both models on the same recordings and prints
// their figures side by side, with how far their scores differ.
func compareModels(env Env, a, b *firmware.Loaded, data []string, decision *decisionFlags) error {
	tab, err := dataset.Load(data, a.Model.ChannelNames())
	if err != nil {
		return err
	}
	if tab.Labels == nil {
		return fmt.Errorf("--data needs labelled recordings (an anomaly column in every file)")
	}
	var reps [2]report
	var vs [2]verdicts
	for i, l := range []*firmware.Loaded{a, b} {
		r, err := decision.rule(l.Model)
		if err != nil {
			return err
		}
		v, err := replay(l.Autoencoder, l.Model.Threshold.Value, tab, r)
		if err != nil {
			return err
		}
		if reps[i], _, err = evaluate(tab, v, float64(l.Model.Threshold.Value), 0); err != nil {
			return err
		}
		vs[i] = v
	}
	var worst float64
	flips := 0
	for i := range vs[0].scores {
		x, y := vs[0].scores[i], vs[1].scores[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		worst = max(worst, math.Abs(x-y)/math.Max(math.Abs(x), 1e-12))
		if vs[0].alarm[i] != vs[1].alarm[i] {
			flips++
		}
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tF1\tFAR %\tMAR %\tROC-AUC\tPR-AUC\t")
	for i, label := range []string{"before", "after"} {
		c := reps[i].conf
		fmt.Fprintf(tw, "%s\t%.3f\t%.2f\t%.2f\t%.3f\t%.3f\t\n", label, c.F1(), c.FAR(), c.MAR(), reps[i].rocAUC, reps[i].prAUC)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "scores differ by at most %.3g%% (relative); %d of %d decisions differ\n", 100*worst, flips, len(tab.Rows))
	return nil
}
