package gonumbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vigil-edge/vigil/infer"
)

// shapes are issue #4's dense autoencoders: (a) 8 channels per sample,
// (b) a flattened window of 60 samples × 8 channels.
var shapes = []struct {
	name  string
	sizes []int
}{
	{"a-8-32-16-32-8", []int{8, 32, 16, 32, 8}},
	{"b-480-128-32-128-480", []int{480, 128, 32, 128, 480}},
}

func layers(sizes []int) []infer.Dense {
	r := rand.New(rand.NewPCG(1, uint64(sizes[0])))
	var ds []infer.Dense
	for i := 1; i < len(sizes); i++ {
		in, out := sizes[i-1], sizes[i]
		act := infer.ReLU
		if i == len(sizes)-1 {
			act = infer.Linear
		}
		d := infer.Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Act: act}
		for j := range d.W {
			d.W[j] = float32(r.NormFloat64() / math.Sqrt(float64(in)))
		}
		ds = append(ds, d)
	}
	return ds
}

func input(n int) []float32 {
	r := rand.New(rand.NewPCG(2, uint64(n)))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func flops(sizes []int) int {
	f := 0
	for i := 1; i < len(sizes); i++ {
		f += 2 * sizes[i-1] * sizes[i]
	}
	return f
}

// gonumModel is the same forward pass and score on blas32.Gemv.
type gonumModel struct {
	ds   []infer.Dense
	acts [][]float32
}

func newGonum(ds []infer.Dense) *gonumModel {
	g := &gonumModel{ds: ds, acts: [][]float32{make([]float32, ds[0].In)}}
	for _, d := range ds {
		g.acts = append(g.acts, make([]float32, d.Out))
	}
	return g
}

func (g *gonumModel) score(x []float32) float32 {
	copy(g.acts[0], x)
	for i, d := range g.ds {
		y := g.acts[i+1]
		copy(y, d.B)
		blas32.Gemv(blas.NoTrans, 1,
			blas32.General{Rows: d.Out, Cols: d.In, Stride: d.In, Data: d.W},
			blas32.Vector{N: d.In, Inc: 1, Data: g.acts[i]}, 1,
			blas32.Vector{N: d.Out, Inc: 1, Data: y})
		d.Act.Apply(y)
	}
	out := g.acts[len(g.acts)-1]
	var s float32
	for i, v := range g.acts[0] {
		e := out[i] - v
		s += e * e
	}
	return s / float32(len(out))
}

func identity(n int) infer.Scaler {
	s := infer.Scaler{Center: make([]float32, n), Scale: make([]float32, n)}
	for i := range s.Scale {
		s.Scale[i] = 1
	}
	return s
}

// runners returns the benchmark bodies for one shape.
func runners(tb testing.TB, sizes []int) map[string]func(b *testing.B) {
	ds := layers(sizes)
	x := input(sizes[0])
	f32, err := infer.NewAutoencoder(infer.Config{Scaler: identity(sizes[0]), Layers: infer.DenseLayers(ds)})
	if err != nil {
		tb.Fatal(err)
	}
	q := make([]infer.Layer, len(ds))
	for i := range ds {
		q[i] = infer.Quantize(&ds[i])
	}
	q8, err := infer.NewAutoencoder(infer.Config{Scaler: identity(sizes[0]), Layers: q})
	if err != nil {
		tb.Fatal(err)
	}
	f16, err := infer.NewAutoencoder(infer.Config{Scaler: identity(sizes[0]), Layers: halfLayers(ds)})
	if err != nil {
		tb.Fatal(err)
	}
	g := newGonum(ds)
	// The four compute the same score (int8 and f16 within rounding of
	// the weights).
	a, _, _ := f32.Push(x, nil)
	if c := g.score(x); math.Abs(float64(a-c)) > 1e-3*math.Abs(float64(a)) {
		tb.Fatalf("infer scores %v, gonum %v", a, c)
	}
	if h, _, _ := f16.Push(x, nil); math.Abs(float64(a-h)) > 1e-2*math.Abs(float64(a)) {
		tb.Fatalf("infer scores %v with float32 weights, %v with float16", a, h)
	}
	per := make([]float32, sizes[0])
	fl := float64(flops(sizes))
	report := func(b *testing.B) {
		b.ReportMetric(fl*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
	}
	return map[string]func(b *testing.B){
		"infer-f32": func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f32.Push(x, per)
			}
			report(b)
		},
		"infer-int8": func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q8.Push(x, per)
			}
			report(b)
		},
		"infer-f16": func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f16.Push(x, per)
			}
			report(b)
		},
		"gonum-f32": func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.score(x)
			}
			report(b)
		},
	}
}

// BenchmarkShapes times one sample through each shape with infer
// (float32, int8 and float16 weights) and with gonum.
func BenchmarkShapes(b *testing.B) {
	for _, sh := range shapes {
		rs := runners(b, sh.sizes)
		for _, name := range []string{"infer-f32", "infer-int8", "infer-f16", "gonum-f32"} {
			b.Run(sh.name+"/"+name, rs[name])
		}
	}
}

// nsPerOp times f over enough calls to fill about 200 ms. (testing.Benchmark
// cannot be called from inside a benchmark.)
func nsPerOp(f func()) float64 {
	n := 1
	for {
		start := time.Now()
		for range n {
			f()
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			return float64(d.Nanoseconds()) / float64(n)
		}
		n *= 2
	}
}

// BenchmarkRatio times infer and gonum back to back, interleaved, on each
// shape and reports infer's time over gonum's for float32, int8 and
// float16 weights (below 1: infer is faster).
func BenchmarkRatio(b *testing.B) {
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			ds := layers(sh.sizes)
			x := input(sh.sizes[0])
			f32, _ := infer.NewAutoencoder(infer.Config{Scaler: identity(sh.sizes[0]), Layers: infer.DenseLayers(ds)})
			q := make([]infer.Layer, len(ds))
			for i := range ds {
				q[i] = infer.Quantize(&ds[i])
			}
			q8, _ := infer.NewAutoencoder(infer.Config{Scaler: identity(sh.sizes[0]), Layers: q})
			f16, _ := infer.NewAutoencoder(infer.Config{Scaler: identity(sh.sizes[0]), Layers: halfLayers(ds)})
			g := newGonum(ds)
			per := make([]float32, sh.sizes[0])
			var rf, rq, rh, gn float64
			for b.Loop() {
				gn = nsPerOp(func() { g.score(x) })
				rf = nsPerOp(func() { f32.Push(x, per) }) / gn
				rq = nsPerOp(func() { q8.Push(x, per) }) / gn
				rh = nsPerOp(func() { f16.Push(x, per) }) / gn
			}
			b.ReportMetric(rf, "f32/gonum")
			b.ReportMetric(rq, "int8/gonum")
			b.ReportMetric(rh, "f16/gonum")
			b.ReportMetric(gn, "gonum-ns/op")
		})
	}
}

// halfLayers returns ds with float16 weights.
func halfLayers(ds []infer.Dense) []infer.Layer {
	ls := make([]infer.Layer, len(ds))
	for i := range ds {
		ls[i] = infer.HalfLayer(&ds[i])
	}
	return ls
}

// TestSameScores checks, without timing anything, that the benchmarked
// implementations agree (runners fails otherwise).
func TestSameScores(t *testing.T) {
	for _, sh := range shapes {
		t.Run(fmt.Sprint(sh.sizes), func(t *testing.T) { runners(t, sh.sizes) })
	}
}
