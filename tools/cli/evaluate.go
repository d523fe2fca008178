package cli

import (
	"fmt"
	"math"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/tools/dataset"
	"github.com/vigil-edge/vigil/tools/eval"
)

// verdicts is a model's output over a table, row by row, as the gateway
// would produce it: the latest score (NaN before the first) and whether
// the decision (infer/decide, the agent's own decision code) was Anomaly.
type verdicts struct {
	scores []float64
	alarm  []bool
	// shares sums each channel's share of the error over the scores that
	// were above the threshold; alarms counts those scores.
	shares []float64
	alarms int
}

// replay runs model over every row of tab like an agent reading each
// recording: a fresh window and decide.Decider per file, Next with every
// row's time, Observe with every score, Fault for a row that cannot be
// scored. After a gap in time the window restarts and the decision is
// marked Stale, as the agent's clock would have marked it during the
// silence, so the next decision again rests on a full window of verdicts.
func replay(model *infer.Autoencoder, threshold float32, tab *dataset.Table, r rule) (verdicts, error) {
	v := verdicts{scores: make([]float64, len(tab.Rows)), alarm: make([]bool, len(tab.Rows)), shares: make([]float64, len(tab.Channels))}
	per := make([]float32, len(tab.Channels))
	top := make([]infer.Share, 0, len(per))
	for fi, f := range tab.Files {
		ae := model.Clone()
		d, err := decide.New(threshold, r.paramsFor(tab, fi))
		if err != nil {
			return v, fmt.Errorf("%s: %w", f.Path, err)
		}
		last := math.NaN()
		for i := f.Start; i < f.Start+f.Rows; i++ {
			t := tab.Times[i]
			if d.Next(t) {
				ae.Reset()
				d.Stale()
				last = math.NaN()
			}
			s, ready, err := ae.Push(tab.Rows[i], per)
			switch {
			case err != nil:
				d.Fault(t)
			case ready:
				last = float64(s)
				d.Observe(t, s)
				if !(s <= threshold) {
					v.alarms++
					for _, sh := range infer.TopShares(top, per) {
						v.shares[sh.Channel] += float64(sh.Share)
					}
				}
			}
			v.scores[i] = last
			v.alarm[i] = d.State() == decide.Anomaly
		}
	}
	return v, nil
}

// report holds the evaluation figures of one or more recordings.
type report struct {
	conf             eval.Confusion
	rocAUC, prAUC    float64 // NaN if not computable (one class only)
	delay            float64 // mean samples from a labelled anomaly's start to the alarm
	detected, events int
	// alarms counts the alarms raised (runs of alarmed rows); false
	// those held wholly in normal rows (eval.Episodes).
	alarms, falseAlarms int
	nab                 [3]eval.NABScore // Standard, LowFP, LowFN; zero without changepoints
}

var nabProfiles = [3]eval.Profile{eval.Standard, eval.LowFP, eval.LowFN}

// evaluate scores rows [from, end) of every file of tab against its
// labels. scores are normalised by the threshold so that pooled curves
// over files with different models stay meaningful.
func evaluate(tab *dataset.Table, v verdicts, threshold float64, from int) (report, []report, error) {
	var total report
	var perFile []report
	var allScores []float64
	var allLabels []uint8
	for _, f := range tab.Files {
		lo, hi := f.Start+min(from, f.Rows), f.Start+f.Rows
		var r report
		var err error
		if r.conf, err = eval.NewConfusion(tab.Labels[lo:hi], v.alarm[lo:hi]); err != nil {
			return total, nil, err
		}
		var d float64
		d, r.detected, r.events, err = eval.DetectionDelay(tab.Labels[lo:hi], v.alarm[lo:hi])
		if err != nil {
			return total, nil, err
		}
		r.delay = d
		if r.alarms, r.falseAlarms, err = eval.Episodes(tab.Labels[lo:hi], v.alarm[lo:hi]); err != nil {
			return total, nil, err
		}
		if tab.Changepoints != nil {
			for p, prof := range nabProfiles {
				if r.nab[p], err = eval.NAB(tab.Times[lo:hi], tab.Changepoints[lo:hi], v.alarm[lo:hi], eval.SKABWindow, prof); err != nil {
					return total, nil, err
				}
			}
		}
		var s []float64
		var l []uint8
		for i := lo; i < hi; i++ {
			if !math.IsNaN(v.scores[i]) {
				s, l = append(s, v.scores[i]/threshold), append(l, tab.Labels[i])
			}
		}
		r.rocAUC, r.prAUC = aucs(s, l)
		allScores, allLabels = append(allScores, s...), append(allLabels, l...)
		perFile = append(perFile, r)
		total.add(r)
	}
	// Curves over the pooled scores; delays over all detected anomalies.
	total.rocAUC, total.prAUC = aucs(allScores, allLabels)
	_, _, total.delay, total.detected, total.events = pooled(perFile)
	return total, perFile, nil
}

// add sums o's counts into r: the confusion and the alarms.
func (r *report) add(o report) {
	r.conf = r.conf.Add(o.conf)
	r.alarms += o.alarms
	r.falseAlarms += o.falseAlarms
}

func aucs(s []float64, l []uint8) (float64, float64) {
	roc, err := eval.ROCAUC(s, l)
	if err != nil {
		roc = math.NaN()
	}
	pr, err := eval.PRAUC(s, l)
	if err != nil {
		pr = math.NaN()
	}
	return roc, pr
}

// nabTotals applies NABTotal per profile.
func nabTotals(files []report) [3]float64 {
	var out [3]float64
	for p := range nabProfiles {
		var s []eval.NABScore
		for _, f := range files {
			s = append(s, f.nab[p])
		}
		out[p] = eval.NABTotal(s)
	}
	return out
}
