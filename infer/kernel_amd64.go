//go:build !purego

package infer

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA kernels when the CPU has both.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// KernelName names the dense kernels in use, for benchmark reports.
func KernelName() string {
	if useAsm {
		return "avx2-fma"
	}
	return "go"
}
