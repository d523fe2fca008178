package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrOneClass is returned (wrapped) by [ROCAUC] and [PRAUC] when the labels
// hold only one class, so that the area is undefined.
var ErrOneClass = errors.New("eval: labels hold only one class")

// ROCAUC returns the area under the ROC curve of scores (higher is more
// anomalous) against labels (0 normal, 1 anomalous): the probability that a
// randomly drawn anomalous sample scores higher than a randomly drawn
// normal one, ties counting one half. It is computed exactly, as the
// Mann-Whitney U statistic divided by the number of (anomalous, normal)
// pairs, in O(n log n). ±Inf scores are allowed.
//
// It returns an error if the lengths differ, a label is not 0 or 1, a
// score is NaN (naming the first such index), or only one class is
// present ([ErrOneClass]).
func ROCAUC(scores []float64, labels []uint8) (float64, error) {
	pos, neg, err := checkScores(scores, labels)
	if err != nil {
		return 0, err
	}
	order := sortedIndex(scores, false)
	// u2 is twice the Mann-Whitney U of the anomalous class: for each
	// group of equal scores, 2 per (anomalous, lower normal) pair and 1 per
	// (anomalous, equal normal) pair. int64 keeps it exact.
	var u2, negBelow int64
	for i := 0; i < len(order); {
		var p, n int64
		j := i
		for ; j < len(order) && scores[order[j]] == scores[order[i]]; j++ {
			if labels[order[j]] == 1 {
				p++
			} else {
				n++
			}
		}
		u2 += 2*p*negBelow + p*n
		negBelow += n
		i = j
	}
	return float64(u2) / (2 * float64(pos) * float64(neg)), nil
}

// PRAUC returns the area under the precision-recall curve of scores
// (higher is more anomalous) against labels as average precision, the
// definition of scikit-learn's average_precision_score:
//
//	AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ
//
// over the distinct score values taken as thresholds from the highest
// down, where Pₙ and Rₙ are the precision and recall of flagging every
// sample scoring at least the n-th threshold, and R₀ = 0. Samples with
// equal scores enter together, so ties are not broken by order. Unlike the
// trapezoidal area it never interpolates between points.
//
// Errors are those of [ROCAUC].
func PRAUC(scores []float64, labels []uint8) (float64, error) {
	pos, _, err := checkScores(scores, labels)
	if err != nil {
		return 0, err
	}
	order := sortedIndex(scores, true)
	var ap, prevRecall float64
	tp, fp := 0, 0
	for i := 0; i < len(order); {
		j := i
		for ; j < len(order) && scores[order[j]] == scores[order[i]]; j++ {
			if labels[order[j]] == 1 {
				tp++
			} else {
				fp++
			}
		}
		recall := float64(tp) / float64(pos)
		ap += (recall - prevRecall) * float64(tp) / float64(tp+fp)
		prevRecall = recall
		i = j
	}
	return ap, nil
}

// checkScores validates the inputs of ROCAUC and PRAUC and counts the
// classes.
func checkScores(scores []float64, labels []uint8) (pos, neg int, err error) {
	if len(scores) != len(labels) {
		return 0, 0, fmt.Errorf("eval: %d scores but %d labels", len(scores), len(labels))
	}
	for i, l := range labels {
		if l > 1 {
			return 0, 0, fmt.Errorf("eval: label %d at index %d is not 0 or 1", l, i)
		}
		if math.IsNaN(scores[i]) {
			return 0, 0, fmt.Errorf("eval: score at index %d is NaN", i)
		}
		if l == 1 {
			pos++
		}
	}
	neg = len(labels) - pos
	if pos == 0 || neg == 0 {
		return pos, neg, fmt.Errorf("%w (%d anomalous, %d normal)", ErrOneClass, pos, neg)
	}
	return pos, neg, nil
}

// sortedIndex returns the indices of scores ordered by score, ascending or
// descending. scores holds no NaN.
func sortedIndex(scores []float64, descending bool) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if descending {
			return cmp.Compare(scores[b], scores[a])
		}
		return cmp.Compare(scores[a], scores[b])
	})
	return order
}
