package infer

import (
	"math"
	"slices"
	"testing"
)

func TestWindowRawAndStride(t *testing.T) {
	w, err := NewWindow(FeatureSpec{Window: 3, Stride: 2, Raw: true}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var due []int
	var got [][]float32
	for i := 0; i < 8; i++ {
		if w.Push([]float32{float32(i), float32(10 * i)}) {
			f := make([]float32, w.Len())
			w.Features(f)
			due = append(due, i)
			got = append(got, f)
		}
	}
	// Full at sample 2, then every second sample.
	if !slices.Equal(due, []int{2, 4, 6}) {
		t.Fatalf("feature vectors after samples %v, want [2 4 6]", due)
	}
	if want := []float32{2, 20, 3, 30, 4, 40}; !slices.Equal(got[1], want) {
		t.Errorf("window ending at 4 = %v, want %v (oldest first)", got[1], want)
	}
	w.Reset()
	if w.Push([]float32{1, 1}) || w.Push([]float32{1, 1}) || !w.Push([]float32{1, 1}) {
		t.Error("after Reset the window must refill before the next vector")
	}
}

func TestWindowStats(t *testing.T) {
	stats := []Stat{Mean, Std, Min, Max, RMS, Slope}
	w, err := NewWindow(FeatureSpec{Window: 4, Stats: stats}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Push 6 samples so the ring has wrapped: the window is samples 2..5.
	// Channel 0: 3, 5, 7, 9 (slope 2); channel 1: 1, -1, 1, -1.
	for _, x := range [][]float32{{0, 0}, {0, 0}, {3, 1}, {5, -1}, {7, 1}, {9, -1}} {
		w.Push(x)
	}
	f := make([]float32, w.Len())
	w.Features(f)
	want := []float32{
		6, 0, // mean
		float32(math.Sqrt(5)), 1, // std
		3, -1, // min
		9, 1, // max
		float32(math.Sqrt((9 + 25 + 49 + 81) / 4.0)), 1, // rms
		2, -0.4, // slope: cov / Σ(t - 1.5)², channel 1 gives (-1.5·1 + -0.5·-1 + 0.5·1 + 1.5·-1) / 5
	}
	if len(f) != len(want) || w.Len() != 12 {
		t.Fatalf("len %d, want 12", len(f))
	}
	for i := range want {
		if math.Abs(float64(f[i]-want[i])) > 1e-5 {
			t.Errorf("feature %d (%v of channel %d) = %v, want %v", i, stats[i/2], i%2, f[i], want[i])
		}
	}
}

func TestFeatureSpec(t *testing.T) {
	tests := []struct {
		spec FeatureSpec
		len  int // for 8 channels; -1: invalid
	}{
		{FeatureSpec{}, 8},
		{FeatureSpec{Window: 60, Raw: true}, 480},
		{FeatureSpec{Window: 60, Stats: []Stat{Mean, Std}}, 16},
		{FeatureSpec{Window: 60, Raw: true, Stats: []Stat{Slope}}, 488},
		{FeatureSpec{Window: -1}, -1},
		{FeatureSpec{Window: 4, Stats: []Stat{Mean, Mean}}, -1},
		{FeatureSpec{Window: 4, Stats: []Stat{99}}, -1},
	}
	for _, tc := range tests {
		err := tc.spec.Validate()
		if (err != nil) != (tc.len < 0) {
			t.Errorf("%+v: Validate = %v", tc.spec, err)
			continue
		}
		if tc.len >= 0 && tc.spec.Len(8) != tc.len {
			t.Errorf("%+v: Len(8) = %d, want %d", tc.spec, tc.spec.Len(8), tc.len)
		}
	}
	for _, s := range statNames {
		if st, err := ParseStat(s); err != nil || st.String() != s {
			t.Errorf("ParseStat(%q) = %v, %v", s, st, err)
		}
	}
	if _, err := ParseStat("median"); err == nil {
		t.Error("ParseStat(median) succeeded")
	}
}

func TestSequenceMatchesWindow(t *testing.T) {
	rows := make([][]float32, 50)
	for i := range rows {
		rows[i] = []float32{float32(i % 7), float32(i * i % 11)}
	}
	spec := FeatureSpec{Window: 5, Stride: 3, Raw: true, Stats: []Stat{Std, Slope}}
	fs, ends, err := Sequence(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := NewWindow(spec, 2)
	k := 0
	f := make([]float32, w.Len())
	for i, r := range rows {
		if w.Push(r) {
			w.Features(f)
			if ends[k] != i || !slices.Equal(fs[k], f) {
				t.Fatalf("vector %d: Sequence ends at %d with %v, Window at %d with %v", k, ends[k], fs[k], i, f)
			}
			k++
		}
	}
	if k != len(fs) || k != 16 {
		t.Errorf("%d vectors from Window, %d from Sequence, want 16", k, len(fs))
	}
}

func TestWindowAllocs(t *testing.T) {
	w, _ := NewWindow(FeatureSpec{Window: 60, Raw: true, Stats: []Stat{Mean, Std, Min, Max, RMS, Slope}}, 8)
	x := make([]float32, 8)
	f := make([]float32, w.Len())
	if a := testing.AllocsPerRun(100, func() {
		if w.Push(x) {
			w.Features(f)
		}
	}); a != 0 {
		t.Errorf("Push+Features allocates %v times, want 0", a)
	}
}

func BenchmarkWindow(b *testing.B) {
	w, _ := NewWindow(FeatureSpec{Window: 60, Raw: true, Stats: []Stat{Mean, Std, Min, Max, RMS, Slope}}, 8)
	x := make([]float32, 8)
	f := make([]float32, w.Len())
	b.ReportAllocs()
	for b.Loop() {
		w.Push(x)
		w.Features(f)
	}
}

// The slope of a window of MaxWindow samples: Σ (t − mean)² is computed
// in float64, as W·W overflows int on 32-bit ARM from W = 46,341 (make
// test-arm runs this under GOARCH=arm).
func TestSlopeLongWindow(t *testing.T) {
	for _, w := range []int{46341, MaxWindow} {
		rows := make([][]float32, w)
		for i := range rows {
			rows[i] = []float32{0.25 * float32(i) / 1000}
		}
		vecs, _, err := Sequence(FeatureSpec{Window: w, Stride: 1, Stats: []Stat{Slope}}, rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(vecs) != 1 || math.Abs(float64(vecs[0][0])-0.25/1000) > 1e-6 {
			t.Errorf("window %d: slope %v, want %v", w, vecs, 0.25/1000)
		}
	}
}
