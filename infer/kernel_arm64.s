//go:build !purego

#include "textflag.h"

#include "neon_arm64.h"

// The rows4 kernels' register use: R11 the current block's first row,
// R7 the row stride in bytes, R0..R3 the block's four rows and R4 x (all
// advanced through the columns), R5 the columns left, R12 and R13 x and
// n, R6 the results, R8 and R9 b and s (nil or advanced a block at a
// time), R10 the rows left, R14 relu. V0..V3 accumulate rows 0..3 over
// columns 0-3 of every eight, V4..V7 over columns 4-7, in the order
// dot1F32 uses for one row.

// BLOCK4 starts a block of four rows at R11: the row pointers, x, the
// column count and the accumulators.
#define BLOCK4 \
	MOVD R11, R0 \
	ADD  R7, R0, R1 \
	ADD  R7, R1, R2 \
	ADD  R7, R2, R3 \
	MOVD R12, R4 \
	MOVD R13, R5 \
	ZERO8

// FMA4 adds the products of the rows in V18..V25 (row r's columns 0-3
// of the eight in V(18+2r), 4-7 in V(19+2r)) with x in V16, V17.
#define FMA4 \
	VFMLA V16.S4, V18.S4, V0.S4 \
	VFMLA V17.S4, V19.S4, V4.S4 \
	VFMLA V16.S4, V20.S4, V1.S4 \
	VFMLA V17.S4, V21.S4, V5.S4 \
	VFMLA V16.S4, V22.S4, V2.S4 \
	VFMLA V17.S4, V23.S4, V6.S4 \
	VFMLA V16.S4, V24.S4, V3.S4 \
	VFMLA V17.S4, V25.S4, V7.S4

// REDUCE4 sums V0..V7 into V0 = [row0, row1, row2, row3]:
// ((a0+a4)+(a1+a5)) + ((a2+a6)+(a3+a7)) for each row a, as dot1F32 does.
#define REDUCE4 \
	FADD4S(4, 0, 0)  /* V0 += V4 */ \
	FADD4S(5, 1, 1)  /* V1 += V5 */ \
	FADD4S(6, 2, 2)  /* V2 += V6 */ \
	FADD4S(7, 3, 3)  /* V3 += V7 */ \
	FADDP4S(1, 0, 0) /* V0 = [a0+a1, a2+a3, b0+b1, b2+b3] */ \
	FADDP4S(3, 2, 2) /* V2 = [c0+c1, c2+c3, d0+d1, d2+d3] */ \
	FADDP4S(2, 0, 0) /* V0 = [a, b, c, d] */

// FINISH4 stores the block's sums V0 as f(b + s·V0) and moves on to the
// next block. b + s·V0 is one fused multiply-add (VFMLA), as Go's
// epilogue computes it on arm64 (FMADDS); without s it is V0 + b, without
// b s·V0. ReLU zeroes the lanes < 0 (FCMLT against 0, then BIT from a
// zero register), so −0 and NaN are kept, as Activation.Apply keeps them.
// b may be the results themselves: it is read before they are stored.
#define FINISH4 \
	CBZ    R9, nos \
	VLD1.P 16(R9), [V1.S4] \
	CBZ    R8, sonly \
	VLD1.P 16(R8), [V2.S4] \
	VFMLA  V1.S4, V0.S4, V2.S4 /* V2 = b + s·V0 */ \
	VMOV   V2.B16, V0.B16 \
	B      act \
sonly: \
	FMUL4S(1, 0, 0) /* V0 = s·V0 */ \
	B      act \
nos: \
	CBZ    R8, act \
	VLD1.P 16(R8), [V2.S4] \
	FADD4S(2, 0, 0) /* V0 = V0 + b */ \
act: \
	CBZ    R14, store \
	VEOR   V2.B16, V2.B16, V2.B16 \
	FCMLTZ4S(0, 1) /* V1 = V0 < 0 */ \
	VBIT   V1.B16, V2.B16, V0.B16 /* V0 = V1 ? 0 : V0 */ \
store: \
	VST1.P [V0.S4], 16(R6) \
	ADD    R7<<2, R11, R11 \
	SUB    $4, R10, R10

// func rows4F32(w *float32, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// writes, for each block of four rows of w (rows is a multiple of 4), the
// four dot products with x over n elements (a multiple of 8), each as
// f(b[o] + s[o]·dot): s and b are skipped when nil, f is ReLU with relu
// and the identity otherwise. b may be dst itself (accumulation).
TEXT ·rows4F32(SB), NOSPLIT, $0-65
	MOVD  w+0(FP), R11
	MOVD  stride+8(FP), R7
	LSL   $2, R7, R7
	MOVD  x+16(FP), R12
	MOVD  n+24(FP), R13
	MOVD  dst+32(FP), R6
	MOVD  rows+40(FP), R10
	MOVD  b+48(FP), R8
	MOVD  s+56(FP), R9
	MOVBU relu+64(FP), R14

f4block:
	CMP $4, R10
	BLT f4end
	BLOCK4

f4loop:
	CMP $8, R5
	BLT f4done
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 32(R0), [V18.S4, V19.S4]
	VLD1.P 32(R1), [V20.S4, V21.S4]
	VLD1.P 32(R2), [V22.S4, V23.S4]
	VLD1.P 32(R3), [V24.S4, V25.S4]
	FMA4
	SUB   $8, R5
	B     f4loop

f4done:
	REDUCE4
	FINISH4
	B f4block

f4end:
	RET

// func dot1F32(w *float32, x *float32, n int) float32
TEXT ·dot1F32(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R4
	MOVD n+16(FP), R5
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V4.B16, V4.B16, V4.B16

loop1:
	CMP  $8, R5
	BLT  done1
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 32(R0), [V18.S4, V19.S4]
	VFMLA V16.S4, V18.S4, V0.S4
	VFMLA V17.S4, V19.S4, V4.S4
	SUB  $8, R5
	B    loop1

done1:
	FADD4S(4, 0, 0)  // V0 += V4
	FADDP4S(0, 0, 0) // V0 = [a0+a1, a2+a3, ...]
	FADDP4S(0, 0, 0) // V0[0] = a0+a1+a2+a3
	FMOVS F0, ret+24(FP)
	RET

// func rows4Q8(w *int8, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// is rows4F32 with int8 weights, sign-extended and converted to float32
// eight at a time (WIDEN) in place: row r's eight weights are loaded into
// V(18+2r) and widened into V(18+2r) (elements 0-3) and V(19+2r) (4-7).
TEXT ·rows4Q8(SB), NOSPLIT, $0-65
	MOVD  w+0(FP), R11
	MOVD  stride+8(FP), R7
	MOVD  x+16(FP), R12
	MOVD  n+24(FP), R13
	MOVD  dst+32(FP), R6
	MOVD  rows+40(FP), R10
	MOVD  b+48(FP), R8
	MOVD  s+56(FP), R9
	MOVBU relu+64(FP), R14

q4block:
	CMP $4, R10
	BLT q4end
	BLOCK4

q4loop:
	CMP $8, R5
	BLT q4done
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 8(R0), [V18.B8]
	VLD1.P 8(R1), [V20.B8]
	VLD1.P 8(R2), [V22.B8]
	VLD1.P 8(R3), [V24.B8]
	WIDEN(18, 18, 19)
	WIDEN(20, 20, 21)
	WIDEN(22, 22, 23)
	WIDEN(24, 24, 25)
	FMA4
	SUB   $8, R5
	B     q4loop

q4done:
	REDUCE4
	FINISH4
	B q4block

q4end:
	RET

// func dot1Q8(w *int8, x *float32, n int) float32
TEXT ·dot1Q8(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R4
	MOVD n+16(FP), R5
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V4.B16, V4.B16, V4.B16

qloop1:
	CMP  $8, R5
	BLT  qdone1
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 8(R0), [V18.B8]
	WIDEN(18, 22, 23)
	VFMLA V16.S4, V22.S4, V0.S4
	VFMLA V17.S4, V23.S4, V4.S4
	SUB  $8, R5
	B    qloop1

qdone1:
	FADD4S(4, 0, 0)
	FADDP4S(0, 0, 0)
	FADDP4S(0, 0, 0)
	FMOVS F0, ret+24(FP)
	RET

// func rows4F16(w *uint16, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// is rows4F32 with binary16 weights, widened exactly to float32 eight at
// a time (HWIDEN).
TEXT ·rows4F16(SB), NOSPLIT, $0-65
	MOVD  w+0(FP), R11
	MOVD  stride+8(FP), R7
	LSL   $1, R7, R7
	MOVD  x+16(FP), R12
	MOVD  n+24(FP), R13
	MOVD  dst+32(FP), R6
	MOVD  rows+40(FP), R10
	MOVD  b+48(FP), R8
	MOVD  s+56(FP), R9
	MOVBU relu+64(FP), R14

h4block:
	CMP $4, R10
	BLT h4end
	BLOCK4

h4loop:
	CMP $8, R5
	BLT h4done
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 16(R0), [V26.H8]
	VLD1.P 16(R1), [V27.H8]
	VLD1.P 16(R2), [V28.H8]
	VLD1.P 16(R3), [V29.H8]
	HWIDEN(26, 18, 19)
	HWIDEN(27, 20, 21)
	HWIDEN(28, 22, 23)
	HWIDEN(29, 24, 25)
	FMA4
	SUB   $8, R5
	B     h4loop

h4done:
	REDUCE4
	FINISH4
	B h4block

h4end:
	RET

// func dot1F16(w *uint16, x *float32, n int) float32
TEXT ·dot1F16(SB), NOSPLIT, $0-28
	MOVD w+0(FP), R0
	MOVD x+8(FP), R4
	MOVD n+16(FP), R5
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V4.B16, V4.B16, V4.B16

hloop1:
	CMP  $8, R5
	BLT  hdone1
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 16(R0), [V18.H8]
	HWIDEN(18, 22, 23)
	VFMLA V16.S4, V22.S4, V0.S4
	VFMLA V17.S4, V23.S4, V4.S4
	SUB  $8, R5
	B    hloop1

hdone1:
	FADD4S(4, 0, 0)
	FADDP4S(0, 0, 0)
	FADDP4S(0, 0, 0)
	FMOVS F0, ret+24(FP)
	RET
