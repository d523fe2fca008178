//go:build !purego

#include "textflag.h"

#include "avx_amd64.h"

// Horizontal reduction of the four 8-wide accumulators Y0..Y3 (rows 0..3)
// into X0 = [row0, row1, row2, row3].
#define REDUCE4 \
	VHADDPS Y1, Y0, Y0 \
	VHADDPS Y3, Y2, Y2 \
	VHADDPS Y2, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0

// func rows4F32(w *float32, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// writes, for each block of four rows of w (rows is a multiple of 4), the
// four dot products with x over n elements (a multiple of 8), each as
// f(b[o] + s[o]·dot): s and b are skipped when nil, f is ReLU with relu
// and the identity otherwise. b may be dst itself (accumulation).
TEXT ·rows4F32(SB), NOSPLIT, $0-65
	MOVQ w+0(FP), AX
	MOVQ stride+8(FP), BX
	SHLQ $2, BX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), R11
	MOVQ dst+32(FP), DI
	XORQ R12, R12

f4block:
	CMPQ R12, rows+40(FP)
	JGE  f4end
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	ZERO8
	MOVQ R11, CX
	XORQ DX, DX

f4loop16:
	CMPQ CX, $16
	JL   f4loop8
	VMOVUPS (SI)(DX*1), Y8
	VMOVUPS 32(SI)(DX*1), Y9
	VFMADD231PS (AX)(DX*1), Y8, Y0
	VFMADD231PS 32(AX)(DX*1), Y9, Y4
	VFMADD231PS (R8)(DX*1), Y8, Y1
	VFMADD231PS 32(R8)(DX*1), Y9, Y5
	VFMADD231PS (R9)(DX*1), Y8, Y2
	VFMADD231PS 32(R9)(DX*1), Y9, Y6
	VFMADD231PS (R10)(DX*1), Y8, Y3
	VFMADD231PS 32(R10)(DX*1), Y9, Y7
	ADDQ $64, DX
	SUBQ $16, CX
	JMP  f4loop16

f4loop8:
	CMPQ CX, $8
	JL   f4done
	VMOVUPS (SI)(DX*1), Y8
	VFMADD231PS (AX)(DX*1), Y8, Y0
	VFMADD231PS (R8)(DX*1), Y8, Y1
	VFMADD231PS (R9)(DX*1), Y8, Y2
	VFMADD231PS (R10)(DX*1), Y8, Y3

f4done:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	REDUCE4
	// Epilogue: X0 = b + s·X0 where given, then max(0, X0) with relu
	// (0 > v ? 0 : v: keeps -0 and NaN, as Activation.Apply does).
	MOVQ s+56(FP), CX
	TESTQ CX, CX
	JZ   f4nos
	VMULPS (CX)(R12*4), X0, X0

f4nos:
	MOVQ b+48(FP), CX
	TESTQ CX, CX
	JZ   f4nob
	VADDPS (CX)(R12*4), X0, X0

f4nob:
	CMPB relu+64(FP), $0
	JEQ  f4store
	VXORPS X1, X1, X1
	VMAXPS X0, X1, X0

f4store:
	VMOVUPS X0, (DI)(R12*4)
	LEAQ (AX)(BX*4), AX
	ADDQ $4, R12
	JMP  f4block

f4end:
	VZEROUPPER
	RET

// func dot1F32(w *float32, x *float32, n int) float32
TEXT ·dot1F32(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), AX
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ DX, DX

f1loop16:
	CMPQ CX, $16
	JL   f1loop8
	VMOVUPS (SI)(DX*1), Y8
	VMOVUPS 32(SI)(DX*1), Y9
	VFMADD231PS (AX)(DX*1), Y8, Y0
	VFMADD231PS 32(AX)(DX*1), Y9, Y1
	ADDQ $64, DX
	SUBQ $16, CX
	JMP  f1loop16

f1loop8:
	CMPQ CX, $8
	JL   f1done
	VMOVUPS (SI)(DX*1), Y8
	VFMADD231PS (AX)(DX*1), Y8, Y0

f1done:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func rows4Q8(w *int8, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// is rows4F32 with int8 weights, sign-extended to int32 and converted to
// float32 eight at a time.
TEXT ·rows4Q8(SB), NOSPLIT, $0-65
	MOVQ w+0(FP), AX
	MOVQ stride+8(FP), BX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), R11
	MOVQ dst+32(FP), DI
	XORQ R12, R12

q4block:
	CMPQ R12, rows+40(FP)
	JGE  q4end
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	ZERO8
	MOVQ R11, CX
	XORQ DX, DX

q4loop16:
	CMPQ CX, $16
	JL   q4loop8
	VMOVUPS (SI)(DX*4), Y8
	VMOVUPS 32(SI)(DX*4), Y9
	VPMOVSXBD (AX)(DX*1), Y10
	VPMOVSXBD 8(AX)(DX*1), Y11
	VPMOVSXBD (R8)(DX*1), Y12
	VPMOVSXBD 8(R8)(DX*1), Y13
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y9, Y4
	VFMADD231PS Y12, Y8, Y1
	VFMADD231PS Y13, Y9, Y5
	VPMOVSXBD (R9)(DX*1), Y10
	VPMOVSXBD 8(R9)(DX*1), Y11
	VPMOVSXBD (R10)(DX*1), Y12
	VPMOVSXBD 8(R10)(DX*1), Y13
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VFMADD231PS Y10, Y8, Y2
	VFMADD231PS Y11, Y9, Y6
	VFMADD231PS Y12, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ $16, DX
	SUBQ $16, CX
	JMP  q4loop16

q4loop8:
	CMPQ CX, $8
	JL   q4done
	VMOVUPS (SI)(DX*4), Y8
	VPMOVSXBD (AX)(DX*1), Y10
	VPMOVSXBD (R8)(DX*1), Y11
	VPMOVSXBD (R9)(DX*1), Y12
	VPMOVSXBD (R10)(DX*1), Y13
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y13, Y8, Y3

q4done:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	REDUCE4
	// Epilogue: X0 = b + s·X0 where given, then max(0, X0) with relu
	// (0 > v ? 0 : v: keeps -0 and NaN, as Activation.Apply does).
	MOVQ s+56(FP), CX
	TESTQ CX, CX
	JZ   q4nos
	VMULPS (CX)(R12*4), X0, X0

q4nos:
	MOVQ b+48(FP), CX
	TESTQ CX, CX
	JZ   q4nob
	VADDPS (CX)(R12*4), X0, X0

q4nob:
	CMPB relu+64(FP), $0
	JEQ  q4store
	VXORPS X1, X1, X1
	VMAXPS X0, X1, X0

q4store:
	VMOVUPS X0, (DI)(R12*4)
	LEAQ (AX)(BX*4), AX
	ADDQ $4, R12
	JMP  q4block

q4end:
	VZEROUPPER
	RET

// func dot1Q8(w *int8, x *float32, n int) float32
TEXT ·dot1Q8(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), AX
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	XORQ DX, DX

q1loop8:
	CMPQ CX, $8
	JL   q1done
	VMOVUPS (SI)(DX*4), Y8
	VPMOVSXBD (AX)(DX*1), Y10
	VCVTDQ2PS Y10, Y10
	VFMADD231PS Y10, Y8, Y0
	ADDQ $8, DX
	SUBQ $8, CX
	JMP  q1loop8

q1done:
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func rows4F16(w *uint16, stride int, x *float32, n int, dst *float32, rows int, b *float32, s *float32, relu bool)
// is rows4F32 with binary16 weights, widened to float32 eight at a time by
// VCVTPH2PS (F16C) straight from memory. DX counts elements: x is read at
// DX*4, the rows at DX*2.
TEXT ·rows4F16(SB), NOSPLIT, $0-65
	MOVQ w+0(FP), AX
	MOVQ stride+8(FP), BX
	SHLQ $1, BX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), R11
	MOVQ dst+32(FP), DI
	XORQ R12, R12

h4block:
	CMPQ R12, rows+40(FP)
	JGE  h4end
	LEAQ (AX)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	ZERO8
	MOVQ R11, CX
	XORQ DX, DX

h4loop16:
	CMPQ CX, $16
	JL   h4loop8
	VMOVUPS (SI)(DX*4), Y8
	VMOVUPS 32(SI)(DX*4), Y9
	VCVTPH2PS (AX)(DX*2), Y10
	VCVTPH2PS 16(AX)(DX*2), Y11
	VCVTPH2PS (R8)(DX*2), Y12
	VCVTPH2PS 16(R8)(DX*2), Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y9, Y4
	VFMADD231PS Y12, Y8, Y1
	VFMADD231PS Y13, Y9, Y5
	VCVTPH2PS (R9)(DX*2), Y10
	VCVTPH2PS 16(R9)(DX*2), Y11
	VCVTPH2PS (R10)(DX*2), Y12
	VCVTPH2PS 16(R10)(DX*2), Y13
	VFMADD231PS Y10, Y8, Y2
	VFMADD231PS Y11, Y9, Y6
	VFMADD231PS Y12, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ $16, DX
	SUBQ $16, CX
	JMP  h4loop16

h4loop8:
	CMPQ CX, $8
	JL   h4done
	VMOVUPS (SI)(DX*4), Y8
	VCVTPH2PS (AX)(DX*2), Y10
	VCVTPH2PS (R8)(DX*2), Y11
	VCVTPH2PS (R9)(DX*2), Y12
	VCVTPH2PS (R10)(DX*2), Y13
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y13, Y8, Y3

h4done:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	REDUCE4
	// Epilogue: X0 = b + s·X0 where given, then max(0, X0) with relu
	// (0 > v ? 0 : v: keeps -0 and NaN, as Activation.Apply does).
	MOVQ s+56(FP), CX
	TESTQ CX, CX
	JZ   h4nos
	VMULPS (CX)(R12*4), X0, X0

h4nos:
	MOVQ b+48(FP), CX
	TESTQ CX, CX
	JZ   h4nob
	VADDPS (CX)(R12*4), X0, X0

h4nob:
	CMPB relu+64(FP), $0
	JEQ  h4store
	VXORPS X1, X1, X1
	VMAXPS X0, X1, X0

h4store:
	VMOVUPS X0, (DI)(R12*4)
	LEAQ (AX)(BX*4), AX
	ADDQ $4, R12
	JMP  h4block

h4end:
	VZEROUPPER
	RET

// func dot1F16(w *uint16, x *float32, n int) float32
TEXT ·dot1F16(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), AX
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ DX, DX

h1loop16:
	CMPQ CX, $16
	JL   h1loop8
	VMOVUPS (SI)(DX*4), Y8
	VMOVUPS 32(SI)(DX*4), Y9
	VCVTPH2PS (AX)(DX*2), Y10
	VCVTPH2PS 16(AX)(DX*2), Y11
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y11, Y9, Y1
	ADDQ $16, DX
	SUBQ $16, CX
	JMP  h1loop16

h1loop8:
	CMPQ CX, $8
	JL   h1done
	VMOVUPS (SI)(DX*4), Y8
	VCVTPH2PS (AX)(DX*2), Y10
	VFMADD231PS Y10, Y8, Y0

h1done:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func cpuid1ECX() uint32
TEXT ·cpuid1ECX(SB), NOSPLIT, $0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET
