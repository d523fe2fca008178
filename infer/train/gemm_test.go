package train

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// naiveNN and naiveTN are the products summed term by term in order of
// the shared index, the reference gemmNN and gemmTN must match exactly.
func naiveNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := c[i*ldc+j]
			for p := 0; p < k; p++ {
				s += float32(a[i*lda+p] * b[p*ldb+j]) // never fused, as gemm
			}
			c[i*ldc+j] = s
		}
	}
}

func naiveTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := c[i*ldc+j]
			for p := 0; p < k; p++ {
				s += float32(a[p*lda+i] * b[p*ldb+j])
			}
			c[i*ldc+j] = s
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGEMM checks gemmNN and gemmTN, and their Go blocks alone, bit for
// bit against the naive loops over shapes with every remainder of the
// 4×8 and 2×4 blocking and padded row strides, leaving the elements
// outside C's m×n view untouched.
func TestGEMM(t *testing.T) {
	type gemm func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int)
	r := rand.New(rand.NewPCG(1, 1))
	for _, m := range []int{1, 2, 3, 4, 5, 8, 11} {
		for _, n := range []int{1, 3, 4, 7, 8, 9, 16, 21} {
			for _, k := range []int{1, 2, 6, 17} {
				const pad = 3
				a := randSlice(r, (max(m, k)+pad)*(max(m, k)+pad))
				b := randSlice(r, (k+pad)*(n+pad))
				c := randSlice(r, m*(n+pad))
				for _, f := range []struct {
					name      string
					got, want gemm
					lda       int
				}{
					{"gemmNN", gemmNN, naiveNN, k + pad},
					{"gemmNNGo", gemmNNGo, naiveNN, k + pad},
					{"gemmTN", gemmTN, naiveTN, m + pad},
					{"gemmTNGo", gemmTNGo, naiveTN, m + pad},
				} {
					got, want := append([]float32(nil), c...), append([]float32(nil), c...)
					f.got(got, n+pad, a, f.lda, b, n+pad, m, n, k)
					f.want(want, n+pad, a, f.lda, b, n+pad, m, n, k)
					if d := firstDiff(got, want); d >= 0 {
						t.Errorf("%s m %d n %d k %d: element %d = %v, want %v", f.name, m, n, k, d, got[d], want[d])
					}
				}
			}
		}
	}
}

// firstDiff returns the first index where a and b differ bit for bit, or −1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func TestGEMMAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	a, b, c := randSlice(r, 32*64), randSlice(r, 32*64), randSlice(r, 64*64)
	if n := testing.AllocsPerRun(10, func() {
		gemmNN(c, 64, a, 32, b, 64, 32, 64, 32)
		gemmTN(c, 64, a, 64, b, 64, 64, 64, 32)
	}); n != 0 {
		t.Errorf("gemm allocates %v times, want 0", n)
	}
}

// BenchmarkGEMM times the shapes of the conv recipe's backward pass
// (SetBytes counts multiply-adds, so MB/s reads as mega-MACs per second).
func BenchmarkGEMM(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, s := range []struct{ m, n, k int }{{32, 56, 32}, {32, 224, 16}, {32, 96, 64}} {
		a, bm, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
		b.Run(fmt.Sprintf("NN/%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			b.SetBytes(int64(s.m * s.n * s.k))
			b.ReportAllocs()
			for b.Loop() {
				gemmNN(c, s.n, a, s.k, bm, s.n, s.m, s.n, s.k)
			}
		})
		at := randSlice(r, s.k*s.m)
		b.Run(fmt.Sprintf("TN/%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			b.SetBytes(int64(s.m * s.n * s.k))
			b.ReportAllocs()
			for b.Loop() {
				gemmTN(c, s.n, at, s.m, bm, s.n, s.m, s.n, s.k)
			}
		})
	}
}
