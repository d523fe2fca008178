//go:build purego || !amd64

package train

// haveKernel says there is no assembly micro-kernel: gemm uses its Go
// blocks throughout.
const haveKernel = false

func kernel4x8(c *float32, ldc int, a *float32, ais, aps int, b *float32, ldb int, k int) {
	panic("train: no kernel4x8 on this architecture")
}
