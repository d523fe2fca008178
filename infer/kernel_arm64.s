//go:build !purego

#include "textflag.h"

// Go's assembler has no vector FADD or FADDP yet; these are their
// encodings (A64: FADD Vd.4S, Vn.4S, Vm.4S = 0x4E20D400 | m<<16 | n<<5 | d;
// FADDP Vd.4S, Vn.4S, Vm.4S = 0x6E20D400 | m<<16 | n<<5 | d).
#define FADD4S(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FADDP4S(m, n, d) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))

// func dot4F32(w *float32, stride int, x *float32, n int, dst *float32)
TEXT ·dot4F32(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD stride+8(FP), R7
	LSL  $2, R7, R7
	ADD  R7, R0, R1
	ADD  R7, R1, R2
	ADD  R7, R2, R3
	MOVD x+16(FP), R4
	MOVD n+24(FP), R5
	MOVD dst+32(FP), R6
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16

loop4:
	CMP  $8, R5
	BLT  done4
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 32(R0), [V18.S4, V19.S4]
	VLD1.P 32(R1), [V20.S4, V21.S4]
	VLD1.P 32(R2), [V22.S4, V23.S4]
	VLD1.P 32(R3), [V24.S4, V25.S4]
	VFMLA V16.S4, V18.S4, V0.S4
	VFMLA V17.S4, V19.S4, V4.S4
	VFMLA V16.S4, V20.S4, V1.S4
	VFMLA V17.S4, V21.S4, V5.S4
	VFMLA V16.S4, V22.S4, V2.S4
	VFMLA V17.S4, V23.S4, V6.S4
	VFMLA V16.S4, V24.S4, V3.S4
	VFMLA V17.S4, V25.S4, V7.S4
	SUB  $8, R5
	B    loop4

done4:
	FADD4S(4, 0, 0)  // V0 += V4
	FADD4S(5, 1, 1)  // V1 += V5
	FADD4S(6, 2, 2)  // V2 += V6
	FADD4S(7, 3, 3)  // V3 += V7
	FADDP4S(1, 0, 0) // V0 = [a0+a1, a2+a3, b0+b1, b2+b3]
	FADDP4S(3, 2, 2) // V2 = [c0+c1, c2+c3, d0+d1, d2+d3]
	FADDP4S(2, 0, 0) // V0 = [a, b, c, d]
	VST1 [V0.S4], (R6)
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

// Widening and conversion for int8 weights, also missing from Go's
// assembler: SXTL (SSHLL #0) 8B→8H, 4H→4S and its upper half 8H→4S
// (SSHLL2), and SCVTF 4S (signed int32 → float32).
#define SXTL8H(n, d) WORD $(0x0F08A400 | (n)<<5 | (d))
#define SXTL4S(n, d) WORD $(0x0F10A400 | (n)<<5 | (d))
#define SXTL24S(n, d) WORD $(0x4F10A400 | (n)<<5 | (d))
#define SCVTF4S(n, d) WORD $(0x4E21D800 | (n)<<5 | (d))

// WIDEN turns 8 int8 in V(b) into float32 in V(lo) (elements 0-3) and
// V(hi) (elements 4-7).
#define WIDEN(b, lo, hi) \
	SXTL8H(b, b) \
	SXTL24S(b, hi) \
	SXTL4S(b, lo) \
	SCVTF4S(lo, lo) \
	SCVTF4S(hi, hi)

// func dot4Q8(w *int8, stride int, x *float32, n int, dst *float32)
TEXT ·dot4Q8(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD stride+8(FP), R7
	ADD  R7, R0, R1
	ADD  R7, R1, R2
	ADD  R7, R2, R3
	MOVD x+16(FP), R4
	MOVD n+24(FP), R5
	MOVD dst+32(FP), R6
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16

qloop4:
	CMP  $8, R5
	BLT  qdone4
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 8(R0), [V18.B8]
	VLD1.P 8(R1), [V19.B8]
	VLD1.P 8(R2), [V20.B8]
	VLD1.P 8(R3), [V21.B8]
	WIDEN(18, 22, 23)
	WIDEN(19, 24, 25)
	WIDEN(20, 26, 27)
	WIDEN(21, 28, 29)
	VFMLA V16.S4, V22.S4, V0.S4
	VFMLA V17.S4, V23.S4, V4.S4
	VFMLA V16.S4, V24.S4, V1.S4
	VFMLA V17.S4, V25.S4, V5.S4
	VFMLA V16.S4, V26.S4, V2.S4
	VFMLA V17.S4, V27.S4, V6.S4
	VFMLA V16.S4, V28.S4, V3.S4
	VFMLA V17.S4, V29.S4, V7.S4
	SUB  $8, R5
	B    qloop4

qdone4:
	FADD4S(4, 0, 0)
	FADD4S(5, 1, 1)
	FADD4S(6, 2, 2)
	FADD4S(7, 3, 3)
	FADDP4S(1, 0, 0)
	FADDP4S(3, 2, 2)
	FADDP4S(2, 0, 0)
	VST1 [V0.S4], (R6)
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

// Half→single widening, also missing from Go's assembler: FCVTL
// Vd.4S, Vn.4H (elements 0-3) and FCVTL2 Vd.4S, Vn.8H (elements 4-7).
#define FCVTL4S(n, d) WORD $(0x0E217800 | (n)<<5 | (d))
#define FCVTL24S(n, d) WORD $(0x4E217800 | (n)<<5 | (d))

// HWIDEN turns 8 binary16 in V(h) into float32 in V(lo) and V(hi).
#define HWIDEN(h, lo, hi) \
	FCVTL4S(h, lo) \
	FCVTL24S(h, hi)

// func dot4F16(w *uint16, stride int, x *float32, n int, dst *float32)
TEXT ·dot4F16(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD stride+8(FP), R7
	LSL  $1, R7, R7
	ADD  R7, R0, R1
	ADD  R7, R1, R2
	ADD  R7, R2, R3
	MOVD x+16(FP), R4
	MOVD n+24(FP), R5
	MOVD dst+32(FP), R6
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16

hloop4:
	CMP  $8, R5
	BLT  hdone4
	VLD1.P 32(R4), [V16.S4, V17.S4]
	VLD1.P 16(R0), [V18.H8]
	VLD1.P 16(R1), [V19.H8]
	VLD1.P 16(R2), [V20.H8]
	VLD1.P 16(R3), [V21.H8]
	HWIDEN(18, 22, 23)
	HWIDEN(19, 24, 25)
	HWIDEN(20, 26, 27)
	HWIDEN(21, 28, 29)
	VFMLA V16.S4, V22.S4, V0.S4
	VFMLA V17.S4, V23.S4, V4.S4
	VFMLA V16.S4, V24.S4, V1.S4
	VFMLA V17.S4, V25.S4, V5.S4
	VFMLA V16.S4, V26.S4, V2.S4
	VFMLA V17.S4, V27.S4, V6.S4
	VFMLA V16.S4, V28.S4, V3.S4
	VFMLA V17.S4, V29.S4, V7.S4
	SUB  $8, R5
	B    hloop4

hdone4:
	FADD4S(4, 0, 0)
	FADD4S(5, 1, 1)
	FADD4S(6, 2, 2)
	FADD4S(7, 3, 3)
	FADDP4S(1, 0, 0)
	FADDP4S(3, 2, 2)
	FADDP4S(2, 0, 0)
	VST1 [V0.S4], (R6)
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
