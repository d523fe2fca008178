package train

import (
	"fmt"
	"math"

	"github.com/vigil-edge/vigil/infer"
)

// Slowness returns, for each channel of rows, the share of its variance
// carried by the means of consecutive blocks of block rows: about
// 1/block for a channel that is noise around a steady level, near 1 for
// one that moves mostly on time scales longer than a block (a motor
// warming up, a tank filling). Rows past the last whole block are left
// out; a channel that does not vary gets 0.
func Slowness(rows [][]float32, block int) ([]float64, error) {
	between, total, err := blockVariances(rows, block)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(between))
	for ch, t := range total {
		if t > 0 && !math.IsInf(t, 0) {
			out[ch] = between[ch] / t
		}
	}
	return out, nil
}

// blockVariances returns, per channel of rows, the variance of the means
// of consecutive blocks of block rows about the overall mean (between)
// and the channel's variance (total), over the whole blocks.
func blockVariances(rows [][]float32, block int) (between, total []float64, err error) {
	if block < 2 {
		return nil, nil, fmt.Errorf("train: slowness block %d, want 2 or more", block)
	}
	blocks := len(rows) / block
	if blocks < 2 {
		return nil, nil, fmt.Errorf("train: %d rows make fewer than 2 blocks of %d", len(rows), block)
	}
	c := len(rows[0])
	for i, r := range rows {
		if len(r) != c {
			return nil, nil, fmt.Errorf("train: row %d has %d values, row 0 has %d", i, len(r), c)
		}
	}
	between, total = make([]float64, c), make([]float64, c)
	means := make([]float64, blocks)
	n := float64(blocks * block)
	for ch := range c {
		var mean float64
		for _, r := range rows[:blocks*block] {
			mean += float64(r[ch])
		}
		mean /= n
		for b := range blocks {
			var s float64
			for _, r := range rows[b*block : (b+1)*block] {
				d := float64(r[ch]) - mean
				s += d
				total[ch] += d * d
			}
			means[b] = s / float64(block)
		}
		for _, m := range means {
			between[ch] += m * m
		}
		between[ch] /= float64(blocks)
		total[ch] /= n
	}
	return between, total, nil
}

// WidenSlow multiplies the scale of every channel whose Slowness over
// rows is at least share by factor, and returns those channels' indexes.
//
// With blocks of a fixed fraction of rows (vigil train uses eighths),
// the share is large only for a channel that wanders on a time scale
// close to the whole span of rows: the rows then hold one stretch of a
// drift, not a sample of the channel's normal range, and a scale fitted
// to them makes the next stretch look anomalous. A longer recording of
// the same machine covers the wandering, the share falls, and nothing is
// widened. A widened channel still counts when it moves far beyond
// anything seen in training.
func WidenSlow(s *infer.Scaler, rows [][]float32, block int, share, factor float64) ([]int, error) {
	if !(share > 0 && share <= 1) || !(factor >= 1) || math.IsInf(factor, 0) {
		return nil, fmt.Errorf("train: widen slow channels with share %v and factor %v, want 0 < share ≤ 1 and a finite factor ≥ 1", share, factor)
	}
	if len(rows) > 0 && len(rows[0]) != len(s.Scale) {
		return nil, fmt.Errorf("train: rows have %d channels, the scaler %d", len(rows[0]), len(s.Scale))
	}
	sl, err := Slowness(rows, block)
	if err != nil {
		return nil, err
	}
	var widened []int
	for c, v := range sl {
		if v >= share {
			s.Scale[c] *= float32(factor)
			widened = append(widened, c)
		}
	}
	return widened, nil
}

// InflateSlow widens each channel's scale by the spread of its block
// means over rows (consecutive blocks of block rows): the new scale is
// √(scale² + (gamma·σ)²), σ the standard deviation of the channel's
// block means about their mean. It returns the factor each scale grew
// by.
//
// Unlike WidenSlow there is no cut-off: a channel that is noise about a
// steady level has block means that barely differ and keeps its scale,
// one that wanders over the training rows (a motor warming up) gets a
// scale in proportion to how far it wandered, so the next stretch of
// the same drift does not read as a fault, and a channel that moves
// several times that far during a fault still counts.
func InflateSlow(s *infer.Scaler, rows [][]float32, block int, gamma float64) ([]float64, error) {
	if !(gamma >= 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("train: slow-channel inflation %v, want a finite factor ≥ 0", gamma)
	}
	if len(rows) > 0 && len(rows[0]) != len(s.Scale) {
		return nil, fmt.Errorf("train: rows have %d channels, the scaler %d", len(rows[0]), len(s.Scale))
	}
	between, _, err := blockVariances(rows, block)
	if err != nil {
		return nil, err
	}
	grew := make([]float64, len(s.Scale))
	for c, v := range between {
		old := float64(s.Scale[c])
		k := math.Sqrt(old*old + gamma*gamma*v)
		if math.IsInf(k, 0) || math.IsNaN(k) {
			return nil, fmt.Errorf("train: channel %d: inflated scale %v, want a finite number", c, k)
		}
		s.Scale[c] = float32(k)
		grew[c] = k / old
	}
	return grew, nil
}
