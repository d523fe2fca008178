package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/tools/eval"
)

func TestParseSeeds(t *testing.T) {
	tests := []struct {
		in   string
		want []uint64
		bad  bool
	}{
		{in: "1-5", want: []uint64{1, 2, 3, 4, 5}},
		{in: "7", want: []uint64{7}},
		{in: "1,3, 9-10", want: []uint64{1, 3, 9, 10}},
		{in: "5-1", bad: true},
		{in: "x", bad: true},
		{in: "1-", bad: true},
		{in: "1-1000", bad: true},
		{in: "", bad: true},
	}
	for _, tc := range tests {
		got, err := parseSeeds(tc.in)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("parseSeeds(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestFaultType(t *testing.T) {
	for path, want := range map[string]string{
		"skab/valve1/3.csv": "valve1",
		"skab/valve2/0.csv": "valve2",
		"skab/other/12.csv": "other/12.csv",
		"/data/other/1.csv": "other/1.csv",
	} {
		if got := faultType(path); got != want {
			t.Errorf("faultType(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCandidateLabel(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := candidateLabel(i); got != want {
			t.Errorf("candidateLabel(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestChooseCandidate(t *testing.T) {
	// A is better on fold 0, B on folds 1 and 2; C failed a file.
	cands := []cvCandidate{
		{FoldF1: [][]jsonFloat{{0.9, 0.9}, {0.5, 0.5}, {0.6, 0.6}}},
		{FoldF1: [][]jsonFloat{{0.6, 0.6}, {0.7, 0.7}, {0.75, 0.75}}},
		{FoldF1: [][]jsonFloat{{1, 1}, {1, 1}, {1, 1}}, Failed: []benchFailure{{File: "x"}}},
	}
	out := &cvJSON{Folds: []string{"a", "b", "c"}, Candidates: cands}
	if k := out.choose(-1); k != 1 {
		t.Errorf("on every fold: chose %d, want 1 (B: mean 0.683 against A's 0.667)", k)
	}
	// Without fold 1, A's mean (0.75) beats B's (0.675).
	if k := out.choose(1); k != 0 {
		t.Errorf("without fold 1: chose %d, want 0", k)
	}
	if k := (&cvJSON{Folds: out.Folds, Candidates: cands[2:]}).choose(-1); k != -1 {
		t.Errorf("only a failed candidate: chose %d, want -1", k)
	}
	avg, worst, fold := foldSummary(cands[0].FoldF1, []string{"a", "b", "c"}, -1)
	if d := avg - 2.0/3; d > 1e-12 || d < -1e-12 || worst != 0.5 || fold != "b" {
		t.Errorf("foldSummary = %v, %v, %q; want 0.667, 0.5, b", avg, worst, fold)
	}
}

// TestChooseWithinLimits: with --max-far/--max-mar, the best mean fold
// F1 among the candidates whose pooled rates on the folds it is chosen
// on keep to the limits; the best of all when none does.
func TestChooseWithinLimits(t *testing.T) {
	c := func(tp, fp, fn, tn int) eval.Confusion { return eval.Confusion{TP: tp, FP: fp, FN: fn, TN: tn} }
	f1 := [][]jsonFloat{{0.8}, {0.8}, {0.8}}
	// A: the better F1, but FAR 20 % on every fold. B: FAR 5 % on folds
	// 0 and 1, 50 % on fold 2; MAR 10 % everywhere.
	a := cvCandidate{FoldF1: [][]jsonFloat{{0.9}, {0.9}, {0.9}},
		conf: [][]eval.Confusion{{c(90, 20, 10, 80)}, {c(90, 20, 10, 80)}, {c(90, 20, 10, 80)}}}
	b := cvCandidate{FoldF1: f1,
		conf: [][]eval.Confusion{{c(90, 5, 10, 95)}, {c(90, 5, 10, 95)}, {c(90, 50, 10, 50)}}}
	tests := []struct {
		maxFAR, maxMAR float64
		skip, want     int
	}{
		{0, 0, -1, 0},   // no limits: the best F1
		{8, 0, -1, 0},   // B's FAR over all folds is 20 %, as A's: neither keeps to it, so the best F1
		{8, 0, 2, 1},    // without fold 2, B's FAR is 5 %
		{8, 5, 2, 0},    // MAR 10 % breaks the second limit for both
		{25, 20, -1, 0}, // both keep to it: the best F1
	}
	for _, tc := range tests {
		out := &cvJSON{Folds: []string{"a", "b", "c"}, Candidates: []cvCandidate{a, b}, MaxFAR: tc.maxFAR, MaxMAR: tc.maxMAR}
		if k := out.choose(tc.skip); k != tc.want {
			far, mar := b.pooledRates(tc.skip)
			t.Errorf("limits FAR %v MAR %v without fold %d: chose %d, want %d (B's FAR %.1f MAR %.1f)", tc.maxFAR, tc.maxMAR, tc.skip, k, tc.want, far, mar)
		}
	}
}

// TestBenchCV: the cross-validation on three small folds with two seeds
// and two candidates, and a file whose model cannot be fitted: it is
// named, the rest is reported, and the command fails.
func TestBenchCV(t *testing.T) {
	dir := t.TempDir()
	skab := filepath.Join(dir, "skab")
	simulate(t, filepath.Join(skab, "valve1", "0.csv"), "1", "valve-closed@10m+3m", "16m40s")
	simulate(t, filepath.Join(skab, "valve1", "1.csv"), "2", "valve-closed@11m+2m", "16m40s")
	simulate(t, filepath.Join(skab, "other", "3.csv"), "3", "rotor-imbalance@9m+4m", "16m40s")
	simulate(t, filepath.Join(skab, "other", "4.csv"), "4", "cavitation@8m+4m", "16m40s")

	js := filepath.Join(dir, "cv.json")
	args := []string{"bench", "skab", "--data", skab, "--cv", "fault-type", "--seeds", "1-2", "--epochs", "5",
		"--try", "--slow-share 0 --scale-floor 0.1", "--try", "--enter 1 --exit 1", "--json", js}
	code, out, stderr := run(args...)
	if code != 0 {
		t.Fatalf("bench --cv: exit %d: %s\n%s", code, stderr, out)
	}
	var cv cvJSON
	raw, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(raw, &cv) != nil {
		t.Fatalf("cv JSON: %v\n%s", err, raw)
	}
	if !slices.Equal(cv.Folds, []string{"other/3.csv", "other/4.csv", "valve1"}) || !slices.Equal(cv.Seeds, []uint64{1, 2}) {
		t.Errorf("folds %v seeds %v; want other/3.csv other/4.csv valve1, 1 2", cv.Folds, cv.Seeds)
	}
	if len(cv.Candidates) != 3 || cv.Candidates[1].Args != "--slow-share 0 --scale-floor 0.1" || len(cv.Nested) != 3 || cv.Chosen < 0 {
		t.Fatalf("cv JSON: %d candidates, nested %v, chosen %d", len(cv.Candidates), cv.Nested, cv.Chosen)
	}
	for _, c := range cv.Candidates {
		if len(c.FoldF1) != 3 || len(c.FoldF1[0]) != 2 || len(c.Pooled) != 2 || c.Worst > c.MeanFold {
			t.Errorf("candidate %q: %+v", c.Args, c)
		}
	}
	// A candidate's decision flags reach its replay: without the default
	// hysteresis, the same networks raise other alarms.
	if a, c := cv.Candidates[0].Pooled, cv.Candidates[2].Pooled; slices.Equal(a, c) {
		t.Errorf("--try '--enter 1 --exit 1' gave the figures of the default hysteresis: %+v", a)
	}
	// The two seeds train different networks.
	if a := cv.Candidates[0].Pooled; a[0] == a[1] {
		t.Logf("seeds 1 and 2 gave the same pooled figures %+v (possible, but unusual)", a[0])
	}
	for _, want := range []string{"leave-one-fault-type-out: 3 folds, seeds 1,2", "candidate B: with --slow-share 0", "worst fold", "pooled MAR %", "alarms (false)", "held-out F1: mean", "chosen on every fold"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A file whose first 400 rows are all labelled anomalous has no
	// normal rows to train on: it fails, named; the others are scored.
	raw, err = os.ReadFile(filepath.Join(skab, "other", "4.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	head := strings.Split(lines[0], ";")
	col := slices.Index(head, "anomaly")
	if col < 0 {
		t.Fatalf("no anomaly column in %q", lines[0])
	}
	for i := 1; i <= 400; i++ {
		f := strings.Split(lines[i], ";")
		f[col] = "1"
		lines[i] = strings.Join(f, ";")
	}
	bad := filepath.Join(skab, "other", "5.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = run("bench", "skab", "--data", skab, "--epochs", "5")
	if code != 1 || !strings.Contains(out, "FAILED "+bad) || !strings.Contains(out, "total: F1") || !strings.Contains(stderr, "1 of 5 files failed") {
		t.Errorf("bench with a failing file: exit %d, want 1 with the file named and the totals\n%s\n%s", code, out, stderr)
	}
	code, out, _ = run("bench", "skab", "--data", skab, "--epochs", "5", "--cv", "fault-type", "--seeds", "1")
	if code != 1 || !strings.Contains(out, "FAILED (candidate A) "+bad) || !strings.Contains(out, "mean of folds") ||
		!regexp.MustCompile(`other/5.csv +1 +failed`).MatchString(out) {
		t.Errorf("bench --cv with a failing file: exit %d, want 1 with the file named and the table\n%s", code, out)
	}
	// A candidate that fails on every file is "failed" throughout, and
	// the JSON (NaN as null) is still written.
	code, out, stderr = run("bench", "skab", "--data", skab, "--epochs", "2", "--cv", "fault-type", "--seeds", "1", "--try", "--val 0.0001", "--json", js)
	var failed cvJSON
	raw, err = os.ReadFile(js)
	if code != 1 || err != nil || json.Unmarshal(raw, &failed) != nil || len(failed.Candidates) != 2 || !math.IsNaN(float64(failed.Candidates[1].MeanFold)) ||
		!math.IsNaN(float64(failed.Candidates[1].Pooled[0].F1)) || strings.Contains(out, "Inf") ||
		!regexp.MustCompile(`mean of folds +[0-9.]+ +failed`).MatchString(out) || !regexp.MustCompile(`pooled F1 +[0-9.]+ +failed`).MatchString(out) {
		t.Errorf("bench --cv with a candidate failing every file: exit %d (%s), JSON %s\n%s", code, stderr, raw, out)
	}
	for _, args := range [][]string{
		{"--seeds", "1-2"},
		{"--try", "--slow-share 0"},
		{"--cv", "file"},
		{"--cv", "fault-type", "--seeds", "3-1"},
		{"--cv", "fault-type", "--try", "--slow-share 2"},
	} {
		if code, _, _ := run(append([]string{"bench", "skab", "--data", skab}, args...)...); code != 2 {
			t.Errorf("bench %v: exit %d, want 2 (usage)", args, code)
		}
	}
}
