//go:build !purego

package infer

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA kernels when the CPU has both.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAsmF16 selects the binary16 kernels, which also need F16C
// (VCVTPH2PS). x/sys/cpu does not report F16C, so hasF16C asks CPUID.
var useAsmF16 = useAsm && hasF16C()

// hasF16C reports CPUID leaf 1's F16C bit (ECX bit 29). The OS support
// for the YMM registers it needs is part of useAsm (HasAVX2).
func hasF16C() bool { return cpuid1ECX()&(1<<29) != 0 }

// cpuid1ECX returns ECX from CPUID leaf 1.
func cpuid1ECX() uint32

// KernelName names the dense kernels in use, for benchmark reports.
func KernelName() string {
	if useAsm {
		return "avx2-fma"
	}
	return "go"
}

// rows4F32 writes, for each block of four rows of w (rows is a multiple
// of 4, row o at w + o·stride), the dot products with x over n elements
// (a multiple of 8), finished as they are stored: dst[o] = f(b[o] +
// s[o]·dot), without s or b when nil, f ReLU with relu and the identity
// otherwise. b may be dst (to accumulate). One call covers the layer, so
// short rows do not pay a call per block.
//
//go:noescape
func rows4F32(w *float32, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)

// rows4Q8 and rows4F16 are rows4F32 with int8 and binary16 weights.
//
//go:noescape
func rows4Q8(w *int8, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)

//go:noescape
func rows4F16(w *uint16, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
