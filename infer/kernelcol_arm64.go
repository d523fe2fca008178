//go:build !purego

package infer

// useCols selects the column kernels (kernelcol_arm64.s) for dense layers
// of at least colRows rows; they need only Advanced SIMD, as the other
// NEON kernels do (binary16 included: useAsmF16).
var useCols = useAsm

// colsF32 writes, for each of blocks blocks of colRows rows packed column
// by column at w (n columns each, one after another), f(b[o] + Σ_j
// w·x[j]) into dst[o], each row summed in column order with one fused
// multiply-add (FMLA) per weight; f is ReLU with relu and the identity
// otherwise.
//
//go:noescape
func colsF32(w *float32, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsF16 is colsF32 with binary16 weights, converted exactly to float32
// (FCVTL and FCVTL2).
//
//go:noescape
func colsF16(w *uint16, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)

// colsQ8 is colsF32 with int8 weights (SXTL, SXTL2 and SCVTF), each
// row's sum multiplied by s[o] before b[o] is added: a multiply and an
// add, each rounded, as on amd64, not the one fused multiply-add the row
// kernels (rows4Q8) and Go's epilogue use on arm64.
//
//go:noescape
func colsQ8(w *int8, x *float32, n int, dst *float32, blocks int, b *float32, s *float32, relu bool)
