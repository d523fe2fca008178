package eval

import (
	"math"
	"strings"
	"testing"
	"time"
)

// minuteTimes returns n timestamps one minute apart, like NAB's
// five-minute series.
func minuteTimes(n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = time.Date(2014, 4, 1, 0, i, 0, 0, time.UTC)
	}
	return ts
}

// rows returns the windows from row a to row b (both inclusive) of times.
func rows(times []time.Time, ab ...[2]int) []NumentaWindow {
	var w []NumentaWindow
	for _, r := range ab {
		w = append(w, NumentaWindow{Start: times[r[0]], End: times[r[1]]})
	}
	return w
}

// detect returns n detections, true at the given rows.
func detect(n int, at ...int) []bool {
	d := make([]bool, n)
	for _, i := range at {
		d[i] = true
	}
	return d
}

type numentaCase struct {
	name    string
	n       int
	windows [][2]int
	det     []int
	p       NumentaProfile
	want    NumentaScore // Windows, Perfect and Probation are filled in
}

// Cases worked out by hand on 20 rows (probation ⌊0.15·20⌋ = 3 rows).
// A false positive right after a window of 4 rows, one row past its right
// edge, sits at 1/3: 2/(1+e^{5/3}) − 1 = −0.682257…
var afterWindow = 2/(1+math.Exp(5.0/3)) - 1

var numentaHandTests = []numentaCase{
	{"no window, no detection", 20, nil, nil, NumentaStandard,
		NumentaScore{TN: 17}},
	{"no window: each detection costs A_fp, none in probation", 20, nil, []int{2, 10, 11}, NumentaStandard,
		NumentaScore{S: -2 * 0.11, FP: 2, TN: 15}},
	{"never detected", 20, [][2]int{{8, 11}}, nil, NumentaStandard,
		NumentaScore{S: -1, Null: -1, Scored: 1, Missed: 1, FN: 4, TN: 13}},
	{"never detected, low FN", 20, [][2]int{{8, 11}}, nil, NumentaLowFN,
		NumentaScore{S: -2, Null: -2, Scored: 1, Missed: 1, FN: 4, TN: 13}},
	{"detected at the window's first row scores A_tp", 20, [][2]int{{8, 11}}, []int{8}, NumentaStandard,
		NumentaScore{S: 1, Null: -1, Scored: 1, Detected: 1, TP: 1, FN: 3, TN: 13}},
	{"later detections in a window are free, but counted", 20, [][2]int{{8, 11}}, []int{8, 9, 10}, NumentaStandard,
		NumentaScore{S: 1, Null: -1, Scored: 1, Detected: 1, TP: 3, FN: 1, TN: 13}},
	{"a false positive before any window costs A_fp", 20, [][2]int{{8, 11}}, []int{5, 8}, NumentaLowFP,
		NumentaScore{S: -0.22 + 1, Null: -1, Scored: 1, Detected: 1, TP: 1, FN: 3, FP: 1, TN: 12}},
	{"a false positive just after a window costs less", 20, [][2]int{{8, 11}}, []int{8, 12}, NumentaStandard,
		NumentaScore{S: afterWindow*0.11 + 1, Null: -1, Scored: 1, Detected: 1, TP: 1, FN: 3, FP: 1, TN: 12}},
	{"a window inside the probation is not scored; far after it (4 > 3) costs A_fp", 20, [][2]int{{0, 2}}, []int{1, 10}, NumentaStandard,
		NumentaScore{S: -0.11, FP: 1, TN: 16}},
	{"a detection in the probation does not detect a window reaching past it", 20, [][2]int{{1, 5}}, []int{2}, NumentaStandard,
		NumentaScore{S: -1, Null: -1, Scored: 1, Missed: 1, FN: 3, TN: 14}},
}

// Cases scored by NAB itself: nab/sweeper.py of github.com/numenta/NAB
// (commit ea702d7), run with python3 (it needs only the standard
// library) as
//
//	t0 = datetime.datetime(2014, 4, 1)
//	def case(name, n, windows, detected):
//	    ts = [t0 + datetime.timedelta(minutes=i) for i in range(n)]
//	    wl = [(ts[a], ts[b]) for a, b in windows]
//	    scores = [1.0 if i in detected else 0.0 for i in range(n)]
//	    for prof, cm in P.items():  # config/profiles.json
//	        _, row = Sweeper(0.15, cm).scoreDataSet(ts, scores, wl, name, 1.0)
//	        print(name, prof, repr(row.score), row.tp, row.fp, row.fn, row.tn)
//
// scoreDataSet at threshold 1 over scores of 1 (detected) and 0 is NAB
// scoring binary detections.
var numentaNABTests = []numentaCase{
	// A: a window of 4 rows detected at its second row, a detection in
	// the probation, a false positive 4 rows after the window.
	{"A", 20, [][2]int{{8, 11}}, []int{1, 9, 15}, NumentaStandard,
		NumentaScore{S: 0.8572687113779385, Null: -1, Scored: 1, Detected: 1, TP: 1, FP: 1, FN: 3, TN: 12}},
	{"A", 20, [][2]int{{8, 11}}, []int{1, 9, 15}, NumentaLowFP,
		NumentaScore{S: 0.7475483349558163, Null: -1, Scored: 1, Detected: 1, TP: 1, FP: 1, FN: 3, TN: 12}},
	{"A", 20, [][2]int{{8, 11}}, []int{1, 9, 15}, NumentaLowFN,
		NumentaScore{S: 0.8572687113779385, Null: -2, Scored: 1, Detected: 1, TP: 1, FP: 1, FN: 3, TN: 12}},
	// B: two windows, both detected late, false positives before,
	// between and after them.
	{"B", 40, [][2]int{{10, 17}, {25, 29}}, []int{4, 12, 13, 18, 19, 24, 29, 30, 39}, NumentaStandard,
		NumentaScore{S: 1.050677470898199, Null: -2, Scored: 2, Detected: 2, TP: 3, FP: 5, FN: 10, TN: 16}},
	{"B", 40, [][2]int{{10, 17}, {25, 29}}, []int{4, 12, 13, 18, 19, 24, 29, 30, 39}, NumentaLowFP,
		NumentaScore{S: 0.6659790100940596, Null: -2, Scored: 2, Detected: 2, TP: 3, FP: 5, FN: 10, TN: 16}},
	{"B", 40, [][2]int{{10, 17}, {25, 29}}, []int{4, 12, 13, 18, 19, 24, 29, 30, 39}, NumentaLowFN,
		NumentaScore{S: 1.050677470898199, Null: -4, Scored: 2, Detected: 2, TP: 3, FP: 5, FN: 10, TN: 16}},
	// C: touching windows: the shared row belongs to the second one.
	{"C", 40, [][2]int{{10, 17}, {17, 22}}, []int{17, 23}, NumentaStandard,
		NumentaScore{S: -0.050832887298601026, Null: -2, Scored: 2, Detected: 1, Missed: 1, TP: 1, FP: 1, FN: 12, TN: 20}},
	{"C", 40, [][2]int{{10, 17}, {17, 22}}, []int{17, 23}, NumentaLowFP,
		NumentaScore{S: -0.10166577459720216, Null: -2, Scored: 2, Detected: 1, Missed: 1, TP: 1, FP: 1, FN: 12, TN: 20}},
	{"C", 40, [][2]int{{10, 17}, {17, 22}}, []int{17, 23}, NumentaLowFN,
		NumentaScore{S: -1.050832887298601, Null: -4, Scored: 2, Detected: 1, Missed: 1, TP: 1, FP: 1, FN: 12, TN: 20}},
	// D: detected at the window's last row; false positives right after
	// it and far away.
	{"D", 40, [][2]int{{10, 17}}, []int{17, 18, 30}, NumentaStandard,
		NumentaScore{S: 0.15914064708149378, Null: -1, Scored: 1, Detected: 1, TP: 1, FP: 2, FN: 7, TN: 24}},
	{"D", 40, [][2]int{{10, 17}}, []int{17, 18, 30}, NumentaLowFP,
		NumentaScore{S: 0.011464608149739708, Null: -1, Scored: 1, Detected: 1, TP: 1, FP: 2, FN: 7, TN: 24}},
	// E: 6000 rows: the probation stops at 750 rows.
	{"E", 6000, [][2]int{{800, 999}, {3000, 3099}}, []int{700, 900, 1000, 1200, 3050, 5999}, NumentaStandard,
		NumentaScore{S: 1.4996040206351569, Null: -2, Scored: 2, Detected: 2, TP: 2, FP: 3, FN: 298, TN: 4947}},
	{"E", 6000, [][2]int{{800, 999}, {3000, 3099}}, []int{700, 900, 1000, 1200, 3050, 5999}, NumentaLowFP,
		NumentaScore{S: 1.2796229074507461, Null: -2, Scored: 2, Detected: 2, TP: 2, FP: 3, FN: 298, TN: 4947}},
	// F: a window inside the probation (its detection does not count,
	// nor does the window in Null), one detected after it.
	{"F", 100, [][2]int{{5, 9}, {50, 59}}, []int{7, 55}, NumentaStandard,
		NumentaScore{S: 0.8597925669097837, Null: -1, Scored: 1, Detected: 1, TP: 1, FN: 9, TN: 75}},
	// G: a window reaching out of the probation, detected inside it
	// only (G) and also at its last row (G2).
	{"G", 100, [][2]int{{10, 20}}, []int{12}, NumentaLowFN,
		NumentaScore{S: -2, Null: -2, Scored: 1, Missed: 1, FN: 6, TN: 79}},
	{"G2", 100, [][2]int{{10, 20}}, []int{12, 20}, NumentaStandard,
		NumentaScore{S: 0.2264702865476093, Null: -1, Scored: 1, Detected: 1, TP: 1, FN: 5, TN: 79}},
}

func TestScoreNumenta(t *testing.T) {
	for _, tests := range [][]numentaCase{numentaHandTests, numentaNABTests} {
		for _, tc := range tests {
			times := minuteTimes(tc.n)
			got, err := ScoreNumenta(times, rows(times, tc.windows...), detect(tc.n, tc.det...), tc.p)
			if err != nil {
				t.Errorf("%s (%s): %v", tc.name, tc.p.Name, err)
				continue
			}
			want := tc.want
			want.Windows, want.Perfect, want.Probation = len(tc.windows), float64(len(tc.windows))*tc.p.TP, NumentaProbation(tc.n)
			// Go's math.Exp and the C library's exp may differ in the last bit.
			if math.Abs(got.S-want.S) <= 1e-14 {
				got.S = want.S
			}
			if got != want {
				t.Errorf("%s (%s):\n got %+v\nwant %+v", tc.name, tc.p.Name, got, want)
			}
		}
	}
}

func TestNumentaProbation(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, 0}, {6, 0}, {7, 1}, {20, 3}, {100, 15}, {4032, 604}, {5000, 750}, {22695, 750}} {
		if got := NumentaProbation(tc.n); got != tc.want {
			t.Errorf("NumentaProbation(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestScaledSigmoid(t *testing.T) {
	// The values nab/sweeper.py's docstring gives.
	for _, tc := range []struct{ x, want float64 }{{-1, 0.98661}, {-0.5, 0.84828}, {0, 0}, {1, -0.98661}, {3, -0.99999938819}, {3.01, -1}} {
		if got := scaledSigmoid(tc.x); math.Abs(got-tc.want) > 5e-6 {
			t.Errorf("scaledSigmoid(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
}

// TestNumentaTotal: the normalised score of a small corpus (A, B and F
// above and N, 30 rows with no window and false positives at rows 20 and
// 25), as NAB's Runner.normalize computes it with the null detector's
// scores as the baseline: python3 as above, summing scoreDataSet's score
// over the files for the detections and for none, perfect = 5 windows ×
// tpWeight.
func TestNumentaTotal(t *testing.T) {
	type file struct {
		n       int
		windows [][2]int
		det     []int
	}
	corpus := []file{
		{20, [][2]int{{8, 11}}, []int{1, 9, 15}},
		{40, [][2]int{{10, 17}, {25, 29}}, []int{4, 12, 13, 18, 19, 24, 29, 30, 39}},
		{100, [][2]int{{5, 9}, {50, 59}}, []int{7, 55}},
		{30, nil, []int{20, 25}},
	}
	for _, tc := range []struct {
		p    NumentaProfile
		want float64
	}{{NumentaStandard, 72.75265276873246}, {NumentaLowFP, 64.81466568844066}, {NumentaLowFN, 81.13645191681478}} {
		var scores, null []NumentaScore
		for _, f := range corpus {
			times := minuteTimes(f.n)
			s, err := ScoreNumenta(times, rows(times, f.windows...), detect(f.n, f.det...), tc.p)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := ScoreNumenta(times, rows(times, f.windows...), detect(f.n), tc.p)
			scores, null = append(scores, s), append(null, n)
		}
		if got := NumentaTotal(scores); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("NumentaTotal(%s) = %v, want %v", tc.p.Name, got, tc.want)
		}
		if got := NumentaTotal(null); got != 0 {
			t.Errorf("NumentaTotal(%s) of the null detector = %v, want 0", tc.p.Name, got)
		}
	}
	if got := NumentaTotal([]NumentaScore{{S: -0.11}}); !math.IsNaN(got) {
		t.Errorf("NumentaTotal without windows = %v, want NaN", got)
	}
}

func TestScoreNumentaErrors(t *testing.T) {
	times := minuteTimes(20)
	at := func(i int) time.Time { return times[i] }
	tests := []struct {
		name    string
		times   []time.Time
		windows []NumentaWindow
		det     []bool
		want    []string
	}{
		{"lengths", times, nil, detect(19), []string{"20 times but 19 detections"}},
		{"a bound at two rows' time", []time.Time{at(0), at(1), at(2), at(1), at(3)}, []NumentaWindow{{at(1), at(3)}}, detect(5),
			[]string{"window 1 start 2014-04-01 00:01:00", "time of 2 rows (from index 1)"}},
		{"the end's row before the start's", []time.Time{at(0), at(3), at(1), at(2)}, []NumentaWindow{{at(1), at(3)}}, detect(4),
			[]string{"window 1 ends at row 1, before its start at row 2"}},
		{"start not a row time", times, []NumentaWindow{{at(3).Add(time.Second), at(5)}}, detect(20),
			[]string{"window 1 start 2014-04-01 00:03:01", "time of no row"}},
		{"end not a row time", times, []NumentaWindow{{at(3), at(19).Add(time.Minute)}}, detect(20),
			[]string{"window 1 end 2014-04-01 00:20:00"}},
		{"end before start", times, []NumentaWindow{{at(5), at(3)}}, detect(20), []string{"window 1 ends", "before it starts"}},
		{"overlap", times, rows(times, [2]int{3, 8}, [2]int{7, 10}), detect(20), []string{"window 2 starts", "not overlap"}},
		{"one-row window then rows outside: NAB divides by zero", times, rows(times, [2]int{5, 5}), detect(20),
			[]string{"row 6", "one row wide"}},
	}
	for _, tc := range tests {
		_, err := ScoreNumenta(tc.times, tc.windows, tc.det, NumentaStandard)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
}
