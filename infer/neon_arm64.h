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
// V(hi) (elements 4-7); lo may be b.
#define WIDEN(b, lo, hi) \
	SXTL8H(b, b) \
	SXTL24S(b, hi) \
	SXTL4S(b, lo) \
	SCVTF4S(lo, lo) \
	SCVTF4S(hi, hi)

// Half→single widening: FCVTL Vd.4S, Vn.4H (elements 0-3) and FCVTL2
// Vd.4S, Vn.8H (elements 4-7).
#define FCVTL4S(n, d) WORD $(0x0E217800 | (n)<<5 | (d))
#define FCVTL24S(n, d) WORD $(0x4E217800 | (n)<<5 | (d))
