package cli

import (
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
	"github.com/vigil-edge/vigil/tools/eval"
)

// nabKinds are the values of vigil eval --nab.
var nabKinds = []string{"skab", "numenta"}

// numentaLabelsName is the name of NAB's label windows file.
const numentaLabelsName = "combined_windows.json"

// maxLabelsBytes bounds the labels file read (NAB's own is 30 KB).
const maxLabelsBytes = 16 << 20

// numentaProfiles are NAB's three profiles, in the order printed.
var numentaProfiles = [3]eval.NumentaProfile{eval.NumentaStandard, eval.NumentaLowFP, eval.NumentaLowFN}

// checkNABFlags checks vigil eval's --nab and --labels against the
// other flags.
func checkNABFlags(nab, labels string, skip int) error {
	switch {
	case !slices.Contains(nabKinds, nab):
		return usagef("--nab %q: want %s (SKAB's NAB: 60 s after each changepoint) or %s (Numenta's NAB with its label windows)",
			nab, nabKinds[0], nabKinds[1])
	case labels != "" && nab != "numenta":
		return usagef("--labels is NAB's %s, for --nab numenta", numentaLabelsName)
	case skip != 0 && nab == "numenta":
		return usagef("--skip does not apply to --nab numenta: NAB scores every row after its probationary period (the first 15 %% of each file's rows, at most 750)")
	}
	return nil
}

// numentaEval is what vigil eval --nab numenta runs on.
type numentaEval struct {
	model    string
	data     []string
	labels   string // "" to look for it beside the data
	decision *decisionFlags
	strict   bool
	plots    string
}

// evalNumenta replays NAB-style recordings (a timestamp column and one
// value column) through the model as vigil eval does and scores the
// decision as Numenta's NAB does (eval.ScoreNumenta): every row the
// decision marks Anomaly is a detection, the windows come from NAB's
// combined_windows.json, and the figures are per file and for the
// corpus under NAB's three profiles. No anomaly column is needed.
func evalNumenta(env Env, o numentaEval) error {
	labelsPath, err := findNumentaLabels(o.labels, o.data)
	if err != nil {
		return err
	}
	labels, err := readNumentaLabels(labelsPath)
	if err != nil {
		return err
	}
	l, err := firmware.ReadFile(o.model, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return err
	}
	tab, err := dataset.Load(o.data, l.Model.ChannelNames())
	if err != nil {
		return err
	}
	keys := make([]string, len(tab.Files))
	windows := make([][]eval.NumentaWindow, len(tab.Files))
	for fi, f := range tab.Files {
		var ok bool
		if keys[fi], windows[fi], ok = labels.Find(f.Path); !ok {
			return fmt.Errorf("%s: no entry in %s, whose keys are paths relative to NAB's data directory (e.g. %q); the file's path must end with one",
				f.Path, labelsPath, anyKey(labels))
		}
		if f.TimeColumn == "" {
			return fmt.Errorf("%s: no time column: NAB's windows are times, want a timestamp column", f.Path)
		}
	}
	fmt.Fprintf(env.Stdout, "labels: %s\n", labelsPath)
	if err := invalidRows(env.Stdout, tab, o.strict, "replayed as the agent would a sensor fault (no score)"); err != nil {
		return err
	}
	r, err := o.decision.rule(l.Model)
	if err != nil {
		return err
	}
	thr := l.Model.Threshold.Value
	fmt.Fprintf(env.Stdout, "decision: %s\n", r.describe(thr))
	v, err := replay(l.Autoencoder, thr, tab, r)
	if err != nil {
		return err
	}
	scores := make([][3]eval.NumentaScore, len(tab.Files))
	for fi, f := range tab.Files {
		lo, hi := f.Start, f.Start+f.Rows
		for p, prof := range numentaProfiles {
			if scores[fi][p], err = eval.ScoreNumenta(tab.Times[lo:hi], windows[fi], v.alarm[lo:hi], prof); err != nil {
				return fmt.Errorf("%s, windows of %q in %s: %w", f.Path, keys[fi], labelsPath, err)
			}
		}
	}
	printNumenta(env.Stdout, keys, scores)
	for _, f := range tab.Files {
		if slices.Contains(l.Model.Training.Sources, filepath.Base(f.Path)) {
			fmt.Fprintf(env.Stdout, "note: the model was trained on a recording named %s\n", filepath.Base(f.Path))
		}
	}
	if o.plots == "" {
		return nil
	}
	// The plots' labels are NAB's windows (its getLabels).
	tab.Labels = make([]uint8, len(tab.Rows))
	for fi, f := range tab.Files {
		for _, w := range windows[fi] {
			for i := f.Start; i < f.Start+f.Rows; i++ {
				if t := tab.Times[i]; !t.Before(w.Start) && !t.After(w.End) {
					tab.Labels[i] = 1
				}
			}
		}
	}
	return evalPlots(o.plots, tab, v, float64(thr), 0)
}

// printNumenta writes the per-file table and the corpus figures.
func printNumenta(w io.Writer, keys []string, scores [][3]eval.NumentaScore) {
	fmt.Fprintln(w, "NAB (Numenta): a detection is each row the decision marks Anomaly; the first 15 % of each file's rows\n(at most 750) are probationary and not scored; scores are 100·(S − S_null)/(S_perfect − S_null)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tprobation\twindows\tdetected\tTP\tFP\tFN\tTN\tstandard\tlow FP\tlow FN\t")
	var total eval.NumentaScore
	for fi, s := range scores {
		c := s[0] // the counts are the same under every profile
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", keys[fi], c.Probation, c.Windows, c.Detected, c.TP, c.FP, c.FN, c.TN,
			numentaCell(s[0]), numentaCell(s[1]), numentaCell(s[2]))
		total.Windows += c.Windows
		total.Scored += c.Scored
		total.Detected += c.Detected
		total.Missed += c.Missed
		total.TP, total.FP, total.FN, total.TN = total.TP+c.TP, total.FP+c.FP, total.FN+c.FN, total.TN+c.TN
	}
	tw.Flush()
	var parts, raw []string
	for p, prof := range numentaProfiles {
		var ps []eval.NumentaScore
		var s, null, perfect float64
		for _, f := range scores {
			ps = append(ps, f[p])
			s, null, perfect = s+f[p].S, null+f[p].Null, perfect+f[p].Perfect
		}
		parts = append(parts, fmt.Sprintf("%s %s", prof.Name, numentaFigure(eval.NumentaTotal(ps))))
		raw = append(raw, fmt.Sprintf("%s %.3f (%g, %g)", prof.Name, s, null, perfect))
	}
	fmt.Fprintf(w, "\ntotal: NAB %s  (0 never detects, 100 perfect)\n", strings.Join(parts, "  "))
	fmt.Fprintf(w, "       windows %d: detected %d, missed %d, in the probation %d; rows TP %d FP %d FN %d TN %d\n",
		total.Windows, total.Detected, total.Missed, total.Windows-total.Scored, total.TP, total.FP, total.FN, total.TN)
	fmt.Fprintf(w, "       raw S (S_null, S_perfect): %s\n", strings.Join(raw, "  "))
}

// numentaCell is a file's normalised score, "-" without windows.
func numentaCell(s eval.NumentaScore) string {
	return numentaFigure(eval.NumentaTotal([]eval.NumentaScore{s}))
}

func numentaFigure(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

// findNumentaLabels returns the labels file: given, else the first
// combined_windows.json found in the directory of the first data path
// (the path itself if it is a directory) or a labels/ directory in it,
// then the same in each of the 3 directories above (NAB's layout:
// data/<category>/<file>.csv beside labels/combined_windows.json).
func findNumentaLabels(given string, data []string) (string, error) {
	if given != "" {
		return given, nil
	}
	dir := data[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var tried []string
	for range 4 {
		for _, c := range []string{filepath.Join(dir, numentaLabelsName), filepath.Join(dir, "labels", numentaLabelsName)} {
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				return c, nil
			}
			tried = append(tried, c)
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	return "", fmt.Errorf("--nab numenta needs NAB's label windows (%s: file path → [[start, end], ...]): no --labels given and none found beside the data (looked for %s)",
		numentaLabelsName, strings.Join(tried, ", "))
}

// readNumentaLabels reads and decodes a combined_windows.json.
func readNumentaLabels(path string) (eval.NumentaLabels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLabelsBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxLabelsBytes {
		return nil, fmt.Errorf("%s: over %d bytes, too large for NAB's label windows", path, maxLabelsBytes)
	}
	l, err := eval.ParseNumentaLabels(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(l) == 0 {
		return nil, errors.New(path + ": no files: want NAB's label windows, a JSON object of file path → [[start, end], ...]")
	}
	return l, nil
}

// anyKey is the smallest key of l, as an example.
func anyKey(l eval.NumentaLabels) string {
	var keys []string
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[0]
}
