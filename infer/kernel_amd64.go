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
