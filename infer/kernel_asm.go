//go:build !purego && (amd64 || arm64)

package infer

// The assembly kernels (kernel_amd64.s: AVX2 + FMA, F16C for binary16;
// kernel_arm64.s: NEON)
// share these signatures and wrappers. Each computes whole blocks of
// eight columns; the wrappers add the remaining columns in Go.

// dot4F32 writes into dst[0:4] the dot products of x with the four rows
// of w starting at w, w+stride, w+2·stride, w+3·stride, over n elements
// (a multiple of 8).
//
//go:noescape
func dot4F32(w *float32, stride int, x *float32, n int, dst *float32)

// dot1F32 returns the dot product of w and x over n elements (a multiple
// of 8).
//
//go:noescape
func dot1F32(w *float32, x *float32, n int) float32

// dot4Q8 and dot1Q8 are dot4F32 and dot1F32 with int8 weights,
// converted to float32 eight at a time.
//
//go:noescape
func dot4Q8(w *int8, stride int, x *float32, n int, dst *float32)

//go:noescape
func dot1Q8(w *int8, x *float32, n int) float32

// dot4F16 and dot1F16 are dot4F32 and dot1F32 with binary16 weights,
// converted to float32 eight at a time (VCVTPH2PS; FCVTL and FCVTL2).
//
//go:noescape
func dot4F16(w *uint16, stride int, x *float32, n int, dst *float32)

//go:noescape
func dot1F16(w *uint16, x *float32, n int) float32

func gemvAsm(dst, w []float32, stride int, x []float32, cols int, acc bool) {
	x = x[:cols]
	n8 := cols &^ 7
	var tmp [4]float32
	o := 0
	for ; o+4 <= len(dst); o += 4 {
		_ = w[(o+3)*stride+cols-1] // the four rows are in range
		if !acc {
			_ = dst[o+3]
			dot4F32(&w[o*stride], stride, &x[0], n8, &dst[o])
			continue
		}
		dot4F32(&w[o*stride], stride, &x[0], n8, &tmp[0])
		d := dst[o : o+4 : o+4]
		d[0], d[1], d[2], d[3] = d[0]+tmp[0], d[1]+tmp[1], d[2]+tmp[2], d[3]+tmp[3]
	}
	for ; o < len(dst); o++ {
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
	var tmp [4]float32
	o := 0
	for ; o+4 <= len(dst); o += 4 {
		_ = w[(o+3)*stride+cols-1]
		if !acc {
			_ = dst[o+3]
			dot4Q8(&w[o*stride], stride, &x[0], n8, &dst[o])
			continue
		}
		dot4Q8(&w[o*stride], stride, &x[0], n8, &tmp[0])
		d := dst[o : o+4 : o+4]
		d[0], d[1], d[2], d[3] = d[0]+tmp[0], d[1]+tmp[1], d[2]+tmp[2], d[3]+tmp[3]
	}
	for ; o < len(dst); o++ {
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
	var tmp [4]float32
	o := 0
	for ; o+4 <= len(dst); o += 4 {
		_ = w[(o+3)*stride+cols-1]
		if !acc {
			_ = dst[o+3]
			dot4F16(&w[o*stride], stride, &x[0], n8, &dst[o])
			continue
		}
		dot4F16(&w[o*stride], stride, &x[0], n8, &tmp[0])
		d := dst[o : o+4 : o+4]
		d[0], d[1], d[2], d[3] = d[0]+tmp[0], d[1]+tmp[1], d[2]+tmp[2], d[3]+tmp[3]
	}
	for ; o < len(dst); o++ {
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
