package train

import (
	"fmt"

	"github.com/vigil-edge/vigil/infer"
)

// Debounce picks the k-of-n debounce of a finished model ae at threshold
// from its scores on rec's validation rows — the last ValidationFraction
// of the normal rows, which Fit keeps out of the scaler — scored as the gateway scores
// them: every row pushed in time order, the windows restarted at each
// segment's start and after a row that is not normal. A multi-scale
// model needs this: its score is the fusion of its networks', which no
// single network's calibration sees. Like Fit's, the pair never raises an
// alarm on those rows.
func (r *Recipe) Debounce(ae *infer.Autoencoder, rec *Recording, threshold float64) (k, n int, err error) {
	normal := func(i int) bool { return rec.Normal == nil || rec.Normal[i] }
	total := 0
	for i := range rec.Rows {
		if normal(i) {
			total++
		}
	}
	val := int(float64(total)*r.Options.ValidationFraction + 0.5) // as Fit splits the rows
	if val < 1 {
		return 0, 0, fmt.Errorf("train: %d normal rows leave none for validation at %v", total, r.Options.ValidationFraction)
	}
	segs := rec.Segments
	if segs == nil {
		segs = []Segment{{0, len(rec.Rows)}}
	}
	ae = ae.Clone()
	var scores []float32
	seen := 0 // normal rows before the current one
	for _, sg := range segs {
		ae.Reset()
		for i := sg.Start; i < sg.End; i++ {
			if !normal(i) {
				ae.Reset()
				continue
			}
			seen++
			s, ready, err := ae.Push(rec.Rows[i], nil)
			if err != nil {
				ae.Reset()
				continue
			}
			if ready && seen > total-val {
				scores = append(scores, s)
			}
		}
	}
	if len(scores) == 0 {
		return 0, 0, fmt.Errorf("train: the model scored none of the %d validation rows (its window is longer than their runs)", val)
	}
	k, n = KofN(scores, threshold, maxDebounce)
	return k, n, nil
}
