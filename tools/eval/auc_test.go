package eval

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Hand-computed areas. ROC: the share of (anomalous, normal) pairs ranked
// right, ties counting 1/2. AP: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds,
// highest first.
var aucTests = []struct {
	name    string
	scores  []float64
	labels  []uint8
	roc, ap float64
}{
	// ROC: 0.35 beats 0.1, loses to 0.4; 0.8 beats both: 3/4.
	// AP: 0.8 → P 1, R 1/2; 0.4 → R unchanged; 0.35 → P 2/3, R 1.
	{"sklearn example", []float64{0.1, 0.4, 0.35, 0.8}, []uint8{0, 0, 1, 1}, 0.75, 0.5 + 0.5*2.0/3},
	{"all tied", []float64{1, 1, 1, 1}, []uint8{0, 1, 0, 1}, 0.5, 0.5},
	// ROC: 3>2, 3>1, 2=2 (1/2), 2>1: 3.5/4. AP: 3 → P 1, R 1/2; 2 → P 2/3, R 1.
	{"tie across classes", []float64{3, 2, 2, 1}, []uint8{1, 1, 0, 0}, 0.875, 0.5 + 0.5*2.0/3},
	// ROC: anomalous {2, 1} against normal {5, 2}: only 2=2 counts, 1/2
	// of 4 pairs. AP: 5 (normal) → P 0, R 0; 2 (one of each) → P 1/3,
	// R 1/2; 1 (anomalous) → P 2/4, R 1.
	{"ties, both ways", []float64{2, 5, 2, 1}, []uint8{1, 0, 0, 1}, 0.125, 0.5*1.0/3 + 0.5*0.5},
	{"perfect", []float64{0.9, 0.8, 0.1}, []uint8{1, 1, 0}, 1, 1},
	{"inverted", []float64{0.1, 0.9}, []uint8{1, 0}, 0, 0.5},
	{"infinite scores", []float64{math.Inf(-1), math.Inf(1), 0}, []uint8{0, 1, 0}, 1, 1},
}

func TestROCAUC(t *testing.T) {
	for _, tt := range aucTests {
		got, err := ROCAUC(tt.scores, tt.labels)
		if err != nil || math.Abs(got-tt.roc) > 1e-12 {
			t.Errorf("%s: ROCAUC(%v, %v) = %v, %v, want %v", tt.name, tt.scores, tt.labels, got, err, tt.roc)
		}
	}
}

func TestPRAUC(t *testing.T) {
	for _, tt := range aucTests {
		got, err := PRAUC(tt.scores, tt.labels)
		if err != nil || math.Abs(got-tt.ap) > 1e-12 {
			t.Errorf("%s: PRAUC(%v, %v) = %v, %v, want %v", tt.name, tt.scores, tt.labels, got, err, tt.ap)
		}
	}
}

// TestROCAUCMatchesPairCount compares the rank computation with counting
// pairs on scores with many ties.
func TestROCAUCMatchesPairCount(t *testing.T) {
	var scores []float64
	var labels []uint8
	for i := 0; i < 200; i++ {
		scores = append(scores, float64((i*37)%11))
		labels = append(labels, uint8((i*i+3*i)%7%2))
	}
	var won float64
	var pairs int
	for i := range scores {
		for j := range scores {
			if labels[i] == 1 && labels[j] == 0 {
				pairs++
				switch {
				case scores[i] > scores[j]:
					won++
				case scores[i] == scores[j]:
					won += 0.5
				}
			}
		}
	}
	got, err := ROCAUC(scores, labels)
	if want := won / float64(pairs); err != nil || got != want {
		t.Errorf("ROCAUC = %v, %v, want %v by pair count", got, err, want)
	}
}

func TestAUCErrors(t *testing.T) {
	var tests = []struct {
		name   string
		scores []float64
		labels []uint8
		want   string
		is     error
	}{
		{"lengths", []float64{1, 2}, []uint8{0}, "2 scores but 1 labels", nil},
		{"label", []float64{1, 2}, []uint8{0, 3}, "label 3 at index 1", nil},
		{"NaN", []float64{1, 2, math.NaN()}, []uint8{0, 1, 1}, "score at index 2 is NaN", nil},
		{"no anomaly", []float64{1, 2}, []uint8{0, 0}, "(0 anomalous, 2 normal)", ErrOneClass},
		{"no normal", []float64{1, 2}, []uint8{1, 1}, "(2 anomalous, 0 normal)", ErrOneClass},
		{"empty", nil, nil, "only one class", ErrOneClass},
	}
	for _, tt := range tests {
		for name, f := range map[string]func([]float64, []uint8) (float64, error){"ROCAUC": ROCAUC, "PRAUC": PRAUC} {
			_, err := f(tt.scores, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%s: %s error %v, want one containing %q", tt.name, name, err, tt.want)
			}
		}
	}
}
