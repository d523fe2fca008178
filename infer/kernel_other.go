//go:build purego || !(amd64 || arm64)

package infer

// useAsm is false: this build has only the portable kernels (no assembly
// for this architecture, or the purego tag is set).
var useAsm = false

// useAsmF16 is false for the same reasons.
var useAsmF16 = false

// KernelName names the dense kernels in use, for benchmark reports.
func KernelName() string { return "go" }

func gemvAsm(dst, w []float32, stride int, x []float32, cols int, acc bool) {
	gemvGo(dst, w, stride, x, cols, acc)
}

func gemvQ8Asm(dst []float32, w []int8, stride int, x []float32, cols int, acc bool) {
	gemvQ8Go(dst, w, stride, x, cols, acc)
}

func gemvF16Asm(dst []float32, w []uint16, stride int, x []float32, cols int, acc bool) {
	gemvF16Go(dst, w, stride, x, cols, acc)
}

func denseF32Asm(dst, w, x, b []float32, act Activation) {
	denseF32Go(dst, w, x, b, act)
}

func denseQ8Asm(dst []float32, w []int8, x, b, s []float32, act Activation) {
	denseQ8Go(dst, w, x, b, s, act)
}

func denseF16Asm(dst []float32, w []uint16, x, b []float32, act Activation) {
	denseF16Go(dst, w, x, b, act)
}
