//go:build !purego && (amd64 || arm64)

package infer

// The column kernels (kernelcol_amd64.s: AVX2 + FMA, F16C for binary16;
// kernelcol_arm64.s: NEON) share these wrappers; colsF32, colsQ8 and
// colsF16 are declared in kernelcol_amd64.go and kernelcol_arm64.go.

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
