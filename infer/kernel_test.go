package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelsMatchGo compares the dispatched kernels (assembly where the
// CPU has it) with the portable loops on every row count 1..9 and column
// count 1..70, float32, int8 and binary16 weights, writing and
// accumulating. The sums are accumulated in a different order, so they
// agree to rounding: within 1e-5 of Σ|w·x| (a few float32 ulps of the
// largest partial sum).
func TestKernelsMatchGo(t *testing.T) {
	t.Logf("kernels: %s (binary16 in assembly: %v)", KernelName(), useAsmF16)
	r := rand.New(rand.NewPCG(11, 12))
	for rows := 1; rows <= 9; rows++ {
		for cols := 1; cols <= 70; cols++ {
			w := make([]float32, rows*cols)
			q := make([]int8, rows*cols)
			h := make([]uint16, rows*cols)
			x := make([]float32, cols)
			for i := range w {
				w[i] = float32(r.NormFloat64())
				q[i] = int8(r.IntN(255) - 127)
				h[i] = Float32ToHalf(float32(r.NormFloat64()))
			}
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			start := make([]float32, rows)
			for i := range start {
				start[i] = float32(r.NormFloat64())
			}
			for _, acc := range []bool{false, true} {
				for _, k := range []struct {
					name      string
					got, want func(dst []float32)
					weight    func(i int) float64
				}{
					{"float32", func(d []float32) { gemv(d, w, cols, x, cols, acc) }, func(d []float32) { gemvGo(d, w, cols, x, cols, acc) }, func(i int) float64 { return float64(w[i]) }},
					{"int8", func(d []float32) { gemvQ8(d, q, cols, x, cols, acc) }, func(d []float32) { gemvQ8Go(d, q, cols, x, cols, acc) }, func(i int) float64 { return float64(q[i]) }},
					{"binary16", func(d []float32) { gemvF16(d, h, cols, x, cols, acc) }, func(d []float32) { gemvF16Go(d, h, cols, x, cols, acc) }, func(i int) float64 { return float64(HalfToFloat32(h[i])) }},
				} {
					got, want := append([]float32(nil), start...), append([]float32(nil), start...)
					k.got(got)
					k.want(want)
					for o := 0; o < rows; o++ {
						mag := math.Abs(float64(start[o]))
						for i := 0; i < cols; i++ {
							mag += math.Abs(k.weight(o*cols+i) * float64(x[i]))
						}
						if d := math.Abs(float64(got[o] - want[o])); d > 1e-5*mag {
							t.Fatalf("%s %d×%d acc=%v row %d: %v, Go %v", k.name, rows, cols, acc, o, got[o], want[o])
						}
					}
				}
			}
		}
	}
}

// FuzzDense: random shapes and weights never panic, and the layers
// (float32, int8 and binary16 weights) agree with a float64 loop over the
// weights they hold.
func FuzzDense(f *testing.F) {
	f.Add(uint8(3), uint8(17), uint64(1))
	f.Add(uint8(64), uint8(1), uint64(2))
	f.Fuzz(func(t *testing.T, rows, cols uint8, seed uint64) {
		if rows == 0 || cols == 0 {
			return
		}
		r := rand.New(rand.NewPCG(seed, seed))
		d := randDense(r, int(cols), int(rows), Activation(seed%uint64(len(activationNames))))
		x := make([]float32, cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		// The layer (through the kernels this CPU selects) agrees with a
		// plain float64 loop over the same weights, float32, int8 and
		// binary16.
		naive := func(w func(o, i int) float64, b []float32) []float32 {
			y := make([]float32, rows)
			for o := range y {
				sum := float64(b[o])
				for i := range x {
					sum += w(o, i) * float64(x[i])
				}
				y[o] = float32(sum)
			}
			d.Act.Apply(y)
			return y
		}
		check := func(kind string, got, want []float32) {
			for o := range want {
				if math.Abs(float64(got[o]-want[o])) > 1e-4*(1+math.Abs(float64(want[o]))) {
					t.Fatalf("%s %d→%d (%s, %s): y[%d] = %v, want %v", kind, cols, rows, d.Act, KernelName(), o, got[o], want[o])
				}
			}
		}
		got := make([]float32, rows)
		d.Forward(got, x)
		check("float32", got, naive(func(o, i int) float64 { return float64(d.W[o*int(cols)+i]) }, d.B))
		q := Quantize(&d)
		q.Forward(got, x)
		check("int8", got, naive(func(o, i int) float64 { return float64(q.Scale[o]) * float64(q.Q[o*int(cols)+i]) }, q.B))
		h := ToHalf(&d)
		h.Forward(got, x)
		check("binary16", got, naive(func(o, i int) float64 { return float64(HalfToFloat32(h.H[o*int(cols)+i])) }, h.B))
		if _, err := NewAutoencoder(Config{Scaler: identityScaler(int(cols)), Layers: []Layer{&d}}); (err == nil) != (rows == cols) {
			t.Fatalf("%d→%d autoencoder: err %v", cols, rows, err)
		}
	})
}

func BenchmarkGemv(b *testing.B) {
	for _, sh := range []struct{ rows, cols int }{{32, 8}, {128, 480}, {480, 128}} {
		w := make([]float32, sh.rows*sh.cols)
		q := make([]int8, sh.rows*sh.cols)
		h := make([]uint16, sh.rows*sh.cols)
		x := make([]float32, sh.cols)
		dst := make([]float32, sh.rows)
		fl := float64(2 * sh.rows * sh.cols)
		for _, k := range []struct {
			name string
			f    func()
		}{
			{"f32-" + KernelName(), func() { gemv(dst, w, sh.cols, x, sh.cols, false) }},
			{"f32-go", func() { gemvGo(dst, w, sh.cols, x, sh.cols, false) }},
			{"int8-" + KernelName(), func() { gemvQ8(dst, q, sh.cols, x, sh.cols, false) }},
			{"int8-go", func() { gemvQ8Go(dst, q, sh.cols, x, sh.cols, false) }},
			{"f16-" + KernelName(), func() { gemvF16(dst, h, sh.cols, x, sh.cols, false) }},
			{"f16-go", func() { gemvF16Go(dst, h, sh.cols, x, sh.cols, false) }},
		} {
			b.Run(k.name+"-"+itoa(sh.rows)+"x"+itoa(sh.cols), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					k.f()
				}
				b.ReportMetric(fl*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
			})
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// Strided rows and accumulation, as the convolutions use them.
func TestKernelsStridedAccumulate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ rows, cols, stride int }{{5, 24, 56}, {4, 9, 10}, {7, 3, 21}, {1, 40, 40}} {
		w := make([]float32, (tc.rows-1)*tc.stride+tc.cols)
		q := make([]int8, len(w))
		h := make([]uint16, len(w))
		for i := range w {
			w[i] = float32(r.NormFloat64())
			q[i] = int8(r.IntN(255) - 127)
			h[i] = Float32ToHalf(w[i])
		}
		x := make([]float32, tc.cols)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, acc := range []bool{false, true} {
			got, want := make([]float32, tc.rows), make([]float32, tc.rows)
			gotQ, wantQ := make([]float32, tc.rows), make([]float32, tc.rows)
			gotH, wantH := make([]float32, tc.rows), make([]float32, tc.rows)
			for i := range got {
				got[i], want[i], gotQ[i], wantQ[i], gotH[i], wantH[i] = 1, 1, 1, 1, 1, 1
			}
			gemv(got, w, tc.stride, x, tc.cols, acc)
			gemvQ8(gotQ, q, tc.stride, x, tc.cols, acc)
			gemvF16(gotH, h, tc.stride, x, tc.cols, acc)
			for o := range want { // naive reference
				var s, sq, sh float64
				for i := 0; i < tc.cols; i++ {
					s += float64(w[o*tc.stride+i]) * float64(x[i])
					sq += float64(q[o*tc.stride+i]) * float64(x[i])
					sh += float64(HalfToFloat32(h[o*tc.stride+i])) * float64(x[i])
				}
				if acc {
					s, sq, sh = s+1, sq+1, sh+1
				}
				want[o], wantQ[o], wantH[o] = float32(s), float32(sq), float32(sh)
			}
			for o := range got {
				if math.Abs(float64(got[o]-want[o])) > 1e-4 || math.Abs(float64(gotQ[o]-wantQ[o])) > 1e-2 || math.Abs(float64(gotH[o]-wantH[o])) > 1e-4 {
					t.Errorf("%+v acc=%v row %d: %v / %v / %v, want %v / %v / %v", tc, acc, o, got[o], gotQ[o], gotH[o], want[o], wantQ[o], wantH[o])
				}
			}
		}
	}
}
