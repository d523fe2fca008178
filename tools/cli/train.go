package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/tools/dataset"
	"github.com/vigil-edge/vigil/tools/plots"
)

// units of the channels vigil knows by name (SKAB's pump).
var units = map[string]string{
	"Accelerometer1RMS": "g", "Accelerometer2RMS": "g", "Current": "A", "Pressure": "bar",
	"Temperature": "°C", "Thermocouple": "°C", "Voltage": "V", "Volume Flow RateRMS": "L/min",
}

func runTrain(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "train", "--data FILE.csv|DIR [--data ...] --out MODEL.vgm")
	var data listFlag
	fs.Var(&data, "data", "CSV recording of normal operation, or a directory of them (read recursively);\nrepeatable, and further files may follow the flags")
	out := fs.String("out", "", "model file to write (required)")
	name := fs.String("name", "", "model name (default: the output file's base name)")
	version := fs.Uint64("version", 1, "model version (increase it for every model pushed to a device)")
	weights := addWeightsFlags(fs, "store")
	quiet := fs.Bool("q", false, "print only the summary")
	plotDir := fs.String("plots", "", "write figures (PNG) to this directory: loss curves, validation score histogram")
	recipeOf := addRecipeFlags(fs)
	strict := addStrictFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	if len(data) == 0 {
		return usagef("no training data: give --data FILE.csv")
	}
	if *out == "" {
		return usagef("--out is required")
	}
	kind, err := weights.kind()
	if err != nil {
		return err
	}
	rc, err := recipeOf()
	if err != nil {
		return err
	}
	start := time.Now()
	tab, err := dataset.Load(data, rc.channels)
	if err != nil {
		return err
	}
	if err := invalidRows(env.Stdout, tab, *strict, "left out of training, with every window touching them"); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "read %d rows (%d normal) of %d channels from %d files\n", len(tab.Rows), len(tab.Normal()), len(tab.Channels), len(tab.Files))
	for _, f := range tab.Files {
		if f.TimeColumn == "" {
			fmt.Fprintf(env.Stdout, "%s has no time column (%s): its rows are taken as evenly spaced, and no gap in time is seen\n",
				f.Path, strings.Join(dataset.TimeColumns, ", "))
		}
	}
	var progress io.Writer
	if !*quiet {
		progress = env.Stdout
	}
	m, fit, err := rc.fit(ctx, tab, progress)
	if err != nil {
		return err
	}
	if rc.Features.Window > 1 {
		fmt.Fprintf(env.Stdout, "%d windows of %d samples (%d features each) hold only normal rows\n", len(fit.Scaled), rc.Features.Window, rc.Features.Len(len(tab.Channels)))
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
	}
	m.Name, m.Version, m.Created = *name, *version, time.Now().Unix()
	if err := convertWeights(m, kind); err != nil {
		return err
	}
	b, err := firmware.Pack(m)
	if err != nil {
		return err
	}
	res, cal := fit.Result, fit.Calibration
	if kind != "float32" {
		val := res.ValScores[len(res.ValScores)-res.ValRows:] // the last rows are validation with --calibrate-on all too
		if err := reportPacked(env, kind, b, fit.Scaled[len(fit.Scaled)-res.ValRows:], val, cal.Threshold); err != nil {
			return err
		}
	}
	if err := firmware.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	best := res.History[res.BestEpoch-1]
	fmt.Fprintf(env.Stdout, "trained %s on %d rows (%d validation) in %v: best epoch %d of %d, val loss %.5f\n",
		layerShape(res.Layers), res.TrainRows, res.ValRows, time.Since(start).Round(time.Millisecond), res.BestEpoch, len(res.History), best.Val)
	if w := m.Training.Widened; len(w) > 0 && m.Training.WidenFactor > 0 {
		fmt.Fprintf(env.Stdout, "drifting over the training rows, scale ×%g: %s (a longer recording covers their range; --slow-share 0 keeps them as fitted)\n",
			m.Training.WidenFactor, strings.Join(w, ", "))
	} else if len(w) > 0 {
		fmt.Fprintf(env.Stdout, "drifting over the training rows, scale widened by how far they wandered: %s (a longer recording covers their range; --slow-inflate 0 keeps them as fitted)\n",
			strings.Join(w, ", "))
	}
	fmt.Fprintf(env.Stdout, "threshold %.5f (%s; validation scores: mean %.5f, std %.5f over %d rows)\n", cal.Threshold, thresholdRule(cal.Method, cal.K), cal.Mean, cal.Std, cal.N)
	for i, mb := range m.Members {
		fmt.Fprintf(env.Stdout, "member %d: %s over %d-sample windows, threshold %.5f (%s)\n", i, memberShape(mb), max(mb.Features.Window, 1), mb.Threshold.Value, thresholdRule(mb.Threshold.Method, mb.Threshold.K))
	}
	if len(m.Members) > 0 {
		fmt.Fprintf(env.Stdout, "multi-scale: the model scores the mean of its %d networks' scores over their own thresholds; threshold 1\n", 1+len(m.Members))
	}
	d := m.Decision.Params().Normalized()
	if d.Enter != 1 || d.Exit != 1 {
		fmt.Fprintf(env.Stdout, "decision: anomaly once %d of the last %d scores are above %g × it, normal again once %d are at or below %g × it (never on the validation rows)",
			d.K, d.N, d.Enter, d.K, d.Exit)
	} else {
		fmt.Fprintf(env.Stdout, "decision: anomaly once %d of the last %d scores are above it (no alarm on the validation rows)", d.K, d.N)
	}
	if g := m.Decision.Gap; g > 0 {
		fmt.Fprintf(env.Stdout, "; a step over %v is a gap", time.Duration(g))
	}
	fmt.Fprintln(env.Stdout)
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes)\n", *out, len(b))
	if *plotDir != "" {
		return trainPlots(*plotDir, fit)
	}
	return nil
}

// trainPlots draws the loss curves and the validation scores' histogram.
func trainPlots(dir string, fit *train.Fitted) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var tr, va []float64
	for _, e := range fit.Result.History {
		tr, va = append(tr, e.Train), append(va, e.Val)
	}
	if err := plots.Losses(filepath.Join(dir, "losses.png"), tr, va, fit.Result.BestEpoch); err != nil {
		return err
	}
	val := make([]float64, len(fit.Result.ValScores))
	for i, s := range fit.Result.ValScores {
		val[i] = float64(s)
	}
	return plots.Histogram(filepath.Join(dir, "validation.png"), val, nil, fit.Calibration.Threshold)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// layerShape renders layers as in→h1→…→out (flattened sizes).
func layerShape(ls []infer.Layer) string {
	var b strings.Builder
	for i, l := range ls {
		in, out := l.Shape()
		if i == 0 {
			b.WriteString(strconv.Itoa(in))
		}
		fmt.Fprintf(&b, "→%d", out)
	}
	return b.String()
}

// memberShape describes a member's layers as vigil train lists them.
func memberShape(mb firmware.Member) string {
	parts := make([]string, len(mb.Layers))
	for i, l := range mb.Layers {
		if l.Kind == firmware.LayerDense {
			parts[i] = fmt.Sprintf("%d→%d", l.In, l.Out)
			continue
		}
		parts[i] = fmt.Sprintf("%s %d→%d channels", l.Kind, l.InChannels, l.OutChannels)
	}
	return strings.Join(parts, ", ")
}
