package infer

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkDenseForward times one layer's Forward on the short layers of
// the benchmark shapes (a-8-32-16-32-8 and the default recipe's
// 96-64-16-64-96), ReLU, with float32, int8 and binary16 weights,
// prepared as NewAutoencoder prepares them (the layers of 64 outputs
// and more on the column kernels).
func BenchmarkDenseForward(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sh := range [][2]int{{8, 32}, {32, 16}, {16, 32}, {32, 8}, {96, 64}, {64, 16}, {16, 64}, {64, 96}} {
		d := randDense(r, sh[0], sh[1], ReLU)
		x, y := make([]float32, sh[0]), make([]float32, sh[1])
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, k := range []struct {
			name string
			l    Layer
		}{{"f32", &d}, {"int8", Quantize(&d)}, {"f16", ToHalf(&d)}} {
			b.Run(k.name+"-"+itoa(sh[0])+"x"+itoa(sh[1]), func(b *testing.B) {
				k.l.(interface{ Prepare() }).Prepare()
				b.ReportAllocs()
				for b.Loop() {
					k.l.Forward(y, x)
				}
			})
		}
	}
}
