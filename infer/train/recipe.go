package train

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
)

// Recording is what a Recipe learns from: rows of channel values in time
// order, where windows may not span a gap, and which rows are normal.
type Recording struct {
	Channels []string
	Units    []string // per channel, optional
	Rows     [][]float32
	// Segments are the runs of rows with no gap in time; a window never
	// spans two. Nil: every row is one run.
	Segments []Segment
	// Normal marks the rows to learn from (nil: every row); a window
	// holding any other row is left out.
	Normal []bool
	// Gap is the gap rule the model records, in sample time: a step over
	// it restarts the gateway's window (0: none).
	Gap time.Duration
	// Sources and Digest are the model's provenance: the recordings'
	// names and a digest of their bytes.
	Sources []string
	Digest  string
}

// Segment is the rows [Start, End) of a Recording.
type Segment struct{ Start, End int }

// Threshold is how a Recipe sets the threshold from calibration scores:
// Method "mean+ksigma" (mean + Sigma standard deviations), "percentile"
// (the Percentile-th) or "pot" (extreme value theory at Risk), times
// Factor.
type Threshold struct {
	Method                  string
	Sigma, Percentile, Risk float64
	Factor                  float64
}

// Calibrate applies the rule to scores.
func (t Threshold) Calibrate(scores []float32) (Calibration, error) {
	var c Calibration
	var err error
	switch t.Method {
	case "mean+ksigma":
		if !(t.Sigma > 0) {
			return c, fmt.Errorf("train: threshold mean+ksigma with sigma %v, want a positive number", t.Sigma)
		}
		c, err = MeanKSigma(scores, t.Sigma)
	case "percentile":
		c, err = Percentile(scores, t.Percentile)
	case "pot":
		c, err = PeaksOverThreshold(scores, t.Risk)
	default:
		return c, fmt.Errorf("train: threshold method %q, want mean+ksigma, percentile or pot", t.Method)
	}
	if err != nil || t.Factor == 1 {
		return c, err
	}
	c.Threshold *= t.Factor
	c.Method += fmt.Sprintf("×%g", t.Factor)
	return c, nil
}

// The scalers a Recipe fits, named as model files name them.
const (
	ScalerRobust   = "robust"   // median and interquartile range
	ScalerStandard = "standard" // mean and standard deviation
	ScalerMinMax   = "minmax"   // minimum and range
)

// Recipe is everything that turns a recording of normal operation into a
// model: the scaler, the feature windows, the network and its training,
// and the threshold. vigil train, vigil bench and the agent's learn mode
// share it, so a benchmark measures exactly what the gateway learns.
type Recipe struct {
	Options  Options
	Features infer.FeatureSpec
	// Scaler is ScalerRobust, ScalerStandard or ScalerMinMax;
	// ScaleFloor floors a robust scale at that many standard deviations
	// and at the channel's quantisation step (infer.FitRobustFloor).
	Scaler     string
	ScaleFloor float64
	// SlowShare and SlowWiden: a channel whose means over eighths of the
	// training rows carry at least SlowShare of its variance has its
	// scale multiplied by SlowWiden (WidenSlow; SlowShare 0: never).
	// SlowInflate widens every scale continuously (InflateSlow; 0: never).
	// Neither applies to a recording of a single channel.
	SlowShare, SlowWiden, SlowInflate float64
	Threshold                         Threshold
	Error                             infer.ErrorKind
	// CalibrateAll calibrates on every training window's score, not only
	// the validation windows'.
	CalibrateAll bool
	// Enter and Exit are the alarm hysteresis the model suggests to the
	// gateway (decide.Params): a score counts toward an alarm above
	// Enter × threshold and toward ending one at or below Exit ×
	// threshold, so a fault whose score dips under the threshold for a
	// moment stays one alarm. 0 means 1 (no hysteresis); Exit ≤ Enter.
	// The k of n is calibrated at the threshold itself, below the entry
	// level, so it still never alarms on the validation rows.
	Enter, Exit float64
	// Tool names what trained the model, in its provenance.
	Tool string
}

// Recipe defaults: a 5-sample window seen raw and as each channel's
// mean and spread, a 64-16-64 network, a robust scaler, slow channels
// widened ×50, a threshold 20 % over mean + 3σ of the validation
// scores, and an alarm that starts above 1.2 × the threshold and ends
// at or below 0.7 × it. The README's "Detection on SKAB" says how they
// were chosen.
func DefaultRecipe() Recipe {
	o := DefaultOptions
	o.Hidden = []int{64, 16, 64}
	return Recipe{
		Options:   o,
		Features:  infer.FeatureSpec{Window: 5, Stride: 1, Raw: true, Stats: []infer.Stat{infer.Mean, infer.Std}},
		Scaler:    ScalerRobust,
		SlowShare: 0.3, SlowWiden: 50,
		Threshold: Threshold{Method: "mean+ksigma", Sigma: 3, Percentile: 99.5, Risk: 1e-3, Factor: 1.2},
		Enter:     1.2, Exit: 0.7,
		Tool: "vigil train",
	}
}

const (
	// slowBlocks is how many blocks the training rows are cut into to
	// tell whether they cover a channel's slow wandering.
	slowBlocks = 8
	// inflatedNote is how much SlowInflate must grow a channel's scale
	// for the model to name it as drifting in training.
	inflatedNote = 1.5
	// maxDebounce is the longest k-of-n window calibration considers.
	maxDebounce = 10
)

// Fitted is what Fit learnt: everything a model file holds
// (firmware.FromFit makes one) and the training matrix.
type Fitted struct {
	Result      *Result // the network's layers, history and validation scores
	Calibration Calibration
	// Scaled is the training matrix, validation rows last.
	Scaled [][]float32
	// Scaler is the fitted scaler, of kind ScalerKind; Features the
	// window; Error how errors count in the score; VAE whether the
	// network is a variational autoencoder.
	Scaler     *infer.Scaler
	ScalerKind string
	Features   infer.FeatureSpec
	Error      infer.ErrorKind
	VAE        bool
	// K and N are the calibrated debounce, Enter and Exit the recipe's
	// hysteresis; Gap the recording's gap rule.
	K, N        int
	Enter, Exit float64
	Gap         time.Duration
	// Widened names the channels whose scale was widened for drifting
	// in training, by WidenFactor (0: by how far they drifted).
	Widened     []string
	WidenFactor float64
	// Provenance: normal rows learnt from, seed, tool, and the
	// recording's channels, units, sources and digest.
	Rows                     int
	Seed                     uint64
	Tool                     string
	Channels, Units, Sources []string
	Digest                   string
}

// Fit trains a model on the normal rows of rec: the scaler on the first
// (1 − validation) share of them, the network on feature vectors built
// by infer's window code, the threshold and k-of-n on the validation
// scores. progress, if non-nil, receives the epochs.
func (r *Recipe) Fit(ctx context.Context, rec *Recording, progress func(Epoch)) (*Fitted, error) {
	c := len(rec.Channels)
	if c == 0 {
		return nil, fmt.Errorf("train: a recording without channels")
	}
	if rec.Normal != nil && len(rec.Normal) != len(rec.Rows) {
		return nil, fmt.Errorf("train: %d rows but %d normal marks", len(rec.Rows), len(rec.Normal))
	}
	if err := r.CheckHysteresis(); err != nil {
		return nil, err
	}
	o := r.Options // a copy: Fit may run many times
	o.Hidden = slices.Clone(o.Hidden)
	if o.Conv != nil {
		conv := *o.Conv
		conv.Channels = c
		o.Conv = &conv
	}
	if progress != nil {
		o.Progress = progress
	}
	var rows [][]float32
	for i, row := range rec.Rows {
		if len(row) != c {
			return nil, fmt.Errorf("train: row %d has %d values, want %d (one per channel)", i, len(row), c)
		}
		if rec.Normal == nil || rec.Normal[i] {
			rows = append(rows, row)
		}
	}
	nTrain := len(rows) - int(float64(len(rows))*o.ValidationFraction+0.5)
	if nTrain < 1 || nTrain >= len(rows) {
		return nil, fmt.Errorf("%d normal rows are too few to split %v for validation", len(rows), o.ValidationFraction)
	}
	var scaler *infer.Scaler
	var err error
	switch r.Scaler {
	case ScalerRobust:
		scaler, err = infer.FitRobustFloor(rows[:nTrain], r.ScaleFloor)
	case ScalerStandard:
		scaler, err = infer.FitStandard(rows[:nTrain])
	case ScalerMinMax:
		scaler, err = infer.FitMinMax(rows[:nTrain])
	default:
		err = fmt.Errorf("train: scaler %q, want robust, standard or minmax", r.Scaler)
	}
	if err != nil {
		return nil, err
	}
	// A recording of one channel never has it widened: the model would
	// be blind to the only thing it watches.
	var widened []int
	if r.SlowShare > 0 && r.SlowWiden > 1 && nTrain >= 2*slowBlocks && c > 1 {
		if widened, err = WidenSlow(scaler, rows[:nTrain], nTrain/slowBlocks, r.SlowShare, r.SlowWiden); err != nil {
			return nil, err
		}
	}
	var inflated []float64
	if r.SlowInflate > 0 && nTrain >= 2*slowBlocks && c > 1 {
		if inflated, err = InflateSlow(scaler, rows[:nTrain], nTrain/slowBlocks, r.SlowInflate); err != nil {
			return nil, err
		}
	}
	scaled, err := FeatureRows(rec, scaler, r.Features)
	if err != nil {
		return nil, err
	}
	res, err := Autoencoder(ctx, scaled, o)
	if err != nil {
		return nil, err
	}
	// Scores as the gateway computes them, on the rows calibration uses.
	calScores := res.ValScores
	if r.Error != infer.SquaredError || r.CalibrateAll {
		ae, err := infer.NewAutoencoder(infer.Config{Scaler: *scaler, Features: r.Features, Layers: res.Layers,
			Decoder: res.Decoder, KLWeight: res.KLWeight, Error: r.Error})
		if err != nil {
			return nil, err
		}
		rows := scaled[len(scaled)-res.ValRows:]
		if r.CalibrateAll {
			rows = scaled
		}
		calScores = make([]float32, len(rows))
		for i, f := range rows {
			calScores[i] = ae.ScoreFeatures(f, nil)
		}
		res.ValScores = calScores
	}
	cal, err := r.Threshold.Calibrate(calScores)
	if err != nil {
		return nil, err
	}
	k, n := KofN(res.ValScores, cal.Threshold, maxDebounce)
	f := &Fitted{Result: res, Calibration: cal, Scaled: scaled, Scaler: scaler, ScalerKind: r.Scaler, Features: r.Features,
		Error: r.Error, K: k, N: n, Enter: r.Enter, Exit: r.Exit, Gap: rec.Gap, Rows: len(rows), Seed: o.Seed, Tool: r.Tool, VAE: o.VAE != nil,
		Channels: slices.Clone(rec.Channels), Units: slices.Clone(rec.Units), Sources: slices.Clone(rec.Sources), Digest: rec.Digest}
	for _, c := range widened {
		f.Widened = append(f.Widened, rec.Channels[c])
	}
	if len(widened) > 0 {
		f.WidenFactor = r.SlowWiden
	}
	for c, k := range inflated {
		if k >= inflatedNote && !slices.Contains(widened, c) {
			f.Widened = append(f.Widened, rec.Channels[c])
		}
	}
	return f, nil
}

// CheckHysteresis checks Enter and Exit as the gateway's decision will
// (decide.Params.Validate): finite factors ≥ 0, 0 meaning 1, and the
// exit level not above the entry level.
func (r *Recipe) CheckHysteresis() error {
	if err := (decide.Params{K: 1, N: 1, Enter: r.Enter, Exit: r.Exit}).Validate(); err != nil {
		return fmt.Errorf("train: hysteresis: %w", err)
	}
	return nil
}

// FeatureRows scales every row of rec and builds the network's training
// matrix with infer.Sequence, the gateway's own window code, segment by
// segment (a window never spans a gap), keeping only windows whose rows
// are all normal.
func FeatureRows(rec *Recording, scaler *infer.Scaler, spec infer.FeatureSpec) ([][]float32, error) {
	segs := rec.Segments
	if segs == nil {
		segs = []Segment{{0, len(rec.Rows)}}
	}
	var out [][]float32
	for _, sg := range segs {
		if sg.Start < 0 || sg.End > len(rec.Rows) || sg.Start > sg.End {
			return nil, fmt.Errorf("train: segment [%d, %d) of %d rows", sg.Start, sg.End, len(rec.Rows))
		}
		rows := rec.Rows[sg.Start:sg.End]
		scaled := make([][]float32, len(rows))
		for i, r := range rows {
			scaled[i] = make([]float32, len(r))
			scaler.Transform(scaled[i], r)
		}
		vecs, ends, err := infer.Sequence(spec, scaled)
		if err != nil {
			return nil, err
		}
	windows:
		for k, v := range vecs {
			if rec.Normal != nil {
				for i := ends[k] - max(spec.Window, 1) + 1; i <= ends[k]; i++ {
					if !rec.Normal[sg.Start+i] {
						continue windows
					}
				}
			}
			out = append(out, v)
		}
	}
	return out, nil
}
