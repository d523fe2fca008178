package eval

import (
	"math"
	"strings"
	"testing"
)

func TestDetectionDelay(t *testing.T) {
	var tests = []struct {
		name               string
		labels             []uint8
		pred               []bool
		mean               float64 // NaN: none detected
		detected, segments int
	}{
		{"empty", nil, nil, math.NaN(), 0, 0},
		{"no anomaly", []uint8{0, 0, 0}, []bool{true, false, true}, math.NaN(), 0, 0},
		{"flagged at onset", []uint8{0, 1, 1, 0}, []bool{false, true, false, false}, 0, 1, 1},
		{"two late of three", []uint8{0, 1, 1, 1, 0, 1, 1, 0, 1, 1},
			[]bool{false, false, false, true, false, false, false, false, false, true}, 1.5, 2, 3},
		{"alarm before the segment does not count", []uint8{0, 0, 1, 1}, []bool{false, true, false, false}, math.NaN(), 0, 1},
		{"only the first alarm counts", []uint8{1, 1, 1, 1}, []bool{false, false, true, true}, 2, 1, 1},
		{"segment at the end", []uint8{0, 0, 1}, []bool{false, false, true}, 0, 1, 1},
	}
	for _, tt := range tests {
		mean, det, seg, err := DetectionDelay(tt.labels, tt.pred)
		sameMean := mean == tt.mean || math.IsNaN(mean) && math.IsNaN(tt.mean)
		if err != nil || !sameMean || det != tt.detected || seg != tt.segments {
			t.Errorf("%s: DetectionDelay(%v, %v) = %v, %d, %d, %v, want %v, %d, %d",
				tt.name, tt.labels, tt.pred, mean, det, seg, err, tt.mean, tt.detected, tt.segments)
		}
	}
}

func TestDetectionDelayErrors(t *testing.T) {
	var tests = []struct {
		labels []uint8
		pred   []bool
		want   string
	}{
		{[]uint8{0}, []bool{true, true}, "1 labels but 2 predictions"},
		{[]uint8{0, 1, 2}, []bool{true, true, true}, "label 2 at index 2"},
		{[]uint8{5}, []bool{true}, "label 5 at index 0"},
	}
	for _, tt := range tests {
		_, _, _, err := DetectionDelay(tt.labels, tt.pred)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DetectionDelay(%v, %v) error %v, want one containing %q", tt.labels, tt.pred, err, tt.want)
		}
	}
}
