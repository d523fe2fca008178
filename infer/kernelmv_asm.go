//go:build !purego && (amd64 || arm64)

package infer

// The multi-vector assembly kernels (kernelmv_amd64.s: AVX2 + FMA;
// kernelmv_arm64.s: NEON) share these signatures (declared in
// kernelmv_amd64.go and kernelmv_arm64.go) and wrappers. mv4x2F32 and
// mv4x2Q8 compute blocks of four weight rows by two input vectors over
// whole blocks of eight columns; the wrappers do the rest in Go.

// useAsmMulti selects the multi-vector kernels whenever the dense ones
// are selected (AVX2+FMA on amd64, NEON on arm64).
var useAsmMulti = useAsm

// gemvMultiAsm runs mv4x2F32 over the whole blocks (rows in fours,
// columns in eights, vectors in pairs) and does the rest in Go: the last
// rows, the last vector, and, when the columns are not a whole number of
// blocks, each block row's column tail and then the finishing. The
// assembly finishes linear and ReLU rows; other activations are applied
// after it.
func gemvMultiAsm(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiBlocks(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

// gemvMultiQ8Asm is gemvMultiAsm with int8 weights, on mv4x2Q8.
func gemvMultiQ8Asm(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiBlocks(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

// gemvMultiBlocks is gemvMultiAsm for either weight type. Each step that
// depends on it is a type switch, which the compiler resolves for each
// instantiation: no interface is built and nothing is allocated.
func gemvMultiBlocks[W float32 | int8](dst []float32, rows, dstStride int, w []W, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	r4, n8, pairs := rows&^3, cols&^7, steps/2
	// Every row, vector, result, scale and bias the assembly touches is
	// in range.
	_ = w[(rows-1)*wstride+cols-1]
	_ = x[(steps-1)*xstride+cols-1]
	_ = dst[(steps-1)*dstStride+rows-1]
	b = b[:rows]
	if len(s) > 0 {
		s = s[:rows]
	}
	var bp, sp *float32 // the finishing, when the blocks cover the columns
	relu := false
	if n8 == cols {
		bp, sp, relu = &b[0], ptr(s), f == ReLU
	}
	switch w := any(w).(type) {
	case []float32:
		mv4x2F32(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, bp, sp, relu)
	case []int8:
		mv4x2Q8(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, bp, sp, relu)
	}
	// The assembly finished every result when the blocks cover the
	// matrix and the activation is one it applies.
	done := n8 == cols && r4 == rows && (f == Linear || f == ReLU)
	for m := 0; m < 2*pairs && !done; m++ {
		d, xm := dst[m*dstStride:m*dstStride+rows], x[m*xstride:m*xstride+cols]
		if r4 < rows {
			switch w := any(w).(type) {
			case []float32:
				gemv(d[r4:], w[r4*wstride:], wstride, xm, cols, false)
			case []int8:
				gemvQ8(d[r4:], w[r4*wstride:], wstride, xm, cols, false)
			}
		}
		if n8 == cols {
			biasAct(d[r4:], from(s, r4), b[r4:], f)
			if f != Linear && f != ReLU {
				f.Apply(d[:r4])
			}
			continue
		}
		for o := 0; o < r4; o++ {
			switch w := any(w).(type) {
			case []float32:
				d[o] += dot(w[o*wstride+n8:o*wstride+cols], xm[n8:])
			case []int8:
				d[o] += dotQ8(w[o*wstride+n8:o*wstride+cols], xm[n8:])
			}
		}
		biasAct(d, s, b, f)
	}
	if m := steps - 1; steps%2 == 1 {
		switch w := any(w).(type) {
		case []float32:
			gemvMultiEach(dst[m*dstStride:], rows, dstStride, w, wstride, x[m*xstride:], xstride, cols, 1, s, b, f)
		case []int8:
			gemvMultiQ8Each(dst[m*dstStride:], rows, dstStride, w, wstride, x[m*xstride:], xstride, cols, 1, s, b, f)
		}
	}
}
