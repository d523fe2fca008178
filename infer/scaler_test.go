package infer

import (
	"fmt"
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

func TestFitRobustFloor(t *testing.T) {
	// A flow meter that sits on 32 with a little jitter and now and then
	// steps to 31 or 33: its IQR is tiny, its standard deviation is not.
	flow := make([][]float32, 400)
	for i := range flow {
		v := 32 + float32(i%5-2)*0.001
		switch i % 40 {
		case 7:
			v = 31
		case 23:
			v = 33
		}
		flow[i] = []float32{v}
	}
	// A pressure reading quantised at 0.25 that mostly reads one value.
	pressure := make([][]float32, 400)
	for i := range pressure {
		pressure[i] = []float32{1}
		if i%10 == 0 {
			pressure[i][0] = 1.25
		}
	}
	constant := [][]float32{{5}, {5}, {5}, {5}}
	tests := []struct {
		name     string
		rows     [][]float32
		frac     float64
		min, max float32
	}{
		{"jittery flow, no floor: the IQR", flow, 0, 0.001, 0.003},
		{"jittery flow, a tenth of σ", flow, 0.1, 0.02, 0.025},
		{"jittery flow, half σ", flow, 0.5, 0.1, 0.12},
		{"quantised pressure, IQR 0: its step", pressure, 0.1, 0.25, 0.25},
		{"quantised pressure, no floor: IQR 0 becomes 1", pressure, 0, 1, 1},
		{"constant: 1", constant, 0.5, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FitRobustFloor(tc.rows, tc.frac)
			if err != nil {
				t.Fatal(err)
			}
			if k := s.Scale[0]; k < tc.min || k > tc.max {
				t.Errorf("scale %v, want %v to %v", k, tc.min, tc.max)
			}
		})
	}
	r, err := FitRobust(flow)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FitRobustFloor(flow, 0)
	if err != nil || f.Scale[0] != r.Scale[0] || f.Center[0] != r.Center[0] {
		t.Errorf("floor 0: %+v, %v; want FitRobust's %+v", f, err, r)
	}
	for _, bad := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		if _, err := FitRobustFloor(flow, bad); err == nil {
			t.Errorf("floor %v: no error", bad)
		}
	}
}

func ExampleQuantile() {
	sorted := []float64{1, 2, 3, 4}
	fmt.Println(Quantile(sorted, 0), Quantile(sorted, 0.5), Quantile(sorted, 0.75), Quantile(sorted, 1))
	// Output: 1 2.5 3.25 4
}
