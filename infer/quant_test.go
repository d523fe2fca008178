package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	d := randDense(r, 37, 11, ReLU)
	for i := 0; i < 37; i++ { // an all-zero row keeps a valid scale
		d.W[3*37+i] = 0
	}
	q := Quantize(&d)
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	for o := 0; o < d.Out; o++ {
		var peak int8
		for i := 0; i < d.In; i++ {
			w, deq := d.W[o*d.In+i], q.Scale[o]*float32(q.Q[o*d.In+i])
			if math.Abs(float64(w-deq)) > float64(q.Scale[o])/2+1e-7 {
				t.Errorf("row %d col %d: %v quantised to %v, error above half a step %v", o, i, w, deq, q.Scale[o]/2)
			}
			peak = max(peak, q.Q[o*d.In+i], -q.Q[o*d.In+i])
		}
		if o != 3 && peak != 127 {
			t.Errorf("row %d: largest |q| %d, want 127 (the full range)", o, peak)
		}
	}
	// Forward equals a float32 layer holding the dequantised weights.
	deq := Dense{In: d.In, Out: d.Out, W: make([]float32, len(d.W)), B: d.B, Act: d.Act}
	for i := range deq.W {
		deq.W[i] = q.Scale[i/d.In] * float32(q.Q[i])
	}
	x := make([]float32, d.In)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	got, want := make([]float32, d.Out), naiveDense(&deq, x)
	q.Forward(got, x)
	for o := range got {
		if math.Abs(float64(got[o]-want[o])) > 1e-4 {
			t.Errorf("out[%d] = %v, want %v", o, got[o], want[o])
		}
	}
}

func TestDenseQ8Validate(t *testing.T) {
	good := func() DenseQ8 {
		return DenseQ8{In: 2, Out: 1, Q: []int8{1, 2}, Scale: []float32{0.5}, B: []float32{0}}
	}
	tests := []struct {
		name string
		mod  func(*DenseQ8)
	}{
		{"sizes", func(d *DenseQ8) { d.In = 0 }},
		{"weights", func(d *DenseQ8) { d.Q = d.Q[:1] }},
		{"scales", func(d *DenseQ8) { d.Scale = nil }},
		{"zero scale", func(d *DenseQ8) { d.Scale[0] = 0 }},
		{"nan scale", func(d *DenseQ8) { d.Scale[0] = float32(math.NaN()) }},
		{"activation", func(d *DenseQ8) { d.Act = 200 }},
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

func TestScoreInt8Allocs(t *testing.T) {
	ae, x := newBenchModelQ8(t, 8, []int{32, 16, 32})
	per := make([]float32, 8)
	if a := testing.AllocsPerRun(100, func() { ae.score(x, per) }); a != 0 {
		t.Errorf("int8 Score allocates %v times, want 0", a)
	}
}
