package eval

import "fmt"

// Confusion holds point-wise counts of a binary detector's output against
// labels: TP anomalous and flagged, FP normal but flagged, FN anomalous but
// not flagged, TN normal and not flagged.
//
// The ratio methods follow one rule for a zero denominator: there was
// nothing that could go wrong, so ratios of successes (Precision, Recall,
// F1) are 1 and rates of failure (FAR, MAR) are 0. For example a recording
// with no anomalous sample has Recall 1 and MAR 0 whatever was flagged.
// This differs from scikit-learn, whose default reports 0 for an undefined
// precision, recall or F1.
type Confusion struct {
	TP, FP, FN, TN int
}

// NewConfusion counts predictions against labels, sample by sample. labels
// holds 0 (normal) or 1 (anomalous) and must be as long as predictions.
// It returns an error naming the first offending index otherwise.
func NewConfusion(labels []uint8, predictions []bool) (Confusion, error) {
	var c Confusion
	if len(labels) != len(predictions) {
		return c, fmt.Errorf("eval: %d labels but %d predictions", len(labels), len(predictions))
	}
	for i, l := range labels {
		switch {
		case l > 1:
			return Confusion{}, fmt.Errorf("eval: label %d at index %d is not 0 or 1", l, i)
		case l == 1 && predictions[i]:
			c.TP++
		case l == 1:
			c.FN++
		case predictions[i]:
			c.FP++
		default:
			c.TN++
		}
	}
	return c, nil
}

// Add returns the element-wise sum of c and o, as when pooling the counts
// of several recordings (SKAB sums counts over files before taking ratios).
func (c Confusion) Add(o Confusion) Confusion {
	return Confusion{TP: c.TP + o.TP, FP: c.FP + o.FP, FN: c.FN + o.FN, TN: c.TN + o.TN}
}

// N returns the number of samples counted.
func (c Confusion) N() int { return c.TP + c.FP + c.FN + c.TN }

// Precision returns TP/(TP+FP), the share of flagged samples that are
// anomalous; 1 when nothing was flagged.
func (c Confusion) Precision() float64 {
	return ratio(c.TP, c.TP+c.FP, 1)
}

// Recall returns TP/(TP+FN), the share of anomalous samples flagged; 1
// when no sample is anomalous.
func (c Confusion) Recall() float64 {
	return ratio(c.TP, c.TP+c.FN, 1)
}

// F1 returns SKAB's F1, TP/(TP+(FN+FP)/2), which equals the harmonic mean
// of Precision and Recall whenever both are defined; 1 when TP, FN and FP
// are all 0 (nothing anomalous and nothing flagged).
func (c Confusion) F1() float64 {
	d := float64(c.TP) + float64(c.FN+c.FP)/2
	if d == 0 {
		return 1
	}
	return float64(c.TP) / d
}

// FAR returns the false-alarm rate in percent, 100·FP/(FP+TN): the share
// of normal samples flagged; 0 when no sample is normal.
func (c Confusion) FAR() float64 {
	return 100 * ratio(c.FP, c.FP+c.TN, 0)
}

// MAR returns the missed-alarm rate in percent, 100·FN/(FN+TP): the share
// of anomalous samples not flagged; 0 when no sample is anomalous.
func (c Confusion) MAR() float64 {
	return 100 * ratio(c.FN, c.FN+c.TP, 0)
}

// String formats the counts and SKAB's three summary figures.
func (c Confusion) String() string {
	return fmt.Sprintf("TP %d FP %d FN %d TN %d: F1 %.2f FAR %.2f%% MAR %.2f%%",
		c.TP, c.FP, c.FN, c.TN, c.F1(), c.FAR(), c.MAR())
}

// ratio returns n/d, or empty when d is 0.
func ratio(n, d int, empty float64) float64 {
	if d == 0 {
		return empty
	}
	return float64(n) / float64(d)
}
