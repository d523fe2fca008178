// Package plots draws the desktop tool's figures as PNG files with
// gonum.org/v1/plot: the reconstruction-score histogram of normal and
// anomalous rows with the threshold (as in the seeds), training and
// validation loss curves, ROC and precision-recall curves, a score
// timeline with the threshold and the labelled anomaly spans, and the
// channels' shares of the error.
//
// It only draws; the numbers come from tools/eval and infer. It is never
// part of the agent.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of every figure.
var (
	Width  = 8 * vg.Inch
	Height = 4 * vg.Inch
)

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	shade  = color.NRGBA{R: 255, G: 120, B: 120, A: 70}
	gray   = color.RGBA{R: 128, G: 128, B: 128, A: 255}
	// trainShade marks the rows a model was trained on.
	trainShade = color.NRGBA{R: 128, G: 128, B: 128, A: 50}
)

func save(p *plot.Plot, path string) error {
	if err := p.Save(Width, Height, path); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	return nil
}

func finite(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func vline(x float64, c color.Color, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}})
	if err != nil {
		return nil, err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	}
	return l, nil
}

// Histogram draws the distributions (50 bins, normalised) of the scores
// of normal and anomalous rows with the threshold as a dashed line.
func Histogram(path string, normal, anomalous []float64, threshold float64) error {
	normal, anomalous = finite(normal), finite(anomalous)
	if len(normal) == 0 {
		return errors.New("plots: no normal scores to draw")
	}
	p := plot.New()
	p.Title.Text = "Reconstruction score"
	p.X.Label.Text, p.Y.Label.Text = "score", "density"
	// Huge anomalous scores would squash everything into one bin: clip
	// at twice the normal scores' 99th percentile, or three times the
	// threshold if that is more.
	sn := slices.Clone(normal)
	slices.Sort(sn)
	limit := max(2*sn[len(sn)*99/100], 3*threshold)
	if slices.Max(append(slices.Clone(anomalous), sn[len(sn)-1])) > limit {
		p.Title.Text += fmt.Sprintf(" (scores above %.3g drawn at %.3g)", limit, limit)
	}
	for i, set := range [][]float64{normal, anomalous} {
		if len(set) == 0 {
			continue
		}
		clipped := make(plotter.Values, len(set))
		for j, v := range set {
			clipped[j] = min(v, limit)
		}
		h, err := plotter.NewHist(clipped, 50)
		if err != nil {
			return err
		}
		h.Normalize(1)
		h.FillColor = [2]color.Color{color.NRGBA{R: 31, G: 119, B: 180, A: 140}, color.NRGBA{R: 255, G: 127, B: 14, A: 140}}[i]
		h.LineStyle.Width = 0
		p.Add(h)
		p.Legend.Add([2]string{"normal", "anomalous"}[i], h)
	}
	p.Legend.Top = true
	return addThreshold(p, threshold, path)
}

// addThreshold draws the threshold across the plot's full height.
func addThreshold(p *plot.Plot, threshold float64, path string) error {
	l, err := vline(threshold, red, true)
	if err != nil {
		return err
	}
	l.XYs[1].Y = p.Y.Max
	if p.Y.Max <= 0 {
		l.XYs[1].Y = 1
	}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("threshold %.3g", threshold), l)
	return save(p, path)
}

// Losses draws the training and validation loss per epoch, marking the
// epoch whose weights were kept.
func Losses(path string, train, val []float64, best int) error {
	if len(train) == 0 || len(train) != len(val) {
		return fmt.Errorf("plots: %d training and %d validation losses", len(train), len(val))
	}
	p := plot.New()
	p.Title.Text = "Training"
	p.X.Label.Text, p.Y.Label.Text = "epoch", "loss"
	for i, set := range [][]float64{train, val} {
		xy := make(plotter.XYs, len(set))
		for e, v := range set {
			xy[e] = plotter.XY{X: float64(e + 1), Y: v}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color = [2]color.Color{blue, orange}[i]
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add([2]string{"train", "validation"}[i], l)
	}
	if best >= 1 && best <= len(val) {
		s, err := plotter.NewScatter(plotter.XYs{{X: float64(best), Y: val[best-1]}})
		if err != nil {
			return err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = red, vg.Points(4), draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add("kept", s)
	}
	p.Legend.Top = true
	return save(p, path)
}

// Curves draws the ROC and precision-recall curves of scores against
// labels side by side, each with its area under the curve in the title,
// the chance line (the diagonal; the share of anomalous rows) and the
// operating point of threshold (a score above it is an alarm).
func Curves(path string, scores []float64, labels []uint8, threshold float64) error {
	roc, pr, err := curvePoints(scores, labels)
	if err != nil {
		return err
	}
	op, base := operatingPoint(scores, labels, threshold)
	rows := [][]*plot.Plot{{plot.New(), plot.New()}}
	chance := []plotter.XYs{{{X: 0, Y: 0}, {X: 1, Y: 1}}, {{X: 0, Y: base}, {X: 1, Y: base}}}
	for i, pts := range []plotter.XYs{roc, pr} {
		p := rows[0][i]
		p.Title.Text = fmt.Sprintf([2]string{"ROC (AUC %.3f)", "Precision-recall (AUC %.3f)"}[i], area(pts, i == 1))
		p.X.Label.Text = [2]string{"false positive rate", "recall"}[i]
		p.Y.Label.Text = [2]string{"true positive rate", "precision"}[i]
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		c, err := plotter.NewLine(chance[i])
		if err != nil {
			return err
		}
		c.Color, c.Dashes, c.Width = gray, []vg.Length{vg.Points(4), vg.Points(3)}, vg.Points(1)
		p.Add(c)
		p.Legend.Add("chance", c)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width = blue, vg.Points(1.5)
		p.Add(l)
		pt, err := plotter.NewScatter(plotter.XYs{op[i]})
		if err != nil {
			return err
		}
		pt.GlyphStyle.Color, pt.GlyphStyle.Radius, pt.GlyphStyle.Shape = red, vg.Points(4), draw.CircleGlyph{}
		p.Add(pt)
		p.Legend.Add(fmt.Sprintf("threshold %.3g", threshold), pt)
		p.Legend.Left = i == 1 // ROC's legend bottom right, PR's bottom left
	}
	img := vgimgCanvas()
	tiles := draw.Tiles{Rows: 1, Cols: 2}
	canvases := plot.Align(rows, tiles, draw.New(img))
	rows[0][0].Draw(canvases[0][0])
	rows[0][1].Draw(canvases[0][1])
	return writePNG(img, path)
}

// operatingPoint is where a threshold puts the detector on the ROC
// (false positive rate, true positive rate) and PR (recall, precision)
// curves, and the share of anomalous rows (PR's chance level).
func operatingPoint(scores []float64, labels []uint8, threshold float64) (op [2]plotter.XY, base float64) {
	var tp, fp, pos, neg float64
	for i, s := range scores {
		if math.IsNaN(s) {
			continue
		}
		alarm := s > threshold
		if labels[i] == 1 {
			pos++
			if alarm {
				tp++
			}
		} else {
			neg++
			if alarm {
				fp++
			}
		}
	}
	prec := 1.0
	if tp+fp > 0 {
		prec = tp / (tp + fp)
	}
	return [2]plotter.XY{{X: fp / neg, Y: tp / pos}, {X: tp / pos, Y: prec}}, pos / (pos + neg)
}

// area is the area under a curve: trapezoids (ROC), or steps at each
// point's precision over the recall it adds (PR, average precision).
func area(pts plotter.XYs, steps bool) float64 {
	var a, lastX float64
	for i, p := range pts {
		switch {
		case steps:
			a += (p.X - lastX) * p.Y
			lastX = p.X
		case i > 0:
			a += (p.X - pts[i-1].X) * (p.Y + pts[i-1].Y) / 2
		}
	}
	return a
}

// curvePoints returns the ROC and PR curves, thresholds from high to low.
func curvePoints(scores []float64, labels []uint8) (roc, pr plotter.XYs, err error) {
	if len(scores) != len(labels) || len(scores) == 0 {
		return nil, nil, fmt.Errorf("plots: %d scores and %d labels", len(scores), len(labels))
	}
	idx := make([]int, 0, len(scores))
	pos := 0
	for i, s := range scores {
		if !math.IsNaN(s) {
			idx = append(idx, i)
			pos += int(labels[i])
		}
	}
	neg := len(idx) - pos
	if pos == 0 || neg == 0 {
		return nil, nil, errors.New("plots: curves need both normal and anomalous rows")
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	roc = plotter.XYs{{X: 0, Y: 0}}
	tp, fp := 0, 0
	for k, i := range idx {
		if labels[i] == 1 {
			tp++
		} else {
			fp++
		}
		if k+1 < len(idx) && scores[idx[k+1]] == scores[i] {
			continue // one point per distinct threshold
		}
		roc = append(roc, plotter.XY{X: float64(fp) / float64(neg), Y: float64(tp) / float64(pos)})
		pr = append(pr, plotter.XY{X: float64(tp) / float64(pos), Y: float64(tp) / float64(tp+fp)})
	}
	return roc, pr, nil
}

// Series is one recording's replay, as Timeline draws it.
type Series struct {
	Title  string
	Scores []float64   // one per row; NaN where there is none
	Labels []uint8     // optional: 1 where the row is labelled anomalous
	Alarm  []bool      // optional: the decision, true in the anomaly state
	Times  []time.Time // optional: the rows' times, for a time axis
	// Threshold is the score above which a row counts as an alarm.
	Threshold float64
	// Train is how many rows at the start the model was trained on (0:
	// none); they are shaded grey.
	Train int
}

// Timeline draws a recording's scores over time (or sample index) with
// the threshold, the spans labelled anomalous (red shade), the training
// rows (grey shade) and the decision's anomaly state as a red bar under
// the scores. Scores far above the threshold are clipped, so it stays in
// view: the axis ends at 3 × threshold or the 99th percentile of the
// scores, whichever is higher, and the title says where it clips.
func Timeline(path string, s Series) error {
	n := len(s.Scores)
	if n == 0 || (s.Labels != nil && len(s.Labels) != n) || (s.Alarm != nil && len(s.Alarm) != n) || (s.Times != nil && len(s.Times) != n) {
		return fmt.Errorf("plots: %d scores, %d labels, %d alarms and %d times", n, len(s.Labels), len(s.Alarm), len(s.Times))
	}
	if !(s.Threshold > 0) || math.IsInf(s.Threshold, 0) {
		return fmt.Errorf("plots: threshold %v, want a positive number", s.Threshold)
	}
	p := plot.New()
	p.Title.Text = s.Title
	p.Y.Label.Text = "score"
	x := func(i int) float64 { return float64(i) }
	p.X.Label.Text = "sample"
	if s.Times != nil && !s.Times[0].IsZero() {
		t0 := s.Times[0]
		x = func(i int) float64 {
			return float64(s.Times[min(i, n-1)].Unix()) + float64(s.Times[min(i, n-1)].Nanosecond())/1e9
		}
		format := "15:04:05"
		if s.Times[n-1].Sub(t0) > 24*time.Hour {
			format = "Jan 2 15:04"
		}
		p.X.Tick.Marker = plot.TimeTicks{Format: format, Time: func(v float64) time.Time { return time.Unix(0, int64(v*1e9)).UTC() }}
		p.X.Label.Text = "time (UTC) from " + t0.UTC().Format(time.DateTime)
	}
	vals := finite(s.Scores)
	top := 3 * s.Threshold
	if len(vals) > 0 {
		slices.Sort(vals)
		top = max(top, vals[len(vals)*99/100])
		if vals[len(vals)-1] > top {
			p.Title.Text += fmt.Sprintf(" (scores above %.3g drawn at %.3g)", top, top)
		}
	}
	span := func(lo, hi int, y0, y1 float64, c color.Color) error {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x(lo), Y: y0}, {X: x(hi), Y: y0}, {X: x(hi), Y: y1}, {X: x(lo), Y: y1}})
		if err != nil {
			return err
		}
		poly.Color, poly.LineStyle.Width = c, 0
		p.Add(poly)
		return nil
	}
	if s.Train > 0 {
		if err := span(0, min(s.Train, n-1), 0, top, trainShade); err != nil {
			return err
		}
	}
	runs := func(on func(i int) bool, draw func(lo, hi int) error) error {
		for i := 0; i < n; {
			if !on(i) {
				i++
				continue
			}
			j := i
			for j < n && on(j) {
				j++
			}
			if err := draw(i, min(j, n-1)); err != nil {
				return err
			}
			i = j
		}
		return nil
	}
	if s.Labels != nil {
		if err := runs(func(i int) bool { return s.Labels[i] == 1 }, func(lo, hi int) error { return span(lo, hi, 0, top, shade) }); err != nil {
			return err
		}
	}
	if s.Alarm != nil {
		if err := runs(func(i int) bool { return s.Alarm[i] }, func(lo, hi int) error { return span(lo, hi, -0.08*top, -0.02*top, red) }); err != nil {
			return err
		}
	}
	var xy plotter.XYs
	for i, v := range s.Scores {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xy = append(xy, plotter.XY{X: x(i), Y: min(v, top)})
		}
	}
	if len(xy) > 0 {
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width = blue, vg.Points(1)
		p.Add(l)
		p.Legend.Add("score", l)
	}
	t, err := plotter.NewLine(plotter.XYs{{X: x(0), Y: s.Threshold}, {X: x(n - 1), Y: s.Threshold}})
	if err != nil {
		return err
	}
	t.Color, t.Dashes, t.Width = red, []vg.Length{vg.Points(6), vg.Points(4)}, vg.Points(1.5)
	p.Add(t)
	p.Legend.Add(fmt.Sprintf("threshold %.3g", s.Threshold), t)
	for _, k := range []struct {
		name string
		c    color.Color
		on   bool
	}{{"labelled anomalous", shade, s.Labels != nil}, {"alarm (decision)", red, s.Alarm != nil}, {"training rows", trainShade, s.Train > 0}} {
		if k.on {
			p.Legend.Add(k.name, swatch{k.c})
		}
	}
	p.Y.Min, p.Y.Max = -0.1*top, top
	p.Legend.Top = true
	return save(p, path)
}

// swatch is a legend entry of a filled colour.
type swatch struct{ c color.Color }

// Thumbnail draws the swatch in a legend.
func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// Attribution draws each channel's mean share of the reconstruction error
// as bars.
func Attribution(path string, channels []string, shares []float64) error {
	if len(channels) == 0 || len(channels) != len(shares) {
		return fmt.Errorf("plots: %d channels and %d shares", len(channels), len(shares))
	}
	p := plot.New()
	p.Title.Text = "Share of the reconstruction error"
	p.X.Label.Text = "mean share"
	bars, err := plotter.NewBarChart(plotter.Values(shares), vg.Points(18))
	if err != nil {
		return err
	}
	bars.Horizontal = true
	bars.Color, bars.LineStyle.Width = blue, 0
	p.Add(bars)
	p.NominalY(channels...)
	return save(p, path)
}
