//go:build purego || !(amd64 || arm64)

package infer

// useAsmMulti is false: this build has no multi-vector assembly (no
// assembly for this architecture, or the purego tag is set), so gemvMulti
// runs one gemv per vector.
const useAsmMulti = false

// gemvMultiAsm is never called in this build (useAsmMulti is false); it
// runs one gemv per vector.
func gemvMultiAsm(dst []float32, rows, dstStride int, w []float32, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiEach(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}

// gemvMultiQ8Asm is gemvMultiAsm with int8 weights.
func gemvMultiQ8Asm(dst []float32, rows, dstStride int, w []int8, wstride int, x []float32, xstride, cols, steps int, s, b []float32, f Activation) {
	gemvMultiQ8Each(dst, rows, dstStride, w, wstride, x, xstride, cols, steps, s, b, f)
}
