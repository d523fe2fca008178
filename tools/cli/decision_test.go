package cli

import (
	"flag"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// Flags override the model's decision, which overrides the defaults.
func TestDecisionRule(t *testing.T) {
	model := firmware.Decision{K: 6, N: 8, Enter: 1.2, Exit: 0.9, MinDuration: int64(time.Second), Cooldown: int64(2 * time.Second), Gap: int64(5 * time.Second)}
	tests := []struct {
		args  []string
		model firmware.Decision
		want  rule
		err   string
	}{
		{nil, firmware.Decision{}, rule{decide.Params{K: 1, N: 1, Enter: 1, Exit: 1}, 5}, ""},
		{nil, firmware.Decision{K: 6, N: 8}, rule{decide.Params{K: 6, N: 8, Enter: 1, Exit: 1}, 5}, ""},
		{nil, model, rule{decide.Params{K: 6, N: 8, Enter: 1.2, Exit: 0.9, MinDuration: time.Second, Cooldown: 2 * time.Second, Gap: 5 * time.Second}, 0}, ""},
		{[]string{"--k", "3", "--n", "5", "--cooldown", "0", "--enter", "1.5"}, model,
			rule{decide.Params{K: 3, N: 5, Enter: 1.5, Exit: 0.9, MinDuration: time.Second, Gap: 5 * time.Second}, 0}, ""},
		{[]string{"--gap", "10", "--min-duration", "1m", "--exit", "0.5"}, model,
			rule{decide.Params{K: 6, N: 8, Enter: 1.2, Exit: 0.5, MinDuration: time.Minute, Cooldown: 2 * time.Second}, 10}, ""},
		{[]string{"--exit", "1.5"}, firmware.Decision{}, rule{}, "exit 1.5 > enter 1"},
		{[]string{"--enter", "1.1"}, model, rule{}, ""}, // the model's exit 0.9 fits
		{[]string{"--enter", "0.8"}, model, rule{}, "exit 0.9 > enter 0.8"},
		{[]string{"--k", "3"}, firmware.Decision{}, rule{}, "k=3 n=0"},
		{[]string{"--min-duration", "-1s"}, firmware.Decision{}, rule{}, "min duration -1s"},
		{[]string{"--gap", "1"}, firmware.Decision{}, rule{}, "--gap 1"},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := addDecisionFlags(fs, true)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got, err := f.rule(&firmware.Model{Decision: tc.model})
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v with model %+v: error %v, want one containing %q", tc.args, tc.model, err, tc.err)
			}
		case err != nil:
			t.Errorf("%v with model %+v: %v", tc.args, tc.model, err)
		case tc.want != (rule{}) && got != tc.want:
			t.Errorf("%v with model %+v: %+v, want %+v", tc.args, tc.model, got, tc.want)
		}
	}
}

// replay restarts the window and the verdicts at a gap in a file, and
// decides only on a full window after it, as the agent does after a
// silence it reported stale.
func TestReplayGap(t *testing.T) {
	// Scores are x²: the model reconstructs every sample as 0.
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: infer.Scaler{Center: []float32{0}, Scale: []float32{1}},
		Layers: []infer.Layer{&infer.Dense{In: 1, Out: 1, W: []float32{0}, B: []float32{0}, Act: infer.Linear}}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2020, 3, 9, 10, 0, 0, 0, time.UTC)
	tab := &dataset.Table{Channels: []string{"a"}}
	for i, x := range []float32{0, 0, 0, 2, 2, 2, 2, 2, 0, 0} {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 5 {
			at = at.Add(time.Minute)
		}
		tab.Rows, tab.Times = append(tab.Rows, []float32{x}), append(tab.Times, at)
	}
	tab.Files = []dataset.File{{Path: "gap.csv", Rows: 8}, {Path: "again.csv", Start: 8, Rows: 2}}
	v, err := replay(ae, 1, tab, rule{decide.Params{K: 2, N: 3}, 5})
	if err != nil {
		t.Fatal(err)
	}
	// u u n n a | s s a, then a new file: u u.
	want := []bool{false, false, false, false, true, false, false, true, false, false}
	if !slices.Equal(v.alarm, want) {
		t.Errorf("alarms %v, want %v", v.alarm, want)
	}
	if v.scores[5] != 4 || math.IsNaN(v.scores[9]) || v.alarms != 5 {
		t.Errorf("scores %v, %d above", v.scores, v.alarms)
	}
}
