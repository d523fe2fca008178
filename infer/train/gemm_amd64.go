//go:build !purego

package train

// haveKernel says kernel4x8 is the SSE micro-kernel of gemm_amd64.s.
const haveKernel = true

// kernel4x8 adds four rows × eight columns of a product to C, summing
// each element in order of p: C[i][j] += Σ_{p<k} A(i, p)·B[p][j], where
// A(i, p) is a[i·ais + p·aps] (ais, aps = lda, 1 for A, or 1, lda for
// Aᵀ), C's rows are ldc apart and B's ldb (all strides in elements).
// Each lane multiplies and adds separately, as scalar code does, so the
// sums are bit-identical to the scalar loops. The caller checks bounds.
//
//go:noescape
func kernel4x8(c *float32, ldc int, a *float32, ais, aps int, b *float32, ldb int, k int)
