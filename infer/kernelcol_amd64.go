//go:build !purego

package infer

// useCols selects the column kernels (kernelcol_amd64.s) for dense layers
// of at least colRows rows; they need AVX2 and FMA, and F16C for binary16
// weights (useAsmF16).
var useCols = useAsm

// colsF32 writes, for each of blocks blocks of colRows rows packed column
// by column at w (n columns each, one after another), f(b[o] + Σ_j
// w·x[j]) into dst[o], each row summed in column order with one fused
// multiply-add per weight; f is ReLU with relu and the identity
// otherwise.
//
//go:noescape
func colsF32(w *float32, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsF16 is colsF32 with binary16 weights, converted exactly eight at a
// time (VCVTPH2PS).
//
//go:noescape
func colsF16(w *uint16, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsQ8 is colsF32 with int8 weights, each row's sum multiplied by
// s[o] before b[o] is added.
//
//go:noescape
func colsQ8(w *int8, x *float32, n int, dst *float32, blocks int, b *float32, s *float32, relu bool)

// denseColsF32 computes the packed rows of p (whole blocks of colRows)
// into dst as Dense.Forward does, and returns how many rows it wrote.
func denseColsF32(dst []float32, p *colPlan[float32], x, b []float32, act Activation) int {
	blocks := p.out / colRows
	r := blocks * colRows
	_, _, _ = dst[r-1], b[r-1], p.w[r*len(x)-1] // every block is in range
	colsF32(&p.w[0], &x[0], len(x), &dst[0], blocks, &b[0], act == ReLU)
	finishAct(dst[:r], act)
	return r
}

// denseColsF16 is denseColsF32 with binary16 weights.
func denseColsF16(dst []float32, p *colPlan[uint16], x, b []float32, act Activation) int {
	blocks := p.out / colRows
	r := blocks * colRows
	_, _, _ = dst[r-1], b[r-1], p.w[r*len(x)-1]
	colsF16(&p.w[0], &x[0], len(x), &dst[0], blocks, &b[0], act == ReLU)
	finishAct(dst[:r], act)
	return r
}

// denseColsQ8 is denseColsF32 with int8 weights and per-row scales s.
func denseColsQ8(dst []float32, p *colPlan[int8], x, b, s []float32, act Activation) int {
	blocks := p.out / colRows
	r := blocks * colRows
	_, _, _, _ = dst[r-1], b[r-1], s[r-1], p.w[r*len(x)-1]
	colsQ8(&p.w[0], &x[0], len(x), &dst[0], blocks, &b[0], &s[0], act == ReLU)
	finishAct(dst[:r], act)
	return r
}
