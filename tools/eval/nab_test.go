package eval

import (
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2020, 3, 9, 10, 0, 0, 0, time.UTC)

// secondTimes returns n timestamps one second apart.
func secondTimes(n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * time.Second)
	}
	return ts
}

// marks returns n values, 1 at the given indices.
func marks(n int, at ...int) []uint8 {
	m := make([]uint8, n)
	for _, i := range at {
		m[i] = 1
	}
	return m
}

// flags returns n predictions, true in the half-open ranges [from, to).
func flags(n int, ranges ...[2]int) []bool {
	f := make([]bool, n)
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			f[i] = true
		}
	}
	return f
}

// Sigmoid values at grid points 200 and 500 for the Standard and LowFP
// profiles, computed independently with Python's math module.
const (
	std200   = 0.8904212662964358
	std500   = 0.44404850713138366
	lowFP500 = 0.3889542150453045
)

var nabTests = []struct {
	name  string
	times []time.Time // nil: 40 samples one second apart
	cps   []uint8
	pred  []bool
	p     Profile
	want  NABScore
}{
	{"no changepoint, no alarm", nil, marks(40), flags(40), Standard,
		NABScore{}},
	{"no changepoint, a run raises two false alarms", nil, marks(40), flags(40, [2]int{3, 6}), Standard,
		NABScore{S: -0.22, FalseAlarms: 2}},
	{"never alarms", nil, marks(40, 10), flags(40), Standard,
		NABScore{S: -1, Null: -1, Perfect: 1, Windows: 1, Missed: 1}},
	{"never alarms, LowFN", nil, marks(40, 10), flags(40), LowFN,
		NABScore{S: -2, Null: -2, Perfect: 1, Windows: 1, Missed: 1}},
	{"alarm at the changepoint", nil, marks(40, 10), flags(40, [2]int{10, 40}), Standard,
		NABScore{S: 1, Null: -1, Perfect: 1, Windows: 1}},
	{"alarm mid-window", nil, marks(40, 10), flags(40, [2]int{15, 40}), Standard,
		NABScore{S: std500, Null: -1, Perfect: 1, Windows: 1}},
	{"alarm mid-window, LowFP", nil, marks(40, 10), flags(40, [2]int{15, 40}), LowFP,
		NABScore{S: lowFP500, Null: -1, Perfect: 1, Windows: 1}},
	{"alarm on the window's end scores A_fp, its falling edge is false", nil,
		marks(40, 10), flags(40, [2]int{20, 21}), Standard,
		NABScore{S: -0.22, Null: -1, Perfect: 1, Windows: 1, FalseAlarms: 1}},
	{"one sample after the window", nil, marks(40, 10), flags(40, [2]int{21, 40}), Standard,
		NABScore{S: -1.11, Null: -1, Perfect: 1, Windows: 1, Missed: 1, FalseAlarms: 1}},
	{"falling edge detects", nil, marks(40, 10), flags(40, [2]int{0, 12}), Standard,
		NABScore{S: -0.11 + std200, Null: -1, Perfect: 1, Windows: 1, FalseAlarms: 1}},
	{"later alarms in a window are free", nil, marks(40, 10), flags(40, [2]int{10, 12}, [2]int{14, 16}), Standard,
		NABScore{S: 1, Null: -1, Perfect: 1, Windows: 1}},
	// Windows [10 s, 20 s] and [15 s, 25 s]: the second is cut to
	// [20 s, 25 s]; an alarm at 20 s is the first in both.
	{"cut window, alarm on the shared boundary", nil, marks(40, 10, 15), flags(40, [2]int{20, 21}), Standard,
		NABScore{S: -0.11 + 1, Null: -2, Perfect: 2, Windows: 2}},
	{"alarms between windows", nil, marks(40, 5, 30), flags(40, [2]int{20, 22}), Standard,
		NABScore{S: -0.22 - 2, Null: -2, Perfect: 2, Windows: 2, Missed: 2, FalseAlarms: 2}},
	// A 15 s gap after the changepoint: the next sample is 5 s past the
	// window although it is the very next sample.
	{"windows are in time, not samples",
		[]time.Time{t0, t0.Add(time.Second), t0.Add(16 * time.Second), t0.Add(17 * time.Second)},
		marks(4, 1), flags(4, [2]int{2, 4}), Standard,
		NABScore{S: -1.11, Null: -1, Perfect: 1, Windows: 1, Missed: 1, FalseAlarms: 1}},
}

func TestNAB(t *testing.T) {
	for _, tt := range nabTests {
		times := tt.times
		if times == nil {
			times = secondTimes(len(tt.cps))
		}
		got, err := NAB(times, tt.cps, tt.pred, 10*time.Second, tt.p)
		if err != nil {
			t.Errorf("%s: NAB: %v", tt.name, err)
			continue
		}
		if !nabClose(got, tt.want) {
			t.Errorf("%s: NAB = %+v, want %+v", tt.name, got, tt.want)
		}
		if naive := naiveNAB(times, tt.cps, Alarms(tt.pred), 10*time.Second, tt.p); !nabClose(got, naive) {
			t.Errorf("%s: NAB = %+v, literal port %+v", tt.name, got, naive)
		}
	}
}

func nabClose(a, b NABScore) bool {
	const tol = 1e-12
	return math.Abs(a.S-b.S) <= tol && math.Abs(a.Null-b.Null) <= tol &&
		math.Abs(a.Perfect-b.Perfect) <= tol && a.Windows == b.Windows &&
		a.Missed == b.Missed && a.FalseAlarms == b.FalseAlarms
}

func TestNABErrors(t *testing.T) {
	ts := secondTimes(3)
	back := []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second)}
	var tests = []struct {
		name   string
		times  []time.Time
		cps    []uint8
		pred   []bool
		window time.Duration
		want   string
	}{
		{"short predictions", ts, marks(3), flags(2), time.Second, "3 times but 2 predictions"},
		{"short changepoints", ts, marks(2), flags(3), time.Second, "3 times, 2 changepoints, 3 alarms"},
		{"label 2", ts, []uint8{0, 2, 0}, flags(3), time.Second, "changepoint 2 at index 1"},
		{"repeated time", back, marks(3), flags(3), time.Second, "time at index 2"},
		{"zero window", ts, marks(3), flags(3), 0, "window 0s is not positive"},
	}
	for _, tt := range tests {
		_, err := NAB(tt.times, tt.cps, tt.pred, tt.window, Standard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NAB error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestAlarms(t *testing.T) {
	var tests = []struct {
		pred, want []bool
	}{
		{nil, []bool{}},
		{flags(1), flags(1)},
		{flags(1, [2]int{0, 1}), flags(1, [2]int{0, 1})},
		{flags(6, [2]int{0, 2}, [2]int{4, 6}), flags(6, [2]int{0, 1}, [2]int{2, 3}, [2]int{4, 5})},
		{flags(5, [2]int{1, 3}), flags(5, [2]int{1, 2}, [2]int{3, 4})},
	}
	for _, tt := range tests {
		got := Alarms(tt.pred)
		if len(got) != len(tt.want) {
			t.Errorf("Alarms(%v) = %v, want %v", tt.pred, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Alarms(%v) = %v, want %v", tt.pred, got, tt.want)
				break
			}
		}
	}
}

func TestNABTotal(t *testing.T) {
	var tests = []struct {
		scores []NABScore
		want   float64
	}{
		{[]NABScore{{S: -1, Null: -2, Perfect: 2}, {S: 2, Null: -2, Perfect: 2}}, 62.5},
		{[]NABScore{{S: -2, Null: -2, Perfect: 2}}, 0},
		{[]NABScore{{S: 2, Null: -2, Perfect: 2}}, 100},
		{[]NABScore{{S: -2.5, Null: -2, Perfect: 2}}, -12.5},
		{[]NABScore{{S: -0.33}}, math.NaN()},
		{nil, math.NaN()},
	}
	for _, tt := range tests {
		got := NABTotal(tt.scores)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("NABTotal(%+v) = %v, want %v", tt.scores, got, tt.want)
		}
	}
}

// naiveNAB is a literal port of SKAB's extract_cp_confusion_matrix and
// single_evaluate_nab: false alarms are found region by region (before
// the first window, between neighbours, after the last) rather than as
// "in no window", windows are scanned in full for each alarm.
func naiveNAB(times []time.Time, cps []uint8, alarms []bool, window time.Duration, p Profile) NABScore {
	type bound struct{ a, b time.Time }
	var wins []bound
	for i, c := range cps {
		if c == 1 {
			wins = append(wins, bound{times[i], times[i].Add(window)})
		}
	}
	for i := 0; i+1 < len(wins); i++ {
		if !wins[i].b.Before(wins[i+1].a) { // b_i >= a_{i+1}
			wins[i+1].a = wins[i].b
		}
	}
	var pred []time.Time
	for i, a := range alarms {
		if a {
			pred = append(pred, times[i])
		}
	}
	var s NABScore
	s.Windows = len(wins)
	var tps []float64
	if len(wins) == 0 {
		s.FalseAlarms = len(pred)
	} else {
		for _, t := range pred {
			if t.Before(wins[0].a) {
				s.FalseAlarms++
			}
		}
		for i, w := range wins {
			var first *time.Time
			for j, t := range pred {
				if !t.Before(w.a) && !t.After(w.b) {
					first = &pred[j]
					break
				}
			}
			if first == nil {
				s.Missed++
			} else {
				tps = append(tps, nabSigmoid(first.Sub(w.a), w.b.Sub(w.a), p))
			}
			if i+1 < len(wins) {
				for _, t := range pred {
					if t.After(w.b) && t.Before(wins[i+1].a) {
						s.FalseAlarms++
					}
				}
			}
		}
		for _, t := range pred {
			if t.After(wins[len(wins)-1].b) {
				s.FalseAlarms++
			}
		}
	}
	s.S = p.FP * float64(s.FalseAlarms)
	s.S += p.FN * float64(s.Missed)
	for _, v := range tps {
		s.S += v
	}
	s.Null = float64(len(wins)) * p.FN
	s.Perfect = float64(len(wins)) * p.TP
	return s
}

// FuzzNAB checks on arbitrary recordings that NAB never fails on valid
// input, agrees with the literal port, and keeps S within its bounds:
// Null + A_fp·FalseAlarms ≤ S ≤ Perfect, S = Null without alarms.
func FuzzNAB(f *testing.F) {
	f.Add(uint8(60), []byte{1, 0x10, 2, 0x11, 1, 0x01, 3, 0x00, 1, 0x12, 1, 0x13})
	f.Add(uint8(5), []byte{1, 0x13, 1, 0x13, 1, 0x13, 1, 0x02, 1, 0x00})
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, windowSec uint8, data []byte) {
		if len(data) > 512 { // keeps the literal port, O(n²), fast
			return
		}
		window := time.Duration(windowSec%120+1) * time.Second
		n := len(data) / 2
		times := make([]time.Time, n)
		cps := make([]uint8, n)
		pred := make([]bool, n)
		at := t0
		for i := 0; i < n; i++ {
			step, bits := data[2*i], data[2*i+1]
			at = at.Add(time.Duration(step%8+1) * 250 * time.Millisecond)
			times[i] = at
			cps[i] = bits >> 4 & 1
			pred[i] = bits&1 == 1
		}
		alarms := 0
		for _, a := range Alarms(pred) {
			if a {
				alarms++
			}
		}
		for _, p := range []Profile{Standard, LowFP, LowFN} {
			got, err := NAB(times, cps, pred, window, p)
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if naive := naiveNAB(times, cps, Alarms(pred), window, p); !nabClose(got, naive) {
				t.Fatalf("%s: NAB = %+v, literal port %+v", p.Name, got, naive)
			}
			const eps = 1e-9
			lo := got.Null + p.FP*float64(got.FalseAlarms)
			if got.S < lo-eps || got.S > got.Perfect+eps || math.IsNaN(got.S) {
				t.Fatalf("%s: S %v outside [%v, %v]: %+v", p.Name, got.S, lo, got.Perfect, got)
			}
			if alarms == 0 && got.S != got.Null {
				t.Fatalf("%s: no alarm but S %v != Null %v", p.Name, got.S, got.Null)
			}
			if got.FalseAlarms > alarms || got.Missed > got.Windows {
				t.Fatalf("%s: counts %+v with %d alarms", p.Name, got, alarms)
			}
		}
	})
}

// TestNABSigmoidMonotone checks that the scaled sigmoid falls from A_tp to
// A_fp across the window without rising anywhere.
func TestNABSigmoidMonotone(t *testing.T) {
	span := time.Minute
	prev := math.Inf(1)
	for off := time.Duration(0); off <= span; off += 10 * time.Millisecond {
		y := nabSigmoid(off, span, Standard)
		if y > prev {
			t.Fatalf("nabSigmoid(%v) = %v > %v before", off, y, prev)
		}
		prev = y
	}
	if y := nabSigmoid(0, span, Standard); math.Abs(y-1) > 1e-12 {
		t.Errorf("nabSigmoid(0) = %v, want 1", y)
	}
	if y := nabSigmoid(span, span, Standard); math.Abs(y+0.11) > 1e-12 {
		t.Errorf("nabSigmoid(end) = %v, want -0.11", y)
	}
}
