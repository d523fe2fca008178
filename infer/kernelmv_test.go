package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// TestMultiKernelsMatchGo compares the dispatched multi-vector kernels
// (assembly where the CPU has it) with one portable gemv per vector, on
// row counts 1..13 (whole blocks of four and the rows after them), column
// counts 1..45 and a few long ones (whole blocks of eight and tails),
// 1..5 vectors (pairs and a last odd one), with the strides a Conv1D
// (vectors overlapping, wider weight rows) and a transposed one (results
// interleaved with other steps') use, finished with every activation
// (int8 with a scale per row). The sums are accumulated in a different
// order, so they agree to within 1e-5 of |b| + |s|·Σ|w·x| (every
// activation is at most 1-Lipschitz).
func TestMultiKernelsMatchGo(t *testing.T) {
	t.Logf("kernels: %s (multi-vector assembly: %v)", KernelName(), useAsmMulti)
	if useAsmMulti != useAsm {
		t.Fatalf("multi-vector assembly %v, dense assembly %v: every assembly build has both", useAsmMulti, useAsm)
	}
	r := rand.New(rand.NewPCG(51, 52))
	colCounts := []int{64, 96, 112, 224, 231}
	for c := 1; c <= 45; c++ {
		colCounts = append(colCounts, c)
	}
	for rows := 1; rows <= 13; rows++ {
		for _, cols := range colCounts {
			for steps := 1; steps <= 5; steps++ {
				// Weight rows cols or cols+3 apart; vectors 3, cols or
				// cols+5 apart; results rows or 2·rows+1 apart.
				ws, xs, ds := cols+3*(rows%2), []int{3, cols, cols + 5}[steps%3], rows+(rows+1)*(cols%2)
				w := randSlice(r, (rows-1)*ws+cols)
				q := make([]int8, len(w))
				for i := range q {
					q[i] = int8(r.IntN(255) - 127)
				}
				x := randSlice(r, (steps-1)*xs+cols)
				b, sc := randSlice(r, rows), randSlice(r, rows)
				for i := range sc {
					sc[i] = float32(math.Abs(float64(sc[i]))) + 0.01
				}
				f := Activation((rows + cols + steps) % len(activationNames))
				n := (steps-1)*ds + rows
				for _, k := range []struct {
					name      string
					got, want func(dst []float32)
					weight    func(i int) float64
					scale     []float32
				}{
					{"float32",
						func(d []float32) { gemvMulti(d, rows, ds, w, ws, x, xs, cols, steps, nil, b, f) },
						func(d []float32) {
							for m := 0; m < steps; m++ {
								gemvGo(d[m*ds:m*ds+rows], w, ws, x[m*xs:], cols, false)
								biasAct(d[m*ds:m*ds+rows], nil, b, f)
							}
						},
						func(i int) float64 { return float64(w[i]) }, nil},
					{"int8",
						func(d []float32) { gemvMultiQ8(d, rows, ds, q, ws, x, xs, cols, steps, sc, b, f) },
						func(d []float32) {
							for m := 0; m < steps; m++ {
								gemvQ8Go(d[m*ds:m*ds+rows], q, ws, x[m*xs:], cols, false)
								biasAct(d[m*ds:m*ds+rows], sc, b, f)
							}
						},
						func(i int) float64 { return float64(q[i]) }, sc},
				} {
					name := fmt.Sprintf("%s %v %d rows × %d cols × %d vectors (strides %d, %d, %d)", k.name, f, rows, cols, steps, ws, xs, ds)
					got, want := make([]float32, n), make([]float32, n)
					for i := range got { // results not written stay as they were
						got[i], want[i] = float32(i), float32(i)
					}
					k.got(got)
					k.want(want)
					for i := range got {
						m, o := i/ds, i%ds
						mag := 0.0
						for j := 0; o < rows && j < cols; j++ {
							mag += math.Abs(k.weight(o*ws+j) * float64(x[m*xs+j]))
						}
						if o < rows {
							if k.scale != nil {
								mag *= float64(k.scale[o])
							}
							mag += math.Abs(float64(b[o]))
						}
						if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*mag) {
							t.Fatalf("%s: vector %d row %d: %v, Go %v", name, m, o, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestMultiKernelsSameBitsARM64: on arm64 the NEON multi-vector kernels
// accumulate and reduce each vector's sums in the order of the dense ones
// and finish b + s·sum with one fused multiply-add, as Go computes
// biasAct there, so gemvMulti agrees with one gemv and biasAct per vector
// bit for bit (but for ReLU of −0), whatever the shape, strides and
// activation, also with biases ±0, ±Inf and NaN, all-zero rows and
// negative scales. (The amd64 kernels sum in another order.)
func TestMultiKernelsSameBitsARM64(t *testing.T) {
	if runtime.GOARCH != "arm64" || !useAsmMulti {
		t.Skipf("no NEON multi-vector kernels (GOARCH %s, assembly %v)", runtime.GOARCH, useAsmMulti)
	}
	r := rand.New(rand.NewPCG(57, 58))
	special := []float32{float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, rows := range []int{4, 5, 8, 11, 16, 32} {
		for _, cols := range []int{8, 9, 16, 23, 24, 56, 64, 224} {
			for _, steps := range []int{2, 3, 4, 27} {
				for _, f := range allActivations {
					ws, xs, ds := cols+4*(rows%2), []int{3, cols, cols + 5}[steps%3], rows+(rows+1)*(cols%2)
					w := randSlice(r, (rows-1)*ws+cols)
					for i := range w[:cols] { // row 0: all zero
						w[i] = 0
					}
					q := make([]int8, len(w))
					for i := range q[cols:] {
						q[cols+i] = int8(r.IntN(255) - 127)
					}
					x := randSlice(r, (steps-1)*xs+cols)
					b, sc := randSlice(r, rows), randSlice(r, rows)
					b[0], b[rows-1] = special[r.IntN(len(special))], special[r.IntN(len(special))]
					n := (steps-1)*ds + rows
					for _, k := range []struct {
						name      string
						got, want func(dst []float32)
					}{
						{"float32",
							func(d []float32) { gemvMulti(d, rows, ds, w, ws, x, xs, cols, steps, nil, b, f) },
							func(d []float32) { gemvMultiEach(d, rows, ds, w, ws, x, xs, cols, steps, nil, b, f) }},
						{"int8",
							func(d []float32) { gemvMultiQ8(d, rows, ds, q, ws, x, xs, cols, steps, sc, b, f) },
							func(d []float32) { gemvMultiQ8Each(d, rows, ds, q, ws, x, xs, cols, steps, sc, b, f) }},
					} {
						got, want := make([]float32, n), make([]float32, n)
						for i := range got {
							got[i], want[i] = float32(i), float32(i)
						}
						k.got(got)
						k.want(want)
						for i := range got {
							// ReLU keeps −0 in the kernels, as Activation.Apply
							// does; biasAct's max(·, 0) makes it +0.
							zeros := f == ReLU && got[i] == 0 && want[i] == 0
							if !sameFloat(got[i], want[i]) && !zeros {
								t.Fatalf("%s %v %d rows × %d cols × %d vectors (strides %d, %d, %d): vector %d row %d: %v, one gemv each %v",
									k.name, f, rows, cols, steps, ws, xs, ds, i/ds, i%ds, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// The multi-vector kernels do not allocate.
func TestMultiKernelsNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	w, x, dst, b := randSlice(r, 32*56), randSlice(r, 60*8), make([]float32, 27*32), randSlice(r, 32)
	q := make([]int8, len(w))
	if a := testing.AllocsPerRun(100, func() { gemvMulti(dst, 32, 32, w, 56, x, 16, 56, 27, nil, b, ReLU) }); a != 0 {
		t.Errorf("float32: %v allocations, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { gemvMultiQ8(dst, 32, 32, q, 56, x, 16, 56, 27, b, b, Tanh) }); a != 0 {
		t.Errorf("int8: %v allocations, want 0", a)
	}
}

// BenchmarkMultiKernels times the multi-vector kernels on the interior
// steps of the conv autoencoder's layers against one gemv per step (what
// the layers ran before), alternating the two in blocks so that both see
// the same machine load, and reports their ratio.
func BenchmarkMultiKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(55, 56))
	for _, sh := range []struct {
		name                                    string
		rows, dstStride, wstride, xstride, cols int
		steps                                   int
	}{
		{"conv0", 32, 32, 56, 16, 56, 27},
		{"conv1", 16, 16, 224, 64, 224, 12},
		{"convT2", 32, 64, 64, 16, 64, 12},
		{"convT3", 8, 16, 128, 32, 128, 27},
	} {
		w, x, bias := randSlice(r, sh.rows*sh.wstride), randSlice(r, (sh.steps-1)*sh.xstride+sh.cols), randSlice(r, sh.rows)
		q := make([]int8, len(w))
		dst := make([]float32, (sh.steps-1)*sh.dstStride+sh.rows)
		for _, kind := range []string{"f32", "int8"} {
			multi := func() {
				gemvMulti(dst, sh.rows, sh.dstStride, w, sh.wstride, x, sh.xstride, sh.cols, sh.steps, nil, bias, ReLU)
			}
			each := func() {
				gemvMultiEach(dst, sh.rows, sh.dstStride, w, sh.wstride, x, sh.xstride, sh.cols, sh.steps, nil, bias, ReLU)
			}
			if kind == "int8" {
				multi = func() {
					gemvMultiQ8(dst, sh.rows, sh.dstStride, q, sh.wstride, x, sh.xstride, sh.cols, sh.steps, nil, bias, ReLU)
				}
				each = func() {
					gemvMultiQ8Each(dst, sh.rows, sh.dstStride, q, sh.wstride, x, sh.xstride, sh.cols, sh.steps, nil, bias, ReLU)
				}
			}
			b.Run(sh.name+"/"+kind, func(b *testing.B) {
				var tm, te time.Duration
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					for range 64 {
						multi()
					}
					mid := time.Now()
					for range 64 {
						each()
					}
					tm, te = tm+mid.Sub(start), te+time.Since(mid)
				}
				b.ReportMetric(float64(tm.Nanoseconds())/float64(64*b.N), "ns/multi")
				b.ReportMetric(float64(te.Nanoseconds())/float64(64*b.N), "ns/each")
				b.ReportMetric(float64(tm)/float64(te), "multi/each")
			})
		}
	}
}
