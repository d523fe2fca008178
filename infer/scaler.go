package infer

import (
	"fmt"
	"math"
	"slices"
)

// Scaler standardises raw channel values: z = (x - Center) / Scale, per
// channel. FitStandard (mean, standard deviation), FitMinMax (minimum,
// range) and FitRobust (median, interquartile range) choose Center and
// Scale; applying them is the same operation.
type Scaler struct {
	Center []float32
	Scale  []float32
}

// Validate checks that Center and Scale have one finite entry per
// channel and that every Scale is finite, non-zero and has a finite
// float32 reciprocal (a scale such as 1e-40 does not: every sample would
// scale to ±Inf and read as invalid).
func (s *Scaler) Validate(channels int) error {
	if len(s.Center) != channels || len(s.Scale) != channels {
		return fmt.Errorf("scaler: %d centers and %d scales, want %d of each", len(s.Center), len(s.Scale), channels)
	}
	for i := range s.Center {
		c, k := float64(s.Center[i]), float64(s.Scale[i])
		if math.IsNaN(c) || math.IsInf(c, 0) || math.IsNaN(k) || math.IsInf(k, 0) || k == 0 {
			return fmt.Errorf("scaler: channel %d: center %v scale %v, want finite values and a non-zero scale", i, c, k)
		}
		if !finiteReciprocal(s.Scale[i]) {
			return fmt.Errorf("scaler: channel %d: scale %v has no finite float32 reciprocal, want |scale| ≥ %v", i, s.Scale[i], minScale)
		}
	}
	return nil
}

// minScale is the smallest scale magnitude whose float32 reciprocal is
// finite, rounded up to a readable figure.
const minScale = 3e-39

// finiteReciprocal reports whether 1/k is a finite float32.
func finiteReciprocal(k float32) bool {
	inv := float64(1 / k)
	return !math.IsInf(inv, 0) && !math.IsNaN(inv)
}

// Transform writes the scaled values of x into dst (which may be x). It
// multiplies by the reciprocal of Scale, as the gateway does with the
// reciprocals it keeps, so both give bit-identical results.
func (s *Scaler) Transform(dst, x []float32) {
	dst = dst[:len(s.Center)]
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = (x[i] - s.Center[i]) * (1 / s.Scale[i])
	}
}

// reciprocals returns 1/Scale per channel.
func (s *Scaler) reciprocals() []float32 {
	inv := make([]float32, len(s.Scale))
	for i, k := range s.Scale {
		inv[i] = 1 / k
	}
	return inv
}

// transformFinite is Transform, with the reciprocals of Scale given, that
// also reports whether every scaled value is finite (no input was NaN or
// ±Inf, and none overflowed). It computes exactly what Transform does, in
// the same pass as the check: a float is NaN or infinite when its
// exponent bits are all ones, and only then does adding one to them carry
// into the sign bit, which an OR of every such sum keeps. On amd64 with
// AVX2 it does so eight channels at a time (vector_amd64.s).
func (s *Scaler) transformFinite(dst, x, inv []float32) bool {
	const exp, one = 0x7f800000, 0x00800000
	dst = dst[:len(s.Center)]
	x = x[:len(dst)]
	center, inv := s.Center[:len(dst)], inv[:len(dst)]
	var bad uint32
	if useAsmVec && len(dst) >= 8 {
		n8 := len(dst) &^ 7
		if scaleFinite8(&dst[0], &x[0], &center[0], &inv[0], n8) != 0 {
			bad = 1 << 31
		}
		dst, x, center, inv = dst[n8:], x[n8:], center[n8:], inv[n8:]
	}
	for i := range dst {
		z := (x[i] - center[i]) * inv[i]
		dst[i] = z
		bad |= math.Float32bits(z)&exp + one
	}
	return bad>>31 == 0
}

// columns checks rows and returns their number of channels.
func columns(rows [][]float32) (int, error) {
	if len(rows) == 0 {
		return 0, fmt.Errorf("scaler: no rows to fit")
	}
	c := len(rows[0])
	for r, row := range rows {
		if len(row) != c {
			return 0, fmt.Errorf("scaler: row %d has %d values, want %d", r, len(row), c)
		}
	}
	return c, nil
}

// fit builds a scaler from a per-channel function of the channel's
// values; a zero, NaN or infinite spread, or one too small for a finite
// float32 reciprocal, becomes 1.
func fit(rows [][]float32, f func(col []float64) (center, spread float64)) (*Scaler, error) {
	c, err := columns(rows)
	if err != nil {
		return nil, err
	}
	s := &Scaler{Center: make([]float32, c), Scale: make([]float32, c)}
	col := make([]float64, len(rows))
	for i := 0; i < c; i++ {
		for r, row := range rows {
			col[r] = float64(row[i])
		}
		center, spread := f(col)
		if spread == 0 || math.IsNaN(spread) || math.IsInf(spread, 0) || !finiteReciprocal(float32(spread)) {
			spread = 1
		}
		s.Center[i] = float32(center)
		s.Scale[i] = float32(spread)
	}
	return s, s.Validate(c)
}

// FitMinMax returns the scaler mapping each channel's range in rows onto
// [0, 1] (the seeds' min-max scaler): Center the minimum, Scale the range.
// A constant channel gets scale 1.
func FitMinMax(rows [][]float32) (*Scaler, error) {
	return fit(rows, func(col []float64) (float64, float64) {
		lo, hi := col[0], col[0]
		for _, v := range col {
			lo, hi = min(lo, v), max(hi, v)
		}
		return lo, hi - lo
	})
}

// FitRobust returns a scaler that resists outliers: Center the median,
// Scale the interquartile range (75th minus 25th percentile, linear
// interpolation between order statistics). A channel with zero IQR gets
// scale 1.
func FitRobust(rows [][]float32) (*Scaler, error) { return FitRobustFloor(rows, 0) }

// FitRobustFloor is FitRobust with each channel's interquartile range
// floored at frac times its standard deviation and at its quantisation
// step, the smallest difference between two distinct values (frac 0 is
// FitRobust). A channel that sits on one reading most of the time (a
// flow meter at 32.000 ± 0.004 that now and then steps by 1 L/min) has
// an IQR so small that one ordinary step reads as hundreds of units; the
// floor keeps it sensitive, and in a deliberate unit. A constant channel
// still gets scale 1.
func FitRobustFloor(rows [][]float32, frac float64) (*Scaler, error) {
	if !(frac >= 0) || math.IsInf(frac, 0) {
		return nil, fmt.Errorf("scaler: scale floor %v, want a finite fraction ≥ 0", frac)
	}
	return fit(rows, func(col []float64) (float64, float64) {
		slices.Sort(col)
		spread := Quantile(col, 0.75) - Quantile(col, 0.25)
		if frac == 0 {
			return Quantile(col, 0.5), spread
		}
		var sum, ss float64
		step := math.Inf(1)
		for i, v := range col {
			sum += v
			if i > 0 && v > col[i-1] {
				step = min(step, v-col[i-1])
			}
		}
		m := sum / float64(len(col))
		for _, v := range col {
			ss += (v - m) * (v - m)
		}
		if !math.IsInf(step, 1) {
			spread = max(spread, step)
		}
		return Quantile(col, 0.5), max(spread, frac*math.Sqrt(ss/float64(len(col))))
	})
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted values, linear
// between order statistics (numpy's default). sorted must not be empty.
func Quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// FitStandard returns the z-score scaler of rows (each of the same
// length): per channel mean and population standard deviation. A
// channel with zero spread gets scale 1 so it passes through centred.
func FitStandard(rows [][]float32) (*Scaler, error) {
	return fit(rows, func(col []float64) (float64, float64) {
		var sum float64
		for _, v := range col {
			sum += v
		}
		mean := sum / float64(len(col))
		var ss float64
		for _, v := range col {
			d := v - mean
			ss += d * d
		}
		return mean, math.Sqrt(ss / float64(len(col)))
	})
}
