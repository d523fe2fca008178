package cli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nabSeries writes a NAB-style recording (timestamp,value; one row every
// five minutes from 2014-04-01): a daily sine with noise, plus step added
// to rows [from, to).
func nabSeries(t *testing.T, path string, rows int, seed uint64, from, to int, step float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	for i := range rows {
		v := 20 + 2*math.Sin(2*math.Pi*float64(i)/288) + 0.3*rng.NormFloat64()
		if i >= from && i < to {
			v += step
		}
		fmt.Fprintf(&b, "%s,%.3f\n", nabTime(i), v)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// nabTime is the time of row i of nabSeries, as NAB's labels write it.
func nabTime(i int) string {
	return time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 5 * time.Minute).Format("2006-01-02 15:04:05.000000")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEvalNumenta: a model trained on normal data finds a step anomaly in
// a NAB-style corpus laid out as NAB's (data/<category>/*.csv beside
// labels/combined_windows.json), and vigil eval --nab numenta scores it.
func TestEvalNumenta(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	nabSeries(t, train, 3000, 1, 0, 0, 0)
	// 2000 rows: probation 300; a step of 20σ over rows 1400-1419 inside
	// the window of rows 1380-1480.
	nabSeries(t, filepath.Join(dir, "data", "synthetic", "step.csv"), 2000, 2, 1400, 1420, 6)
	nabSeries(t, filepath.Join(dir, "data", "synthetic", "quiet.csv"), 1000, 3, 0, 0, 0)
	labels := fmt.Sprintf(`{
    "synthetic/step.csv": [["%s", "%s"]],
    "synthetic/quiet.csv": [],
    "realKnownCause/elsewhere.csv": []
}`, nabTime(1380), nabTime(1480))
	writeFile(t, filepath.Join(dir, "labels", "combined_windows.json"), labels)
	model := filepath.Join(dir, "m.vgm")
	if code, _, stderr := run("train", "-q", "--epochs", "30", "--data", train, "--out", model); code != 0 {
		t.Fatalf("train: %s", stderr)
	}

	code, out, stderr := run("eval", "--model", model, "--data", filepath.Join(dir, "data"), "--nab", "numenta")
	if code != 0 {
		t.Fatalf("eval --nab numenta: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"labels: " + filepath.Join(dir, "labels", "combined_windows.json"), "decision: ",
		"synthetic/step.csv", "synthetic/quiet.csv", "windows 1: detected 1, missed 0, in the probation 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Per file: probation, windows, detected, TP, FP, FN, TN, three scores.
	fileRow := regexp.MustCompile(`synthetic/(step|quiet)\.csv\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)`)
	rows := map[string]int{"step": 2000, "quiet": 1000}
	for _, m := range fileRow.FindAllStringSubmatch(out, -1) {
		n := make([]int, 7)
		for i := range n {
			n[i], _ = strconv.Atoi(m[2+i])
		}
		probation, windows, detected, tp, fp, fn, tn := n[0], n[1], n[2], n[3], n[4], n[5], n[6]
		if probation != rows[m[1]]*15/100 || tp+fp+fn+tn != rows[m[1]]-probation {
			t.Errorf("%s: probation %d, TP+FP+FN+TN %d; want %d and the %d rows after it", m[1], probation, tp+fp+fn+tn, rows[m[1]]*15/100, rows[m[1]])
		}
		switch m[1] {
		case "step":
			if windows != 1 || detected != 1 || tp < 1 || tp+fn != 101 {
				t.Errorf("step: windows %d detected %d TP %d FN %d; want 1, 1, ≥ 1 and 101 rows in the window", windows, detected, tp, fn)
			}
			if s, err := strconv.ParseFloat(m[9], 64); err != nil || s <= 0 {
				t.Errorf("step: standard score %s, want > 0", m[9])
			}
		case "quiet":
			if windows != 0 || m[9] != "-" {
				t.Errorf("quiet: windows %d, score %s; want 0 and -", windows, m[9])
			}
		}
		delete(rows, m[1])
	}
	if len(rows) != 0 {
		t.Errorf("no table row for %v", rows)
	}
	total := regexp.MustCompile(`total: NAB standard (\S+)  reward_low_FP_rate (\S+)  reward_low_FN_rate (\S+)`).FindStringSubmatch(out)
	if total == nil {
		t.Fatalf("no corpus scores")
	}
	for _, s := range total[1:] {
		if x, err := strconv.ParseFloat(s, 64); err != nil || x <= 0 || x > 100 {
			t.Errorf("corpus score %s, want in (0, 100]", s)
		}
	}

	if t.Failed() {
		t.Logf("output:\n%s", out)
	}

	// One file, --labels given: the same scores for it.
	code, one, stderr := run("eval", "--model", model, "--data", filepath.Join(dir, "data", "synthetic", "step.csv"), "--nab", "numenta",
		"--labels", filepath.Join(dir, "labels", "combined_windows.json"))
	stepRow := func(out string) string {
		for _, m := range fileRow.FindAllString(out, -1) {
			if strings.HasPrefix(m, "synthetic/step.csv") {
				return strings.Join(strings.Fields(m), " ")
			}
		}
		return "none"
	}
	if code != 0 || stepRow(one) != stepRow(out) {
		t.Errorf("eval of one file: exit %d %s\n%s", code, stderr, one)
	}
}

// TestEvalNumentaErrors: what vigil eval --nab numenta says about bad
// flags and labels.
func TestEvalNumentaErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data", "synthetic", "s.csv")
	nabSeries(t, data, 400, 1, 0, 0, 0)
	model := filepath.Join(dir, "m.vgm")
	if code, _, stderr := run("train", "-q", "--epochs", "2", "--data", data, "--out", model); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	lab := func(name, text string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, text)
		return p
	}
	good := lab("good.json", `{"synthetic/s.csv": [["`+nabTime(100)+`", "`+nabTime(120)+`"]]}`)
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"unknown --nab", []string{"--nab", "nab"}, 2, []string{`--nab "nab"`, "want skab", "or numenta"}},
		{"--labels without --nab numenta", []string{"--labels", good}, 2, []string{"--labels", "--nab numenta"}},
		{"--skip", []string{"--nab", "numenta", "--labels", good, "--skip", "10"}, 2, []string{"--skip", "probationary"}},
		{"no labels file", []string{"--nab", "numenta"}, 1,
			[]string{"no --labels given", "combined_windows.json", filepath.Join(dir, "data", "synthetic", "labels", "combined_windows.json")}},
		{"labels file absent", []string{"--nab", "numenta", "--labels", filepath.Join(dir, "none.json")}, 1, []string{"none.json"}},
		{"malformed JSON", []string{"--nab", "numenta", "--labels", lab("bad.json", `{"synthetic/s.csv": [["a", "b"]`)}, 1,
			[]string{"bad.json", "want a JSON object mapping each data file's relative path to a list of [start, end] time pairs"}},
		{"a list of windows", []string{"--nab", "numenta", "--labels", lab("list.json", `[["2014-04-01 00:00:00", "2014-04-01 01:00:00"]]`)}, 1,
			[]string{"list.json", "want a JSON object"}},
		{"a bad timestamp", []string{"--nab", "numenta", "--labels", lab("time.json", `{"synthetic/s.csv": [["2014-04-01 00:00:00", "2014-04-31 01:00:00"]]}`)}, 1,
			[]string{"time.json", `"synthetic/s.csv"`, `window 1: end "2014-04-31 01:00:00"`, "want a time"}},
		{"no entry for the file", []string{"--nab", "numenta", "--labels", lab("other.json", `{"realKnownCause/x.csv": []}`)}, 1,
			[]string{data, "no entry in", "other.json", `"realKnownCause/x.csv"`}},
		{"a window bound between rows", []string{"--nab", "numenta", "--labels", lab("between.json", `{"synthetic/s.csv": [["2014-04-01 08:21:00", "`+nabTime(120)+`"]]}`)}, 1,
			[]string{data, "between.json", "window 1 start 2014-04-01 08:21:00", "time of no row"}},
	}
	for _, tc := range tests {
		code, _, stderr := run(append([]string{"eval", "--model", model, "--data", data}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, code, tc.code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, stderr, w)
			}
		}
	}
	if code, out, stderr := run("eval", "--model", model, "--data", data, "--nab", "numenta", "--labels", good); code != 0 || !strings.Contains(out, "synthetic/s.csv") {
		t.Errorf("good labels: exit %d %s\n%s", code, stderr, out)
	}
}
