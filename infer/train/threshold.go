package train

import (
	"fmt"
	"math"
)

// Calibration summarises the scores of normal rows and the threshold
// chosen from them.
type Calibration struct {
	Method    string  // how Threshold was chosen, e.g. "mean+ksigma"
	K         float64 // the method's parameter
	Mean, Std float64 // of the calibration scores
	N         int     // number of calibration scores
	Threshold float64
}

// MeanKSigma sets the threshold at mean + k standard deviations of the
// scores of normal rows (the seeds' rule, with k = 3).
func MeanKSigma(scores []float32, k float64) (Calibration, error) {
	if len(scores) == 0 {
		return Calibration{}, fmt.Errorf("train: no scores to calibrate a threshold on")
	}
	var sum float64
	for i, s := range scores {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return Calibration{}, fmt.Errorf("train: calibration score %d is %v", i, s)
		}
		sum += float64(s)
	}
	n := float64(len(scores))
	mean := sum / n
	var ss float64
	for _, s := range scores {
		d := float64(s) - mean
		ss += d * d
	}
	std := math.Sqrt(ss / n)
	return Calibration{Method: "mean+ksigma", K: k, Mean: mean, Std: std, N: len(scores), Threshold: mean + k*std}, nil
}
