package eval

import (
	"math"
	"strings"
	"testing"
)

func TestNewConfusion(t *testing.T) {
	var tests = []struct {
		labels []uint8
		pred   []bool
		want   Confusion
	}{
		{nil, nil, Confusion{}},
		{[]uint8{1, 1, 0, 0}, []bool{true, false, true, false}, Confusion{TP: 1, FN: 1, FP: 1, TN: 1}},
		{[]uint8{0, 0, 0}, []bool{false, false, true}, Confusion{FP: 1, TN: 2}},
		{[]uint8{1, 1, 1, 0}, []bool{true, true, true, true}, Confusion{TP: 3, FP: 1}},
	}
	for _, tt := range tests {
		got, err := NewConfusion(tt.labels, tt.pred)
		if err != nil || got != tt.want {
			t.Errorf("NewConfusion(%v, %v) = %+v, %v, want %+v", tt.labels, tt.pred, got, err, tt.want)
		}
	}
}

func TestNewConfusionErrors(t *testing.T) {
	var tests = []struct {
		labels []uint8
		pred   []bool
		want   string
	}{
		{[]uint8{0, 1}, []bool{true}, "2 labels but 1 predictions"},
		{[]uint8{0, 1, 2}, []bool{true, true, true}, "label 2 at index 2"},
	}
	for _, tt := range tests {
		_, err := NewConfusion(tt.labels, tt.pred)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewConfusion(%v, %v) error %v, want one containing %q", tt.labels, tt.pred, err, tt.want)
		}
	}
}

// TestConfusionRatios checks hand-computed ratios, including every
// zero-denominator case.
func TestConfusionRatios(t *testing.T) {
	var tests = []struct {
		c                     Confusion
		precision, recall, f1 float64
		far, mar              float64
	}{
		// F1 = 6/(6+(2+4)/2) = 2/3; FAR = 100·4/(4+8); MAR = 100·2/8.
		{Confusion{TP: 6, FN: 2, FP: 4, TN: 8}, 0.6, 0.75, 2.0 / 3, 100.0 / 3, 25},
		{Confusion{TP: 5, TN: 5}, 1, 1, 1, 0, 0},
		{Confusion{FN: 3, TN: 4}, 1, 0, 0, 0, 100},              // never flags
		{Confusion{TP: 3, FP: 4}, 3.0 / 7, 1, 6.0 / 10, 100, 0}, // always flags
		{Confusion{TN: 9}, 1, 1, 1, 0, 0},                       // nothing to find, nothing flagged
		{Confusion{FP: 2, TN: 2}, 0, 1, 0, 50, 0},               // nothing to find, false alarms
		{Confusion{}, 1, 1, 1, 0, 0},
	}
	for _, tt := range tests {
		got := [5]float64{tt.c.Precision(), tt.c.Recall(), tt.c.F1(), tt.c.FAR(), tt.c.MAR()}
		want := [5]float64{tt.precision, tt.recall, tt.f1, tt.far, tt.mar}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("%+v: precision, recall, F1, FAR, MAR = %v, want %v", tt.c, got, want)
				break
			}
		}
	}
}

func TestConfusionF1IsHarmonicMean(t *testing.T) {
	for _, c := range []Confusion{{TP: 6, FN: 2, FP: 4}, {TP: 1, FN: 9, FP: 1}, {TP: 7, FN: 0, FP: 3}} {
		p, r := c.Precision(), c.Recall()
		if h := 2 * p * r / (p + r); math.Abs(c.F1()-h) > 1e-12 {
			t.Errorf("%+v: F1 %v, harmonic mean %v", c, c.F1(), h)
		}
	}
}

func TestConfusionAdd(t *testing.T) {
	a := Confusion{TP: 1, FP: 2, FN: 3, TN: 4}
	b := Confusion{TP: 10, FP: 20, FN: 30, TN: 40}
	if got, want := a.Add(b), (Confusion{TP: 11, FP: 22, FN: 33, TN: 44}); got != want {
		t.Errorf("%+v.Add(%+v) = %+v, want %+v", a, b, got, want)
	}
	if got := a.Add(b).N(); got != 110 {
		t.Errorf("N = %d, want 110", got)
	}
}

func TestConfusionString(t *testing.T) {
	c := Confusion{TP: 6, FN: 2, FP: 4, TN: 8}
	if got, want := c.String(), "TP 6 FP 4 FN 2 TN 8: F1 0.67 FAR 33.33% MAR 25.00%"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
