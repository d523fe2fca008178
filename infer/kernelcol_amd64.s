//go:build !purego

#include "textflag.h"

#include "avx_amd64.h"

// The column kernels hold 64 rows' sums in Y0..Y7 and walk the packed
// weights (kernelcol.go) one column at a time: each column's 64 weights
// times x[j] broadcast. Every row is one running sum in column order, and
// each weight and x[j] is read once per block of 64 rows.

// SCALE8 multiplies the sums by the 64 scales at R10 (int8 weights) and
// moves R10 to the next block.
#define SCALE8 \
	VMULPS (R10), Y0, Y0 \
	VMULPS 32(R10), Y1, Y1 \
	VMULPS 64(R10), Y2, Y2 \
	VMULPS 96(R10), Y3, Y3 \
	VMULPS 128(R10), Y4, Y4 \
	VMULPS 160(R10), Y5, Y5 \
	VMULPS 192(R10), Y6, Y6 \
	VMULPS 224(R10), Y7, Y7 \
	ADDQ $256, R10

// FINISH8 adds the 64 biases at R8 to the sums, applies ReLU when the
// byte at relu is set (0 > v ? 0 : v: keeps -0 and NaN, as
// Activation.Apply does), stores the 64 outputs at DI and moves DI and R8
// to the next block. It uses Y8.
#define FINISH8(relu, skip) \
	VADDPS (R8), Y0, Y0 \
	VADDPS 32(R8), Y1, Y1 \
	VADDPS 64(R8), Y2, Y2 \
	VADDPS 96(R8), Y3, Y3 \
	VADDPS 128(R8), Y4, Y4 \
	VADDPS 160(R8), Y5, Y5 \
	VADDPS 192(R8), Y6, Y6 \
	VADDPS 224(R8), Y7, Y7 \
	CMPB relu, $0 \
	JEQ  skip \
	VXORPS Y8, Y8, Y8 \
	VMAXPS Y0, Y8, Y0 \
	VMAXPS Y1, Y8, Y1 \
	VMAXPS Y2, Y8, Y2 \
	VMAXPS Y3, Y8, Y3 \
	VMAXPS Y4, Y8, Y4 \
	VMAXPS Y5, Y8, Y5 \
	VMAXPS Y6, Y8, Y6 \
	VMAXPS Y7, Y8, Y7 \
skip: \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	VMOVUPS Y2, 64(DI) \
	VMOVUPS Y3, 96(DI) \
	VMOVUPS Y4, 128(DI) \
	VMOVUPS Y5, 160(DI) \
	VMOVUPS Y6, 192(DI) \
	VMOVUPS Y7, 224(DI) \
	ADDQ $256, DI \
	ADDQ $256, R8

// func colsF32(w *float32, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)
TEXT ·colsF32(SB), NOSPLIT, $0-49
	MOVQ w+0(FP), AX
	MOVQ dst+24(FP), DI
	MOVQ blocks+32(FP), R9
	MOVQ b+40(FP), R8

cfblock:
	TESTQ R9, R9
	JZ    cfend
	MOVQ  x+8(FP), SI
	MOVQ  n+16(FP), CX
	ZERO8

cfcol:
	VBROADCASTSS (SI), Y8
	VFMADD231PS  (AX), Y8, Y0
	VFMADD231PS  32(AX), Y8, Y1
	VFMADD231PS  64(AX), Y8, Y2
	VFMADD231PS  96(AX), Y8, Y3
	VFMADD231PS  128(AX), Y8, Y4
	VFMADD231PS  160(AX), Y8, Y5
	VFMADD231PS  192(AX), Y8, Y6
	VFMADD231PS  224(AX), Y8, Y7
	ADDQ         $4, SI
	ADDQ         $256, AX
	DECQ         CX
	JNZ          cfcol
	FINISH8(relu+48(FP), cfstore)
	DECQ R9
	JMP  cfblock

cfend:
	VZEROUPPER
	RET

// func colsF16(w *uint16, x *float32, n int, dst *float32, blocks int, b *float32, relu bool)
// is colsF32 with binary16 weights, widened exactly by VCVTPH2PS (F16C).
TEXT ·colsF16(SB), NOSPLIT, $0-49
	MOVQ w+0(FP), AX
	MOVQ dst+24(FP), DI
	MOVQ blocks+32(FP), R9
	MOVQ b+40(FP), R8

chblock:
	TESTQ R9, R9
	JZ    chend
	MOVQ  x+8(FP), SI
	MOVQ  n+16(FP), CX
	ZERO8

chcol:
	VBROADCASTSS (SI), Y8
	VCVTPH2PS    (AX), Y9
	VCVTPH2PS    16(AX), Y10
	VCVTPH2PS    32(AX), Y11
	VCVTPH2PS    48(AX), Y12
	VFMADD231PS  Y9, Y8, Y0
	VFMADD231PS  Y10, Y8, Y1
	VFMADD231PS  Y11, Y8, Y2
	VFMADD231PS  Y12, Y8, Y3
	VCVTPH2PS    64(AX), Y9
	VCVTPH2PS    80(AX), Y10
	VCVTPH2PS    96(AX), Y11
	VCVTPH2PS    112(AX), Y12
	VFMADD231PS  Y9, Y8, Y4
	VFMADD231PS  Y10, Y8, Y5
	VFMADD231PS  Y11, Y8, Y6
	VFMADD231PS  Y12, Y8, Y7
	ADDQ         $4, SI
	ADDQ         $128, AX
	DECQ         CX
	JNZ          chcol
	FINISH8(relu+48(FP), chstore)
	DECQ R9
	JMP  chblock

chend:
	VZEROUPPER
	RET

// QCOL4 widens four groups of eight int8 weights at off(AX) to float32
// and adds their products with Y8 to the accumulators a0..a3.
#define QCOL4(off, a0, a1, a2, a3) \
	VPMOVSXBD   off(AX), Y9 \
	VPMOVSXBD   off+8(AX), Y10 \
	VPMOVSXBD   off+16(AX), Y11 \
	VPMOVSXBD   off+24(AX), Y12 \
	VCVTDQ2PS   Y9, Y9 \
	VCVTDQ2PS   Y10, Y10 \
	VCVTDQ2PS   Y11, Y11 \
	VCVTDQ2PS   Y12, Y12 \
	VFMADD231PS Y9, Y8, a0 \
	VFMADD231PS Y10, Y8, a1 \
	VFMADD231PS Y11, Y8, a2 \
	VFMADD231PS Y12, Y8, a3

// func colsQ8(w *int8, x *float32, n int, dst *float32, blocks int, b *float32, s *float32, relu bool)
// is colsF32 with int8 weights (VPMOVSXBD, VCVTDQ2PS) and each sum
// multiplied by its row's scale before the bias is added.
TEXT ·colsQ8(SB), NOSPLIT, $0-57
	MOVQ w+0(FP), AX
	MOVQ dst+24(FP), DI
	MOVQ blocks+32(FP), R9
	MOVQ b+40(FP), R8
	MOVQ s+48(FP), R10

cqblock:
	TESTQ R9, R9
	JZ    cqend
	MOVQ  x+8(FP), SI
	MOVQ  n+16(FP), CX
	ZERO8

cqcol:
	VBROADCASTSS (SI), Y8
	QCOL4(0, Y0, Y1, Y2, Y3)
	QCOL4(32, Y4, Y5, Y6, Y7)
	ADDQ $4, SI
	ADDQ $64, AX
	DECQ CX
	JNZ  cqcol
	SCALE8
	FINISH8(relu+56(FP), cqstore)
	DECQ R9
	JMP  cqblock

cqend:
	VZEROUPPER
	RET
