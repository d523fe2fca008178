//go:build purego || !(amd64 || arm64)

package infer

// useAsm is false: this build has only the portable kernels (no assembly
// for this architecture, or the purego tag is set).
var useAsm = false

// KernelName names the dense kernels in use, for benchmark reports.
func KernelName() string { return "go" }

func gemvAsm(dst, w, x []float32, cols int) { gemvGo(dst, w, x, cols) }

func gemvQ8Asm(dst []float32, w []int8, x []float32, cols int) { gemvQ8Go(dst, w, x, cols) }
