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
	if block < 2 {
		return nil, fmt.Errorf("train: slowness block %d, want 2 or more", block)
	}
	blocks := len(rows) / block
	if blocks < 2 {
		return nil, fmt.Errorf("train: %d rows make fewer than 2 blocks of %d", len(rows), block)
	}
	c := len(rows[0])
	for i, r := range rows {
		if len(r) != c {
			return nil, fmt.Errorf("train: row %d has %d values, row 0 has %d", i, len(r), c)
		}
	}
	out := make([]float64, c)
	means := make([]float64, blocks)
	for ch := range c {
		var total, mean float64
		n := float64(blocks * block)
		for _, r := range rows[:blocks*block] {
			mean += float64(r[ch])
		}
		mean /= n
		for b := range blocks {
			var s float64
			for _, r := range rows[b*block : (b+1)*block] {
				d := float64(r[ch]) - mean
				s += d
				total += d * d
			}
			means[b] = s / float64(block)
		}
		var between float64
		for _, m := range means {
			between += m * m
		}
		between /= float64(blocks)
		if total /= n; total > 0 && !math.IsInf(total, 0) {
			out[ch] = between / total
		}
	}
	return out, nil
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
