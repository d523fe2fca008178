//go:build !purego

#include "textflag.h"

// Register use in both kernels: R11 the current block's first row, R7
// the row stride in bytes, R0..R3 the block's four rows and R4, R5 the
// pair's two vectors (all advanced through the columns), R6 the columns
// left; R13 and R14 the pair's two vectors, R15 and R19 their results,
// R22 and R23 the vector and result strides in bytes, R25 n, R10 the rows
// in bytes, R12 the current row in bytes (an offset into b, s and the
// results), R20 the pairs left, R8 and R9 b and s, R21 relu. V0..V3
// accumulate rows 0..3 with vector 0 over columns 0-3 of every eight,
// V4..V7 over columns 4-7, and V8..V15 the same with vector 1: each
// vector's sums are those dot4F32 and rows4F32 (kernel_arm64.s) compute,
// in the same order.

#include "neon_arm64.h"

// BLOCK4X2 starts a block of four rows at R11: the row pointers, the
// vectors, the column count, and clears the accumulators V0..V15.
#define BLOCK4X2 \
	MOVD R11, R0 \
	ADD  R7, R0, R1 \
	ADD  R7, R1, R2 \
	ADD  R7, R2, R3 \
	MOVD R13, R4 \
	MOVD R14, R5 \
	MOVD R25, R6 \
	ZERO16

// FMA4X2 adds the products of the rows in V20..V27 (row r's columns 0-3
// in V(20+2r), 4-7 in V(21+2r)) with vector 0 in V16, V17 and vector 1 in
// V18, V19.
#define FMA4X2 \
	VFMLA V16.S4, V20.S4, V0.S4 \
	VFMLA V17.S4, V21.S4, V4.S4 \
	VFMLA V18.S4, V20.S4, V8.S4 \
	VFMLA V19.S4, V21.S4, V12.S4 \
	VFMLA V16.S4, V22.S4, V1.S4 \
	VFMLA V17.S4, V23.S4, V5.S4 \
	VFMLA V18.S4, V22.S4, V9.S4 \
	VFMLA V19.S4, V23.S4, V13.S4 \
	VFMLA V16.S4, V24.S4, V2.S4 \
	VFMLA V17.S4, V25.S4, V6.S4 \
	VFMLA V18.S4, V24.S4, V10.S4 \
	VFMLA V19.S4, V25.S4, V14.S4 \
	VFMLA V16.S4, V26.S4, V3.S4 \
	VFMLA V17.S4, V27.S4, V7.S4 \
	VFMLA V18.S4, V26.S4, V11.S4 \
	VFMLA V19.S4, V27.S4, V15.S4

// REDUCE4X2 sums V0..V7 into V0 = [row0..row3 of vector 0] and V8..V15
// into V8 = [row0..row3 of vector 1]: ((a0+a4)+(a1+a5)) + ((a2+a6)+
// (a3+a7)) for each row a, as REDUCE4 in kernel_arm64.s.
#define REDUCE4X2 \
	FADD4S(4, 0, 0) \
	FADD4S(5, 1, 1) \
	FADD4S(6, 2, 2) \
	FADD4S(7, 3, 3) \
	FADDP4S(1, 0, 0) \
	FADDP4S(3, 2, 2) \
	FADDP4S(2, 0, 0) \
	FADD4S(12, 8, 8) \
	FADD4S(13, 9, 9) \
	FADD4S(14, 10, 10) \
	FADD4S(15, 11, 11) \
	FADDP4S(9, 8, 8) \
	FADDP4S(11, 10, 10) \
	FADDP4S(10, 8, 8)

// FINISH4X2 stores the block's sums, V0 for vector 0 and V8 for vector
// 1, as f(b + s·sum) and moves on to the next block; the four rows have
// the same b and s for both vectors. b + s·sum is one fused multiply-add
// (VFMLA), as Go computes biasAct's row·scale + b on arm64 (FMADDS);
// without s it is sum + b, without b s·sum. ReLU zeroes the lanes < 0
// (FCMLT against 0, then BIT from a zero register), so −0 and NaN are
// kept, as in Activation.Apply and the amd64 kernels.
#define FINISH4X2 \
	CBZ   R9, nos \
	ADD   R12, R9, R24 \
	VLD1  (R24), [V29.S4] \
	CBZ   R8, sonly \
	ADD   R12, R8, R24 \
	VLD1  (R24), [V28.S4] \
	VMOV  V28.B16, V30.B16 \
	VFMLA V29.S4, V0.S4, V30.S4 /* V30 = b + s·V0 */ \
	VFMLA V29.S4, V8.S4, V28.S4 /* V28 = b + s·V8 */ \
	VMOV  V30.B16, V0.B16 \
	VMOV  V28.B16, V8.B16 \
	B     act \
sonly: \
	FMUL4S(29, 0, 0) /* V0 = s·V0 */ \
	FMUL4S(29, 8, 8) /* V8 = s·V8 */ \
	B     act \
nos: \
	CBZ   R8, act \
	ADD   R12, R8, R24 \
	VLD1  (R24), [V28.S4] \
	FADD4S(28, 0, 0) /* V0 = V0 + b */ \
	FADD4S(28, 8, 8) /* V8 = V8 + b */ \
act: \
	CBZ   R21, store \
	VEOR  V28.B16, V28.B16, V28.B16 \
	FCMLTZ4S(0, 29) /* V29 = V0 < 0 */ \
	FCMLTZ4S(8, 30) /* V30 = V8 < 0 */ \
	VBIT  V29.B16, V28.B16, V0.B16 /* V0 = V29 ? 0 : V0 */ \
	VBIT  V30.B16, V28.B16, V8.B16 /* V8 = V30 ? 0 : V8 */ \
store: \
	ADD   R12, R15, R24 \
	VST1  [V0.S4], (R24) \
	ADD   R12, R19, R24 \
	VST1  [V8.S4], (R24) \
	ADD   R7<<2, R11, R11 \
	ADD   $16, R12, R12

// func mv4x2F32(w *float32, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)
TEXT ·mv4x2F32(SB), NOSPLIT, $0-89
	MOVD  wstride+8(FP), R7
	LSL   $2, R7, R7
	MOVD  x+16(FP), R13
	MOVD  xstride+24(FP), R22
	LSL   $2, R22, R22
	MOVD  n+32(FP), R25
	MOVD  dst+40(FP), R15
	MOVD  dstStride+48(FP), R23
	LSL   $2, R23, R23
	MOVD  rows+56(FP), R10
	LSL   $2, R10, R10
	MOVD  pairs+64(FP), R20
	MOVD  b+72(FP), R8
	MOVD  s+80(FP), R9
	MOVBU relu+88(FP), R21

f2pair:
	CBZ  R20, f2end
	ADD  R22, R13, R14
	ADD  R23, R15, R19
	MOVD w+0(FP), R11
	MOVD ZR, R12

f2block:
	CMP R10, R12
	BGE f2next
	BLOCK4X2

f2loop:
	CMP    $8, R6
	BLT    f2done
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 32(R5), [V18.S4, V19.S4]
	VLD1.P 32(R0), [V20.S4, V21.S4]
	VLD1.P 32(R1), [V22.S4, V23.S4]
	VLD1.P 32(R2), [V24.S4, V25.S4]
	VLD1.P 32(R3), [V26.S4, V27.S4]
	FMA4X2
	SUB    $8, R6
	B      f2loop

f2done:
	REDUCE4X2
	FINISH4X2
	B f2block

f2next:
	ADD R22, R14, R13
	ADD R23, R19, R15
	SUB $1, R20
	B   f2pair

f2end:
	RET

// func mv4x2Q8(w *int8, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)
// is mv4x2F32 with int8 weights: row r's eight weights are loaded into
// V(20+2r) and widened in place into V(20+2r) (elements 0-3) and
// V(21+2r) (4-7), as dot4Q8 converts them.
TEXT ·mv4x2Q8(SB), NOSPLIT, $0-89
	MOVD  wstride+8(FP), R7
	MOVD  x+16(FP), R13
	MOVD  xstride+24(FP), R22
	LSL   $2, R22, R22
	MOVD  n+32(FP), R25
	MOVD  dst+40(FP), R15
	MOVD  dstStride+48(FP), R23
	LSL   $2, R23, R23
	MOVD  rows+56(FP), R10
	LSL   $2, R10, R10
	MOVD  pairs+64(FP), R20
	MOVD  b+72(FP), R8
	MOVD  s+80(FP), R9
	MOVBU relu+88(FP), R21

q2pair:
	CBZ  R20, q2end
	ADD  R22, R13, R14
	ADD  R23, R15, R19
	MOVD w+0(FP), R11
	MOVD ZR, R12

q2block:
	CMP R10, R12
	BGE q2next
	BLOCK4X2

q2loop:
	CMP    $8, R6
	BLT    q2done
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 32(R5), [V18.S4, V19.S4]
	VLD1.P 8(R0), [V20.B8]
	VLD1.P 8(R1), [V22.B8]
	VLD1.P 8(R2), [V24.B8]
	VLD1.P 8(R3), [V26.B8]
	WIDEN(20, 20, 21)
	WIDEN(22, 22, 23)
	WIDEN(24, 24, 25)
	WIDEN(26, 26, 27)
	FMA4X2
	SUB    $8, R6
	B      q2loop

q2done:
	REDUCE4X2
	FINISH4X2
	B q2block

q2next:
	ADD R22, R14, R13
	ADD R23, R19, R15
	SUB $1, R20
	B   q2pair

q2end:
	RET
