//go:build !purego

package infer

import "golang.org/x/sys/cpu"

// useAsm selects the NEON kernels (every arm64 core has Advanced SIMD).
var useAsm = cpu.ARM64.HasASIMD

// useAsmF16 selects the binary16 kernels: the half→single conversion
// (FCVTL) is part of the base Advanced SIMD instruction set.
var useAsmF16 = useAsm

// KernelName names the dense kernels in use, for benchmark reports.
func KernelName() string {
	if useAsm {
		return "neon"
	}
	return "go"
}

// dot4F32 writes into dst[0:4] the dot products of x with the four rows
// of w starting at w, w+stride, w+2·stride, w+3·stride, over n elements
// (a multiple of 8).
//
//go:noescape
func dot4F32(w *float32, stride int, x *float32, n int, dst *float32)

// dot4Q8 and dot4F16 are dot4F32 with int8 and binary16 weights,
// converted to float32 eight at a time (SXTL and SCVTF; FCVTL and FCVTL2).
//
//go:noescape
func dot4Q8(w *int8, stride int, x *float32, n int, dst *float32)

//go:noescape
func dot4F16(w *uint16, stride int, x *float32, n int, dst *float32)

// blocks4F32 writes, for each block of four rows of w (len(dst) is a
// multiple of 4, row o at w[o·stride:]; the caller has checked that w
// holds them), the dot products with x over n elements (a multiple of 8),
// finished as each block is stored: dst[o] = f(b[o] + s[o]·dot), without
// s or b when nil (else at least len(dst) long; s only with b), f ReLU
// with relu and the identity otherwise. b may be dst (to accumulate).
func blocks4F32(dst, w []float32, stride int, x []float32, n int, b, s []float32, relu bool) {
	var t [4]float32
	for o := 0; o+4 <= len(dst); o += 4 {
		dot4F32(&w[o*stride], stride, &x[0], n, &t[0])
		finish4(dst[o:o+4:o+4], &t, b, s, o, relu)
	}
}

func blocks4Q8(dst []float32, w []int8, stride int, x []float32, n int, b, s []float32, relu bool) {
	var t [4]float32
	for o := 0; o+4 <= len(dst); o += 4 {
		dot4Q8(&w[o*stride], stride, &x[0], n, &t[0])
		finish4(dst[o:o+4:o+4], &t, b, s, o, relu)
	}
}

func blocks4F16(dst []float32, w []uint16, stride int, x []float32, n int, b, s []float32, relu bool) {
	var t [4]float32
	for o := 0; o+4 <= len(dst); o += 4 {
		dot4F16(&w[o*stride], stride, &x[0], n, &t[0])
		finish4(dst[o:o+4:o+4], &t, b, s, o, relu)
	}
}

// finish4 stores the four sums t of rows o..o+3 into d as blocks4F32
// describes. b + s·t is one expression, as in epilogue, so that the
// compiler fuses it the same way (FMADDS).
func finish4(d []float32, t *[4]float32, b, s []float32, o int, relu bool) {
	switch {
	case s != nil:
		b, s := b[o:o+4:o+4], s[o:o+4:o+4]
		t[0], t[1], t[2], t[3] = b[0]+s[0]*t[0], b[1]+s[1]*t[1], b[2]+s[2]*t[2], b[3]+s[3]*t[3]
	case b != nil:
		b := b[o : o+4 : o+4]
		t[0], t[1], t[2], t[3] = t[0]+b[0], t[1]+b[1], t[2]+b[2], t[3]+b[3]
	}
	for i, v := range t {
		if relu && v < 0 {
			v = 0
		}
		d[i] = v
	}
}
