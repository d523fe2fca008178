//go:build purego || !amd64

package infer

// useAsmVec is false: this build scales each sample and sums its errors
// with the portable loops alone.
const useAsmVec = false

// scaleFinite8 is never called in this build (useAsmVec is false).
func scaleFinite8(dst *float32, x *float32, center *float32, inv *float32, n int) uint32 {
	panic("infer: no vector kernels in this build")
}

// errSlots8 is never called in this build (useAsmVec is false).
func errSlots8(pc *float32, f *float32, r *float32, c int, blocks int, abs bool) {
	panic("infer: no vector kernels in this build")
}

// sumSlots8 is never called in this build (useAsmVec is false).
func sumSlots8(s *float32, n int, inv float32) float32 {
	panic("infer: no vector kernels in this build")
}
