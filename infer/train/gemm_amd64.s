//go:build !purego

#include "textflag.h"

// func kernel4x8(c *float32, ldc int, a *float32, ais, aps int, b *float32, ldb int, k int)
//
// X0–X7 hold C's 4×8 block (row i in X(2i), X(2i+1)); per p, X8 and X9
// hold B's eight values, X10 one of A broadcast, X11 a product. MULPS
// then ADDPS per lane: the same rounding as the scalar s += a·b.
TEXT ·kernel4x8(SB), NOSPLIT, $0-64
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), R8
	SHLQ $2, R8
	MOVQ a+16(FP), SI
	MOVQ ais+24(FP), R9
	SHLQ $2, R9
	MOVQ aps+32(FP), R11
	SHLQ $2, R11
	MOVQ b+40(FP), DX
	MOVQ ldb+48(FP), R10
	SHLQ $2, R10
	MOVQ k+56(FP), CX
	LEAQ (R9)(R9*2), R12  // 3·ais bytes
	LEAQ (R8)(R8*2), R13  // 3·ldc bytes

	MOVUPS (DI), X0
	MOVUPS 16(DI), X1
	MOVUPS (DI)(R8*1), X2
	MOVUPS 16(DI)(R8*1), X3
	MOVUPS (DI)(R8*2), X4
	MOVUPS 16(DI)(R8*2), X5
	MOVUPS (DI)(R13*1), X6
	MOVUPS 16(DI)(R13*1), X7

	TESTQ CX, CX
	JLE   done

loop:
	MOVUPS (DX), X8
	MOVUPS 16(DX), X9

	MOVSS  (SI), X10
	SHUFPS $0, X10, X10
	MOVAPS X10, X11
	MULPS  X8, X11
	ADDPS  X11, X0
	MULPS  X9, X10
	ADDPS  X10, X1

	MOVSS  (SI)(R9*1), X10
	SHUFPS $0, X10, X10
	MOVAPS X10, X11
	MULPS  X8, X11
	ADDPS  X11, X2
	MULPS  X9, X10
	ADDPS  X10, X3

	MOVSS  (SI)(R9*2), X10
	SHUFPS $0, X10, X10
	MOVAPS X10, X11
	MULPS  X8, X11
	ADDPS  X11, X4
	MULPS  X9, X10
	ADDPS  X10, X5

	MOVSS  (SI)(R12*1), X10
	SHUFPS $0, X10, X10
	MOVAPS X10, X11
	MULPS  X8, X11
	ADDPS  X11, X6
	MULPS  X9, X10
	ADDPS  X10, X7

	ADDQ R11, SI
	ADDQ R10, DX
	DECQ CX
	JNZ  loop

done:
	MOVUPS X0, (DI)
	MOVUPS X1, 16(DI)
	MOVUPS X2, (DI)(R8*1)
	MOVUPS X3, 16(DI)(R8*1)
	MOVUPS X4, (DI)(R8*2)
	MOVUPS X5, 16(DI)(R8*2)
	MOVUPS X6, (DI)(R13*1)
	MOVUPS X7, 16(DI)(R13*1)
	RET
