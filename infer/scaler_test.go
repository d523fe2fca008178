package infer

import (
	"math"
	"strings"
	"testing"
)

func TestFitScalers(t *testing.T) {
	rows := [][]float32{{1, 5, 7}, {2, 5, -1}, {3, 5, 100}, {4, 5, 2}, {10, 5, 3}}
	tests := []struct {
		name          string
		fit           func([][]float32) (*Scaler, error)
		center, scale []float32
	}{
		// mean 4, population std sqrt(10); constant channel: scale 1.
		{"standard", FitStandard, []float32{4, 5, 22.2}, []float32{float32(math.Sqrt(10)), 1, 38.98}},
		{"minmax", FitMinMax, []float32{1, 5, -1}, []float32{9, 1, 101}},
		// sorted col0 1 2 3 4 10: median 3, q1 2, q3 4; col2 -1 2 3 7 100: median 3, IQR 7-2.
		{"robust", FitRobust, []float32{3, 5, 3}, []float32{2, 1, 5}},
	}
	for _, tc := range tests {
		s, err := tc.fit(rows)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := range tc.center {
			if math.Abs(float64(s.Center[i]-tc.center[i])) > 0.01 || math.Abs(float64(s.Scale[i]-tc.scale[i])) > 0.01 {
				t.Errorf("%s: channel %d center %v scale %v, want %v %v", tc.name, i, s.Center[i], s.Scale[i], tc.center[i], tc.scale[i])
			}
		}
		if _, err := tc.fit(nil); err == nil {
			t.Errorf("%s: fitting no rows succeeded", tc.name)
		}
		if _, err := tc.fit([][]float32{{1, 2}, {3}}); err == nil {
			t.Errorf("%s: fitting ragged rows succeeded", tc.name)
		}
	}
	// Min-max maps the fitted range onto [0, 1].
	s, _ := FitMinMax(rows)
	z := make([]float32, 3)
	s.Transform(z, []float32{10, 5, -1})
	if z[0] != 1 || z[1] != 0 || z[2] != 0 {
		t.Errorf("min-max of (max, const, min) = %v, want [1 0 0]", z)
	}
}

// Score scales with transformFinite; training scales with Transform. They
// must agree bit for bit, or gateway and evaluation would differ.
func TestTransformFiniteMatchesTransform(t *testing.T) {
	s := Scaler{Center: []float32{1, -2, 3.5, 0}, Scale: []float32{0.3, 7, 1e-3, 2}}
	x := []float32{1.1, 5, -2.25, 1e30}
	a, b := make([]float32, 4), make([]float32, 4)
	s.Transform(a, x)
	if !s.transformFinite(b, x, s.reciprocals()) {
		t.Fatal("finite input reported as not finite")
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Errorf("channel %d: Transform %v, transformFinite %v", i, a[i], b[i])
		}
	}
	// A finite input that overflows once scaled is not finite either.
	if s.transformFinite(b, []float32{1, 1, math.MaxFloat32, 0}, s.reciprocals()) {
		t.Error("an overflow to +Inf was reported finite")
	}
}

func TestScalerValidate(t *testing.T) {
	tests := []struct {
		name  string
		scale float32
		want  string // in the error; "" for none
	}{
		{"unit", 1, ""},
		{"small normal", 1e-30, ""},
		{"smallest with a reciprocal", 3e-39, ""},
		{"negative", -2, ""},
		{"zero", 0, "non-zero scale"},
		{"subnormal", 1e-40, "channel 1: scale 1e-40 has no finite float32 reciprocal"},
		{"negative subnormal", -1e-42, "no finite float32 reciprocal"},
		{"infinite", float32(math.Inf(1)), "want finite values"},
		{"nan", float32(math.NaN()), "want finite values"},
	}
	for _, tc := range tests {
		s := Scaler{Center: []float32{0, 5}, Scale: []float32{1, tc.scale}}
		err := s.Validate(2)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate with scale %v = %v, want an error containing %q", tc.name, tc.scale, err, tc.want)
		}
	}
	if err := (&Scaler{Center: []float32{0}, Scale: []float32{1}}).Validate(2); err == nil {
		t.Error("Validate of 1 channel for 2 succeeded")
	}
}

// A spread too small for a finite reciprocal fits as 1, like a zero one.
func TestFitTinySpread(t *testing.T) {
	rows := [][]float32{{0}, {1e-40}}
	s, err := FitMinMax(rows)
	if err != nil {
		t.Fatal(err)
	}
	if s.Scale[0] != 1 {
		t.Errorf("scale %v, want 1", s.Scale[0])
	}
}
