package eval

import (
	"fmt"
	"math"
	"time"
)

// SKABWindow is the width of the scoring window the SKAB leaderboard puts
// to the right of each labelled changepoint (window_width="60s" in every
// notebook of github.com/waico/SKAB). It is a span of time, not of samples:
// SKAB's sampling is uneven.
const SKABWindow = 60 * time.Second

// Profile holds the weights of one NAB application profile: TP is the
// score of an alarm at the very start of a window (A_tp), FP the score of
// each alarm outside every window and of an alarm at the very end of a
// window (A_fp), FN the score of a window without an alarm (A_fn).
type Profile struct {
	Name       string
	TP, FP, FN float64
}

// The three profiles of SKAB's NAB (table_of_coef in
// single_evaluate_nab). A_tn (1) is listed there but never used.
// Treat them as constants.
var (
	// Standard weighs a missed changepoint like 1/0.11 ≈ 9 false alarms.
	Standard = Profile{Name: "Standard", TP: 1, FP: -0.11, FN: -1}
	// LowFP doubles the cost of a false alarm.
	LowFP = Profile{Name: "LowFP", TP: 1, FP: -0.22, FN: -1}
	// LowFN doubles the cost of a missed changepoint.
	LowFN = Profile{Name: "LowFN", TP: 1, FP: -0.11, FN: -2}
)

// NABScore is the NAB score of one recording under one profile.
type NABScore struct {
	S       float64 // the detector's score
	Null    float64 // score of a detector that never alarms: Windows·A_fn
	Perfect float64 // score of one alarm at each changepoint: Windows·A_tp

	Windows     int // scoring windows, one per labelled changepoint
	Missed      int // windows holding no alarm
	FalseAlarms int // alarms outside every window
}

// Alarms returns the alarm instants SKAB derives from point-wise
// predictions before scoring NAB: |diff(prediction)| with its first value
// set to prediction[0]. Sample 0 is an alarm if it is flagged, and every
// later sample whose prediction differs from the one before, rising or
// falling edge alike. A long flagged run thus raises at most two alarms.
// The result is a new slice as long as predictions.
//
// This is the derivation of SKAB's Conv-AE, LSTM-AE, MSET, MSCRED, T²,
// T²+Q, Vanilla AE and Vanilla LSTM notebooks. Its Isolation forest and
// ArimaFD notebooks first hold each flag for 30 rows (a rolling maximum)
// and take the edges of that instead, keeping the raw prediction[0]; build
// such alarms yourself and call [NABAlarms].
func Alarms(predictions []bool) []bool {
	alarms := make([]bool, len(predictions))
	for i, pred := range predictions {
		alarms[i] = pred
		if i > 0 {
			alarms[i] = pred != predictions[i-1]
		}
	}
	return alarms
}

// NAB scores point-wise predictions on one recording exactly as the SKAB
// leaderboard does: it is NABAlarms(times, changepoints,
// Alarms(predictions), window, p). See [NABAlarms] for the definition and
// the errors.
func NAB(times []time.Time, changepoints []uint8, predictions []bool, window time.Duration, p Profile) (NABScore, error) {
	if len(predictions) != len(times) {
		return NABScore{}, fmt.Errorf("eval: NAB: %d times but %d predictions", len(times), len(predictions))
	}
	return NABAlarms(times, changepoints, Alarms(predictions), window, p)
}

// NABAlarms scores alarm instants (alarms[i] true when the detector
// signals a change at times[i]) on one recording exactly as the SKAB
// leaderboard does: SKAB's core/metrics.py (identical to tsad's
// evaluating module) called with window_width="60s",
// anomaly_window_destination="righter" and the defaults
// clear_anomalies_mode=True, intersection_mode="cut right window",
// scale_func="improved", scale_koef=1. Use [NAB] to start from point-wise
// predictions.
//
//  1. Windows. Each sample with changepoints[i] == 1 opens the window
//     [times[i], times[i]+window], both ends inclusive. Taking windows in
//     time order, when a window's end is at or after the next one's start,
//     the next one's start is moved to that end, so neighbours share at
//     most their boundary instant.
//  2. Score. Each alarm in no window adds A_fp. Each window without an
//     alarm adds A_fn. Each window [a, b] with alarms adds the scaled
//     sigmoid of its first alarm t, sampled on a grid of 1000 points:
//     k = ⌊(t−a)/(b−a)·1000⌋ capped at 999, x = −π/2 + k·π/999 and
//     score (A_tp−A_fp)/2·(1 − tanh(x)/tanh(π/2)) + A_fp, which falls
//     from A_tp at the window's start to A_fp at its end. Later alarms in
//     a window are free. An alarm on a boundary shared by two windows
//     counts in both.
//
// Null is Windows·A_fn and Perfect Windows·A_tp. Sum NABScore over
// recordings with [NABTotal].
//
// The anomaly labels play no part: SKAB scores NAB on the changepoint
// column alone. times must be strictly increasing and as long as
// changepoints (0 or 1) and alarms; window must be positive. NABAlarms
// returns an error naming the first offending index otherwise. SKAB's
// optional window width derived from a "portion" of the recording, used
// when no width is given, is not implemented: the leaderboard always
// passes 60 s.
func NABAlarms(times []time.Time, changepoints []uint8, alarms []bool, window time.Duration, p Profile) (NABScore, error) {
	if len(times) != len(changepoints) || len(times) != len(alarms) {
		return NABScore{}, fmt.Errorf("eval: NAB: %d times, %d changepoints, %d alarms",
			len(times), len(changepoints), len(alarms))
	}
	if window <= 0 {
		return NABScore{}, fmt.Errorf("eval: NAB: window %v is not positive", window)
	}
	var wins []nabWindow
	for i, c := range changepoints {
		if c > 1 {
			return NABScore{}, fmt.Errorf("eval: NAB: changepoint %d at index %d is not 0 or 1", c, i)
		}
		if i > 0 && !times[i].After(times[i-1]) {
			return NABScore{}, fmt.Errorf("eval: NAB: time at index %d (%v) is not after the one before (%v)",
				i, times[i], times[i-1])
		}
		if c == 1 {
			wins = append(wins, nabWindow{start: times[i], end: times[i].Add(window), first: -1})
		}
	}
	for i := 0; i+1 < len(wins); i++ {
		if !wins[i].end.Before(wins[i+1].start) {
			wins[i+1].start = wins[i].end
		}
	}

	falseAlarms, w := 0, 0
	for i, alarm := range alarms {
		if !alarm {
			continue
		}
		t := times[i]
		for w < len(wins) && wins[w].end.Before(t) {
			w++
		}
		inside := false
		for k := w; k < len(wins) && !wins[k].start.After(t); k++ {
			if !t.After(wins[k].end) {
				inside = true
				if wins[k].first < 0 {
					wins[k].first = i
				}
			}
		}
		if !inside {
			falseAlarms++
		}
	}

	s := NABScore{
		Windows:     len(wins),
		FalseAlarms: falseAlarms,
		Null:        float64(len(wins)) * p.FN,
		Perfect:     float64(len(wins)) * p.TP,
	}
	for _, win := range wins {
		if win.first < 0 {
			s.Missed++
		}
	}
	// The order of the sums follows single_evaluate_nab.
	s.S = p.FP * float64(s.FalseAlarms)
	s.S += p.FN * float64(s.Missed)
	for _, win := range wins {
		if win.first >= 0 {
			s.S += nabSigmoid(times[win.first].Sub(win.start), win.end.Sub(win.start), p)
		}
	}
	return s, nil
}

// nabWindow is one scoring window and the index of its first alarm, -1 if
// none.
type nabWindow struct {
	start, end time.Time
	first      int
}

// nabGrid is the number of points on which SKAB samples its sigmoid
// (detalization in my_scale).
const nabGrid = 1000

// nabSigmoid is SKAB's my_scale for an alarm at offset into a window of
// width span (koef 1, clear_anomalies_mode): the sigmoid sampled on
// linspace(−π/2, π/2, 1000) at index ⌊offset/span·1000⌋, capped at 999.
// The arithmetic follows numpy's order of operations.
func nabSigmoid(offset, span time.Duration, p Profile) float64 {
	k := nabGrid - 1
	if span > 0 { // a zero-width window cannot occur with increasing times
		if f := float64(offset) / float64(span) * nabGrid; f < nabGrid {
			k = int(f)
		}
	}
	// As numpy.linspace: step = (hi−lo)/999 rounded in float64 (not
	// folded exactly from the constant π), x = k·step + lo with the
	// product rounded before the sum (no fused multiply-add), and the
	// endpoint set exactly.
	halfPi := float64(math.Pi) / 2
	lo, hi := -halfPi, halfPi
	x := hi
	if k < nabGrid-1 {
		step := (hi - lo) / (nabGrid - 1)
		x = float64(float64(k)*step) + lo
	}
	half := (p.TP - p.FP) / 2
	return half*-1*math.Tanh(x)/math.Tanh(halfPi) + half + p.FP
}

// NABTotal returns SKAB's normalised NAB total of per-recording scores,
// 100·(ΣS − ΣNull)/(ΣPerfect − ΣNull): 0 for a detector that never alarms,
// 100 for a perfect one, negative when false alarms outweigh detections.
// The scores should all use the same profile. SKAB rounds the result to 2
// decimals; NABTotal does not. It returns NaN when the recordings hold no
// changepoint (ΣPerfect = ΣNull).
func NABTotal(scores []NABScore) float64 {
	var s, null, perfect float64
	for _, sc := range scores {
		s += sc.S
		null += sc.Null
		perfect += sc.Perfect
	}
	return normalised(s, null, perfect)
}

// normalised is NAB's 100·(S − Null)/(Perfect − Null); NaN when Perfect
// equals Null (nothing to detect).
func normalised(s, null, perfect float64) float64 {
	if perfect == null {
		return math.NaN()
	}
	return 100 * (s - null) / (perfect - null)
}
