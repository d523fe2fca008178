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

// rows4F32 writes, for each block of four rows of w (rows is a multiple
// of 4, row o at w + o·stride), the dot products with x over n elements
// (a multiple of 8), finished as they are stored: dst[o] = f(b[o] +
// s[o]·dot), without s or b when nil, f ReLU with relu and the identity
// otherwise. b may be dst (to accumulate). One call covers the layer, so
// short rows do not pay a call per block. b + s·dot is one fused
// multiply-add (FMLA), as Go computes epilogue's b + s·d on arm64
// (FMADDS), and ReLU keeps −0 and NaN as Activation.Apply does, so the
// results are those of the row sums followed by epilogue, bit for bit.
//
//go:noescape
func rows4F32(w *float32, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)

// rows4Q8 is rows4F32 with int8 weights, converted to float32 eight at a
// time (SXTL and SCVTF).
//
//go:noescape
func rows4Q8(w *int8, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)

// rows4F16 is rows4F32 with binary16 weights, converted to float32
// exactly eight at a time (FCVTL and FCVTL2).
//
//go:noescape
func rows4F16(w *uint16, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
