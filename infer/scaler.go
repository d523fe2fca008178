package infer

import (
	"fmt"
	"math"
)

// Scaler standardises raw channel values: z = (x - Center) / Scale, per
// channel. With Center the mean and Scale the standard deviation it is
// a z-score scaler.
type Scaler struct {
	Center []float32
	Scale  []float32
}

// Validate checks that Center and Scale have one finite entry per
// channel and that every Scale is finite and non-zero.
func (s *Scaler) Validate(channels int) error {
	if len(s.Center) != channels || len(s.Scale) != channels {
		return fmt.Errorf("scaler: %d centers and %d scales, want %d of each", len(s.Center), len(s.Scale), channels)
	}
	for i := range s.Center {
		c, k := float64(s.Center[i]), float64(s.Scale[i])
		if math.IsNaN(c) || math.IsInf(c, 0) || math.IsNaN(k) || math.IsInf(k, 0) || k == 0 {
			return fmt.Errorf("scaler: channel %d: center %v scale %v, want finite values and a non-zero scale", i, c, k)
		}
	}
	return nil
}

// Transform writes the scaled values of x into dst (which may be x).
func (s *Scaler) Transform(dst, x []float32) {
	dst = dst[:len(s.Center)]
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = (x[i] - s.Center[i]) / s.Scale[i]
	}
}

// FitStandard returns the z-score scaler of rows (each of the same
// length): per channel mean and population standard deviation. A
// channel with zero spread gets scale 1 so it passes through centred.
func FitStandard(rows [][]float32) (*Scaler, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("scaler: no rows to fit")
	}
	c := len(rows[0])
	sum := make([]float64, c)
	for r, row := range rows {
		if len(row) != c {
			return nil, fmt.Errorf("scaler: row %d has %d values, want %d", r, len(row), c)
		}
		for i, v := range row {
			sum[i] += float64(v)
		}
	}
	n := float64(len(rows))
	s := &Scaler{Center: make([]float32, c), Scale: make([]float32, c)}
	for i := range sum {
		mean := sum[i] / n
		var ss float64
		for _, row := range rows {
			d := float64(row[i]) - mean
			ss += d * d
		}
		sd := math.Sqrt(ss / n)
		if sd == 0 || math.IsNaN(sd) || math.IsInf(sd, 0) {
			sd = 1
		}
		s.Center[i] = float32(mean)
		s.Scale[i] = float32(sd)
	}
	return s, s.Validate(c)
}
