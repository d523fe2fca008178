//go:build !purego

#include "textflag.h"

// func scaleFinite8(dst *float32, x *float32, center *float32, inv *float32, n int) uint32
// writes dst[i] = (x[i] − center[i])·inv[i] for i < n (a positive multiple
// of 8) and returns a mask that is non-zero when some dst[i] is NaN or
// infinite: its exponent bits plus one carry into the sign bit, kept by
// an OR over every lane and collected by VMOVMSKPS.
TEXT ·scaleFinite8(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ center+16(FP), R8
	MOVQ inv+24(FP), R9
	MOVQ n+32(FP), CX
	MOVL $0x7f800000, AX
	MOVL AX, X4
	VPBROADCASTD X4, Y4
	MOVL $0x00800000, AX
	MOVL AX, X5
	VPBROADCASTD X5, Y5
	VPXOR Y3, Y3, Y3
	XORQ DX, DX

sloop:
	VMOVUPS (SI)(DX*4), Y0
	VSUBPS  (R8)(DX*4), Y0, Y0
	VMULPS  (R9)(DX*4), Y0, Y0
	VMOVUPS Y0, (DI)(DX*4)
	VPAND   Y4, Y0, Y1
	VPADDD  Y5, Y1, Y1
	VPOR    Y1, Y3, Y3
	ADDQ    $8, DX
	SUBQ    $8, CX
	JNZ     sloop
	VMOVMSKPS Y3, AX
	VZEROUPPER
	MOVL AX, ret+40(FP)
	RET

// func errSlots8(pc *float32, f *float32, r *float32, c int, blocks int, abs bool)
// adds, for each of blocks blocks of c values (a positive multiple of 8)
// of f and r, (r − f)² (|r − f| with abs) to pc[0..c), eight at a time.
TEXT ·errSlots8(SB), NOSPLIT, $0-41
	MOVQ f+8(FP), SI
	MOVQ r+16(FP), R8
	MOVQ blocks+32(FP), R9
	MOVL $0x7fffffff, AX
	MOVL AX, X6
	VPBROADCASTD X6, Y6

eblock:
	MOVQ pc+0(FP), DI
	MOVQ c+24(FP), CX

eloop:
	VMOVUPS (R8), Y0
	VSUBPS  (SI), Y0, Y0
	CMPB    abs+40(FP), $0
	JEQ     esq
	VANDPS  Y6, Y0, Y0
	JMP     eadd

esq:
	VMULPS Y0, Y0, Y0

eadd:
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     eloop
	DECQ    R9
	JNZ     eblock
	VZEROUPPER
	RET

// func sumSlots8(s *float32, n int, inv float32) float32
// returns the sum of s[0..n) (a positive multiple of 8), in eight lanes
// then a tree, and multiplies each s[i] by inv as it is added.
TEXT ·sumSlots8(SB), NOSPLIT, $0-28
	MOVQ s+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS inv+16(FP), Y2
	VXORPS Y1, Y1, Y1

sumloop:
	VMOVUPS (DI), Y0
	VADDPS  Y0, Y1, Y1
	VMULPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     sumloop
	VEXTRACTF128 $1, Y1, X0
	VADDPS  X0, X1, X1
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VZEROUPPER
	MOVSS X1, ret+24(FP)
	RET
