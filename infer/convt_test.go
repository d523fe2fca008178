package infer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// convTBound returns, for every output of c on x, Σ|w|·|x| + |b| (times
// the scale of an int8 layer): the size a rounding error is relative to.
func convTBound(c *ConvTranspose1D, x []float32) []float32 {
	a := *c
	a.packed, a.Act = nil, Linear
	a.W, a.Q, a.B = make([]float32, len(c.W)), make([]int8, len(c.Q)), make([]float32, len(c.B))
	for i, v := range c.W {
		a.W[i] = float32(math.Abs(float64(v)))
	}
	for i, v := range c.Q {
		a.Q[i] = max(v, -v)
	}
	for i, v := range c.B {
		a.B[i] = float32(math.Abs(float64(v)))
	}
	ax := make([]float32, len(x))
	for i, v := range x {
		ax[i] = float32(math.Abs(float64(v)))
	}
	_, n := a.Shape()
	y := make([]float32, n)
	a.forwardGather(y, ax)
	return y
}

// checkPhases runs c's prepared Forward and its gathering reference on x
// and fails unless they agree to 1e-5 relative to the sizes of the
// products (every activation is at most 1-Lipschitz).
func checkPhases(t *testing.T, c *ConvTranspose1D, x []float32) {
	t.Helper()
	c.Prepare()
	if c.plan() == nil {
		t.Fatalf("%s: not prepared", convTName(c))
	}
	_, n := c.Shape()
	got, want := make([]float32, n), make([]float32, n)
	c.Forward(got, x)
	c.forwardGather(want, x)
	for i, bound := range convTBound(c, x) {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*float64(bound)) {
			t.Fatalf("%s: y[%d] = %v, gathering gives %v (bound %v)", convTName(c), i, got[i], want[i], bound)
		}
	}
}

func convTName(c *ConvTranspose1D) string {
	kind := "f32"
	if len(c.Q) > 0 {
		kind = "int8"
	}
	return fmt.Sprintf("%s convT %d→%d k %d s %d p %d op %d l %d %v", kind, c.InChannels, c.OutChannels,
		c.Kernel, c.Stride, c.Padding, c.OutputPadding, c.Length, c.Act)
}

// The phase-packed transposed convolution computes what gathering tap by
// tap computes, on every small shape: strides 1–4, kernels 1–7, every
// padding and output padding, lengths 1–10, channel counts below, at and
// above the kernels' 8-column blocks, float32 and int8.
func TestConvTransposePhases(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	channels := [][2]int{{1, 1}, {3, 5}, {8, 8}, {16, 3}, {9, 17}, {24, 32}}
	shapes := 0
	for s := 1; s <= 4; s++ {
		for k := 1; k <= 7; k++ {
			for p := 0; p < k; p++ {
				for op := 0; op < s; op++ {
					for l := 1; l <= 10; l++ {
						for i, ch := range channels {
							in, out := ch[0], ch[1]
							c := &ConvTranspose1D{InChannels: in, OutChannels: out, Kernel: k, Stride: s, Padding: p, OutputPadding: op,
								Length: l, W: randSlice(r, in*out*k), B: randSlice(r, out), Act: Activation((shapes + i) % 6)}
							if c.Validate() != nil { // the output would be empty
								continue
							}
							shapes++
							x := randSlice(r, l*in)
							checkPhases(t, c, x)
							checkPhases(t, QuantizeLayer(c).(*ConvTranspose1D), x)
						}
					}
				}
			}
		}
	}
	if shapes < 5000 {
		t.Errorf("only %d shapes validated", shapes)
	}
}

// A layer copied from a prepared one (as QuantizeLayer copies) and given
// other weights does not use the old packing; a layer whose weights change
// in place uses the new ones once prepared again; preparing a current
// layer leaves its packing alone.
func TestConvTransposePrepareStale(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	c := &ConvTranspose1D{InChannels: 16, OutChannels: 8, Kernel: 5, Stride: 2, Padding: 2, OutputPadding: 1, Length: 6,
		W: randSlice(r, 640), B: randSlice(r, 8), Act: Tanh}
	x := randSlice(r, 6*16)
	c.Prepare()
	p := c.plan()
	if p == nil {
		t.Fatal("not prepared")
	}
	c.Prepare()
	if c.plan() != p {
		t.Error("preparing a current layer packed it again")
	}

	want := func(c *ConvTranspose1D) []float32 {
		_, n := c.Shape()
		y := make([]float32, n)
		c.forwardGather(y, x)
		return y
	}
	same := func(what string, c *ConvTranspose1D) {
		t.Helper()
		_, n := c.Shape()
		got := make([]float32, n)
		c.Forward(got, x)
		for i, w := range want(c) {
			if math.Abs(float64(got[i]-w)) > 1e-5*(1+math.Abs(float64(w))) {
				t.Fatalf("%s: y[%d] = %v, want %v", what, i, got[i], w)
			}
		}
	}

	d := *c
	d.W = randSlice(r, 640)
	if d.plan() != nil {
		t.Error("a copy with new weights uses the old packing")
	}
	same("copy with new weights", &d)
	q := QuantizeLayer(c).(*ConvTranspose1D)
	if q.plan() != nil {
		t.Error("the quantised copy uses the float32 packing")
	}
	same("quantised copy", q)
	e := *c
	e.InChannels, e.OutChannels = 8, 16
	e.B = randSlice(r, 16)
	e.Length = 12
	if e.plan() != nil {
		t.Error("a copy with other channels uses the old packing")
	}

	c.W[3] += 1
	c.Prepare()
	if c.plan() == p {
		t.Error("weights changed in place, but Prepare kept the old packing")
	}
	same("changed in place and prepared again", c)

	bad := &ConvTranspose1D{InChannels: 2, OutChannels: 2, Kernel: 3, Stride: 2, Length: 4, W: make([]float32, 5), B: make([]float32, 2)}
	bad.Prepare()
	if bad.packed != nil {
		t.Error("an invalid layer was packed")
	}
}

// Prepared Forward does not allocate, with float32 or int8 weights.
func TestConvTransposeNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	c := &ConvTranspose1D{InChannels: 16, OutChannels: 32, Kernel: 7, Stride: 2, Padding: 3, OutputPadding: 1, Length: 15,
		W: randSlice(r, 7*32*16), B: randSlice(r, 32), Act: ReLU}
	x, y := randSlice(r, 15*16), make([]float32, 30*32)
	for _, l := range []*ConvTranspose1D{c, QuantizeLayer(c).(*ConvTranspose1D)} {
		l.Prepare()
		if a := testing.AllocsPerRun(100, func() { l.Forward(y, x) }); a != 0 {
			t.Errorf("%s: Forward allocates %v times, want 0", convTName(l), a)
		}
	}
}

// Autoencoders built at once from the same fresh layers (each preparing
// them) and their clones score on many goroutines and agree; -race
// checks the packing is published safely.
func TestConvTransposeConcurrent(t *testing.T) {
	for _, q8 := range []bool{false, true} {
		layers := convAE(rand.New(rand.NewPCG(7, 8)))
		if q8 {
			for i := range layers {
				layers[i] = QuantizeLayer(layers[i])
			}
		}
		cfg := Config{Scaler: identityScaler(8), Features: FeatureSpec{Window: 60, Raw: true}, Layers: layers}
		f := randSlice(rand.New(rand.NewPCG(9, 9)), 480)
		scores := make([]float32, 8)
		var wg sync.WaitGroup
		for g := range scores {
			wg.Go(func() {
				ae, err := NewAutoencoder(cfg)
				if err != nil {
					t.Error(err)
					return
				}
				for range 20 {
					scores[g] = ae.Clone().ScoreFeatures(f, nil)
				}
			})
		}
		wg.Wait()
		for _, l := range layers {
			if c, ok := l.(*ConvTranspose1D); ok && c.plan() == nil {
				t.Errorf("int8 %v: NewAutoencoder left %s unprepared", q8, convTName(c))
			}
		}
		for g, s := range scores {
			if s != scores[0] || s == 0 {
				t.Errorf("int8 %v: goroutine %d scored %v, goroutine 0 %v", q8, g, s, scores[0])
			}
		}
	}
}
