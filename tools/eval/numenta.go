package eval

import (
	"fmt"
	"math"
	"time"
)

// NumentaProfile is one of the application profiles of Numenta's NAB
// (config/profiles.json of github.com/numenta/NAB): the weights of its
// cost matrix. TP is what the earliest possible detection in a window
// scores, FP the most a false positive can cost, FN what a window
// without a detection costs. TN is listed in profiles.json but never used
// by NAB's scorer, nor here.
type NumentaProfile struct {
	Name           string // NAB's name, e.g. "reward_low_FP_rate"
	TP, FP, FN, TN float64
}

// The three profiles of config/profiles.json. Treat them as constants.
var (
	// NumentaStandard is NAB's "standard" profile.
	NumentaStandard = NumentaProfile{Name: "standard", TP: 1, FP: 0.11, FN: 1, TN: 1}
	// NumentaLowFP is "reward_low_FP_rate": false positives cost twice as much.
	NumentaLowFP = NumentaProfile{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1, TN: 1}
	// NumentaLowFN is "reward_low_FN_rate": missed windows cost twice as much.
	NumentaLowFN = NumentaProfile{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2, TN: 1}
)

// NumentaProbationPercent is NAB's probationaryPercent: the share of each
// file's first rows that are not scored (the detector learns on them).
const NumentaProbationPercent = 0.15

// NumentaProbation returns how many first rows of a file of n rows NAB
// leaves out of scoring: min(⌊0.15·n⌋, 0.15·5000), as
// Sweeper._getProbationaryLength computes it (at most 750 rows).
func NumentaProbation(n int) int {
	return int(math.Min(math.Floor(NumentaProbationPercent*float64(n)), NumentaProbationPercent*5000))
}

// NumentaWindow is a labelled anomaly window of NAB's
// labels/combined_windows.json: the rows from Start to End, both
// inclusive. Both must be the time of a row exactly.
type NumentaWindow struct {
	Start, End time.Time
}

// NumentaScore is Numenta's NAB score of one file under one profile, with
// NAB's counts.
type NumentaScore struct {
	// S is the file's raw score: the sum of the weighted scaled sigmoid
	// of every false positive, the best (earliest) detection of each
	// window and −A_fn for each window with no detection.
	S float64
	// Null is what NAB's null detector (which never detects) scores:
	// −A_fn for each window with at least one row after the probationary
	// period. Perfect is A_tp for each labelled window, as NAB counts it
	// from the labels file.
	Null, Perfect float64

	Windows  int // labelled windows
	Scored   int // windows with at least one row after the probationary period
	Detected int // windows with a detection after the probationary period
	Missed   int // scored windows without one

	// TP, FP, FN and TN are NAB's counts (the columns of its
	// *_scores.csv): rows after the probationary period, detected or
	// not, inside a window or not. They count rows, not windows.
	TP, FP, FN, TN int
	// Probation is the number of first rows left out of scoring.
	Probation int
}

// ScoreNumenta scores per-row detections (detections[i] true when the
// detector flags the row at times[i]) against labelled windows exactly as
// Numenta's NAB does: nab/sweeper.py, Sweeper.calcSweepScore followed by
// calcScoreByThreshold, at the threshold that separates flagged rows from
// the rest (NAB's scoreDataSet with anomaly scores 1 and 0 and threshold
// 1).
//
//  1. Probation. The first [NumentaProbation](len(times)) rows are not
//     scored: no detection, miss or count comes from them. A window all
//     inside them is not scored either (it still counts in Perfect).
//  2. Rows in a window of width w rows (right edge at row r) score
//     A_tp·σ(−(r−i+1)/w)/σ(−1) at row i, where σ(x) = 2/(1+e^{5x}) − 1 is
//     NAB's scaledSigmoid (−1 for x > 3): A_tp at the window's first row,
//     falling towards 0 at its last. Each window adds the score of its
//     best, i.e. first, detected row, or −A_fn if none is detected; later
//     detections in a window are free.
//  3. Every detected row outside all windows adds A_fp·σ(d/(w−1)), d the
//     rows since the previous window's right edge and w its width (so −A_fp
//     far from it, nearly 0 right after it), or −A_fp if no window came
//     before.
//
// Every flagged row is a detection, as in NAB: a detector that keeps
// flagging outside a window pays for each row. The counts are NAB's row
// counts (see NumentaScore). The sums are taken in the order Python
// takes them, so S matches NAB's to the last bit up to the libm's exp.
//
// times must be as long as detections; they need not increase, as in
// NAB (whose own corpus steps back in time once). The windows must be in
// time order, each End not before its Start and not after the next one's
// Start (NAB's CorpusLabel.validateLabels), and each bound must be the
// time of exactly one row (NAB's getWindows: "Timestamps in json label
// files have to exactly match timestamps in corresponding datafiles"),
// the end's row not before the start's. ScoreNumenta returns an error
// naming the offending window and time otherwise. Where NAB itself fails
// — any row outside the windows after a window one row wide, whose
// weighting divides by w−1 = 0 — it returns an error too.
func ScoreNumenta(times []time.Time, windows []NumentaWindow, detections []bool, p NumentaProfile) (NumentaScore, error) {
	if len(times) != len(detections) {
		return NumentaScore{}, fmt.Errorf("eval: NAB: %d times but %d detections", len(times), len(detections))
	}
	if err := checkWindows(windows); err != nil {
		return NumentaScore{}, fmt.Errorf("eval: NAB: %w", err)
	}
	// NAB looks the right edge up with timestamps.index.
	right := make([]int, len(windows))
	left := make([]int, len(windows))
	for k, w := range windows {
		var err error
		if left[k], err = rowAt(times, w.Start, k, "start"); err != nil {
			return NumentaScore{}, err
		}
		if right[k], err = rowAt(times, w.End, k, "end"); err != nil {
			return NumentaScore{}, err
		}
		if right[k] < left[k] {
			return NumentaScore{}, fmt.Errorf("eval: NAB: window %d ends at row %d, before its start at row %d: the times are out of order",
				k+1, right[k], left[k])
		}
	}

	s := NumentaScore{Windows: len(windows), Perfect: float64(len(windows)) * p.TP, Probation: NumentaProbation(len(times))}
	maxTP := scaledSigmoid(-1.0)
	// The parts of NAB's scoreParts: "fp", then one per window.
	fp := 0.0
	parts := make([]float64, len(windows))
	scored := make([]bool, len(windows))
	detected := make([]bool, len(windows))

	next, cur := 0, -1 // the next window to enter; the one we are in
	prevRight, prevWidth := -1, 0.0
	var curWidth float64
	for i, t := range times {
		if next < len(windows) && t.Equal(windows[next].Start) {
			cur, next = next, next+1
			curWidth = float64(right[cur] - left[cur] + 1)
		}
		var score float64
		switch {
		case cur >= 0:
			position := -float64(right[cur]-i+1) / curWidth
			score = scaledSigmoid(position) * p.TP / maxTP
		case prevRight < 0:
			score = -1.0 * p.FP
		default:
			if prevWidth == 1 {
				return NumentaScore{}, fmt.Errorf("eval: NAB: row %d follows a window one row wide (%v): NAB weighs it by the distance over the width − 1 and fails (division by zero); widen the window",
					i, times[prevRight])
			}
			position := float64(i-prevRight) / (prevWidth - 1)
			score = scaledSigmoid(position) * p.FP
		}
		if i >= s.Probation {
			switch {
			case cur >= 0:
				if !scored[cur] {
					scored[cur], parts[cur] = true, -p.FN
				}
				if detections[i] {
					s.TP++
					detected[cur] = true
					parts[cur] = math.Max(parts[cur], score)
				} else {
					s.FN++
				}
			case detections[i]:
				s.FP++
				fp += score
			default:
				s.TN++
			}
		}
		if cur >= 0 && t.Equal(windows[cur].End) {
			prevRight, prevWidth = i, curWidth
			cur = -1
		}
	}

	// sum(scoreParts.values()): "fp" first, then the windows in the order
	// they entered the dict, those with a detection (sorted first by
	// their anomaly score) before the others, each group in time order.
	s.S = fp
	for _, group := range []bool{true, false} {
		for k := range windows {
			if scored[k] && detected[k] == group {
				s.S += parts[k]
			}
		}
	}
	for k := range windows {
		if !scored[k] {
			continue
		}
		s.Scored++
		s.Null -= p.FN
		if detected[k] {
			s.Detected++
		} else {
			s.Missed++
		}
	}
	return s, nil
}

// checkWindows checks that windows are in order and do not overlap, as
// NAB's validateLabels does (touching is allowed).
func checkWindows(windows []NumentaWindow) error {
	for k, w := range windows {
		if w.End.Before(w.Start) {
			return fmt.Errorf("window %d ends (%v) before it starts (%v)", k+1, w.End, w.Start)
		}
		if k > 0 && w.Start.Before(windows[k-1].End) {
			return fmt.Errorf("window %d starts (%v) before window %d ends (%v): windows must be in time order and not overlap",
				k+1, w.Start, k, windows[k-1].End)
		}
	}
	return nil
}

// rowAt returns the index of the one row at exactly t, for bound of
// window k (from 0). Times need not increase (NAB's own
// machine_temperature_system_failure.csv steps back in time once), so it
// looks at every row.
func rowAt(times []time.Time, t time.Time, k int, bound string) (int, error) {
	at, n := -1, 0
	for i, ti := range times {
		if ti.Equal(t) {
			if n == 0 {
				at = i
			}
			n++
		}
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("eval: NAB: window %d %s %s is the time of no row: NAB wants window bounds to match row times exactly",
			k+1, bound, t.Format("2006-01-02 15:04:05.999999999"))
	case n > 1:
		return 0, fmt.Errorf("eval: NAB: window %d %s %s is the time of %d rows (from index %d): NAB wants it to be the time of exactly one",
			k+1, bound, t.Format("2006-01-02 15:04:05.999999999"), n, at)
	}
	return at, nil
}

// sigmoid is NAB's sweeper.sigmoid.
func sigmoid(x float64) float64 {
	return 1 / (1 + math.Exp(-x))
}

// scaledSigmoid is NAB's sweeper.scaledSigmoid of a relative position:
// 2·sigmoid(−5x) − 1, or −1 beyond x = 3. It runs from 0.98661 at −1 (a
// window's left edge) through 0 at 0 (its right edge) to −0.98661 at 1.
func scaledSigmoid(x float64) float64 {
	if x > 3.0 {
		return -1.0
	}
	return 2*sigmoid(-5*x) - 1.0
}

// NumentaTotal returns NAB's normalised score of a corpus, 100·(ΣS −
// ΣNull)/(ΣPerfect − ΣNull) (Runner.normalize): 0 for the null detector,
// 100 for a perfect one. The scores should all use the same profile. It
// returns NaN when the files hold no window (ΣPerfect = ΣNull). NAB takes
// ΣPerfect over every window of its labels file; summing the files scored
// gives the same figure when the whole corpus is scored.
func NumentaTotal(scores []NumentaScore) float64 {
	var s, null, perfect float64
	for _, sc := range scores {
		s += sc.S
		null += sc.Null
		perfect += sc.Perfect
	}
	return normalised(s, null, perfect)
}
