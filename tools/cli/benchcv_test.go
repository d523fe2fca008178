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

func TestChooseCandidate(t *testing.T) {
	// A is better on fold 0, B on folds 1 and 2; C failed a file.
	cands := []cvCandidate{
		{FoldF1: [][]jsonFloat{{0.9, 0.9}, {0.5, 0.5}, {0.6, 0.6}}},
		{FoldF1: [][]jsonFloat{{0.6, 0.6}, {0.7, 0.7}, {0.75, 0.75}}},
		{FoldF1: [][]jsonFloat{{1, 1}, {1, 1}, {1, 1}}, Failed: []benchFailure{{File: "x"}}},
	}
	if k := choose(cands, -1); k != 1 {
		t.Errorf("on every fold: chose %d, want 1 (B: mean 0.683 against A's 0.667)", k)
	}
	// Without fold 1, A's mean (0.75) beats B's (0.675).
	if k := choose(cands, 1); k != 0 {
		t.Errorf("without fold 1: chose %d, want 0", k)
	}
	if k := choose(cands[2:], -1); k != -1 {
		t.Errorf("only a failed candidate: chose %d, want -1", k)
	}
	avg, worst, fold := foldSummary(cands[0].FoldF1, []string{"a", "b", "c"}, -1)
	if d := avg - 2.0/3; d > 1e-12 || d < -1e-12 || worst != 0.5 || fold != "b" {
		t.Errorf("foldSummary = %v, %v, %q; want 0.667, 0.5, b", avg, worst, fold)
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
		"--try", "--slow-share 0 --scale-floor 0.1", "--json", js}
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
	if len(cv.Candidates) != 2 || cv.Candidates[1].Args != "--slow-share 0 --scale-floor 0.1" || len(cv.Nested) != 3 || cv.Chosen < 0 {
		t.Fatalf("cv JSON: %d candidates, nested %v, chosen %d", len(cv.Candidates), cv.Nested, cv.Chosen)
	}
	for _, c := range cv.Candidates {
		if len(c.FoldF1) != 3 || len(c.FoldF1[0]) != 2 || len(c.Pooled) != 2 || c.Worst > c.MeanFold {
			t.Errorf("candidate %q: %+v", c.Args, c)
		}
	}
	// The two seeds train different networks.
	if a := cv.Candidates[0].Pooled; a[0] == a[1] {
		t.Logf("seeds 1 and 2 gave the same pooled figures %+v (possible, but unusual)", a[0])
	}
	for _, want := range []string{"leave-one-fault-type-out: 3 folds, seeds 1,2", "candidate B: with --slow-share 0", "worst fold", "pooled MAR %", "held-out F1: mean", "chosen on every fold"} {
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
