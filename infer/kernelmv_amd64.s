//go:build !purego

#include "textflag.h"

#include "avx_amd64.h"

// Register use in both kernels: AX, R8, R9, R10 the four rows of the
// current block, BX the row stride in bytes, SI and R13 the pair's two
// vectors, DI and R14 their results, R12 the row, R11 the pairs left,
// DX the column offset and CX the columns left. Y0..Y3 accumulate rows
// 0..3 with vector 0, Y4..Y7 with vector 1.

// REDUCE4X2 sums each accumulator across its eight lanes into Y8 =
// [row0..row3 of vector 0, row0..row3 of vector 1].
#define REDUCE4X2 \
	VHADDPS Y1, Y0, Y0 \
	VHADDPS Y3, Y2, Y2 \
	VHADDPS Y2, Y0, Y0 \
	VHADDPS Y5, Y4, Y4 \
	VHADDPS Y7, Y6, Y6 \
	VHADDPS Y6, Y4, Y4 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x31, Y4, Y0, Y9 \
	VADDPS Y9, Y8, Y8

// FMA4X2 adds the products of the rows in Y8..Y11 with the vectors in
// Y12 and Y13.
#define FMA4X2 \
	VFMADD231PS Y8, Y12, Y0 \
	VFMADD231PS Y8, Y13, Y4 \
	VFMADD231PS Y9, Y12, Y1 \
	VFMADD231PS Y9, Y13, Y5 \
	VFMADD231PS Y10, Y12, Y2 \
	VFMADD231PS Y10, Y13, Y6 \
	VFMADD231PS Y11, Y12, Y3 \
	VFMADD231PS Y11, Y13, Y7

// FINISH4X2 sums the block (REDUCE4X2) and stores it as f(b + s·sum):
// s and b where given, then max(0, ·) with relu (0 > v ? 0 : v: keeps -0
// and NaN, as Activation.Apply does); the block's four rows have the same
// b and s for both vectors. It then moves on to the next block. Each
// kernel uses it once, so its labels are its own.
#define FINISH4X2 \
	REDUCE4X2 \
	MOVQ s+80(FP), CX \
	TESTQ CX, CX \
	JZ   nos \
	VBROADCASTF128 (CX)(R12*4), Y9 \
	VMULPS Y9, Y8, Y8 \
nos: \
	MOVQ b+72(FP), CX \
	TESTQ CX, CX \
	JZ   nob \
	VBROADCASTF128 (CX)(R12*4), Y9 \
	VADDPS Y9, Y8, Y8 \
nob: \
	CMPB relu+88(FP), $0 \
	JEQ  store \
	VXORPS Y9, Y9, Y9 \
	VMAXPS Y8, Y9, Y8 \
store: \
	VMOVUPS X8, (DI)(R12*4) \
	VEXTRACTF128 $1, Y8, (R14)(R12*4) \
	LEAQ (AX)(BX*4), AX \
	ADDQ $4, R12

// NEXTPAIR moves the vectors and results on by one pair.
#define NEXTPAIR \
	MOVQ xstride+24(FP), CX \
	LEAQ (R13)(CX*4), SI \
	MOVQ dstStride+48(FP), CX \
	LEAQ (R14)(CX*4), DI \
	DECQ R11

// func mv4x2F32(w *float32, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)
TEXT ·mv4x2F32(SB), NOSPLIT, $0-89
	MOVQ wstride+8(FP), BX
	SHLQ $2, BX
	MOVQ x+16(FP), SI
	MOVQ dst+40(FP), DI
	MOVQ pairs+64(FP), R11

f2pair:
	TESTQ R11, R11
	JZ    f2end
	MOVQ  xstride+24(FP), R13
	LEAQ  (SI)(R13*4), R13
	MOVQ  dstStride+48(FP), R14
	LEAQ  (DI)(R14*4), R14
	MOVQ  w+0(FP), AX
	XORQ  R12, R12

f2block:
	CMPQ R12, rows+56(FP)
	JGE  f2next
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	ZERO8
	MOVQ n+32(FP), CX
	XORQ DX, DX

f2loop16:
	CMPQ    CX, $16
	JL      f2loop8
	VMOVUPS (SI)(DX*1), Y12
	VMOVUPS (R13)(DX*1), Y13
	VMOVUPS (AX)(DX*1), Y8
	VMOVUPS (R8)(DX*1), Y9
	VMOVUPS (R9)(DX*1), Y10
	VMOVUPS (R10)(DX*1), Y11
	FMA4X2
	VMOVUPS 32(SI)(DX*1), Y12
	VMOVUPS 32(R13)(DX*1), Y13
	VMOVUPS 32(AX)(DX*1), Y8
	VMOVUPS 32(R8)(DX*1), Y9
	VMOVUPS 32(R9)(DX*1), Y10
	VMOVUPS 32(R10)(DX*1), Y11
	FMA4X2
	ADDQ    $64, DX
	SUBQ    $16, CX
	JMP     f2loop16

f2loop8:
	CMPQ    CX, $8
	JL      f2done
	VMOVUPS (SI)(DX*1), Y12
	VMOVUPS (R13)(DX*1), Y13
	VMOVUPS (AX)(DX*1), Y8
	VMOVUPS (R8)(DX*1), Y9
	VMOVUPS (R9)(DX*1), Y10
	VMOVUPS (R10)(DX*1), Y11
	FMA4X2

f2done:
	FINISH4X2
	JMP  f2block

f2next:
	NEXTPAIR
	JMP  f2pair

f2end:
	VZEROUPPER
	RET

// func mv4x2Q8(w *int8, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)
// is mv4x2F32 with int8 weights, sign-extended to int32 and converted to
// float32 eight at a time. DX counts elements: the vectors are read at
// DX*4, the rows at DX*1.
TEXT ·mv4x2Q8(SB), NOSPLIT, $0-89
	MOVQ wstride+8(FP), BX
	MOVQ x+16(FP), SI
	MOVQ dst+40(FP), DI
	MOVQ pairs+64(FP), R11

q2pair:
	TESTQ R11, R11
	JZ    q2end
	MOVQ  xstride+24(FP), R13
	LEAQ  (SI)(R13*4), R13
	MOVQ  dstStride+48(FP), R14
	LEAQ  (DI)(R14*4), R14
	MOVQ  w+0(FP), AX
	XORQ  R12, R12

q2block:
	CMPQ R12, rows+56(FP)
	JGE  q2next
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	ZERO8
	MOVQ n+32(FP), CX
	XORQ DX, DX

q2loop8:
	CMPQ      CX, $8
	JL        q2done
	VMOVUPS   (SI)(DX*4), Y12
	VMOVUPS   (R13)(DX*4), Y13
	VPMOVSXBD (AX)(DX*1), Y8
	VPMOVSXBD (R8)(DX*1), Y9
	VPMOVSXBD (R9)(DX*1), Y10
	VPMOVSXBD (R10)(DX*1), Y11
	VCVTDQ2PS Y8, Y8
	VCVTDQ2PS Y9, Y9
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	FMA4X2
	ADDQ      $8, DX
	SUBQ      $8, CX
	JMP       q2loop8

q2done:
	FINISH4X2
	JMP  q2block

q2next:
	NEXTPAIR
	JMP  q2pair

q2end:
	VZEROUPPER
	RET
