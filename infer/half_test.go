package infer

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// halfValues lists every finite binary16 value from the most negative up,
// each once (−0 left out), with its bit pattern, as float64, computed from
// the definition rather than by HalfToFloat32.
func halfValues() (vals []float64, bits []uint16) {
	for h := 0; h < 1<<16; h++ {
		e, m := h>>10&0x1f, float64(h&0x3ff)
		if e == 0x1f || h == 0x8000 {
			continue
		}
		v := math.Ldexp(m, -24) // subnormal: m·2^-24
		if e > 0 {
			v = math.Ldexp(1024+m, e-25) // (1 + m/1024)·2^(e−15)
		}
		if h&0x8000 != 0 {
			v = -v
		}
		vals, bits = append(vals, v), append(bits, uint16(h))
	}
	sort.Sort(byValue{vals, bits})
	return vals, bits
}

type byValue struct {
	v []float64
	b []uint16
}

func (s byValue) Len() int           { return len(s.v) }
func (s byValue) Less(i, j int) bool { return s.v[i] < s.v[j] }
func (s byValue) Swap(i, j int) {
	s.v[i], s.v[j] = s.v[j], s.v[i]
	s.b[i], s.b[j] = s.b[j], s.b[i]
}

// refHalf rounds f to binary16 in float64 arithmetic: the nearest of
// vals, ties to the even bit pattern, beyond the range to infinity
// (65520, halfway to 2^16, counts as a tie with the odd 65504).
func refHalf(vals []float64, bits []uint16, f float32) uint16 {
	v := float64(f)
	sign := uint16(0)
	if math.Signbit(v) {
		sign = 0x8000
	}
	if math.Abs(v) >= 65520 {
		return sign | 0x7c00
	}
	i := sort.SearchFloat64s(vals, v) // vals[i-1] < v ≤ vals[i]
	switch {
	case i == 0: // (−65520, −65504)
		return bits[0]
	case i == len(vals): // (65504, 65520)
		return bits[i-1]
	}
	if vals[i] == v {
		if v == 0 {
			return sign
		}
		return bits[i]
	}
	lo, hi := i-1, i
	dl, dh := v-vals[lo], vals[hi]-v
	best := lo
	if dh < dl || dh == dl && bits[hi]&1 == 0 {
		best = hi
	}
	if vals[best] == 0 {
		return sign // rounds to a zero of f's sign
	}
	return bits[best]
}

// TestHalfRoundTrip: every binary16 pattern converts to the float32 its
// definition gives and back to itself; NaNs stay NaNs.
func TestHalfRoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := HalfToFloat32(uint16(h))
		e, m := h>>10&0x1f, h&0x3ff
		switch {
		case e == 0x1f && m != 0:
			if !math.IsNaN(float64(f)) {
				t.Fatalf("HalfToFloat32(%#04x) = %v, want NaN", h, f)
			}
			if g := Float32ToHalf(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 || g&0x8000 != uint16(h)&0x8000 {
				t.Fatalf("Float32ToHalf(HalfToFloat32(%#04x)) = %#04x, want a NaN of the same sign", h, g)
			}
			continue
		case e == 0x1f:
			if !math.IsInf(float64(f), 1-2*(h>>15)) {
				t.Fatalf("HalfToFloat32(%#04x) = %v, want infinity", h, f)
			}
		default:
			want := math.Ldexp(float64(m), -24)
			if e > 0 {
				want = math.Ldexp(float64(1024+m), e-25)
			}
			if h&0x8000 != 0 {
				want = -want
			}
			if float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
				t.Fatalf("HalfToFloat32(%#04x) = %v, want %v", h, f, want)
			}
		}
		if g := Float32ToHalf(f); g != uint16(h) {
			t.Fatalf("Float32ToHalf(HalfToFloat32(%#04x) = %v) = %#04x", h, f, g)
		}
	}
}

// TestFloat32ToHalfRounding checks the rounding against a float64
// nearest-value search: at, just below and just above every midpoint
// between neighbouring binary16 values (ties go to even), at the range
// limits, and on random float32 bit patterns.
func TestFloat32ToHalfRounding(t *testing.T) {
	vals, bits := halfValues()
	check := func(f float32) {
		t.Helper()
		if math.IsNaN(float64(f)) {
			return
		}
		if got, want := Float32ToHalf(f), refHalf(vals, bits, f); got != want {
			t.Fatalf("Float32ToHalf(%v = %#08x) = %#04x (%v), want %#04x (%v)", f, math.Float32bits(f), got, HalfToFloat32(got), want, HalfToFloat32(want))
		}
	}
	for i := 1; i < len(vals); i++ {
		mid := float32((vals[i-1] + vals[i]) / 2) // exact: 12 significant bits
		check(mid)
		check(math.Nextafter32(mid, float32(math.Inf(-1))))
		check(math.Nextafter32(mid, float32(math.Inf(1))))
		check(float32(vals[i]))
	}
	edges := []float32{
		0, float32(math.Copysign(0, -1)), 65504, 65519.996, 65520, 65536, 1e10,
		float32(math.Inf(1)), float32(math.Inf(-1)),
		0x1p-24, 0x1p-25, math.Nextafter32(0x1p-25, 1), 0x1p-26, 0x1.8p-25, 0x1p-14, 0x1.ff8p-15,
		math.SmallestNonzeroFloat32, math.MaxFloat32, 1.0 / 3, 0.1,
	}
	for _, f := range edges {
		check(f)
		check(-f)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 1 << 20 {
		check(math.Float32frombits(r.Uint32()))
	}
	for range 1 << 18 { // the binary16 range, densely
		check(float32(r.NormFloat64() * math.Pow(2, float64(r.IntN(36)-26))))
	}
}

func TestToHalfSaturates(t *testing.T) {
	d := Dense{In: 6, Out: 1, W: []float32{70000, -1e30, 65519, 1e-9, -2e-8, 1}, B: []float32{0.5}}
	h := ToHalf(&d)
	want := []uint16{0x7bff, 0xfbff, 0x7bff, 0, 0x8000, 0x3c00}
	for i, w := range want {
		if h.H[i] != w {
			t.Errorf("ToHalf(%v) = %#04x, want %#04x", d.W[i], h.H[i], w)
		}
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
	d.W[0] = float32(math.Inf(1))
	if err := ToHalf(&d).Validate(); err == nil {
		t.Error("Validate accepted an infinite weight")
	}
	if l := HalfLayer(&d); l.(*DenseF16).H[5] != 0x3c00 {
		t.Errorf("HalfLayer(*Dense) = %T", l)
	}
	if q := Quantize(&d); HalfLayer(q) != Layer(q) {
		t.Error("HalfLayer changed a DenseQ8")
	}
}

func TestDenseF16Validate(t *testing.T) {
	good := func() DenseF16 {
		return DenseF16{In: 2, Out: 1, H: []uint16{0x3c00, 0x0001}, B: []float32{0}}
	}
	tests := []struct {
		name string
		mod  func(*DenseF16)
	}{
		{"sizes", func(d *DenseF16) { d.Out = 0 }},
		{"weights", func(d *DenseF16) { d.H = d.H[:1] }},
		{"biases", func(d *DenseF16) { d.B = nil }},
		{"activation", func(d *DenseF16) { d.Act = 200 }},
		{"infinite weight", func(d *DenseF16) { d.H[1] = 0xfc00 }},
		{"nan weight", func(d *DenseF16) { d.H[0] = 0x7e00 }},
	}
	g := good()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		d := good()
		tc.mod(&d)
		if err := d.Validate(); err == nil {
			t.Errorf("%s: Validate succeeded", tc.name)
		}
	}
}

// TestDenseF16MatchesDense: a DenseF16 computes exactly what a Dense with
// the rounded weights computes (up to summation order), and stays within
// half precision (2^-11 relative per weight) of the float32 layer.
func TestDenseF16MatchesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ in, out int }{{1, 1}, {3, 5}, {8, 32}, {33, 7}, {480, 128}, {128, 480}} {
		for _, act := range allActivations {
			d := randDense(r, tc.in, tc.out, act)
			h := ToHalf(&d)
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
			if h.Params() != d.Params() {
				t.Errorf("Params %d, want %d", h.Params(), d.Params())
			}
			if in, out := h.Shape(); in != tc.in || out != tc.out {
				t.Errorf("Shape (%d, %d), want (%d, %d)", in, out, tc.in, tc.out)
			}
			rounded := Dense{In: d.In, Out: d.Out, W: make([]float32, len(d.W)), B: d.B, Act: act}
			for i, v := range h.H {
				rounded.W[i] = HalfToFloat32(v)
			}
			x := make([]float32, tc.in)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			got := make([]float32, tc.out)
			h.Forward(got, x)
			exact, full := naiveDense(&rounded, x), naiveDense(&d, x)
			for o := range got {
				var mag float64 // Σ|w·x|: bounds the rounding of the sum
				for i := range x {
					mag += math.Abs(float64(d.W[o*d.In+i]) * float64(x[i]))
				}
				if diff := math.Abs(float64(got[o] - exact[o])); diff > 1e-5*mag+1e-6 {
					t.Errorf("%d→%d %v: out[%d] = %v, want %v (the rounded weights)", tc.in, tc.out, act, o, got[o], exact[o])
				}
				// Activations are 1-Lipschitz except ELU/Sigmoid/Tanh,
				// which are smaller: |f(a)−f(b)| ≤ |a−b|.
				if diff := math.Abs(float64(got[o] - full[o])); diff > 0x1p-11*mag+1e-5*mag+1e-6 {
					t.Errorf("%d→%d %v: out[%d] = %v, float32 layer %v: beyond half precision", tc.in, tc.out, act, o, got[o], full[o])
				}
			}
		}
	}
}

func TestScoreF16Allocs(t *testing.T) {
	ds, x := benchModel(t, 8, []int{32, 16, 32})
	ls := make([]Layer, len(ds))
	for i := range ds {
		ls[i] = HalfLayer(&ds[i])
	}
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(8), Layers: ls})
	if err != nil {
		t.Fatal(err)
	}
	per := make([]float32, 8)
	if a := testing.AllocsPerRun(100, func() { ae.score(x, per) }); a != 0 {
		t.Errorf("f16 Score allocates %v times, want 0", a)
	}
	h := ToHalf(&ds[0])
	y := make([]float32, h.Out)
	if a := testing.AllocsPerRun(100, func() { h.Forward(y, x) }); a != 0 {
		t.Errorf("DenseF16.Forward allocates %v times, want 0", a)
	}
}

func BenchmarkHalfToFloat32(b *testing.B) {
	var s float32
	b.SetBytes(2 * 1024)
	for b.Loop() {
		for h := uint16(0x3000); h < 0x3000+1024; h++ {
			s += HalfToFloat32(h)
		}
	}
	_ = s
}
