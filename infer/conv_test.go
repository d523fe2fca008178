package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func naiveConv(c *Conv1D, x []float32) []float32 {
	lout := c.OutLength()
	y := make([]float32, lout*c.OutChannels)
	for t := 0; t < lout; t++ {
		for o := 0; o < c.OutChannels; o++ {
			s := float64(c.B[o])
			for k := 0; k < c.Kernel; k++ {
				tin := t*c.Stride - c.Padding + k
				if tin < 0 || tin >= c.Length {
					continue
				}
				for ci := 0; ci < c.InChannels; ci++ {
					s += float64(c.W[(o*c.Kernel+k)*c.InChannels+ci]) * float64(x[tin*c.InChannels+ci])
				}
			}
			y[t*c.OutChannels+o] = float32(s)
		}
	}
	c.Act.Apply(y)
	return y
}

func naiveConvT(c *ConvTranspose1D, x []float32) []float32 {
	lout := c.OutLength()
	acc := make([]float64, lout*c.OutChannels)
	for t := 0; t < c.Length; t++ {
		for k := 0; k < c.Kernel; k++ {
			u := t*c.Stride - c.Padding + k
			if u < 0 || u >= lout {
				continue
			}
			for o := 0; o < c.OutChannels; o++ {
				for ci := 0; ci < c.InChannels; ci++ {
					acc[u*c.OutChannels+o] += float64(c.W[(k*c.OutChannels+o)*c.InChannels+ci]) * float64(x[t*c.InChannels+ci])
				}
			}
		}
	}
	y := make([]float32, len(acc))
	for i := range y {
		y[i] = float32(acc[i] + float64(c.B[i%c.OutChannels]))
	}
	c.Act.Apply(y)
	return y
}

func randSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestConvMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, in := range []int{1, 3, 8} {
		for _, out := range []int{1, 5, 16} {
			for _, k := range []int{1, 3, 7} {
				for _, s := range []int{1, 2, 3} {
					for p := 0; p < k && p <= 3; p++ {
						for _, l := range []int{k, 15, 60} {
							c := Conv1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, Length: l,
								W: randSlice(r, in*out*k), B: randSlice(r, out), Act: Tanh}
							if err := c.Validate(); err != nil {
								t.Fatalf("%+v: %v", c, err)
							}
							x := randSlice(r, l*in)
							_, n := c.Shape()
							got := make([]float32, n)
							c.Forward(got, x)
							want := naiveConv(&c, x)
							for i := range want {
								if math.Abs(float64(got[i]-want[i])) > 1e-5 {
									t.Fatalf("conv in %d out %d k %d s %d p %d l %d: y[%d] = %v, want %v", in, out, k, s, p, l, i, got[i], want[i])
								}
							}
							ct := ConvTranspose1D{InChannels: out, OutChannels: in, Kernel: k, Stride: s, Padding: p,
								OutputPadding: (s - 1) / 2, Length: c.OutLength(), W: randSlice(r, in*out*k), B: randSlice(r, in), Act: Linear}
							if ct.Validate() != nil { // too short to undo the padding
								continue
							}
							xt := randSlice(r, ct.Length*out)
							_, nt := ct.Shape()
							gotT, gathered := make([]float32, nt), make([]float32, nt)
							ct.Forward(gathered, xt)
							ct.Prepare()
							ct.Forward(gotT, xt)
							wantT := naiveConvT(&ct, xt)
							for i := range wantT {
								if math.Abs(float64(gotT[i]-wantT[i])) > 1e-4 || math.Abs(float64(gathered[i]-wantT[i])) > 1e-4 {
									t.Fatalf("convT %s: y[%d] = %v prepared, %v gathering, want %v", convTName(&ct), i, gotT[i], gathered[i], wantT[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

// convAE is issue #4's shape (c): a 60×8 window, 8→32→16 channels with
// kernel 7 and stride 2, mirrored by transposed convolutions.
func convAE(r *rand.Rand) []Layer {
	he := func(n, fan int) []float32 {
		w := randSlice(r, n)
		for i := range w {
			w[i] /= float32(math.Sqrt(float64(fan)))
		}
		return w
	}
	return []Layer{
		&Conv1D{InChannels: 8, OutChannels: 32, Kernel: 7, Stride: 2, Padding: 3, Length: 60, W: he(8*32*7, 56), B: make([]float32, 32), Act: ReLU},
		&Conv1D{InChannels: 32, OutChannels: 16, Kernel: 7, Stride: 2, Padding: 3, Length: 30, W: he(32*16*7, 224), B: make([]float32, 16), Act: ReLU},
		&ConvTranspose1D{InChannels: 16, OutChannels: 32, Kernel: 7, Stride: 2, Padding: 3, OutputPadding: 1, Length: 15, W: he(7*32*16, 112), B: make([]float32, 32), Act: ReLU},
		&ConvTranspose1D{InChannels: 32, OutChannels: 8, Kernel: 7, Stride: 2, Padding: 3, OutputPadding: 1, Length: 30, W: he(7*8*32, 224), B: make([]float32, 8), Act: Linear},
	}
}

func TestConvAutoencoder(t *testing.T) {
	layers := convAE(rand.New(rand.NewPCG(1, 2)))
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(8), Features: FeatureSpec{Window: 60, Raw: true}, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	x, per := make([]float32, 8), make([]float32, 8)
	var ready bool
	for i := 0; i < 60; i++ {
		x[i%8] = float32(i)
		_, ready, err = ae.Push(x, per)
	}
	if !ready || err != nil {
		t.Fatalf("after 60 samples: ready %v, err %v", ready, err)
	}
	if a := testing.AllocsPerRun(100, func() { ae.Push(x, per) }); a != 0 {
		t.Errorf("conv autoencoder Push allocates %v times, want 0", a)
	}
	for i, l := range layers {
		if c, ok := l.(*ConvTranspose1D); ok && c.plan() == nil {
			t.Errorf("layer %d: NewAutoencoder did not prepare %s", i, convTName(c))
		}
	}
}

func TestConvValidate(t *testing.T) {
	ok := Conv1D{InChannels: 2, OutChannels: 3, Kernel: 3, Stride: 1, Padding: 1, Length: 5, W: make([]float32, 18), B: make([]float32, 3)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Conv1D){
		func(c *Conv1D) { c.Kernel = 0 },
		func(c *Conv1D) { c.Stride = 0 },
		func(c *Conv1D) { c.Padding = 3 },
		func(c *Conv1D) { c.Length = 0 },
		func(c *Conv1D) { c.W = c.W[:17] },
		func(c *Conv1D) { c.B = nil },
		func(c *Conv1D) { c.Act = 77 },
		func(c *Conv1D) { c.Kernel, c.Padding, c.Length = 9, 1, 5; c.W = make([]float32, 54) },
	} {
		c := ok
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
	ct := ConvTranspose1D{InChannels: 3, OutChannels: 2, Kernel: 3, Stride: 2, Padding: 1, OutputPadding: 2, Length: 4, W: make([]float32, 18), B: make([]float32, 2)}
	if ct.Validate() == nil {
		t.Error("output padding ≥ stride validated")
	}
}

// BenchmarkConvAE is shape (c): one 60×8 window through the conv
// autoencoder, float32 and int8 weights, with GFLOP/s counted as 2 flops
// per multiply-add.
func BenchmarkConvAE(b *testing.B) {
	for _, q8 := range []bool{false, true} {
		layers := convAE(rand.New(rand.NewPCG(1, 2)))
		name := "f32"
		if q8 {
			name = "int8"
			for i := range layers {
				layers[i] = QuantizeLayer(layers[i])
			}
		}
		b.Run(name, func(b *testing.B) {
			ae, err := NewAutoencoder(Config{Scaler: identityScaler(8), Features: FeatureSpec{Window: 60, Raw: true}, Layers: layers})
			if err != nil {
				b.Fatal(err)
			}
			f := randSlice(rand.New(rand.NewPCG(3, 3)), 480)
			per := make([]float32, 8)
			flops := 2 * ConvMACs(layers)
			b.ReportAllocs()
			for b.Loop() {
				ae.ScoreFeatures(f, per)
			}
			b.ReportMetric(float64(flops)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
		})
	}
}

// BenchmarkConvAELayers times each layer of shape (c) on its own (as
// NewAutoencoder prepares it), and the transposed ones also gathering tap
// by tap, the way they ran before being packed by phase.
func BenchmarkConvAELayers(b *testing.B) {
	for _, q8 := range []bool{false, true} {
		layers := convAE(rand.New(rand.NewPCG(1, 2)))
		name := "f32"
		if q8 {
			name = "int8"
		}
		for i, l := range layers {
			if q8 {
				l = QuantizeLayer(l)
			}
			in, out := l.Shape()
			x, y := randSlice(rand.New(rand.NewPCG(3, 3)), in), make([]float32, out)
			flops := 2 * ConvMACs([]Layer{l})
			run := func(sub string, f func()) {
				b.Run(fmt.Sprintf("%s/%d-%s", name, i, sub), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						f()
					}
					b.ReportMetric(float64(flops)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
				})
			}
			switch c := l.(type) {
			case *Conv1D:
				run("conv", func() { c.Forward(y, x) })
			case *ConvTranspose1D:
				c.Prepare()
				run("convT", func() { c.Forward(y, x) })
				run("convT-gather", func() { c.forwardGather(y, x) })
			}
		}
	}
}

// FuzzConv: any shape that validates runs without panicking, and matches
// the naive definition — float32 or int8 (against its dequantised
// weights), and a transposed one both gathering and prepared.
func FuzzConv(f *testing.F) {
	f.Add(uint8(8), uint8(32), uint8(7), uint8(2), uint8(3), uint8(60), uint8(1), false, false)
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), uint8(0), uint8(1), uint8(0), true, false)
	f.Add(uint8(16), uint8(32), uint8(7), uint8(2), uint8(3), uint8(15), uint8(1), true, false)
	f.Add(uint8(32), uint8(8), uint8(7), uint8(2), uint8(3), uint8(30), uint8(1), true, true)
	f.Add(uint8(9), uint8(5), uint8(6), uint8(4), uint8(5), uint8(3), uint8(3), true, true)
	f.Add(uint8(3), uint8(17), uint8(5), uint8(3), uint8(2), uint8(7), uint8(0), false, true)
	f.Fuzz(func(t *testing.T, in, out, k, s, p, l, op uint8, transpose, q8 bool) {
		r := rand.New(rand.NewPCG(uint64(in), uint64(l)))
		w, b := randSlice(r, int(in)*int(out)*int(k)), randSlice(r, int(out))
		var layer Layer
		if transpose {
			layer = &ConvTranspose1D{InChannels: int(in), OutChannels: int(out), Kernel: int(k), Stride: int(s), Padding: int(p),
				OutputPadding: int(op), Length: int(l), W: w, B: b, Act: ReLU}
		} else {
			layer = &Conv1D{InChannels: int(in), OutChannels: int(out), Kernel: int(k), Stride: int(s), Padding: int(p), Length: int(l),
				W: w, B: b, Act: ReLU}
		}
		if layer.Validate() != nil {
			return
		}
		if q8 {
			layer = QuantizeLayer(layer)
		}
		x := randSlice(r, int(l)*int(in))
		_, n := layer.Shape()
		outs := [][]float32{make([]float32, n)}
		layer.Forward(outs[0], x)
		var want []float32
		switch c := dequantize(layer).(type) {
		case *Conv1D:
			want = naiveConv(c, x)
		case *ConvTranspose1D:
			want = naiveConvT(c, x)
			ct := layer.(*ConvTranspose1D)
			ct.Prepare()
			outs = append(outs, make([]float32, n))
			ct.Forward(outs[1], x)
		}
		for j, got := range outs {
			for i, w := range want {
				if math.Abs(float64(got[i]-w)) > 1e-3*(1+math.Abs(float64(w))) {
					t.Fatalf("%+v (prepared %v): y[%d] = %v, want %v", layer, j == 1, i, got[i], w)
				}
			}
		}
	})
}

// dequantize returns a convolution with int8 weights as one with the
// float32 weights they stand for; other layers as they are.
func dequantize(l Layer) Layer {
	switch c := l.(type) {
	case *Conv1D:
		if len(c.Q) == 0 {
			return c
		}
		d := *c
		d.W, d.Q, d.Scale = make([]float32, len(c.Q)), nil, nil
		for i, v := range c.Q {
			d.W[i] = float32(v) * c.Scale[i/(c.Kernel*c.InChannels)]
		}
		return &d
	case *ConvTranspose1D:
		if len(c.Q) == 0 {
			return c
		}
		d := *c
		d.W, d.Q, d.Scale = make([]float32, len(c.Q)), nil, nil
		for i, v := range c.Q {
			d.W[i] = float32(v) * c.Scale[i/c.InChannels%c.OutChannels]
		}
		return &d
	}
	return l
}

// An int8 convolution computes what a float32 one with the dequantised
// weights computes, and each output's largest weight maps to ±127.
func TestConvInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, shape := range [][5]int{{8, 32, 7, 2, 3}, {3, 5, 3, 1, 1}, {16, 8, 5, 3, 2}} {
		in, out, k, s, p := shape[0], shape[1], shape[2], shape[3], shape[4]
		c := &Conv1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, Length: 20,
			W: randSlice(r, in*out*k), B: randSlice(r, out), Act: ELU}
		q := QuantizeLayer(c).(*Conv1D)
		if err := q.Validate(); err != nil || len(q.W) != 0 {
			t.Fatalf("quantised conv: %v, %d float weights left", err, len(q.W))
		}
		deq := *c
		deq.W = make([]float32, len(c.W))
		for i, v := range q.Q {
			deq.W[i] = float32(v) * q.Scale[i/(k*in)]
		}
		x := randSlice(r, 20*in)
		_, n := c.Shape()
		got := make([]float32, n)
		q.Forward(got, x)
		for i, w := range naiveConv(&deq, x) {
			if math.Abs(float64(got[i]-w)) > 1e-4*(1+math.Abs(float64(w))) {
				t.Fatalf("int8 conv %v: y[%d] = %v, want %v", shape, i, got[i], w)
			}
		}

		ct := &ConvTranspose1D{InChannels: out, OutChannels: in, Kernel: k, Stride: s, Padding: p, OutputPadding: s - 1, Length: 9,
			W: randSlice(r, in*out*k), B: randSlice(r, in), Act: Linear}
		if err := ct.Validate(); err != nil {
			t.Fatal(err)
		}
		qt := QuantizeLayer(ct).(*ConvTranspose1D)
		peak := make([]int8, in)
		deqT := *ct
		deqT.W = make([]float32, len(ct.W))
		for i, v := range qt.Q {
			o := i / out % in
			deqT.W[i] = float32(v) * qt.Scale[o]
			peak[o] = max(peak[o], v, -v)
		}
		for o, pk := range peak {
			if pk != 127 {
				t.Errorf("transposed %v: output %d peaks at %d, want 127", shape, o, pk)
			}
		}
		xt := randSlice(r, 9*out)
		_, nt := ct.Shape()
		gotT, gathered := make([]float32, nt), make([]float32, nt)
		qt.Forward(gathered, xt)
		qt.Prepare()
		qt.Forward(gotT, xt)
		for i, w := range naiveConvT(&deqT, xt) {
			tol := 1e-4 * (1 + math.Abs(float64(w)))
			if math.Abs(float64(gotT[i]-w)) > tol || math.Abs(float64(gathered[i]-w)) > tol {
				t.Fatalf("int8 convT %v: y[%d] = %v prepared, %v gathering, want %v", shape, i, gotT[i], gathered[i], w)
			}
		}
	}
	bad := &Conv1D{InChannels: 1, OutChannels: 1, Kernel: 1, Stride: 1, Length: 1, W: []float32{1}, Q: []int8{1}, Scale: []float32{1}, B: []float32{0}}
	if bad.Validate() == nil {
		t.Error("a conv with float32 and int8 weights validated")
	}
}
