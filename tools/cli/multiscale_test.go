package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/firmware"
)

// vigil train --member makes a multi-scale model: the member inherits
// the command line's model flags, both networks are calibrated, the file
// requires "multi-scale", inspect lists the member, and eval replays it.
func TestTrainMultiScale(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "rec.csv")
	simulate(t, data, "5", "valve-closed@20m+3m", "30m")
	model := filepath.Join(dir, "ms.vgm")
	code, out, stderr := run("train", "--epochs", "3", "--seed", "4", "--data", data, "--out", model, "--int8",
		"--member", "--window 30 --conv 8,4 --threshold-factor '1.5'")
	if code != 0 {
		t.Fatalf("train --member: exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"member 0: conv1d 8→8 channels", "over 30-sample windows", "multi-scale: the model scores the mean of its 2 networks"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	l, err := firmware.ReadFile(model, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	m := l.Model
	if len(m.Members) != 1 || m.Threshold.Value != 1 || m.Threshold.Method != firmware.FusedMethod || !(m.Norm > 0) ||
		!slices.Contains(m.Requires, firmware.FeatureMultiScale) || !m.Int8() {
		t.Fatalf("model: %d members, threshold %+v, norm %v, requires %q, int8 %v", len(m.Members), m.Threshold, m.Norm, m.Requires, m.Int8())
	}
	mb := m.Members[0]
	if mb.Features.Window != 30 || mb.Layers[0].Kind != firmware.LayerConv1D || mb.Threshold.Method != "mean+ksigma×1.5" ||
		len(mb.Layers[0].WeightsQ8) == 0 || m.Training.Seed != 4 {
		t.Errorf("member: window %d, layer %q, threshold %+v, int8 %v; seed %d", mb.Features.Window, mb.Layers[0].Kind, mb.Threshold, len(mb.Layers[0].WeightsQ8) > 0, m.Training.Seed)
	}
	if code, out, _ = run("inspect", model); code != 0 || !strings.Contains(out, "member 0") || !strings.Contains(out, "window 30, stride 1") ||
		!strings.Contains(out, "over the mean of the networks' scores") {
		t.Errorf("inspect of a multi-scale model:\n%s", out)
	}
	code, out, stderr = run("eval", "--model", model, "--data", data)
	if code != 0 || !strings.Contains(out, "1 of 1 anomalies detected") {
		t.Errorf("eval of a multi-scale model: exit %d: %s\n%s", code, stderr, out)
	}
	for _, bad := range []struct{ member, want string }{
		{"--window 0", "--member \"--window 0\""},
		{"--channels Pressure", "leave --channels out"},
		{"--member '--window 5'", "a member cannot have members"},
		{"--window '30", "unterminated ' quote"},
		{"stray", `unexpected argument "stray"`},
	} {
		code, _, stderr := run("train", "--epochs", "1", "--data", data, "--out", model, "--member", bad.member)
		if code != 2 || !strings.Contains(stderr, bad.want) {
			t.Errorf("--member %q: exit %d, %s; want 2 and %q", bad.member, code, stderr, bad.want)
		}
	}
}

func TestSplitFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  --a 1\t--b\n2 ", []string{"--a", "1", "--b", "2"}},
		{`--member '--window 60 --conv 32,16'`, []string{"--member", "--window 60 --conv 32,16"}},
		{`--x "it's" --y ''`, []string{"--x", "it's", "--y", ""}},
		{`--x=a' 'b`, []string{"--x=a b"}},
	} {
		got, err := splitFlags(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitFlags(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitFlags(`--a "b`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}
