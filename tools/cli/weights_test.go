package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/firmware"
)

// --f16 stores float16 weights in train and pack, reports how scores
// move, and is refused together with --int8.
func TestF16Weights(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "rec.csv")
	simulate(t, data, "6", "rotor-imbalance@15m+3m", "25m")
	model := filepath.Join(dir, "h.vgm")
	code, out, stderr := run("train", "--epochs", "3", "--f16", "--data", data, "--out", model)
	if code != 0 || !strings.Contains(out, "f16 weights: scores change by") {
		t.Fatalf("train --f16: exit %d: %s\n%s", code, stderr, out)
	}
	l, err := firmware.ReadFile(model, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil || !l.Model.F16() {
		t.Fatalf("train --f16 wrote %v (error %v), want float16 weights", l, err)
	}
	if code, out, _ = run("inspect", model); code != 0 || !strings.Contains(out, "float16") {
		t.Errorf("inspect of a float16 model:\n%s", out)
	}
	f32 := filepath.Join(dir, "f.vgm")
	if code, _, stderr = run("train", "-q", "--epochs", "3", "--data", data, "--out", f32); code != 0 {
		t.Fatal(stderr)
	}
	packed := filepath.Join(dir, "p.vgm")
	code, out, stderr = run("pack", "--in", f32, "--out", packed, "--f16", "--data", data)
	if code != 0 || !strings.Contains(out, "before") || !strings.Contains(out, "after") || !strings.Contains(out, "decisions differ") {
		t.Fatalf("pack --f16: exit %d: %s\n%s", code, stderr, out)
	}
	lp, err := firmware.ReadFile(packed, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil || !lp.Model.F16() || lp.Model.Int8() {
		t.Errorf("pack --f16: %v", err)
	}
	for _, args := range [][]string{
		{"train", "--f16", "--int8", "--data", data, "--out", model},
		{"pack", "--in", f32, "--out", packed, "--f16", "--int8"},
	} {
		if code, _, stderr = run(args...); code != 2 || !strings.Contains(stderr, "--int8 and --f16: choose one") {
			t.Errorf("%q: exit %d, %s", args, code, stderr)
		}
	}
}
