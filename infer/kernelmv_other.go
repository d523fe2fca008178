//go:build purego || !amd64

package infer

// useAsmMulti is false: this build has no multi-vector assembly, so
// gemvMulti runs one gemv per vector (on arm64 those use the NEON dense
// kernels).
const useAsmMulti = false

func gemvMultiAsm(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiEach(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

func gemvMultiQ8Asm(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiQ8Each(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}
