package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// simulate writes a labelled 1 Hz recording with one fault.
func simulate(t *testing.T, path, seed, fault string, dur string) {
	t.Helper()
	code, csv, stderr := run("sim", "--fast", "--for", dur, "--rate", "1", "--seed", seed, "--labels", "--fault", fault)
	if code != 0 {
		t.Fatalf("sim: %s", stderr)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEvalAndBench(t *testing.T) {
	dir := t.TempDir()
	simulate(t, filepath.Join(dir, "skab", "valve", "0.csv"), "1", "valve-closed@10m+3m", "16m40s")
	simulate(t, filepath.Join(dir, "skab", "valve", "1.csv"), "2", "valve-closed@11m+2m", "16m40s")
	simulate(t, filepath.Join(dir, "skab", "rotor", "0.csv"), "3", "rotor-imbalance@9m+4m", "16m40s")
	normal := filepath.Join(dir, "normal.csv")
	if code, csv, _ := run("sim", "--fast", "--for", "3h", "--rate", "1", "--seed", "9"); code == 0 {
		os.WriteFile(normal, []byte(csv), 0o600)
	}

	// bench: every labelled file, fit on its first 400 rows, score the
	// remaining 600, totals and JSON.
	js := filepath.Join(dir, "bench.json")
	code, out, stderr := run("bench", "skab", "--data", filepath.Join(dir, "skab"), "--json", js, "--epochs", "20", "--k", "3", "--n", "5")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	var b benchJSON
	raw, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(raw, &b) != nil {
		t.Fatalf("bench JSON: %v\n%s", err, raw)
	}
	rows := 0
	for _, f := range b.Files {
		rows += f.TP + f.FP + f.FN + f.TN
	}
	if len(b.Files) != 3 || rows != 3*600 || b.Model.Params == 0 || b.Model.PackedBytes == 0 || b.Model.Weights != "float32" {
		t.Errorf("bench JSON: %d files, %d test rows, model %+v; want 3, 1800", len(b.Files), rows, b.Model)
	}
	// The simulated faults are plain: a sound detector finds them.
	if b.Total.F1 < 0.6 || b.Total.ROCAUC < 0.8 || b.Total.PooledROCAUC < 0.6 || b.Total.MAR > 50 {
		t.Errorf("bench totals %+v: want F1 ≥ 0.6, ROC-AUC ≥ 0.8 (pooled ≥ 0.6), MAR ≤ 50 %%", b.Total)
	}
	for _, want := range []string{"valve/0.csv", "total: F1", "NAB standard", "model: ", "alarms raised",
		fmt.Sprintf("alarm above %g× and normal at or below %g× its threshold", defaults.Enter, defaults.Exit)} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}

	// eval: a model trained on other normal data, on all three files.
	model := filepath.Join(dir, "m.vgm")
	if code, _, stderr = run("train", "-q", "--data", normal, "--out", model); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	plotDir := filepath.Join(dir, "plots")
	code, out, stderr = run("eval", "--model", model, "--data", filepath.Join(dir, "skab"), "--k", "3", "--n", "5", "--plots", plotDir)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"rotor/0.csv", "ROC-AUC", "3 of 3 anomalies detected", "NAB standard", "scored: 3000 of 3000 rows (rows 1 onwards of each file)"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	// --skip: the first rows fill the window but are not scored.
	code, skipped, stderr := run("eval", "--model", model, "--data", filepath.Join(dir, "skab"), "--k", "3", "--n", "5", "--skip", "400")
	if code != 0 || !strings.Contains(skipped, "scored: 1800 of 3000 rows (rows 401 onwards of each file)") {
		t.Errorf("eval --skip 400: exit %d %s\n%s", code, stderr, skipped)
	}
	tn := regexp.MustCompile(`TN (\d+)\)`)
	if a, b := tn.FindStringSubmatch(out), tn.FindStringSubmatch(skipped); a == nil || b == nil || a[1] == b[1] {
		t.Errorf("true negatives with and without --skip: %v, %v; want fewer with it", a, b)
	}
	// A model trained on the file it is evaluated on: eval says so.
	self := filepath.Join(dir, "self.vgm")
	if code, _, stderr = run("train", "-q", "--epochs", "3", "--data", filepath.Join(dir, "skab", "rotor", "0.csv"), "--out", self); code != 0 {
		t.Fatalf("train: %s", stderr)
	}
	code, out, _ = run("eval", "--model", self, "--data", filepath.Join(dir, "skab", "rotor", "0.csv"))
	if code != 0 || !strings.Contains(out, "note: the model was trained on a recording named 0.csv") {
		t.Errorf("eval on the training file: exit %d\n%s", code, out)
	}
	if code, _, _ = run("eval", "--model", self, "--data", filepath.Join(dir, "skab", "rotor", "0.csv"), "--skip", "5000"); code != 1 {
		t.Errorf("--skip past the end: exit %d, want 1", code)
	}
	// The agent's decision options: hysteresis, on- and off-delays.
	code, out, stderr = run("eval", "--model", model, "--data", filepath.Join(dir, "skab"), "--k", "3", "--n", "5",
		"--enter", "1.2", "--exit", "0.8", "--min-duration", "3s", "--cooldown", "10s", "--gap", "4")
	if code != 0 {
		t.Fatalf("eval with decision flags: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"decision: anomaly once 3 of the last 5 scores are above", "(1.2 × threshold) for 3s", "(0.8 × threshold) for 10s",
		"a step over 4× a file's median step is a gap", "total: F1"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	if code, _, stderr = run("eval", "--model", model, "--data", filepath.Join(dir, "skab"), "--exit", "1.5"); code != 2 || !strings.Contains(stderr, fmt.Sprintf("exit 1.5 > enter %g", defaults.Enter)) {
		t.Errorf("eval --exit 1.5: exit %d, %s; want 2 and the reason", code, stderr)
	}
	// pack --int8: smaller, and the figures side by side.
	packed := filepath.Join(dir, "m8.vgm")
	code, out, stderr = run("pack", "--in", model, "--out", packed, "--int8", "--version", "7", "--data", filepath.Join(dir, "skab"), "--k", "3", "--n", "5")
	if code != 0 {
		t.Fatalf("pack: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"before", "after", "decisions differ", "version 7"} {
		if !strings.Contains(out, want) {
			t.Errorf("pack output lacks %q:\n%s", want, out)
		}
	}
	st, _ := os.Stat(model)
	st8, _ := os.Stat(packed)
	if st8.Size() >= st.Size() {
		t.Errorf("int8 pack %d bytes, float32 %d", st8.Size(), st.Size())
	}
	if code, _, _ = run("pack", "--in", model); code != 2 {
		t.Errorf("pack without --out: exit %d", code)
	}
	for _, f := range []string{"histogram.png", "curves.png", "attribution.png", "timeline-" + strings.TrimLeft(strings.ReplaceAll(strings.TrimSuffix(filepath.ToSlash(filepath.Join(dir, "skab", "rotor", "0.csv")), ".csv"), "/", "_"), "._") + ".png"} {
		if st, err := os.Stat(filepath.Join(plotDir, f)); err != nil || st.Size() < 5000 {
			t.Errorf("eval --plots: %s: %v", f, err)
		}
	}
	if code, _, stderr = run("train", "-q", "--epochs", "3", "--data", normal, "--out", filepath.Join(dir, "p.vgm"), "--plots", plotDir); code != 0 {
		t.Fatalf("train --plots: %s", stderr)
	}
	for _, f := range []string{"losses.png", "validation.png"} {
		if _, err := os.Stat(filepath.Join(plotDir, f)); err != nil {
			t.Errorf("train --plots: %v", err)
		}
	}
	if code, _, stderr = run("eval", "--model", model, "--data", normal); code != 1 || !strings.Contains(stderr, "labels") {
		t.Errorf("eval of unlabelled data: exit %d, %s", code, stderr)
	}
	if code, _, _ = run("bench", "nab"); code != 2 {
		t.Errorf("bench nab: exit %d, want 2", code)
	}
}
