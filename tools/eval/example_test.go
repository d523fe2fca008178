package eval_test

import (
	"fmt"
	"time"

	"github.com/vigil-edge/vigil/tools/eval"
)

// Score one recording sampled every second: a fault starts at 00:00:10
// (changepoint) and lasts 20 s; the detector flags it from 00:00:15 to the
// end, and once by mistake at 00:00:03.
func Example() {
	start := time.Date(2020, 3, 9, 0, 0, 0, 0, time.UTC)
	const n = 40
	times := make([]time.Time, n)
	labels := make([]uint8, n)
	changepoints := make([]uint8, n)
	predictions := make([]bool, n)
	for i := range n {
		times[i] = start.Add(time.Duration(i) * time.Second)
		if i >= 10 && i < 30 {
			labels[i] = 1
		}
		predictions[i] = i == 3 || i >= 15
	}
	changepoints[10] = 1

	c, err := eval.NewConfusion(labels, predictions)
	if err != nil {
		panic(err)
	}
	fmt.Println(c)

	mean, detected, segments, err := eval.DetectionDelay(labels, predictions)
	if err != nil {
		panic(err)
	}
	fmt.Printf("delay %.0f samples, %d of %d anomalies detected\n", mean, detected, segments)

	// The alarms are the edges of the flags: 00:00:03 (rise) and 00:00:04
	// (fall), both false, and 00:00:15 (rise), 5 s into the 60 s window
	// opened by the changepoint, which scores 0.968 of A_tp = 1.
	s, err := eval.NAB(times, changepoints, predictions, eval.SKABWindow, eval.Standard)
	if err != nil {
		panic(err)
	}
	fmt.Printf("NAB S %.3f (null %.0f, perfect %.0f), %d false alarms\n", s.S, s.Null, s.Perfect, s.FalseAlarms)
	fmt.Printf("NAB total %.2f\n", eval.NABTotal([]eval.NABScore{s}))
	// Output:
	// TP 15 FP 11 FN 5 TN 9: F1 0.65 FAR 55.00% MAR 25.00%
	// delay 5 samples, 1 of 1 anomalies detected
	// NAB S 0.748 (null -1, perfect 1), 2 false alarms
	// NAB total 87.40
}

// Score detections with Numenta's NAB: 100 rows five minutes apart, one
// labelled window of rows 40-59, the detector flags rows 45-47 and, by
// mistake, row 80. The first 15 rows are probationary.
func ExampleScoreNumenta() {
	start := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
	times := make([]time.Time, 100)
	detections := make([]bool, 100)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * 5 * time.Minute)
		detections[i] = (i >= 45 && i <= 47) || i == 80
	}
	windows := []eval.NumentaWindow{{Start: times[40], End: times[59]}}
	s, err := eval.ScoreNumenta(times, windows, detections, eval.NumentaStandard)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("S %.3f (null %g, perfect %g): %.1f\n", s.S, s.Null, s.Perfect, eval.NumentaTotal([]eval.NumentaScore{s}))
	fmt.Printf("windows %d detected %d; rows TP %d FP %d FN %d TN %d\n", s.Windows, s.Detected, s.TP, s.FP, s.FN, s.TN)
	// Output:
	// S 0.858 (null -1, perfect 1): 92.9
	// windows 1 detected 1; rows TP 3 FP 1 FN 17 TN 64
}

// Count the alarms a crew would have seen: a fault from sample 4 to 9
// whose alarm chatters (it clears at sample 7 and comes back), and one
// alarm in normal operation at sample 12.
func ExampleEpisodes() {
	labels := []uint8{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}
	predictions := []bool{false, false, false, false, false, true, true, false, true, true, false, false, true, false}
	raised, falseAlarms, err := eval.Episodes(labels, predictions)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d alarms, %d of them false\n", raised, falseAlarms)
	// Output: 3 alarms, 1 of them false
}
