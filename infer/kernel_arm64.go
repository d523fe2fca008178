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
