package infer

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fma32 returns a·b + c rounded once to float32, as a fused multiply-add
// instruction computes it (a, b and c finite). The product is exact in
// float64; when the float64 sum is exact too, one float32 rounding of it
// is the answer, and otherwise the sum is taken exactly in big.Float.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	if bb := s - p; (p-(s-bb))+(float64(c)-bb) == 0 {
		return float32(s)
	}
	x := new(big.Float).SetPrec(256).SetFloat64(p)
	x.Add(x, new(big.Float).SetPrec(256).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// colsRef is what the column kernels compute for row o: the row summed
// in column order with one rounding per multiply-add, multiplied by
// scale[o] (int8 weights; nil otherwise), then the bias added and the
// activation applied.
func colsRef(weight func(o, i int) float32, x, b, scale []float32, rows int, act Activation) []float32 {
	y := make([]float32, rows)
	for o := range y {
		var s float32
		for i, v := range x {
			s = fma32(weight(o, i), v, s)
		}
		if scale != nil {
			s *= scale[o]
		}
		y[o] = s + b[o]
	}
	act.Apply(y)
	return y
}

// TestColumnKernels checks prepared dense layers (float32, int8 and
// binary16 weights) bit for bit: the rows in whole blocks of 64 against colsRef,
// the rows after them against the unprepared layer (the row kernels). The
// shapes have one column, column counts that are not a multiple of eight,
// and row remainders; some biases are ±0, ±Inf and NaN and one row is all
// zero, for ReLU's −0 and NaN. In a build without column kernels Prepare
// must pack nothing.
func TestColumnKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 5))
	special := []float32{float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, rows := range []int{64, 65, 100, 128, 200} {
		for _, cols := range []int{1, 5, 8, 33, 130} {
			for _, act := range allActivations {
				d := randDense(r, cols, rows, act)
				for i := range d.W[:cols] {
					d.W[i] = 0
				}
				for _, o := range []int{0, 63, rows - 1} {
					d.B[o] = special[r.IntN(len(special))]
				}
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				h, q := ToHalf(&d), Quantize(&d)
				for _, k := range []struct {
					name string
					l    interface {
						Layer
						Prepare()
					}
					weight func(o, i int) float32
					scale  []float32
					packed func() bool
					ok     bool
				}{
					{"float32", &d, func(o, i int) float32 { return d.W[o*cols+i] }, nil, func() bool { return loadCols(&d.packed, d.W, d.In, d.Out) != nil }, useCols},
					{"int8", q, func(o, i int) float32 { return float32(q.Q[o*cols+i]) }, q.Scale, func() bool { return loadCols(&q.packed, q.Q, q.In, q.Out) != nil }, useCols},
					{"binary16", h, func(o, i int) float32 { return HalfToFloat32(h.H[o*cols+i]) }, nil, func() bool { return loadCols(&h.packed, h.H, h.In, h.Out) != nil }, useCols && useAsmF16},
				} {
					rowsOut := make([]float32, rows)
					k.l.Forward(rowsOut, x) // not prepared yet: the row kernels
					k.l.Prepare()
					if k.packed() != k.ok {
						t.Fatalf("%s %d→%d: packed %v after Prepare, want %v", k.name, cols, rows, k.packed(), k.ok)
					}
					got := make([]float32, rows)
					for i := range got {
						got[i] = 42 // every output is written
					}
					k.l.Forward(got, x)
					whole := 0
					if k.ok {
						whole = rows / colRows * colRows
					}
					want := append(colsRef(k.weight, x, d.B, k.scale, whole, act), rowsOut[whole:]...)
					for o := range got {
						if !sameFloat(got[o], want[o]) {
							t.Fatalf("%s %d→%d %v: y[%d] = %v, want %v (block rows: %d)", k.name, cols, rows, act, o, got[o], want[o], whole)
						}
					}
				}
			}
		}
	}
}

// TestDensePrepare: a prepared layer computes with the weights it was
// prepared with until prepared again; preparing unchanged weights keeps
// the packing (as Clone does, sharing layers); a copy whose weights are
// replaced, or a layer that does not validate, runs on the row kernels.
func TestDensePrepare(t *testing.T) {
	if !useCols {
		d := randDense(rand.New(rand.NewPCG(1, 1)), 16, 64, ReLU)
		d.Prepare()
		if d.packed != nil {
			t.Fatal("Prepare packed weights in a build without column kernels")
		}
		return
	}
	r := rand.New(rand.NewPCG(8, 9))
	d := randDense(r, 40, 128, Linear)
	x := make([]float32, 40)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	forward := func(l Layer) []float32 {
		y := make([]float32, 128)
		l.Forward(y, x)
		return y
	}
	d.Prepare()
	first := d.packed
	before := forward(&d)
	d.W[0] += 1 // row 0 gains x[0]
	if y := forward(&d); y[0] != before[0] {
		t.Fatalf("weights changed in place, not prepared again: y[0] = %v, want the old %v", y[0], before[0])
	}
	d.Prepare()
	if d.packed == first {
		t.Fatal("Prepare after a change kept the old packing")
	}
	if y := forward(&d); y[0] == before[0] {
		t.Fatalf("prepared again: y[0] is still the old %v", y[0])
	}
	second := d.packed
	d.Prepare()
	if d.packed != second {
		t.Fatal("Prepare with unchanged weights made a new packing")
	}

	c := d // a copy shares the packing and W
	c.W = append([]float32(nil), d.W...)
	c.W[1] += 1
	rowsOnly := d
	rowsOnly.packed = nil
	rowsOnly.W = c.W
	if got, want := forward(&c), forward(&rowsOnly); !sameSlices(got, want) {
		t.Fatalf("a copy with replaced weights: %v, want the row kernels' %v", got[:4], want[:4])
	}

	bad := randDense(r, 8, 64, ReLU)
	bad.B = bad.B[:63]
	bad.Prepare()
	if bad.packed != nil {
		t.Fatal("a layer that does not validate was packed")
	}
}

// sameSlices reports whether a and b hold the same floats (sameFloat).
func sameSlices(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameFloat(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestAutoencoderPrepares: NewAutoencoder packs the dense layers that the
// column kernels serve, and a clone shares the packing.
func TestAutoencoderPrepares(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	ds := []Dense{randDense(r, 96, 64, ReLU), randDense(r, 64, 16, ReLU), randDense(r, 16, 96, Linear)}
	a, err := NewAutoencoder(Config{Scaler: identityScaler(96), Layers: DenseLayers(ds)})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{useCols, false, useCols} {
		if got := ds[i].packed != nil; got != want {
			t.Errorf("layer %d (%d rows): packed %v, want %v", i, ds[i].Out, got, want)
		}
	}
	p := ds[0].packed
	a.Clone()
	if ds[0].packed != p {
		t.Error("Clone packed a shared layer again")
	}
}
