package infer

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// score pushes one sample through a per-sample model.
func (a *Autoencoder) score(x, perChannel []float32) (float32, error) {
	s, ready, err := a.Push(x, perChannel)
	if err == nil && !ready {
		panic("score: not a per-sample model")
	}
	return s, err
}

var allActivations = []Activation{Linear, ReLU, Sigmoid, Tanh, LeakyReLU, ELU}

func TestActivations(t *testing.T) {
	ref := map[Activation]func(float64) float64{
		Linear:  func(x float64) float64 { return x },
		ReLU:    func(x float64) float64 { return math.Max(0, x) },
		Sigmoid: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
		Tanh:    math.Tanh,
		LeakyReLU: func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0.01 * x
		},
		ELU: func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Exp(x) - 1
		},
	}
	in := []float32{-100, -3, -0.5, 0, 0.25, 2, 50}
	for a, f := range ref {
		x := append([]float32(nil), in...)
		a.Apply(x)
		for i, v := range in {
			if want := f(float64(v)); math.Abs(float64(x[i])-want) > 1e-6 {
				t.Errorf("%v(%v) = %v, want %v", a, v, x[i], want)
			}
		}
		name := a.String()
		if back, err := ParseActivation(name); err != nil || back != a {
			t.Errorf("ParseActivation(%q) = %v, %v; want %v", name, back, err, a)
		}
	}
	if _, err := ParseActivation("softmax"); err == nil {
		t.Error("ParseActivation(softmax) succeeded, want error")
	}
}

func TestActivationDerivative(t *testing.T) {
	for _, a := range allActivations {
		for _, x := range []float32{-1.3, -0.2, 0.4, 1.7} {
			const h = 1e-3
			lo, hi, mid := []float32{x - h}, []float32{x + h}, []float32{x}
			a.Apply(lo)
			a.Apply(hi)
			a.Apply(mid)
			num := (hi[0] - lo[0]) / (2 * h)
			if got := a.Derivative(mid[0]); math.Abs(float64(got-num)) > 1e-2 {
				t.Errorf("%v'(%v) = %v, numeric %v", a, x, got, num)
			}
		}
	}
}

// naiveDense is the textbook definition the optimised Forward must match.
func naiveDense(d *Dense, x []float32) []float32 {
	y := make([]float32, d.Out)
	for o := 0; o < d.Out; o++ {
		s := float64(d.B[o])
		for i := 0; i < d.In; i++ {
			s += float64(d.W[o*d.In+i]) * float64(x[i])
		}
		y[o] = float32(s)
	}
	d.Act.Apply(y)
	return y
}

func randDense(r *rand.Rand, in, out int, act Activation) Dense {
	d := Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Act: act}
	for i := range d.W {
		d.W[i] = float32(r.NormFloat64())
	}
	for i := range d.B {
		d.B[i] = float32(r.NormFloat64())
	}
	return d
}

func TestDenseMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ in, out int }{{1, 1}, {3, 5}, {8, 32}, {33, 7}, {480, 128}} {
		for _, act := range allActivations {
			d := randDense(r, tc.in, tc.out, act)
			x := make([]float32, tc.in)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			got := make([]float32, tc.out)
			d.Forward(got, x)
			want := naiveDense(&d, x)
			for o := range got {
				if tol := 1e-4 * float64(tc.in); math.Abs(float64(got[o]-want[o])) > tol {
					t.Errorf("%d→%d %v: out[%d] = %v, want %v", tc.in, tc.out, act, o, got[o], want[o])
				}
			}
		}
	}
}

func identityScaler(n int) Scaler {
	s := Scaler{Center: make([]float32, n), Scale: make([]float32, n)}
	for i := range s.Scale {
		s.Scale[i] = 1
	}
	return s
}

func TestNewAutoencoderRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name   string
		scaler Scaler
		layers []Dense
	}{
		{"no layers", identityScaler(8), nil},
		{"chain break", identityScaler(8), []Dense{randDense(r, 8, 4, ReLU), randDense(r, 5, 8, Linear)}},
		{"output size", identityScaler(8), []Dense{randDense(r, 8, 4, ReLU), randDense(r, 4, 7, Linear)}},
		{"scaler size", identityScaler(7), []Dense{randDense(r, 8, 4, ReLU), randDense(r, 4, 8, Linear)}},
		{"zero scale", Scaler{Center: make([]float32, 2), Scale: []float32{1, 0}}, []Dense{randDense(r, 2, 2, Linear)}},
		{"short weights", identityScaler(2), []Dense{{In: 2, Out: 2, W: make([]float32, 3), B: make([]float32, 2)}}},
		{"bad activation", identityScaler(2), []Dense{{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 2), Act: 99}}},
	}
	for _, tc := range tests {
		if _, err := NewAutoencoder(Config{Scaler: tc.scaler, Layers: DenseLayers(tc.layers)}); err == nil {
			t.Errorf("%s: NewAutoencoder succeeded, want error", tc.name)
		}
	}
}

func TestScore(t *testing.T) {
	// A linear identity autoencoder reconstructs perfectly: score 0.
	id := Dense{In: 2, Out: 2, W: []float32{1, 0, 0, 1}, B: []float32{0, 0}}
	sc := Scaler{Center: []float32{10, 20}, Scale: []float32{2, 4}}
	ae, err := NewAutoencoder(Config{Scaler: sc, Layers: DenseLayers([]Dense{id})})
	if err != nil {
		t.Fatal(err)
	}
	per := make([]float32, 2)
	if s, err := ae.score([]float32{12, 16}, per); err != nil || s != 0 {
		t.Errorf("identity Score = %v, %v; want 0", s, err)
	}
	// A model that always outputs zero: the error is the squared z-score.
	zero := Dense{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 2)}
	ae, _ = NewAutoencoder(Config{Scaler: sc, Layers: DenseLayers([]Dense{zero})})
	s, err := ae.score([]float32{12, 16}, per) // z = (1, -1)
	if err != nil || s != 1 || per[0] != 0.5 || per[1] != 0.5 {
		t.Errorf("zero-model Score = %v, %v, per %v; want 1, [0.5 0.5]", s, err, per)
	}
	s, err = ae.score([]float32{16, 20}, per) // z = (3, 0)
	if s != 4.5 || per[0] != 4.5 || per[1] != 0 {
		t.Errorf("zero-model Score = %v, per %v; want 4.5, [4.5 0]", s, per)
	}
	if _, err := ae.score([]float32{math.MaxFloat32, -math.MaxFloat32}, nil); err != nil {
		t.Errorf("Score of the largest finite values: %v", err)
	}
	if _, err := ae.score([]float32{math.SmallestNonzeroFloat32, 0}, nil); err != nil {
		t.Errorf("Score of a denormal: %v", err)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		if _, err := ae.score([]float32{1, bad}, nil); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Score with %v: err %v, want ErrInvalidInput", bad, err)
		}
	}
}

func TestTopShares(t *testing.T) {
	tests := []struct {
		per  []float32
		k    int
		want []Share
	}{
		{[]float32{1, 6, 3}, 2, []Share{{1, 0.6}, {2, 0.3}}},
		{[]float32{5, 0, 0, 5}, 3, []Share{{0, 0.5}, {3, 0.5}, {1, 0}}},
		{[]float32{0, 0}, 1, []Share{{0, 0}}},
		{[]float32{2}, 4, []Share{{0, 1}}},
		{[]float32{1, float32(math.Inf(1)), 3, float32(math.NaN())}, 3, []Share{{1, 0.5}, {3, 0.5}, {0, 0}}},
	}
	for _, tc := range tests {
		got := TopShares(make([]Share, 0, tc.k), tc.per)
		if len(got) != len(tc.want) {
			t.Errorf("TopShares(%v, %d) = %v, want %v", tc.per, tc.k, got, tc.want)
			continue
		}
		for i := range got {
			if got[i].Channel != tc.want[i].Channel || math.Abs(float64(got[i].Share-tc.want[i].Share)) > 1e-6 {
				t.Errorf("TopShares(%v, %d) = %v, want %v", tc.per, tc.k, got, tc.want)
				break
			}
		}
	}
}

// benchModel builds a random autoencoder in→hidden…→in with ReLU hidden
// layers and a linear output, and an input sample.
func benchModel(tb testing.TB, in int, hidden []int) ([]Dense, []float32) {
	r := rand.New(rand.NewPCG(5, uint64(in)))
	sizes := append(append([]int{in}, hidden...), in)
	var ds []Dense
	for i := 1; i < len(sizes); i++ {
		act := ReLU
		if i == len(sizes)-1 {
			act = Linear
		}
		d := randDense(r, sizes[i-1], sizes[i], act)
		for j := range d.W { // keep activations in a sane range
			d.W[j] /= float32(math.Sqrt(float64(sizes[i-1])))
		}
		ds = append(ds, d)
	}
	x := make([]float32, in)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return ds, x
}

func newBenchModel(tb testing.TB) (*Autoencoder, []float32) {
	ds, x := benchModel(tb, 8, []int{32, 16, 32})
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(8), Layers: DenseLayers(ds)})
	if err != nil {
		tb.Fatal(err)
	}
	return ae, x
}

func newBenchModelQ8(tb testing.TB, in int, hidden []int) (*Autoencoder, []float32) {
	ds, x := benchModel(tb, in, hidden)
	ls := make([]Layer, len(ds))
	for i := range ds {
		ls[i] = Quantize(&ds[i])
	}
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(in), Layers: ls})
	if err != nil {
		tb.Fatal(err)
	}
	return ae, x
}

func TestScoreAllocs(t *testing.T) {
	ae, x := newBenchModel(t)
	per := make([]float32, 8)
	top := make([]Share, 0, 3)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ae.score(x, per); err != nil {
			t.Fatal(err)
		}
		top = TopShares(top, per)
	})
	if allocs != 0 {
		t.Errorf("Score+TopShares allocates %v times per run, want 0", allocs)
	}
}

func TestClone(t *testing.T) {
	ae, x := newBenchModel(t)
	c := ae.Clone()
	s1, _ := ae.score(x, nil)
	s2, _ := c.score(x, nil)
	if s1 != s2 || &c.feat[0] == &ae.feat[0] {
		t.Errorf("clone scores %v vs %v, shares buffers: %v", s2, s1, &c.feat[0] == &ae.feat[0])
	}
}

// benchShapes are issue #4's dense shapes: (a) 8 channels per sample,
// (b) a flattened 60×8 window.
var benchShapes = []struct {
	name   string
	in     int
	hidden []int
}{
	{"a-8-32-16-32-8", 8, []int{32, 16, 32}},
	{"b-480-128-32-128-480", 480, []int{128, 32, 128}},
}

// BenchmarkScore measures one sample through each shape, float32 and int8
// weights, and reports the achieved GFLOP/s (2 flops per weight).
func BenchmarkScore(b *testing.B) {
	for _, sh := range benchShapes {
		for _, q8 := range []bool{false, true} {
			name := sh.name + "/f32"
			if q8 {
				name = sh.name + "/int8"
			}
			b.Run(name, func(b *testing.B) {
				var ae *Autoencoder
				var x []float32
				if q8 {
					ae, x = newBenchModelQ8(b, sh.in, sh.hidden)
				} else {
					ds, in := benchModel(b, sh.in, sh.hidden)
					ae, _ = NewAutoencoder(Config{Scaler: identityScaler(sh.in), Layers: DenseLayers(ds)})
					x = in
				}
				per := make([]float32, sh.in)
				flops := 0
				for _, l := range ae.Layers() {
					i, o := l.Shape()
					flops += 2 * i * o
				}
				b.ReportAllocs()
				for b.Loop() {
					ae.score(x, per)
				}
				b.ReportMetric(float64(flops)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
			})
		}
	}
}

// BenchmarkPushRecipe measures what the gateway spends per sample with
// the shape `vigil train` builds by default: 8 channels, a 5-sample
// window seen raw and as mean and std (56 features), 56→64→16→64→56,
// scored at every sample. It includes scaling, the window statistics and
// the per-channel attribution.
func BenchmarkPushRecipe(b *testing.B) {
	const channels = 8
	spec := FeatureSpec{Window: 5, Stride: 1, Raw: true, Stats: []Stat{Mean, Std}}
	in := spec.Len(channels)
	for _, q8 := range []bool{false, true} {
		name := "f32"
		if q8 {
			name = "int8"
		}
		b.Run(name, func(b *testing.B) {
			ds, _ := benchModel(b, in, []int{64, 16, 64})
			ls := DenseLayers(ds)
			if q8 {
				for i := range ds {
					ls[i] = Quantize(&ds[i])
				}
			}
			ae, err := NewAutoencoder(Config{Scaler: identityScaler(channels), Features: spec, Layers: ls})
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(7, 8))
			samples := make([][]float32, 64)
			for i := range samples {
				samples[i] = make([]float32, channels)
				for c := range samples[i] {
					samples[i][c] = float32(r.NormFloat64())
				}
			}
			per := make([]float32, channels)
			for _, s := range samples[:spec.Window] { // fill the window
				ae.Push(s, per)
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, ready, err := ae.Push(samples[i%len(samples)], per); !ready || err != nil {
					b.Fatalf("sample %d: ready %v, error %v", i, ready, err)
				}
				i++
			}
		})
	}
}
