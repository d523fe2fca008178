//go:build !purego

package infer

// useCols selects the column kernels (kernelcol_amd64.s) for dense layers
// of at least colRows rows; they need AVX2 and FMA, and F16C for binary16
// weights (useAsmF16).
var useCols = useAsm

// colsF32 writes, for each of blocks blocks of colRows rows packed column
// by column at w (n columns each, one after another), f(b[o] + Σ_j
// w·x[j]) into dst[o], each row summed in column order with one fused
// multiply-add per weight; f is ReLU with relu and the identity
// otherwise.
//
//go:noescape
func colsF32(w *float32, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsF16 is colsF32 with binary16 weights, converted exactly eight at a
// time (VCVTPH2PS).
//
//go:noescape
func colsF16(w *uint16, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsQ8 is colsF32 with int8 weights, each row's sum multiplied by
// s[o] before b[o] is added.
//
//go:noescape
func colsQ8(w *int8, x *float32, n int, dst *float32, blocks int, b *float32, s *float32, relu bool)
