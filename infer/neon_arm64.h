// Shared by kernel_arm64.s, kernelmv_arm64.s and kernelcol_arm64.s:
// instructions Go's assembler lacks, as their A64 encodings.

// Vector FADD, FADDP, FMUL and FCMLT (A64: FADD Vd.4S, Vn.4S, Vm.4S =
// 0x4E20D400 | m<<16 | n<<5 | d; FADDP Vd.4S, Vn.4S, Vm.4S = 0x6E20D400 |
// m<<16 | n<<5 | d; FMUL Vd.4S, Vn.4S, Vm.4S = 0x6E20DC00 | m<<16 | n<<5 |
// d; FCMLT Vd.4S, Vn.4S, #0.0 = 0x4EA0E800 | n<<5 | d, all ones in the
// lanes < 0).
#define FADD4S(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FADDP4S(m, n, d) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FCMLTZ4S(n, d) WORD $(0x4EA0E800 | (n)<<5 | (d))

// Widening and conversion for int8 weights: SXTL (SSHLL #0) 8B→8H and
// its upper half 16B→8H (SSHLL2), 4H→4S and its upper half 8H→4S, and
// SCVTF 4S (signed int32 → float32).
#define SXTL8H(n, d) WORD $(0x0F08A400 | (n)<<5 | (d))
#define SXTL28H(n, d) WORD $(0x4F08A400 | (n)<<5 | (d))
#define SXTL4S(n, d) WORD $(0x0F10A400 | (n)<<5 | (d))
#define SXTL24S(n, d) WORD $(0x4F10A400 | (n)<<5 | (d))
#define SCVTF4S(n, d) WORD $(0x4E21D800 | (n)<<5 | (d))

// WIDEN turns 8 int8 in V(b) into float32 in V(lo) (elements 0-3) and
// V(hi) (elements 4-7); lo may be b. WIDENH does the same from 8 int16
// in V(h).
#define WIDEN(b, lo, hi) \
	SXTL8H(b, b) \
	WIDENH(b, lo, hi)
#define WIDENH(h, lo, hi) \
	SXTL24S(h, hi) \
	SXTL4S(h, lo) \
	SCVTF4S(lo, lo) \
	SCVTF4S(hi, hi)

// Half→single widening: FCVTL Vd.4S, Vn.4H (elements 0-3) and FCVTL2
// Vd.4S, Vn.8H (elements 4-7).
#define FCVTL4S(n, d) WORD $(0x0E217800 | (n)<<5 | (d))
#define FCVTL24S(n, d) WORD $(0x4E217800 | (n)<<5 | (d))

// HWIDEN turns 8 binary16 in V(h) into float32 in V(lo) and V(hi).
#define HWIDEN(h, lo, hi) \
	FCVTL4S(h, lo) \
	FCVTL24S(h, hi)

// ZERO8 and ZERO16 clear the accumulators V0..V7 and V0..V15.
#define ZERO8 \
	VEOR V0.B16, V0.B16, V0.B16 \
	VEOR V1.B16, V1.B16, V1.B16 \
	VEOR V2.B16, V2.B16, V2.B16 \
	VEOR V3.B16, V3.B16, V3.B16 \
	VEOR V4.B16, V4.B16, V4.B16 \
	VEOR V5.B16, V5.B16, V5.B16 \
	VEOR V6.B16, V6.B16, V6.B16 \
	VEOR V7.B16, V7.B16, V7.B16
#define ZERO16 \
	ZERO8 \
	VEOR V8.B16, V8.B16, V8.B16 \
	VEOR V9.B16, V9.B16, V9.B16 \
	VEOR V10.B16, V10.B16, V10.B16 \
	VEOR V11.B16, V11.B16, V11.B16 \
	VEOR V12.B16, V12.B16, V12.B16 \
	VEOR V13.B16, V13.B16, V13.B16 \
	VEOR V14.B16, V14.B16, V14.B16 \
	VEOR V15.B16, V15.B16, V15.B16
