//go:build !purego

package infer

// useAsmVec selects the vector loops of vector_amd64.s (AVX2): the
// scaling of each sample and the sums of its errors.
var useAsmVec = useAsm

// scaleFinite8 writes dst[i] = (x[i] − center[i])·inv[i] for i < n (a
// positive multiple of 8), eight at a time, and returns a non-zero mask
// when some dst[i] is NaN or infinite.
//
//go:noescape
func scaleFinite8(dst *float32, x *float32, center *float32, inv *float32, n int) uint32

// errSlots8 adds, for each of blocks blocks of c values (a positive
// multiple of 8) of f and r, one after another, (r − f)² or with abs
// |r − f| to pc[0..c).
//
//go:noescape
func errSlots8(pc *float32, f *float32, r *float32, c int, blocks int, abs bool)

// sumSlots8 returns the sum of s[0..n) (a positive multiple of 8) and
// multiplies each s[i] by inv as it is added.
//
//go:noescape
func sumSlots8(s *float32, n int, inv float32) float32
