//go:build !purego

package infer

// useAsmMulti selects the AVX2+FMA multi-vector kernels, with the dense
// ones.
var useAsmMulti = useAsm

// mv4x2F32 computes, for each of pairs pairs of vectors (vector m at
// x + m·xstride) and each block of four rows of w (rows is a multiple of
// 4, row o at w + o·wstride), the dot products over n elements (a multiple
// of 8), and stores vector m's into dst + m·dstStride, finished as
// f(b[o] + s[o]·dot): s and b skipped when nil, f ReLU with relu and the
// identity otherwise. Each block of weights loaded serves both vectors.
//
//go:noescape
func mv4x2F32(w *float32, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)

// mv4x2Q8 is mv4x2F32 with int8 weights, converted to float32 eight at a
// time.
//
//go:noescape
func mv4x2Q8(w *int8, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)

// firstOrNil returns &v[0], or nil for an empty v.
func firstOrNil(v []float32) *float32 {
	if len(v) == 0 {
		return nil
	}
	return &v[0]
}

// gemvMultiAsm runs mv4x2F32 over the whole blocks (rows in fours,
// columns in eights, vectors in pairs) and does the rest in Go: the last
// rows, the last vector, and, when the columns are not a whole number of
// blocks, each block row's column tail and then the finishing. The
// assembly finishes linear and ReLU rows; other activations are applied
// after it.
func gemvMultiAsm(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
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
	if whole := n8 == cols; whole {
		mv4x2F32(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, &b[0], firstOrNil(s), f == ReLU)
	} else {
		mv4x2F32(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, nil, nil, false)
	}
	for m := 0; m < 2*pairs; m++ {
		d, xm := dst[m*dstStride:m*dstStride+rows], x[m*xstride:m*xstride+cols]
		if r4 < rows {
			gemv(d[r4:], w[r4*wstride:], wstride, xm, cols, false)
		}
		if n8 == cols {
			biasAct(d[r4:], from(s, r4), b[r4:], f)
			if f != Linear && f != ReLU {
				f.Apply(d[:r4])
			}
			continue
		}
		for o := 0; o < r4; o++ {
			d[o] += dot(w[o*wstride+n8:o*wstride+cols], xm[n8:])
		}
		biasAct(d, s, b, f)
	}
	if m := steps - 1; steps%2 == 1 {
		gemvMultiEach(dst[m*dstStride:], rows, dstStride, w, wstride, x[m*xstride:], xstride, cols, 1, s, b, f)
	}
}

func gemvMultiQ8Asm(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	r4, n8, pairs := rows&^3, cols&^7, steps/2
	_ = w[(rows-1)*wstride+cols-1]
	_ = x[(steps-1)*xstride+cols-1]
	_ = dst[(steps-1)*dstStride+rows-1]
	b = b[:rows]
	if len(s) > 0 {
		s = s[:rows]
	}
	if whole := n8 == cols; whole {
		mv4x2Q8(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, &b[0], firstOrNil(s), f == ReLU)
	} else {
		mv4x2Q8(&w[0], wstride, &x[0], xstride, n8, &dst[0], dstStride, r4, pairs, nil, nil, false)
	}
	for m := 0; m < 2*pairs; m++ {
		d, xm := dst[m*dstStride:m*dstStride+rows], x[m*xstride:m*xstride+cols]
		if r4 < rows {
			gemvQ8(d[r4:], w[r4*wstride:], wstride, xm, cols, false)
		}
		if n8 == cols {
			biasAct(d[r4:], from(s, r4), b[r4:], f)
			if f != Linear && f != ReLU {
				f.Apply(d[:r4])
			}
			continue
		}
		for o := 0; o < r4; o++ {
			d[o] += dotQ8(w[o*wstride+n8:o*wstride+cols], xm[n8:])
		}
		biasAct(d, s, b, f)
	}
	if m := steps - 1; steps%2 == 1 {
		gemvMultiQ8Each(dst[m*dstStride:], rows, dstStride, w, wstride, x[m*xstride:], xstride, cols, 1, s, b, f)
	}
}
