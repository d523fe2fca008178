package train

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/vigil-edge/vigil/infer"
)

// Calibration summarises the scores of normal rows and the threshold
// chosen from them.
type Calibration struct {
	Method    string  // how Threshold was chosen: "mean+ksigma", "percentile" or "pot"
	K         float64 // the method's parameter: k, the percentile, or the target risk
	Mean, Std float64 // of the calibration scores
	N         int     // number of calibration scores
	Threshold float64
}

func checkScores(scores []float32) (mean, std float64, err error) {
	if len(scores) == 0 {
		return 0, 0, errors.New("train: no scores to calibrate a threshold on")
	}
	var sum float64
	for i, s := range scores {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return 0, 0, fmt.Errorf("train: calibration score %d is %v", i, s)
		}
		sum += float64(s)
	}
	n := float64(len(scores))
	mean = sum / n
	var ss float64
	for _, s := range scores {
		d := float64(s) - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / n), nil
}

// MeanKSigma sets the threshold at mean + k standard deviations of the
// scores of normal rows (the seeds' rule, with k = 3).
func MeanKSigma(scores []float32, k float64) (Calibration, error) {
	mean, std, err := checkScores(scores)
	if err != nil {
		return Calibration{}, err
	}
	return Calibration{Method: "mean+ksigma", K: k, Mean: mean, Std: std, N: len(scores), Threshold: mean + k*std}, nil
}

// Percentile sets the threshold at the p-th percentile (0 < p < 100) of
// the scores of normal rows, interpolating linearly between order
// statistics.
func Percentile(scores []float32, p float64) (Calibration, error) {
	mean, std, err := checkScores(scores)
	if err != nil {
		return Calibration{}, err
	}
	if !(p > 0 && p < 100) {
		return Calibration{}, fmt.Errorf("train: percentile %v, want between 0 and 100", p)
	}
	sorted := sortedScores(scores)
	return Calibration{Method: "percentile", K: p, Mean: mean, Std: std, N: len(scores), Threshold: infer.Quantile(sorted, p/100)}, nil
}

// PeaksOverThreshold sets the threshold by extreme value theory (the
// peaks-over-threshold method of SPOT, Siffer et al., KDD 2017): the
// excesses of the scores over their 98th percentile t are fitted with a
// generalized Pareto distribution (shape ξ, scale σ) and the threshold is
// the score exceeded with probability risk:
//
//	z = t + σ/ξ · ((risk·n/Nₜ)^(−ξ) − 1)   (z = t − σ·ln(risk·n/Nₜ) when ξ = 0)
//
// with n scores of which Nₜ exceed t. ξ and σ are fitted by probability
// weighted moments (Hosking and Wallis, 1987), which stay well behaved
// with the few dozen excesses a validation set gives. risk must be below
// the 2 % the initial threshold leaves above it.
func PeaksOverThreshold(scores []float32, risk float64) (Calibration, error) {
	mean, std, err := checkScores(scores)
	if err != nil {
		return Calibration{}, err
	}
	const initial = 0.98
	if !(risk > 0 && risk < 1-initial) {
		return Calibration{}, fmt.Errorf("train: risk %v, want between 0 and %v", risk, 1-initial)
	}
	sorted := sortedScores(scores)
	t := infer.Quantile(sorted, initial)
	var ex []float64
	for _, s := range sorted {
		if s > t {
			ex = append(ex, s-t)
		}
	}
	if len(ex) < 10 {
		return Calibration{}, fmt.Errorf("train: %d scores above the 98th percentile, want at least 10 to fit the tail (give more validation rows)", len(ex))
	}
	xi, sigma := gpdPWM(ex)
	r := risk * float64(len(sorted)) / float64(len(ex))
	z := t - sigma*math.Log(r)
	if math.Abs(xi) > 1e-9 {
		z = t + sigma/xi*(math.Pow(r, -xi)-1)
	}
	if math.IsNaN(z) || math.IsInf(z, 0) || z <= t {
		return Calibration{}, fmt.Errorf("train: the tail fit (shape %v, scale %v) gives no usable threshold", xi, sigma)
	}
	return Calibration{Method: "pot", K: risk, Mean: mean, Std: std, N: len(scores), Threshold: z}, nil
}

// gpdPWM fits a generalized Pareto distribution to excesses (sorted
// ascending) by probability weighted moments: with a0 the mean and a1 the
// mean of x·(1 − p) over plotting positions p = (i − 0.35)/n,
// ξ = 2 − a0/(a0 − 2a1) and σ = 2·a0·a1/(a0 − 2a1) (Hosking and Wallis's
// k = −ξ).
func gpdPWM(ex []float64) (xi, sigma float64) {
	n := float64(len(ex))
	var a0, a1 float64
	for i, x := range ex {
		p := (float64(i+1) - 0.35) / n
		a0 += x
		a1 += x * (1 - p)
	}
	a0, a1 = a0/n, a1/n
	d := a0 - 2*a1
	return 2 - a0/d, 2 * a0 * a1 / d
}

func sortedScores(scores []float32) []float64 {
	s := make([]float64, len(scores))
	for i, v := range scores {
		s[i] = float64(v)
	}
	slices.Sort(s)
	return s
}

// KofN picks the debounce for a threshold from the scores of normal rows
// in time order (validation data): for each window length n up to maxN,
// the least k that no run of n consecutive scores reaches (one more than
// the most scores above the threshold in any n in a row). It returns the
// pair with the smallest k — the fewest scores, so the least delay, before
// an alarm — and the shorter n on a tie; with no such pair, (maxN, maxN).
// On the calibration data the returned pair never raises an alarm.
func KofN(scores []float32, threshold float64, maxN int) (k, n int) {
	k, n = maxN, maxN
	for w := 1; w <= maxN && w <= len(scores); w++ {
		most, above := 0, 0
		for i, s := range scores {
			if !(float64(s) <= threshold) {
				above++
			}
			if i >= w && !(float64(scores[i-w]) <= threshold) {
				above--
			}
			most = max(most, above)
		}
		if need := most + 1; need <= w && need < k {
			k, n = need, w
		}
	}
	return k, n
}
