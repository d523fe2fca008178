package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// recipe is everything that turns recordings into a model: the scaler,
// the feature windows, the network and its training, and the threshold.
// vigil train and vigil bench share it, so a benchmark measures exactly
// what training produces.
type recipe struct {
	o          train.Options
	kind       string
	spec       infer.FeatureSpec
	scalerKind string
	calibrate  func([]float32) (train.Calibration, error)
	gap        float64
	errorKind  infer.ErrorKind
	calibAll   bool // calibrate on every training window, not only validation
	channels   []string
	slowShare  float64 // widen channels at least this slow (0: never)
	slowWiden  float64
	slowGamma  float64 // inflate every scale by this many block-mean spreads (0: never)
	scaleFloor float64 // robust scaler: floor each IQR at this many standard deviations
}

// Recipe defaults: a 10-sample window seen raw and as per-channel mean
// and spread, a robust scaler, slow channels widened, and a threshold 20 %
// over mean + 3σ of the validation scores. They are what vigil bench skab
// measures (see the README).
const (
	defaultWindow   = 10
	defaultFeatures = "raw,mean,std"
	defaultHidden   = "64,16,64"
	defaultFactor   = 1.2
	// slowBlocks is how many blocks the training rows are cut into to
	// tell whether they cover a channel's slow wandering: a channel
	// whose block means differ a lot (infer/train.Slowness) moves on a
	// time scale close to the whole training span.
	slowBlocks = 8
	// inflatedNote is how much --slow-inflate must grow a channel's
	// scale for the model to name it as drifting in training.
	inflatedNote = 1.5
)

// addRecipeFlags registers the model flags on fs; the function it returns
// checks them, after parsing, and builds the recipe.
func addRecipeFlags(fs *flag.FlagSet) func() (*recipe, error) {
	channels := fs.String("channels", "", "comma-separated channels to use (default: every column but datetime and labels)")
	hidden := fs.String("hidden", defaultHidden, "hidden layer sizes, comma-separated")
	epochs := fs.Int("epochs", train.DefaultOptions.Epochs, "most passes over the training rows")
	batch := fs.Int("batch", train.DefaultOptions.Batch, "rows per optimiser step")
	lr := fs.Float64("lr", train.DefaultOptions.LearningRate, "learning rate")
	val := fs.Float64("val", train.DefaultOptions.ValidationFraction, "fraction of rows, from the end, held out for validation and threshold calibration")
	patience := fs.Int("patience", train.DefaultOptions.Patience, "epochs without validation improvement before stopping (0: never stop early)")
	seed := fs.Uint64("seed", train.DefaultOptions.Seed, "random seed; the same data, flags and seed give the same weights")
	method := fs.String("threshold", "mean+ksigma", "how to set the threshold from the validation scores:\nmean+ksigma (mean + sigma·std, the seeds' rule), percentile, or pot (extreme value theory at --risk)")
	sigma := fs.Float64("sigma", 3, "with --threshold mean+ksigma: threshold = mean + sigma × standard deviation")
	pct := fs.Float64("percentile", 99.5, "with --threshold percentile: the percentile of validation scores")
	risk := fs.Float64("risk", 1e-3, "with --threshold pot: the probability a normal score exceeds the threshold")
	factor := fs.Float64("threshold-factor", defaultFactor, "multiply the calibrated threshold by this margin (Conv-AE's recipe uses 4/3)")
	scalerKind := fs.String("scaler", firmware.ScalerRobust, "input scaler: standard (z-score), minmax or robust (median/IQR)")
	slowShare := fs.Float64("slow-share", 0.3, "a channel whose means over eighths of the training rows carry at least this share of its variance\ndrifts on the time scale of the whole recording (a motor warming up): the training shows one\nstretch of it, not its range, so its scale is widened (0: never; long recordings rarely need it)")
	slowWiden := fs.Float64("slow-widen", 50, "multiply a drifting channel's scale by this: only moves far beyond its training spread count")
	slowGamma := fs.Float64("slow-inflate", 0, "widen every channel's scale by this many standard deviations of its means over eighths\nof the training rows: scale = √(scale² + (γ·σ)²); a steady channel keeps its scale, one that\nwandered in training gets a scale in proportion to how far (0: never)")
	scaleFloor := fs.Float64("scale-floor", 0, "with --scaler robust: floor each channel's IQR at this many standard deviations and at\nits quantisation step, so a channel that mostly sits on one reading keeps a sane unit (0: never)")
	window := fs.Int("window", defaultWindow, "samples per window (1: score every sample on its own)")
	stride := fs.Int("stride", 1, "score every this many samples once the window is full")
	gap := fs.Float64("gap", defaultGapFactor, "a time step over this many times a file's median step is a gap: windows never span it\n(the model records the step, so the agent and vigil eval restart there too)")
	features := fs.String("features", defaultFeatures, "what the network sees of a window, comma-separated: raw (the samples themselves)\nand/or statistics per channel: mean, std, min, max, rms, slope")
	conv := fs.String("conv", "", "a convolutional autoencoder over the raw window instead of dense layers:\nchannels per encoder layer, comma-separated, e.g. 32,16 (needs --window of 2 or more; reads the raw window)")
	kernel := fs.Int("kernel", 7, "with --conv: kernel size")
	convStride := fs.Int("conv-stride", 2, "with --conv: stride of each encoder layer")
	optimizer := fs.String("optimizer", string(train.Adam), "adam or rmsprop")
	vae := fs.Int("vae", 0, "train a variational autoencoder with this latent size (encoder --hidden, mirrored decoder)")
	beta := fs.Float64("beta", 1, "with --vae: weight of the KL term in the loss and the score")
	loss := fs.String("loss", string(train.MSE), "reconstruction loss: mse, or bce (with --output sigmoid and --scaler minmax)")
	output := fs.String("output", train.DefaultOptions.Output.String(), "activation of the output layer")
	activation := fs.String("activation", train.DefaultOptions.Activation.String(), "activation of the hidden layers")
	decay := fs.Float64("weight-decay", 0, "L2 weight decay")
	dropout := fs.Float64("dropout", 0, "dropout probability on hidden activations while training")
	noise := fs.Float64("noise", 0, "standard deviation of Gaussian noise on the (scaled) inputs while training (denoising)")
	errKind := fs.String("error", "squared", "how a feature's reconstruction error counts in the score: squared or absolute")
	calibrateOn := fs.String("calibrate-on", "validation", "the scores the threshold and k-of-n are calibrated on:\nvalidation (held-out rows) or all (training rows too)")
	return func() (*recipe, error) {
		rc := &recipe{o: train.DefaultOptions, kind: firmware.KindAutoencoder, scalerKind: *scalerKind, gap: *gap}
		o := &rc.o
		var err error
		if o.Hidden, err = parseInts(*hidden); err != nil {
			return nil, usagef("--hidden: %v", err)
		}
		o.Epochs, o.Batch, o.LearningRate, o.ValidationFraction, o.Patience, o.Seed = *epochs, *batch, *lr, *val, *patience, *seed
		o.Optimizer, o.WeightDecay, o.Dropout, o.InputNoise = train.Optimizer(*optimizer), *decay, *dropout, *noise
		o.Loss = train.Loss(*loss)
		if o.Output, err = infer.ParseActivation(*output); err != nil {
			return nil, usagef("--output: %v", err)
		}
		if o.Activation, err = infer.ParseActivation(*activation); err != nil {
			return nil, usagef("--activation: %v", err)
		}
		if *vae > 0 {
			o.VAE, rc.kind = &train.VAEArch{Latent: *vae, Beta: *beta}, firmware.KindVAE
		}
		var ok bool
		rc.calibrate, ok = map[string]func([]float32) (train.Calibration, error){
			"mean+ksigma": func(v []float32) (train.Calibration, error) { return train.MeanKSigma(v, *sigma) },
			"percentile":  func(v []float32) (train.Calibration, error) { return train.Percentile(v, *pct) },
			"pot":         func(v []float32) (train.Calibration, error) { return train.PeaksOverThreshold(v, *risk) },
		}[*method]
		if !ok {
			return nil, usagef("--threshold %q: want mean+ksigma, percentile or pot", *method)
		}
		if *sigma <= 0 {
			return nil, usagef("--sigma %v: want a positive number", *sigma)
		}
		if *factor <= 0 {
			return nil, usagef("--threshold-factor %v: want a positive number", *factor)
		}
		if base := rc.calibrate; *factor != 1 {
			rc.calibrate = func(v []float32) (train.Calibration, error) {
				c, err := base(v)
				c.Threshold *= *factor
				c.Method += fmt.Sprintf("×%g", *factor)
				return c, err
			}
		}
		if _, ok := scalerFits[*scalerKind]; !ok {
			return nil, usagef("--scaler %q: want standard, minmax or robust", *scalerKind)
		}
		if rc.slowShare, rc.slowWiden = *slowShare, *slowWiden; rc.slowShare < 0 || rc.slowShare > 1 || !(rc.slowWiden >= 1) || math.IsInf(rc.slowWiden, 0) {
			return nil, usagef("--slow-share %v --slow-widen %v: want a share from 0 to 1 and a finite factor of 1 or more", *slowShare, *slowWiden)
		}
		if rc.slowGamma, rc.scaleFloor = *slowGamma, *scaleFloor; !(rc.slowGamma >= 0) || math.IsInf(rc.slowGamma, 0) || !(rc.scaleFloor >= 0) || math.IsInf(rc.scaleFloor, 0) {
			return nil, usagef("--slow-inflate %v --scale-floor %v: want finite numbers ≥ 0", *slowGamma, *scaleFloor)
		}
		if *gap <= 1 {
			return nil, usagef("--gap %v: want a factor above 1", *gap)
		}
		if rc.errorKind, err = infer.ParseErrorKind(*errKind); err != nil {
			return nil, usagef("--error: %v", err)
		}
		switch *calibrateOn {
		case "validation":
		case "all":
			rc.calibAll = true
		default:
			return nil, usagef("--calibrate-on %q: want validation or all", *calibrateOn)
		}
		if *channels != "" {
			rc.channels = strings.Split(*channels, ",")
		}
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "features" })
		if *conv != "" && !explicit {
			*features = "raw" // a convolution reads the raw window
		}
		if rc.spec, err = parseFeatures(*window, *stride, *features); err != nil {
			return nil, usageError{err.Error()}
		}
		if *conv != "" {
			filters, err := parseInts(*conv)
			if err != nil {
				return nil, usagef("--conv: %v", err)
			}
			if !rc.spec.Raw || len(rc.spec.Stats) > 0 || rc.spec.Window < 2 {
				return nil, usagef("--conv needs --window of 2 or more and --features raw")
			}
			o.Conv = &train.ConvArch{Window: rc.spec.Window, Filters: filters, Kernel: *kernel, Stride: *convStride}
		}
		return rc, nil
	}
}

// fitted is what fit learnt besides the model.
type fitted struct {
	res    *train.Result
	cal    train.Calibration
	scaled [][]float32 // the training matrix, validation rows last
}

// fit trains a model on the normal rows of tab: the scaler on the first
// (1 − validation) share of them, the network on feature vectors built by
// infer's window code, the threshold on the validation scores. progress,
// if non-nil, receives the epochs.
func (rc *recipe) fit(ctx context.Context, tab *dataset.Table, progress io.Writer) (*firmware.Model, *fitted, error) {
	o := rc.o // a copy: fit may run many times
	if o.Conv != nil {
		conv := *o.Conv
		conv.Channels = len(tab.Channels)
		o.Conv = &conv
	}
	rows := tab.Normal()
	nTrain := len(rows) - int(float64(len(rows))*o.ValidationFraction+0.5)
	if nTrain < 1 || nTrain >= len(rows) {
		return nil, nil, fmt.Errorf("%d normal rows are too few to split %v for validation", len(rows), o.ValidationFraction)
	}
	var scaler *infer.Scaler
	var err error
	if rc.scalerKind == firmware.ScalerRobust {
		scaler, err = infer.FitRobustFloor(rows[:nTrain], rc.scaleFloor)
	} else {
		scaler, err = scalerFits[rc.scalerKind](rows[:nTrain])
	}
	if err != nil {
		return nil, nil, err
	}
	var widened []int
	if rc.slowShare > 0 && rc.slowWiden > 1 && nTrain >= 2*slowBlocks {
		if widened, err = train.WidenSlow(scaler, rows[:nTrain], nTrain/slowBlocks, rc.slowShare, rc.slowWiden); err != nil {
			return nil, nil, err
		}
	}
	var inflated []float64
	if rc.slowGamma > 0 && nTrain >= 2*slowBlocks {
		if inflated, err = train.InflateSlow(scaler, rows[:nTrain], nTrain/slowBlocks, rc.slowGamma); err != nil {
			return nil, nil, err
		}
	}
	scaled, err := featureRows(tab, scaler, rc.spec, rc.gap)
	if err != nil {
		return nil, nil, err
	}
	done := func() {}
	if progress != nil {
		o.Progress, done = epochReporter(progress, o.Epochs)
	}
	res, err := train.Autoencoder(ctx, scaled, o)
	done()
	if err != nil {
		return nil, nil, err
	}
	// Scores as the gateway computes them, on the rows calibration uses.
	calScores := res.ValScores
	if rc.errorKind != infer.SquaredError || rc.calibAll {
		ae, err := infer.NewAutoencoder(infer.Config{Scaler: *scaler, Features: rc.spec, Layers: res.Layers,
			Decoder: res.Decoder, KLWeight: res.KLWeight, Error: rc.errorKind})
		if err != nil {
			return nil, nil, err
		}
		rows := scaled[len(scaled)-res.ValRows:]
		if rc.calibAll {
			rows = scaled
		}
		calScores = make([]float32, len(rows))
		for i, f := range rows {
			calScores[i] = ae.ScoreFeatures(f, nil)
		}
		res.ValScores = calScores
	}
	cal, err := rc.calibrate(calScores)
	if err != nil {
		return nil, nil, err
	}
	layers, err := firmware.FromLayers(res.Layers)
	if err != nil {
		return nil, nil, err
	}
	decoder, err := firmware.FromLayers(res.Decoder)
	if err != nil {
		return nil, nil, err
	}
	best := res.History[res.BestEpoch-1]
	k, n := train.KofN(res.ValScores, cal.Threshold, 10)
	m := &firmware.Model{
		// The agent's decision: the calibrated k of n, and the gap rule
		// training windows were cut by, in sample time.
		Decision: firmware.Decision{K: uint32(k), N: uint32(n), Gap: int64(gapAfter(tab, rc.gap))},
		Kind:     rc.kind, Decoder: decoder, KLWeight: res.KLWeight,
		Scaler:   firmware.Scaler{Kind: rc.scalerKind, Center: scaler.Center, Scale: scaler.Scale},
		Features: firmware.FeaturesOf(rc.spec),
		Layers:   layers,
		Error:    rc.errorKind.String(),
		Threshold: firmware.Threshold{
			Value: float32(cal.Threshold), Method: cal.Method, K: cal.K, Mean: cal.Mean, Std: cal.Std, N: uint64(cal.N),
		},
		Training: firmware.Training{
			DatasetDigest: tab.Digest, Rows: uint64(len(rows)), Epochs: uint32(len(res.History)),
			BestEpoch: uint32(res.BestEpoch), TrainLoss: best.Train, ValLoss: best.Val, Seed: o.Seed,
			Tool: "vigil train",
		},
	}
	for _, f := range tab.Files {
		m.Training.Sources = append(m.Training.Sources, filepath.Base(f.Path))
	}
	for _, c := range tab.Channels {
		m.Channels = append(m.Channels, firmware.Channel{Name: c, Unit: units[c]})
	}
	for _, c := range widened {
		m.Training.Widened = append(m.Training.Widened, tab.Channels[c])
	}
	if len(widened) > 0 {
		m.Training.WidenFactor = float32(rc.slowWiden)
	}
	for c, k := range inflated {
		if k >= inflatedNote && !slices.Contains(widened, c) {
			m.Training.Widened = append(m.Training.Widened, tab.Channels[c])
		}
	}
	return m, &fitted{res: res, cal: cal, scaled: scaled}, nil
}

var scalerFits = map[string]func([][]float32) (*infer.Scaler, error){
	firmware.ScalerStandard: infer.FitStandard,
	firmware.ScalerMinMax:   infer.FitMinMax,
	firmware.ScalerRobust:   infer.FitRobust,
}

// parseFeatures builds the feature spec from the command line.
func parseFeatures(window, stride int, list string) (infer.FeatureSpec, error) {
	spec := infer.FeatureSpec{Window: window, Stride: stride}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "raw" {
			spec.Raw = true
			continue
		}
		st, err := infer.ParseStat(name)
		if err != nil {
			return spec, fmt.Errorf("--features: %q is neither raw nor a statistic (mean, std, min, max, rms, slope)", name)
		}
		spec.Stats = append(spec.Stats, st)
	}
	if window < 1 || stride < 1 {
		return spec, fmt.Errorf("--window %d --stride %d: want positive numbers", window, stride)
	}
	return spec, spec.Validate()
}

// featureRows scales every row and builds the network's training matrix
// with infer.Sequence, the gateway's own window code, segment by segment
// (a window never spans two recordings or a gap in time), keeping only
// windows whose rows are all labelled normal.
func featureRows(tab *dataset.Table, scaler *infer.Scaler, spec infer.FeatureSpec, gap float64) ([][]float32, error) {
	var out [][]float32
	for _, sg := range tab.Segments(gap) {
		rows := tab.Rows[sg.Start:sg.End]
		scaled := make([][]float32, len(rows))
		for i, r := range rows {
			scaled[i] = make([]float32, len(r))
			scaler.Transform(scaled[i], r)
		}
		vecs, ends, err := infer.Sequence(spec, scaled)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tab.Files[sg.File].Path, err)
		}
	windows:
		for k, v := range vecs {
			if tab.Labels != nil {
				for i := ends[k] - max(spec.Window, 1) + 1; i <= ends[k]; i++ {
					if tab.Labels[sg.Start+i] != 0 {
						continue windows
					}
				}
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// reportInt8 rescores the validation feature vectors with the packed int8
// model and prints how far its scores and decisions are from the float32
// model's.
func reportInt8(env Env, packed []byte, rows [][]float32, f32 []float32, threshold float64) error {
	l, err := firmware.Decode(packed, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		return err
	}
	var worst float64
	rel := make([]float64, len(rows))
	flips := 0
	for i, r := range rows {
		s := l.Autoencoder.ScoreFeatures(r, nil)
		d := math.Abs(float64(s - f32[i]))
		worst = max(worst, d)
		rel[i] = d / max(math.Abs(float64(f32[i])), 1e-12)
		if (float64(s) > threshold) != (float64(f32[i]) > threshold) {
			flips++
		}
	}
	slices.Sort(rel)
	fmt.Fprintf(env.Stdout, "int8 weights: scores change by %.2f%% (median), at most %.3g (%.2f%% of the threshold); %d of %d validation decisions differ (%.2f%%)\n",
		100*rel[len(rel)/2], worst, 100*worst/threshold, flips, len(rows), 100*float64(flips)/float64(len(rows)))
	return nil
}
