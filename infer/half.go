package infer

import (
	"fmt"
	"math"
	"unsafe"
)

// DenseF16 is a Dense layer whose weights are stored as IEEE 754 binary16
// (half precision): 1 sign bit, 5 exponent bits, 10 fraction bits, about
// three significant decimal digits over ±6.1e-5 … ±65504 (subnormals down
// to 6.0e-8). Inputs, biases and outputs stay float32, and the products
// are summed in float32. It needs half the memory of Dense, which on the
// window shapes is what makes it faster: the weights stay in cache.
type DenseF16 struct {
	In, Out int
	// H holds the weights' binary16 bit patterns row-major, Out rows of
	// In: H[o*In+i] connects input i to output o.
	H []uint16
	// B holds Out biases.
	B   []float32
	Act Activation

	packed unsafe.Pointer // *colPlan[uint16], stored by Prepare; read atomically
}

// MaxHalf is the largest finite binary16 value.
const MaxHalf = 65504

// ToHalf returns d with its weights rounded to binary16, to nearest with
// ties to even. Finite weights beyond the binary16 range saturate: any
// weight that would round to infinity (|w| ≥ 65520) becomes ±MaxHalf.
// Weights too small for binary16 become subnormals or zero of the same
// sign. Infinite and NaN weights stay infinite and NaN, and Validate
// rejects the layer. The biases are copied.
func ToHalf(d *Dense) *DenseF16 {
	h := make([]uint16, len(d.W))
	for i, w := range d.W {
		h[i] = Float32ToHalf(w)
		if h[i]&0x7fff == 0x7c00 && !math.IsInf(float64(w), 0) {
			h[i] -= 1 // ±Inf → ±MaxHalf, the encoding just below
		}
	}
	return &DenseF16{In: d.In, Out: d.Out, H: h, B: append([]float32(nil), d.B...), Act: d.Act}
}

// HalfLayer returns l with binary16 weights: a DenseF16 for a Dense (see
// ToHalf for the rounding). Other layers, convolutions and int8 layers
// among them, come back as they are.
func HalfLayer(l Layer) Layer {
	if d, ok := l.(*Dense); ok {
		return ToHalf(d)
	}
	return l
}

// Shape returns (In, Out).
func (d *DenseF16) Shape() (int, int) { return d.In, d.Out }

// Params returns the number of stored parameters (weights and biases).
func (d *DenseF16) Params() int { return len(d.H) + len(d.B) }

// Validate checks the layer's dimensions and activation, and that every
// weight is finite (binary16 infinities and NaNs are rejected).
func (d *DenseF16) Validate() error {
	switch {
	case !sizeOK(MaxVector, d.In) || !sizeOK(MaxVector, d.Out) || !sizeOK(MaxWeights, d.In, d.Out):
		return fmt.Errorf("dense-f16 %d→%d: sizes must be positive, at most %d, with at most %d weights", d.In, d.Out, MaxVector, MaxWeights)
	case len(d.H) != d.In*d.Out:
		return fmt.Errorf("dense-f16 %d→%d: %d weights, want %d", d.In, d.Out, len(d.H), d.In*d.Out)
	case len(d.B) != d.Out:
		return fmt.Errorf("dense-f16 %d→%d: %d biases, want %d", d.In, d.Out, len(d.B), d.Out)
	case !d.Act.Valid():
		return fmt.Errorf("dense-f16 %d→%d: invalid activation %v", d.In, d.Out, d.Act)
	}
	for i, h := range d.H {
		if h&0x7c00 == 0x7c00 {
			return fmt.Errorf("dense-f16 %d→%d: weight %d (row %d, column %d) is %v, want a finite number", d.In, d.Out, i, i/d.In, i%d.In, HalfToFloat32(h))
		}
	}
	return nil
}

// Forward writes f(W·x + b) into dst, converting the weights to float32
// on the fly. len(x) must be d.In and len(dst) d.Out; dst and x must not
// overlap.
func (d *DenseF16) Forward(dst, x []float32) {
	dst, x = dst[:d.Out], x[:d.In]
	r := 0
	if p := loadCols(&d.packed, d.H, d.In, d.Out); p != nil {
		r = denseColsF16(dst, p, x, d.B, d.Act)
	}
	if r < d.Out {
		denseF16(dst[r:], d.H[r*d.In:], x, d.B[r:], d.Act)
	}
}

// Prepare packs the weights for the column kernels as Dense.Prepare
// does (where the CPU also has F16C).
func (d *DenseF16) Prepare() {
	if d.Validate() == nil {
		prepareCols(&d.packed, d.H, d.In, d.Out, useCols && useAsmF16)
	}
}

// HalfToFloat32 returns the value of the binary16 bit pattern h. The
// conversion is exact (every binary16 value is a float32); NaNs keep
// their sign and payload.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	bits := uint32(h&0x7fff) << 13 // exponent and fraction, float32-aligned
	switch h & 0x7c00 {
	case 0: // zero or subnormal: fraction·2^-24, a normal float32
		return math.Float32frombits(sign | math.Float32bits(float32(h&0x3ff)*0x1p-24))
	case 0x7c00: // infinity or NaN
		bits += (255 - 31) << 23
	default: // rebias the exponent from 15 to 127
		bits += (127 - 15) << 23
	}
	return math.Float32frombits(sign | bits)
}

// Float32ToHalf returns the binary16 bit pattern nearest to f, ties to
// even (IEEE 754 roundTiesToEven): values of magnitude 65520 or more,
// and infinities, become ±infinity; values of magnitude at most 2^-25
// become a zero of the same sign; NaNs become quiet NaNs that keep the
// sign and the top of the payload.
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	b &^= 1 << 31
	switch {
	case b > 0x7f800000: // NaN
		return sign | 0x7e00 | uint16(b>>13)&0x3ff
	case b >= 0x477ff000: // ≥ 65520: rounds past 65504 to infinity
		return sign | 0x7c00
	case b >= 0x38800000: // ≥ 2^-14: normal
		b -= (127 - 15) << 23
		// Round the 23-bit fraction to 10 bits, ties to even; a carry
		// out of the fraction correctly bumps the exponent.
		b += 0xfff + (b>>13)&1
		return sign | uint16(b>>13)
	case b > 0x33000000: // (2^-25, 2^-14): subnormal, in units of 2^-24
		m := b&0x7fffff | 0x800000
		s := 126 - b>>23 // 14..24
		q := m >> s
		rem, half := m&(1<<s-1), uint32(1)<<(s-1)
		if rem > half || rem == half && q&1 == 1 {
			q++ // may become 0x400, the smallest normal: still right
		}
		return sign | uint16(q)
	}
	return sign // zero, or too small: rounds to zero
}
