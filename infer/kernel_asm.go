//go:build !purego && (amd64 || arm64)

package infer

// The assembly kernels (kernel_amd64.s: AVX2 + FMA, F16C for binary16;
// kernel_arm64.s: NEON) share these signatures and wrappers. Each computes
// whole blocks of eight columns; the wrappers add the remaining columns in
// Go. blocks4F32, blocks4Q8 and blocks4F16 run the rows4 kernels
// (declared in kernel_amd64.go and kernel_arm64.go) over every block of
// four rows, finishing each block as it is stored.

// dot1F32 returns the dot product of w and x over n elements (a multiple
// of 8).
//
//go:noescape
func dot1F32(w *float32, x *float32, n int) float32

// dot1Q8 and dot1F16 are dot1F32 with int8 and binary16 weights,
// converted to float32 eight at a time.
//
//go:noescape
func dot1Q8(w *int8, x *float32, n int) float32

//go:noescape
func dot1F16(w *uint16, x *float32, n int) float32

// ptr returns &s[0], or nil for an empty s.
func ptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// blocks4F32 runs rows4F32 over len(dst) rows (a multiple of 4; the
// caller has checked that w holds them) with b and s nil or at least
// len(dst) long.
func blocks4F32(dst, w []float32, stride int, x []float32, n int, b, s []float32, relu bool) {
	rows4F32(&w[0], stride, &x[0], n, &dst[0], len(dst), ptr(b), ptr(s), relu)
}

// blocks4Q8 is blocks4F32 with int8 weights, on rows4Q8.
func blocks4Q8(dst []float32, w []int8, stride int, x []float32, n int, b, s []float32, relu bool) {
	rows4Q8(&w[0], stride, &x[0], n, &dst[0], len(dst), ptr(b), ptr(s), relu)
}

// blocks4F16 is blocks4F32 with binary16 weights, on rows4F16.
func blocks4F16(dst []float32, w []uint16, stride int, x []float32, n int, b, s []float32, relu bool) {
	rows4F16(&w[0], stride, &x[0], n, &dst[0], len(dst), ptr(b), ptr(s), relu)
}

func gemvAsm(dst, w []float32, stride int, x []float32, cols int, acc bool) {
	x = x[:cols]
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	if r4 > 0 {
		_ = w[(r4-1)*stride+cols-1] // every row of every block is in range
		var b []float32
		if acc {
			b = dst[:r4] // each block adds what it overwrites
		}
		blocks4F32(dst[:r4], w, stride, x, n8, b, nil, false)
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*stride+cols-1]
		store1(dst, o, dot1F32(&w[o*stride], &x[0], n8), acc)
	}
	if n8 < cols {
		for o := range dst {
			dst[o] += dot(w[o*stride+n8:o*stride+cols], x[n8:])
		}
	}
}

func gemvQ8Asm(dst []float32, w []int8, stride int, x []float32, cols int, acc bool) {
	x = x[:cols]
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	if r4 > 0 {
		_ = w[(r4-1)*stride+cols-1]
		var b []float32
		if acc {
			b = dst[:r4]
		}
		blocks4Q8(dst[:r4], w, stride, x, n8, b, nil, false)
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*stride+cols-1]
		store1(dst, o, dot1Q8(&w[o*stride], &x[0], n8), acc)
	}
	if n8 < cols {
		for o := range dst {
			dst[o] += dotQ8(w[o*stride+n8:o*stride+cols], x[n8:])
		}
	}
}

func gemvF16Asm(dst []float32, w []uint16, stride int, x []float32, cols int, acc bool) {
	x = x[:cols]
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	if r4 > 0 {
		_ = w[(r4-1)*stride+cols-1]
		var b []float32
		if acc {
			b = dst[:r4]
		}
		blocks4F16(dst[:r4], w, stride, x, n8, b, nil, false)
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*stride+cols-1]
		store1(dst, o, dot1F16(&w[o*stride], &x[0], n8), acc)
	}
	if n8 < cols {
		for o := range dst {
			dst[o] += dotF16(w[o*stride+n8:o*stride+cols], x[n8:])
		}
	}
}

func store1(dst []float32, o int, v float32, acc bool) {
	if acc {
		dst[o] += v
		return
	}
	dst[o] = v
}

// When the columns are a whole number of eight-column blocks, the
// assembly finishes the blocks of four rows itself (bias, int8 scale,
// ReLU); other activations are then applied to those rows in Go. With a
// column tail, the rows are finished in Go after the tail is added.

func denseF32Asm(dst, w, x, b []float32, act Activation) {
	cols := len(x)
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	whole := n8 == cols
	if r4 > 0 {
		_ = w[r4*cols-1]
		if whole {
			blocks4F32(dst[:r4], w, cols, x, n8, b[:r4], nil, act == ReLU)
		} else {
			blocks4F32(dst[:r4], w, cols, x, n8, nil, nil, false)
		}
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*cols+cols-1]
		dst[o] = dot1F32(&w[o*cols], &x[0], n8)
	}
	if whole {
		epilogue(dst[r4:], b[r4:], nil, act)
		finishAct(dst[:r4], act)
		return
	}
	for o := range dst {
		dst[o] += dot(w[o*cols+n8:o*cols+cols], x[n8:])
	}
	epilogue(dst, b, nil, act)
}

func denseQ8Asm(dst []float32, w []int8, x, b, s []float32, act Activation) {
	cols := len(x)
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	whole := n8 == cols
	if r4 > 0 {
		_ = w[r4*cols-1]
		if whole {
			blocks4Q8(dst[:r4], w, cols, x, n8, b[:r4], s[:r4], act == ReLU)
		} else {
			blocks4Q8(dst[:r4], w, cols, x, n8, nil, nil, false)
		}
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*cols+cols-1]
		dst[o] = dot1Q8(&w[o*cols], &x[0], n8)
	}
	if whole {
		epilogue(dst[r4:], b[r4:], s[r4:], act)
		finishAct(dst[:r4], act)
		return
	}
	for o := range dst {
		dst[o] += dotQ8(w[o*cols+n8:o*cols+cols], x[n8:])
	}
	epilogue(dst, b, s, act)
}

func denseF16Asm(dst []float32, w []uint16, x, b []float32, act Activation) {
	cols := len(x)
	n8 := cols &^ 7
	r4 := len(dst) &^ 3
	whole := n8 == cols
	if r4 > 0 {
		_ = w[r4*cols-1]
		if whole {
			blocks4F16(dst[:r4], w, cols, x, n8, b[:r4], nil, act == ReLU)
		} else {
			blocks4F16(dst[:r4], w, cols, x, n8, nil, nil, false)
		}
	}
	for o := r4; o < len(dst); o++ {
		_ = w[o*cols+cols-1]
		dst[o] = dot1F16(&w[o*cols], &x[0], n8)
	}
	if whole {
		epilogue(dst[r4:], b[r4:], nil, act)
		finishAct(dst[:r4], act)
		return
	}
	for o := range dst {
		dst[o] += dotF16(w[o*cols+n8:o*cols+cols], x[n8:])
	}
	epilogue(dst, b, nil, act)
}

// finishAct applies act to rows the assembly has finished except for
// the activation: everything but linear and ReLU, which it applies.
func finishAct(d []float32, act Activation) {
	if act != Linear && act != ReLU {
		act.Apply(d)
	}
}
