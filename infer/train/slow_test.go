package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

// column makes n one-channel rows from f(i).
func column(n int, f func(i int) float64) [][]float32 {
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = []float32{float32(f(i))}
	}
	return rows
}

func TestSlowness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := column(4000, func(int) float64 { return rng.NormFloat64() })
	// A stationary process with a 30-sample time constant, as a flow
	// following the load: cut into eighths, 400 rows cannot show its
	// range but 40,000 rows can.
	ar := func(n int) [][]float32 {
		phi, z := math.Exp(-1.0/30), 0.0
		return column(n, func(int) float64 {
			z = phi*z + math.Sqrt(1-phi*phi)*rng.NormFloat64()
			return z
		})
	}
	tests := []struct {
		name     string
		rows     [][]float32
		block    int
		min, max float64
	}{
		// Independent noise: block means of 10 keep a tenth of the variance.
		{"noise", noise, 10, 0.08, 0.12},
		{"noise, block 4", noise, 4, 0.22, 0.28},
		// A ramp is all slow: within a block it hardly moves.
		{"ramp", column(400, func(i int) float64 { return float64(i) }), 10, 0.99, 1},
		{"warm-up with noise", column(400, func(i int) float64 { return 5*math.Sqrt(float64(i)) + rng.NormFloat64() }), 10, 0.9, 1},
		// A fast square wave (period 2) averages out inside every block.
		{"square wave", column(400, func(i int) float64 { return float64(i % 2) }), 10, 0, 1e-12},
		{"constant", column(400, func(int) float64 { return 3 }), 10, 0, 0},
		{"wandering, 400 rows in eighths", ar(400), 50, 0.3, 1},
		{"wandering, 40000 rows in eighths", ar(40000), 5000, 0, 0.05},
		// Rows past the last whole block are ignored: the step at 400 is not seen.
		{"partial block", column(405, func(i int) float64 { return float64(i / 400) }), 10, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Slowness(tc.rows, tc.block)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != 1 || s[0] < tc.min || s[0] > tc.max {
				t.Errorf("slowness %v, want within [%v, %v]", s, tc.min, tc.max)
			}
		})
	}
}

func TestSlownessErrors(t *testing.T) {
	tests := []struct {
		name  string
		rows  [][]float32
		block int
		want  string
	}{
		{"block 1", column(100, func(int) float64 { return 0 }), 1, "block 1"},
		{"one block", column(19, func(int) float64 { return 0 }), 10, "fewer than 2 blocks"},
		{"no rows", nil, 10, "fewer than 2 blocks"},
		{"ragged", append(column(30, func(int) float64 { return 0 }), []float32{1, 2}), 10, "row 30 has 2 values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Slowness(tc.rows, tc.block); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWidenSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float32, 400)
	for i := range rows {
		// channel 0 noise, channel 1 a drift with noise, channel 2 constant
		rows[i] = []float32{float32(rng.NormFloat64()), float32(0.05*float64(i) + 0.2*rng.NormFloat64()), 7}
	}
	s, err := infer.FitStandard(rows)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), s.Scale...)
	got, err := WidenSlow(s, rows, 10, 0.45, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("widened %v, want [1] (the drifting channel)", got)
	}
	want := []float32{before[0], before[1] * 50, before[2]}
	for c := range want {
		if s.Scale[c] != want[c] {
			t.Errorf("channel %d: scale %v, want %v", c, s.Scale[c], want[c])
		}
	}
	for _, bad := range []struct{ share, factor float64 }{{0, 50}, {1.5, 50}, {0.5, 0.5}, {0.5, math.Inf(1)}, {math.NaN(), 2}} {
		if _, err := WidenSlow(s, rows, 10, bad.share, bad.factor); err == nil {
			t.Errorf("share %v factor %v: no error", bad.share, bad.factor)
		}
	}
	if _, err := WidenSlow(s, rows[:5], 10, 0.5, 2); err == nil {
		t.Error("5 rows in blocks of 10: no error")
	}
	short := &infer.Scaler{Center: []float32{0}, Scale: []float32{1}}
	if _, err := WidenSlow(short, rows, 10, 0.5, 2); err == nil || !strings.Contains(err.Error(), "3 channels") {
		t.Errorf("channel mismatch: error %v", err)
	}
}

func TestInflateSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Two channels: noise about a steady level, and the same noise on a
	// warm-up ramp of 8 units over the rows.
	rows := make([][]float32, 400)
	for i := range rows {
		n := rng.NormFloat64()
		rows[i] = []float32{float32(n), float32(n + 8*float64(i)/400)}
	}
	s := &infer.Scaler{Center: []float32{0, 4}, Scale: []float32{1, 1}}
	grew, err := InflateSlow(s, rows, 50, 2)
	if err != nil {
		t.Fatal(err)
	}
	if grew[0] > 1.1 {
		t.Errorf("steady channel's scale grew ×%.3f, want about 1", grew[0])
	}
	// The ramp's eighths have means 0.5, 1.5, …, 7.5 about 4: σ ≈ 2.29,
	// so the scale becomes √(1 + (2·2.29)²) ≈ 4.7.
	if grew[1] < 4.3 || grew[1] > 5.1 || math.Abs(float64(s.Scale[1])-grew[1]) > 1e-5 {
		t.Errorf("ramp's scale grew ×%.3f to %v, want about 4.7", grew[1], s.Scale[1])
	}
	before := []float32{s.Scale[0], s.Scale[1]}
	if grew, err := InflateSlow(s, rows, 50, 0); err != nil || grew[0] != 1 || s.Scale[1] != before[1] {
		t.Errorf("γ 0: grew %v, scale %v, %v; want no change", grew, s.Scale, err)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := InflateSlow(s, rows, 50, bad); err == nil {
			t.Errorf("γ %v: no error", bad)
		}
	}
	if _, err := InflateSlow(&infer.Scaler{Center: []float32{0}, Scale: []float32{1}}, rows, 50, 1); err == nil {
		t.Error("a one-channel scaler for two-channel rows: no error")
	}
}
