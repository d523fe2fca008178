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
// labels side by side.
func Curves(path string, scores []float64, labels []uint8) error {
	roc, pr, err := curvePoints(scores, labels)
	if err != nil {
		return err
	}
	rows := [][]*plot.Plot{{plot.New(), plot.New()}}
	for i, pts := range []plotter.XYs{roc, pr} {
		p := rows[0][i]
		p.Title.Text = [2]string{"ROC", "Precision-recall"}[i]
		p.X.Label.Text = [2]string{"false positive rate", "recall"}[i]
		p.Y.Label.Text = [2]string{"true positive rate", "precision"}[i]
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width = blue, vg.Points(1.5)
		p.Add(l)
	}
	img := vgimgCanvas()
	tiles := draw.Tiles{Rows: 1, Cols: 2}
	canvases := plot.Align(rows, tiles, draw.New(img))
	rows[0][0].Draw(canvases[0][0])
	rows[0][1].Draw(canvases[0][1])
	return writePNG(img, path)
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

// Timeline draws scores over time (sample index), the threshold, and the
// spans labelled anomalous.
func Timeline(path, title string, scores []float64, labels []uint8, threshold float64) error {
	if len(scores) == 0 || (labels != nil && len(labels) != len(scores)) {
		return fmt.Errorf("plots: %d scores and %d labels", len(scores), len(labels))
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "sample", "score"
	top := threshold
	for _, s := range finite(scores) {
		top = max(top, s)
	}
	for start := 0; start < len(labels); {
		if labels[start] == 0 {
			start++
			continue
		}
		end := start
		for end < len(labels) && labels[end] == 1 {
			end++
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: float64(start), Y: 0}, {X: float64(end), Y: 0}, {X: float64(end), Y: top}, {X: float64(start), Y: top}})
		if err != nil {
			return err
		}
		poly.Color, poly.LineStyle.Width = shade, 0
		p.Add(poly)
		start = end
	}
	var xy plotter.XYs
	for i, s := range scores {
		if !math.IsNaN(s) && !math.IsInf(s, 0) {
			xy = append(xy, plotter.XY{X: float64(i), Y: s})
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
	t, err := plotter.NewLine(plotter.XYs{{X: 0, Y: threshold}, {X: float64(len(scores)), Y: threshold}})
	if err != nil {
		return err
	}
	t.Color, t.Dashes, t.Width = red, []vg.Length{vg.Points(6), vg.Points(4)}, vg.Points(1.5)
	p.Add(t)
	p.Legend.Add("threshold", t)
	p.Legend.Top = true
	return save(p, path)
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
