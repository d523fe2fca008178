//go:build !purego

#include "textflag.h"

#include "neon_arm64.h"

// The column kernels hold 64 rows' sums in V0..V15 (rows 4i..4i+3 in
// Vi) and walk the packed weights (kernelcol.go) one column at a time:
// each column's 64 weights times x[j] broadcast into V16 (LD1R), one
// fused multiply-add (FMLA) per weight. Every row is one running sum in
// column order, and each weight and x[j] is read once per block of 64
// rows. V17..V31 hold the column's weights and, after the columns, the
// block's scales and biases.
//
// Register use: R0 the weights (advanced through every block), R1 and R2
// x and the columns left (reset for each block from R8 and R9), R3 the
// results, R4 the blocks left, R5 b and R6 s (advanced a block at a
// time), R7 relu.

// BLOCK16 starts a block: x, the column count and the accumulators.
#define BLOCK16 \
	MOVD R8, R1 \
	MOVD R9, R2 \
	ZERO16

// FMA4 adds the products of the four vectors of weights w0..w3 with x
// in V16 to the accumulators a0..a3.
#define FMA4(w0, w1, w2, w3, a0, a1, a2, a3) \
	VFMLA V16.S4, w0.S4, a0.S4 \
	VFMLA V16.S4, w1.S4, a1.S4 \
	VFMLA V16.S4, w2.S4, a2.S4 \
	VFMLA V16.S4, w3.S4, a3.S4

// SCALE16 multiplies the sums by the 64 scales at R6 (int8 weights), as
// a separate multiply (FMUL, sum·s, rounded before the bias is added),
// and moves R6 to the next block.
#define SCALE16 \
	VLD1.P 64(R6), [V16.S4, V17.S4, V18.S4, V19.S4] \
	VLD1.P 64(R6), [V20.S4, V21.S4, V22.S4, V23.S4] \
	VLD1.P 64(R6), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VLD1.P 64(R6), [V28.S4, V29.S4, V30.S4, V31.S4] \
	FMUL4S(16, 0, 0) \
	FMUL4S(17, 1, 1) \
	FMUL4S(18, 2, 2) \
	FMUL4S(19, 3, 3) \
	FMUL4S(20, 4, 4) \
	FMUL4S(21, 5, 5) \
	FMUL4S(22, 6, 6) \
	FMUL4S(23, 7, 7) \
	FMUL4S(24, 8, 8) \
	FMUL4S(25, 9, 9) \
	FMUL4S(26, 10, 10) \
	FMUL4S(27, 11, 11) \
	FMUL4S(28, 12, 12) \
	FMUL4S(29, 13, 13) \
	FMUL4S(30, 14, 14) \
	FMUL4S(31, 15, 15)

// RELU zeroes the lanes of Va < 0 (FCMLT against 0 into the mask Vm,
// then BIT from the zero register V16), so −0 and NaN are kept, as
// Activation.Apply keeps them; a and m are the registers' numbers, va
// and vm their names.
#define RELU(a, m, va, vm) \
	FCMLTZ4S(a, m) \
	VBIT vm.B16, V16.B16, va.B16

// FINISH16 adds the 64 biases at R5 to the sums (a separate add, sum +
// b), applies ReLU when R7 is set, stores the 64 outputs at R3 and moves
// R3 and R5 to the next block.
#define FINISH16 \
	VLD1.P 64(R5), [V16.S4, V17.S4, V18.S4, V19.S4] \
	VLD1.P 64(R5), [V20.S4, V21.S4, V22.S4, V23.S4] \
	VLD1.P 64(R5), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VLD1.P 64(R5), [V28.S4, V29.S4, V30.S4, V31.S4] \
	FADD4S(16, 0, 0) \
	FADD4S(17, 1, 1) \
	FADD4S(18, 2, 2) \
	FADD4S(19, 3, 3) \
	FADD4S(20, 4, 4) \
	FADD4S(21, 5, 5) \
	FADD4S(22, 6, 6) \
	FADD4S(23, 7, 7) \
	FADD4S(24, 8, 8) \
	FADD4S(25, 9, 9) \
	FADD4S(26, 10, 10) \
	FADD4S(27, 11, 11) \
	FADD4S(28, 12, 12) \
	FADD4S(29, 13, 13) \
	FADD4S(30, 14, 14) \
	FADD4S(31, 15, 15) \
	CBZ  R7, store \
	VEOR V16.B16, V16.B16, V16.B16 \
	RELU(0, 17, V0, V17) \
	RELU(1, 18, V1, V18) \
	RELU(2, 19, V2, V19) \
	RELU(3, 20, V3, V20) \
	RELU(4, 21, V4, V21) \
	RELU(5, 22, V5, V22) \
	RELU(6, 23, V6, V23) \
	RELU(7, 24, V7, V24) \
	RELU(8, 25, V8, V25) \
	RELU(9, 26, V9, V26) \
	RELU(10, 27, V10, V27) \
	RELU(11, 28, V11, V28) \
	RELU(12, 29, V12, V29) \
	RELU(13, 30, V13, V30) \
	RELU(14, 31, V14, V31) \
	RELU(15, 17, V15, V17) \
store: \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R3) \
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R3) \
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], 64(R3) \
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], 64(R3)

// ARGS loads the arguments the three kernels share.
#define ARGS \
	MOVD w+0(FP), R0 \
	MOVD x+8(FP), R8 \
	MOVD n+16(FP), R9 \
	MOVD dst+24(FP), R3 \
	MOVD blocks+32(FP), R4 \
	MOVD b+40(FP), R5

// func colsF32(w *float32, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)
TEXT ·colsF32(SB), NOSPLIT, $0-49
	ARGS
	MOVBU relu+48(FP), R7

cfblock:
	CBZ R4, cfend
	BLOCK16
	CBZ R2, cfdone

cfcol:
	VLD1R.P 4(R1), [V16.S4]
	VLD1.P  64(R0), [V20.S4, V21.S4, V22.S4, V23.S4]
	VLD1.P  64(R0), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P  64(R0), [V28.S4, V29.S4, V30.S4, V31.S4]
	FMA4(V20, V21, V22, V23, V0, V1, V2, V3)
	VLD1.P  64(R0), [V20.S4, V21.S4, V22.S4, V23.S4]
	FMA4(V24, V25, V26, V27, V4, V5, V6, V7)
	FMA4(V28, V29, V30, V31, V8, V9, V10, V11)
	FMA4(V20, V21, V22, V23, V12, V13, V14, V15)
	SUBS    $1, R2, R2
	BNE     cfcol

cfdone:
	FINISH16
	SUB $1, R4, R4
	B   cfblock

cfend:
	RET

// func colsF16(w *uint16, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)
// is colsF32 with binary16 weights, widened exactly by FCVTL and FCVTL2:
// each half of the column's 64 weights is loaded into V20..V23 and
// widened into V24..V31.
TEXT ·colsF16(SB), NOSPLIT, $0-49
	ARGS
	MOVBU relu+48(FP), R7

chblock:
	CBZ R4, chend
	BLOCK16
	CBZ R2, chdone

chcol:
	VLD1R.P 4(R1), [V16.S4]
	VLD1.P  64(R0), [V20.H8, V21.H8, V22.H8, V23.H8]
	HWIDEN(20, 24, 25)
	HWIDEN(21, 26, 27)
	HWIDEN(22, 28, 29)
	HWIDEN(23, 30, 31)
	VLD1.P  64(R0), [V20.H8, V21.H8, V22.H8, V23.H8]
	FMA4(V24, V25, V26, V27, V0, V1, V2, V3)
	FMA4(V28, V29, V30, V31, V4, V5, V6, V7)
	HWIDEN(20, 24, 25)
	HWIDEN(21, 26, 27)
	HWIDEN(22, 28, 29)
	HWIDEN(23, 30, 31)
	FMA4(V24, V25, V26, V27, V8, V9, V10, V11)
	FMA4(V28, V29, V30, V31, V12, V13, V14, V15)
	SUBS    $1, R2, R2
	BNE     chcol

chdone:
	FINISH16
	SUB $1, R4, R4
	B   chblock

chend:
	RET

// QCVT16(b, t, u, v) widens the 16 int8 in V(b) to float32: elements
// 0-3 into V(b), 4-7 into V(u), 8-11 into V(t) and 12-15 into V(v).
#define QCVT16(b, t, u, v) \
	SXTL28H(b, t) \
	WIDEN(b, b, u) \
	WIDENH(t, t, v)

// func colsQ8(w *int8, x *float32, n int, dst *float32, blocks int, b *float32, s *float32, relu bool)
// is colsF32 with int8 weights, sign-extended and converted to float32
// (SXTL, SXTL2, SCVTF): the column's 64 weights are loaded into
// V20..V23, sixteen in each. Each sum is multiplied by its row's scale
// (SCALE16) before the bias is added.
TEXT ·colsQ8(SB), NOSPLIT, $0-57
	ARGS
	MOVD  s+48(FP), R6
	MOVBU relu+56(FP), R7

cqblock:
	CBZ R4, cqend
	BLOCK16
	CBZ R2, cqdone

cqcol:
	VLD1R.P 4(R1), [V16.S4]
	VLD1.P  64(R0), [V20.B16, V21.B16, V22.B16, V23.B16]
	QCVT16(20, 24, 25, 26)
	QCVT16(21, 27, 28, 29)
	FMA4(V20, V25, V24, V26, V0, V1, V2, V3)
	QCVT16(22, 30, 31, 17)
	FMA4(V21, V28, V27, V29, V4, V5, V6, V7)
	QCVT16(23, 18, 19, 24)
	FMA4(V22, V31, V30, V17, V8, V9, V10, V11)
	FMA4(V23, V19, V18, V24, V12, V13, V14, V15)
	SUBS    $1, R2, R2
	BNE     cqcol

cqdone:
	SCALE16
	FINISH16
	SUB $1, R4, R4
	B   cqblock

cqend:
	RET
