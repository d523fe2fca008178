package infer

// The dense kernels: dst[o] = Σ_i w[o*cols+i]·x[i] for every row o. They
// dispatch to assembly (kernel_amd64.s: AVX2 + FMA, four rows at a time)
// when the CPU has it and the purego build tag is not set, and otherwise
// to the portable loops below, which are also the reference the assembly
// is tested against.

// gemv writes the dot product of each row of w (len(dst) rows of cols
// values) with x into dst.
func gemv(dst, w, x []float32, cols int) {
	if useAsm && cols >= 8 {
		gemvAsm(dst, w, x, cols)
		return
	}
	gemvGo(dst, w, x, cols)
}

// gemvQ8 is gemv with int8 weights (dequantised on the fly; the caller
// applies the per-row scale).
func gemvQ8(dst []float32, w []int8, x []float32, cols int) {
	if useAsm && cols >= 8 {
		gemvQ8Asm(dst, w, x, cols)
		return
	}
	gemvQ8Go(dst, w, x, cols)
}

func gemvGo(dst, w, x []float32, cols int) {
	w = w[:len(dst)*cols]
	for o := range dst {
		dst[o] = dot(w[o*cols:o*cols+cols], x)
	}
}

func gemvQ8Go(dst []float32, w []int8, x []float32, cols int) {
	w = w[:len(dst)*cols]
	for o := range dst {
		dst[o] = dotQ8(w[o*cols:o*cols+cols], x)
	}
}

// dot returns Σ a[i]·b[i] over len(a) elements, accumulating in four
// independent sums so the loop is not bound by one add's latency.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotQ8 returns Σ q[i]·x[i], dequantising on the fly, in four sums.
func dotQ8(q []int8, x []float32) float32 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += float32(q[i]) * x[i]
		s1 += float32(q[i+1]) * x[i+1]
		s2 += float32(q[i+2]) * x[i+2]
		s3 += float32(q[i+3]) * x[i+3]
	}
	for ; i < len(q); i++ {
		s0 += float32(q[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
