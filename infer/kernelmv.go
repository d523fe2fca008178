package infer

// The multi-vector kernels: one weight matrix times several input
// vectors, as a convolution needs for its interior output steps. In a
// Conv1D, consecutive output steps use the same weights on input slices
// Stride·InChannels apart; in a phase-packed ConvTranspose1D, the output
// steps of one phase use the same packed matrix on input slices one step
// apart. Computing two steps at once loads each weight once for both and
// shares the horizontal reduction, the call and the finishing (bias,
// scale, ReLU), which dominate products of only a few dozen columns. On
// amd64 and arm64 the assembly (kernelmv_amd64.s, kernelmv_arm64.s) does
// blocks of four rows by two vectors; elsewhere each vector is one gemv
// and biasAct, which is also the reference the assembly is tested
// against.

// gemvMulti writes, for each of steps input vectors, the product of rows
// rows of w (row o at w[o*wstride:], cols columns) with that vector,
// finished as biasAct does (f(s[o]·sum + b[o]), no scale when s is
// empty), into its own rows of dst: vector m is x[m*xstride:][:cols] and
// its result dst[m*dstStride:][:rows].
func gemvMulti(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	if useAsmMulti && cols >= 8 && rows >= 4 && steps >= 2 {
		gemvMultiAsm(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
		return
	}
	gemvMultiEach(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

// gemvMultiQ8 is gemvMulti with int8 weights.
func gemvMultiQ8(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	if useAsmMulti && cols >= 8 && rows >= 4 && steps >= 2 {
		gemvMultiQ8Asm(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
		return
	}
	gemvMultiQ8Each(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

// gemvMultiEach is gemvMulti one vector at a time.
func gemvMultiEach(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	for m := 0; m < steps; m++ {
		d := dst[m*dstStride : m*dstStride+rows]
		gemv(d, w, wstride, x[m*xstride:], cols, false)
		biasAct(d, s, b, f)
	}
}

func gemvMultiQ8Each(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	for m := 0; m < steps; m++ {
		d := dst[m*dstStride : m*dstStride+rows]
		gemvQ8(d, w, wstride, x[m*xstride:], cols, false)
		biasAct(d, s, b, f)
	}
}

// from returns v[i:], or nil for an empty v (an absent scale).
func from(v []float32, i int) []float32 {
	if len(v) == 0 {
		return nil
	}
	return v[i:]
}
