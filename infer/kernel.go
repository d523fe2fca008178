package infer

// The dense kernels: dst[o] = Σ_i w[o*cols+i]·x[i] for every row o, with
// float32, int8 or binary16 weights (gemv*), and the layers' form of them
// (dense*), which also finishes each row as f(b[o] + s[o]·dst[o]) while
// its block of rows is in registers or L1, instead of in separate passes
// over the output. They dispatch to assembly (kernel_amd64.s: AVX2 + FMA,
// and F16C for binary16; kernel_arm64.s: NEON; four rows at a time) when
// the CPU has it and the purego build tag is not set, and otherwise to the
// portable loops below, which are also the reference the assembly is
// tested against.

// gemv writes the dot product of each row of w with x into dst: row o
// is w[o*stride : o*stride+cols], and len(dst) rows are read. With acc it
// adds the products to dst instead.
func gemv(dst, w []float32, stride int, x []float32, cols int, acc bool) {
	if useAsm && cols >= 8 {
		gemvAsm(dst, w, stride, x, cols, acc)
		return
	}
	gemvGo(dst, w, stride, x, cols, acc)
}

// gemvQ8 is gemv with int8 weights (dequantised on the fly; the caller
// applies the per-row scale).
func gemvQ8(dst []float32, w []int8, stride int, x []float32, cols int, acc bool) {
	if useAsm && cols >= 8 {
		gemvQ8Asm(dst, w, stride, x, cols, acc)
		return
	}
	gemvQ8Go(dst, w, stride, x, cols, acc)
}

// gemvF16 is gemv with binary16 weights (bit patterns, converted to
// float32 exactly on the fly).
func gemvF16(dst []float32, w []uint16, stride int, x []float32, cols int, acc bool) {
	if useAsmF16 && cols >= 8 {
		gemvF16Asm(dst, w, stride, x, cols, acc)
		return
	}
	gemvF16Go(dst, w, stride, x, cols, acc)
}

// denseF32 writes act(W·x + b) into dst: W holds len(dst) rows of len(x)
// weights, b at least len(dst) biases.
func denseF32(dst, w, x, b []float32, act Activation) {
	if useAsm && len(x) >= 8 {
		denseF32Asm(dst, w, x, b, act)
		return
	}
	denseF32Go(dst, w, x, b, act)
}

// denseQ8 writes act(b + s·(Q·x)) into dst: Q holds len(dst) rows of
// len(x) int8 weights, s and b at least len(dst) scales and biases.
func denseQ8(dst []float32, w []int8, x, b, s []float32, act Activation) {
	if useAsm && len(x) >= 8 {
		denseQ8Asm(dst, w, x, b, s, act)
		return
	}
	denseQ8Go(dst, w, x, b, s, act)
}

// denseF16 is denseF32 with binary16 weights.
func denseF16(dst []float32, w []uint16, x, b []float32, act Activation) {
	if useAsmF16 && len(x) >= 8 {
		denseF16Asm(dst, w, x, b, act)
		return
	}
	denseF16Go(dst, w, x, b, act)
}

// epilogue finishes the row sums d: d[i] = act(b[i] + s[i]·d[i]), without
// the product when s is nil. The float32 operations and their order are
// the ones the layers have always used, so the results do not change.
func epilogue(d, b, s []float32, act Activation) {
	b = b[:len(d)]
	if s != nil {
		s = s[:len(d)]
		for i, v := range d {
			d[i] = b[i] + s[i]*v
		}
	} else {
		for i, v := range d {
			d[i] = v + b[i]
		}
	}
	act.Apply(d)
}

// The portable dense loops: the row sums, then one epilogue over the
// output.

func denseF32Go(dst, w, x, b []float32, act Activation) {
	gemvGo(dst, w, len(x), x, len(x), false)
	epilogue(dst, b, nil, act)
}

func denseQ8Go(dst []float32, w []int8, x, b, s []float32, act Activation) {
	gemvQ8Go(dst, w, len(x), x, len(x), false)
	epilogue(dst, b, s, act)
}

func denseF16Go(dst []float32, w []uint16, x, b []float32, act Activation) {
	gemvF16Go(dst, w, len(x), x, len(x), false)
	epilogue(dst, b, nil, act)
}

func gemvGo(dst, w []float32, stride int, x []float32, cols int, acc bool) {
	for o := range dst {
		v := dot(w[o*stride:o*stride+cols], x)
		if acc {
			v += dst[o]
		}
		dst[o] = v
	}
}

func gemvQ8Go(dst []float32, w []int8, stride int, x []float32, cols int, acc bool) {
	for o := range dst {
		v := dotQ8(w[o*stride:o*stride+cols], x)
		if acc {
			v += dst[o]
		}
		dst[o] = v
	}
}

func gemvF16Go(dst []float32, w []uint16, stride int, x []float32, cols int, acc bool) {
	for o := range dst {
		v := dotF16(w[o*stride:o*stride+cols], x)
		if acc {
			v += dst[o]
		}
		dst[o] = v
	}
}

// dot returns Σ a[i]·b[i] over len(a) elements (b at least as long),
// accumulating in four independent sums so the loop is not bound by one
// add's latency. The loop is written so the compiler proves every index
// in range (make bce lists what it could not).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	for len(a) >= 4 && len(b) >= 4 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		a, b = a[4:], b[4:]
	}
	b = b[:len(a)] // restates the lengths for the tail loop
	for i, v := range a {
		s0 += v * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotQ8 returns Σ q[i]·x[i] over len(q) elements (x at least as long),
// dequantising on the fly, in four sums.
func dotQ8(q []int8, x []float32) float32 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float32
	for len(q) >= 4 && len(x) >= 4 {
		s0 += float32(q[0]) * x[0]
		s1 += float32(q[1]) * x[1]
		s2 += float32(q[2]) * x[2]
		s3 += float32(q[3]) * x[3]
		q, x = q[4:], x[4:]
	}
	x = x[:len(q)] // restates the lengths for the tail loop
	for i, v := range q {
		s0 += float32(v) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotF16 returns Σ h[i]·x[i] over len(h) elements (x at least as long),
// converting the binary16 weights exactly, in four sums.
func dotF16(h []uint16, x []float32) float32 {
	x = x[:len(h)]
	var s0, s1, s2, s3 float32
	for len(h) >= 4 && len(x) >= 4 {
		s0 += HalfToFloat32(h[0]) * x[0]
		s1 += HalfToFloat32(h[1]) * x[1]
		s2 += HalfToFloat32(h[2]) * x[2]
		s3 += HalfToFloat32(h[3]) * x[3]
		h, x = h[4:], x[4:]
	}
	x = x[:len(h)] // restates the lengths for the tail loop
	for i, v := range h {
		s0 += HalfToFloat32(v) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
