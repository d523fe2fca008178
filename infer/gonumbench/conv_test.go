package gonumbench

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vigil-edge/vigil/infer"
)

// convLayers is shape (c): a 60×8 window, 8→32→16 channels, kernel 7,
// stride 2, mirrored by transposed convolutions.
func convLayers() []infer.Layer {
	r := rand.New(rand.NewPCG(5, 6))
	w := func(n, fan int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() / math.Sqrt(float64(fan)))
		}
		return v
	}
	return []infer.Layer{
		&infer.Conv1D{InChannels: 8, OutChannels: 32, Kernel: 7, Stride: 2, Padding: 3, Length: 60, W: w(8*32*7, 56), B: w(32, 1), Act: infer.ReLU},
		&infer.Conv1D{InChannels: 32, OutChannels: 16, Kernel: 7, Stride: 2, Padding: 3, Length: 30, W: w(32*16*7, 224), B: w(16, 1), Act: infer.ReLU},
		&infer.ConvTranspose1D{InChannels: 16, OutChannels: 32, Kernel: 7, Stride: 2, Padding: 3, OutputPadding: 1, Length: 15, W: w(7*32*16, 112), B: w(32, 1), Act: infer.ReLU},
		&infer.ConvTranspose1D{InChannels: 32, OutChannels: 8, Kernel: 7, Stride: 2, Padding: 3, OutputPadding: 1, Length: 30, W: w(7*8*32, 224), B: w(8, 1), Act: infer.Linear},
	}
}

// gonumConv runs the same network the way BLAS-based frameworks do:
// im2col + Sgemm for convolutions, Sgemm + col2im for transposed ones.
type gonumConv struct {
	layers []infer.Layer
	cols   [][]float32 // per layer: the im2col / column buffer
	outs   [][]float32
}

func newGonumConv(layers []infer.Layer) *gonumConv {
	g := &gonumConv{layers: layers}
	for _, l := range layers {
		_, out := l.Shape()
		var n int
		switch c := l.(type) {
		case *infer.Conv1D:
			n = c.OutLength() * c.Kernel * c.InChannels
		case *infer.ConvTranspose1D:
			n = c.Length * c.Kernel * c.OutChannels
		}
		g.cols = append(g.cols, make([]float32, n))
		g.outs = append(g.outs, make([]float32, out))
	}
	return g
}

func (g *gonumConv) score(x []float32) float32 {
	in := x
	for i, l := range g.layers {
		y, col := g.outs[i], g.cols[i]
		switch c := l.(type) {
		case *infer.Conv1D:
			lout, kc := c.OutLength(), c.Kernel*c.InChannels
			for t := 0; t < lout; t++ { // im2col, zero padded
				for k := 0; k < c.Kernel; k++ {
					tin := t*c.Stride - c.Padding + k
					dst := col[t*kc+k*c.InChannels : t*kc+(k+1)*c.InChannels]
					if tin < 0 || tin >= c.Length {
						clear(dst)
					} else {
						copy(dst, in[tin*c.InChannels:(tin+1)*c.InChannels])
					}
				}
			}
			for t := 0; t < lout; t++ {
				copy(y[t*c.OutChannels:(t+1)*c.OutChannels], c.B)
			}
			// Y (lout×Cout) = Col (lout×K·Cin) · Wᵀ, W is Cout×(K·Cin).
			blas32.Gemm(blas.NoTrans, blas.Trans, 1,
				blas32.General{Rows: lout, Cols: kc, Stride: kc, Data: col},
				blas32.General{Rows: c.OutChannels, Cols: kc, Stride: kc, Data: c.W}, 1,
				blas32.General{Rows: lout, Cols: c.OutChannels, Stride: c.OutChannels, Data: y})
			c.Act.Apply(y)
		case *infer.ConvTranspose1D:
			kco := c.Kernel * c.OutChannels
			// Col (Lin×K·Cout) = X (Lin×Cin) · Wᵀ, W is (K·Cout)×Cin.
			blas32.Gemm(blas.NoTrans, blas.Trans, 1,
				blas32.General{Rows: c.Length, Cols: c.InChannels, Stride: c.InChannels, Data: in},
				blas32.General{Rows: kco, Cols: c.InChannels, Stride: c.InChannels, Data: c.W}, 0,
				blas32.General{Rows: c.Length, Cols: kco, Stride: kco, Data: col})
			lout := c.OutLength()
			for u := 0; u < lout; u++ {
				copy(y[u*c.OutChannels:(u+1)*c.OutChannels], c.B)
			}
			for t := 0; t < c.Length; t++ { // col2im
				for k := 0; k < c.Kernel; k++ {
					u := t*c.Stride - c.Padding + k
					if u < 0 || u >= lout {
						continue
					}
					src := col[t*kco+k*c.OutChannels : t*kco+(k+1)*c.OutChannels]
					dst := y[u*c.OutChannels : (u+1)*c.OutChannels]
					for o, v := range src {
						dst[o] += v
					}
				}
			}
			c.Act.Apply(y)
		}
		in = y
	}
	var s float32
	for i, v := range x {
		d := in[i] - v
		s += d * d
	}
	return s / float32(len(x))
}

func convRunners(tb testing.TB) (ours, ours8, theirs func(), macs int) {
	layers := convLayers()
	spec := infer.FeatureSpec{Window: 60, Raw: true}
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: identity(8), Features: spec, Layers: layers})
	if err != nil {
		tb.Fatal(err)
	}
	q := make([]infer.Layer, len(layers))
	for i, l := range layers {
		q[i] = infer.QuantizeLayer(l)
	}
	ae8, err := infer.NewAutoencoder(infer.Config{Scaler: identity(8), Features: spec, Layers: q})
	if err != nil {
		tb.Fatal(err)
	}
	g := newGonumConv(layers)
	x := input(480)
	per := make([]float32, 8)
	a, b := ae.ScoreFeatures(x, per), g.score(x)
	if math.Abs(float64(a-b)) > 1e-4*math.Abs(float64(a)) {
		tb.Fatalf("infer scores %v, gonum im2col %v", a, b)
	}
	return func() { ae.ScoreFeatures(x, per) }, func() { ae8.ScoreFeatures(x, per) }, func() { g.score(x) }, infer.ConvMACs(layers)
}

// BenchmarkConv times shape (c) with infer's convolutions (float32 and
// int8) and with gonum im2col + Sgemm.
func BenchmarkConv(b *testing.B) {
	ours, ours8, theirs, macs := convRunners(b)
	for _, r := range []struct {
		name string
		f    func()
	}{{"infer-f32", ours}, {"infer-int8", ours8}, {"gonum-im2col", theirs}} {
		b.Run("c-conv-60x8/"+r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.f()
			}
			b.ReportMetric(2*float64(macs)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
		})
	}
	b.Run("c-conv-60x8/ratio", func(b *testing.B) {
		var r32, r8 float64
		for b.Loop() {
			g := nsPerOp(theirs)
			r32, r8 = nsPerOp(ours)/g, nsPerOp(ours8)/g
		}
		b.ReportMetric(r32, "f32/gonum")
		b.ReportMetric(r8, "int8/gonum")
	})
}

func TestConvSameScores(t *testing.T) { convRunners(t) }
