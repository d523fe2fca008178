package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// recipe is train.Recipe, the one recipe vigil train, vigil bench and
// the agent's learn mode share, with what the command line adds: which
// columns to read and the gap rule in multiples of a recording's step.
type recipe struct {
	train.Recipe
	channels []string
	gap      float64
	// members are the further networks of a multi-scale model (--member).
	members []*recipe
}

// The command line's defaults are train.DefaultRecipe's.
var defaults = train.DefaultRecipe()

// addRecipeFlags registers the model flags on fs; the function it returns
// checks them, after parsing, and builds the recipe.
func addRecipeFlags(fs *flag.FlagSet) func() (*recipe, error) {
	channels := fs.String("channels", "", "comma-separated channels to use (default: every column but datetime and labels)")
	hidden := fs.String("hidden", joinInts(defaults.Options.Hidden), "hidden layer sizes, comma-separated")
	epochs := fs.Int("epochs", defaults.Options.Epochs, "most passes over the training rows")
	batch := fs.Int("batch", defaults.Options.Batch, "rows per optimiser step")
	lr := fs.Float64("lr", defaults.Options.LearningRate, "learning rate")
	val := fs.Float64("val", defaults.Options.ValidationFraction, "fraction of rows, from the end, held out for validation and threshold calibration")
	patience := fs.Int("patience", defaults.Options.Patience, "epochs without validation improvement before stopping (0: never stop early)")
	seed := fs.Uint64("seed", defaults.Options.Seed, "random seed; the same data, flags and seed give the same weights")
	method := fs.String("threshold", defaults.Threshold.Method, "how to set the threshold from the validation scores:\nmean+ksigma (mean + sigma·std, the seeds' rule), percentile, or pot (extreme value theory at --risk)")
	sigma := fs.Float64("sigma", defaults.Threshold.Sigma, "with --threshold mean+ksigma: threshold = mean + sigma × standard deviation")
	pct := fs.Float64("percentile", defaults.Threshold.Percentile, "with --threshold percentile: the percentile of validation scores")
	risk := fs.Float64("risk", defaults.Threshold.Risk, "with --threshold pot: the probability a normal score exceeds the threshold")
	factor := fs.Float64("threshold-factor", defaults.Threshold.Factor, "multiply the calibrated threshold by this margin (Conv-AE's recipe uses 4/3)")
	scalerKind := fs.String("scaler", defaults.Scaler, "input scaler: standard (z-score), minmax or robust (median/IQR)")
	slowShare := fs.Float64("slow-share", defaults.SlowShare, "a channel whose means over eighths of the training rows carry at least this share of its variance\ndrifts on the time scale of the whole recording (a motor warming up): the training shows one\nstretch of it, not its range, so its scale is widened (0: never; long recordings rarely need it)")
	slowWiden := fs.Float64("slow-widen", defaults.SlowWiden, "multiply a drifting channel's scale by this: only moves far beyond its training spread count")
	slowGamma := fs.Float64("slow-inflate", defaults.SlowInflate, "widen every channel's scale by this many standard deviations of its means over eighths\nof the training rows: scale = √(scale² + (γ·σ)²); a steady channel keeps its scale, one that\nwandered in training gets a scale in proportion to how far (0: never)")
	scaleFloor := fs.Float64("scale-floor", defaults.ScaleFloor, "with --scaler robust: floor each channel's IQR at this many standard deviations and at\nits quantisation step, so a channel that mostly sits on one reading keeps a sane unit (0: never)")
	window := fs.Int("window", defaults.Features.Window, "samples per window (1: score every sample on its own)")
	stride := fs.Int("stride", 1, "score every this many samples once the window is full")
	gap := fs.Float64("gap", defaultGapFactor, "a time step over this many times a file's median step is a gap: windows never span it\n(the model records the step, so the agent and vigil eval restart there too)")
	features := fs.String("features", featureList(defaults.Features), "what the network sees of a window, comma-separated: raw (the samples themselves)\nand/or statistics per channel: mean, std, min, max, rms, slope")
	conv := fs.String("conv", "", "a convolutional autoencoder over the raw window instead of dense layers:\nchannels per encoder layer, comma-separated, e.g. 32,16 (needs --window of 2 or more; reads the raw window)")
	kernel := fs.Int("kernel", train.DefaultKernel, "with --conv: kernel size")
	convStride := fs.Int("conv-stride", train.DefaultStride, "with --conv: stride of each encoder layer")
	optimizer := fs.String("optimizer", string(train.Adam), "adam or rmsprop")
	vae := fs.Int("vae", 0, "train a variational autoencoder with this latent size (encoder --hidden, mirrored decoder)")
	beta := fs.Float64("beta", 1, "with --vae: weight of the KL term in the loss and the score")
	loss := fs.String("loss", string(train.MSE), "reconstruction loss: mse, or bce (with --output sigmoid and --scaler minmax)")
	output := fs.String("output", defaults.Options.Output.String(), "activation of the output layer")
	activation := fs.String("activation", defaults.Options.Activation.String(), "activation of the hidden layers")
	decay := fs.Float64("weight-decay", 0, "L2 weight decay")
	dropout := fs.Float64("dropout", 0, "dropout probability on hidden activations while training")
	noise := fs.Float64("noise", 0, "standard deviation of Gaussian noise on the (scaled) inputs while training (denoising)")
	errKind := fs.String("error", "squared", "how a feature's reconstruction error counts in the score: squared or absolute")
	enter := fs.Float64("enter", defaults.Enter, "alarm hysteresis the model suggests: a score counts toward an alarm when above enter × threshold\n(0 or 1: at the threshold)")
	exit := fs.Float64("exit", defaults.Exit, "alarm hysteresis the model suggests: a score counts toward ending an alarm when at or below\nexit × threshold, so a fault whose score dips for a moment stays one alarm (0 or 1: at the threshold; exit ≤ enter)")
	calibrateOn := fs.String("calibrate-on", "validation", "the scores the threshold and k-of-n are calibrated on:\nvalidation (held-out rows) or all (training rows too)")
	var members listFlag
	fs.Var(&members, "member", "a multi-scale model: train a further network with these model flags added to the command line's\n(e.g. --member '--window 60 --conv 32,16') on the same rows, and fuse the scores: the model scores\nthe mean of each network's score over its own threshold, and alarms at 1; repeat for up to 3")
	return func() (*recipe, error) {
		rc := &recipe{Recipe: defaults, gap: *gap}
		rc.Options.Hidden = nil
		o := &rc.Options
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
			o.VAE = &train.VAEArch{Latent: *vae, Beta: *beta}
		}
		rc.Threshold = train.Threshold{Method: *method, Sigma: *sigma, Percentile: *pct, Risk: *risk, Factor: *factor}
		if !slices.Contains([]string{"mean+ksigma", "percentile", "pot"}, *method) {
			return nil, usagef("--threshold %q: want mean+ksigma, percentile or pot", *method)
		}
		if *sigma <= 0 {
			return nil, usagef("--sigma %v: want a positive number", *sigma)
		}
		if *factor <= 0 {
			return nil, usagef("--threshold-factor %v: want a positive number", *factor)
		}
		if rc.Scaler = *scalerKind; !slices.Contains([]string{train.ScalerStandard, train.ScalerMinMax, train.ScalerRobust}, rc.Scaler) {
			return nil, usagef("--scaler %q: want standard, minmax or robust", *scalerKind)
		}
		if rc.SlowShare, rc.SlowWiden = *slowShare, *slowWiden; rc.SlowShare < 0 || rc.SlowShare > 1 || !(rc.SlowWiden >= 1) || math.IsInf(rc.SlowWiden, 0) {
			return nil, usagef("--slow-share %v --slow-widen %v: want a share from 0 to 1 and a finite factor of 1 or more", *slowShare, *slowWiden)
		}
		if rc.SlowInflate, rc.ScaleFloor = *slowGamma, *scaleFloor; !(rc.SlowInflate >= 0) || math.IsInf(rc.SlowInflate, 0) || !(rc.ScaleFloor >= 0) || math.IsInf(rc.ScaleFloor, 0) {
			return nil, usagef("--slow-inflate %v --scale-floor %v: want finite numbers ≥ 0", *slowGamma, *scaleFloor)
		}
		rc.Enter, rc.Exit = *enter, *exit
		if err := rc.CheckHysteresis(); err != nil {
			return nil, usagef("--enter %v --exit %v: want finite factors ≥ 0 (0 means 1), exit ≤ enter", *enter, *exit)
		}
		if *gap <= 1 {
			return nil, usagef("--gap %v: want a factor above 1", *gap)
		}
		if rc.Error, err = infer.ParseErrorKind(*errKind); err != nil {
			return nil, usagef("--error: %v", err)
		}
		switch *calibrateOn {
		case "validation":
		case "all":
			rc.CalibrateAll = true
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
		if rc.Features, err = parseFeatures(*window, *stride, *features); err != nil {
			return nil, usageError{err.Error()}
		}
		if *conv != "" {
			filters, err := parseInts(*conv)
			if err != nil {
				return nil, usagef("--conv: %v", err)
			}
			if !rc.Features.Raw || len(rc.Features.Stats) > 0 || rc.Features.Window < 2 {
				return nil, usagef("--conv needs --window of 2 or more and --features raw")
			}
			o.Conv = &train.ConvArch{Window: rc.Features.Window, Filters: filters, Kernel: *kernel, Stride: *convStride}
		}
		if len(members) > infer.MaxMembers-1 {
			return nil, usagef("--member given %d times: at most %d", len(members), infer.MaxMembers-1)
		}
		for _, m := range members {
			mr, err := memberRecipe(fs, m)
			if err != nil {
				return nil, usagef("--member %q: %v", m, err)
			}
			rc.members = append(rc.members, mr)
		}
		return rc, nil
	}
}

// memberRecipe parses the model flags of one --member: the flags set on
// fs (the command line's), then those in flags.
func memberRecipe(fs *flag.FlagSet, flags string) (*recipe, error) {
	args, err := splitFlags(flags)
	if err != nil {
		return nil, err
	}
	ms := flag.NewFlagSet("member", flag.ContinueOnError)
	ms.SetOutput(io.Discard)
	build := addRecipeFlags(ms)
	var inherit []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "member" && ms.Lookup(f.Name) != nil {
			inherit = append(inherit, "--"+f.Name+"="+f.Value.String())
		}
	})
	if err := ms.Parse(append(inherit, args...)); err != nil {
		return nil, err
	}
	if ms.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", ms.Arg(0))
	}
	mr, err := build()
	switch {
	case err != nil:
		return nil, err
	case len(mr.members) > 0:
		return nil, errors.New("a member cannot have members")
	case ms.Lookup("channels").Value.String() != fs.Lookup("channels").Value.String():
		return nil, errors.New("a member reads the model's channels: leave --channels out")
	}
	return mr, nil
}

// splitFlags splits s into arguments as a shell would for plain words
// and quoted strings ('…' or "…", no escapes), so --try and --member can
// hold flags whose values have spaces or quotes of the other kind.
func splitFlags(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args, inWord = append(args, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// fit trains the recipe on the normal rows of tab (train.Recipe.Fit);
// progress, if non-nil, receives the epochs.
func (rc *recipe) fit(ctx context.Context, tab *dataset.Table, progress io.Writer) (*firmware.Model, *train.Fitted, error) {
	var report func(train.Epoch)
	done := func() {}
	if progress != nil {
		report, done = epochReporter(progress, rc.Options.Epochs)
	}
	defer done()
	members := make([]train.Recipe, len(rc.members))
	for i, mr := range rc.members {
		members[i] = mr.Recipe
	}
	return firmware.FitModel(ctx, &rc.Recipe, members, recording(tab, rc.gap), report)
}

// recording is tab as train.Recipe learns from it: windows never span
// two files or a step over gapFactor times a file's median step, rows
// labelled anomalous or holding an invalid value are left out, units are
// the known channels'.
func recording(tab *dataset.Table, gapFactor float64) *train.Recording {
	rec := &train.Recording{Channels: tab.Channels, Rows: tab.Rows, Gap: gapAfter(tab, gapFactor), Digest: tab.Digest}
	for _, c := range tab.Channels {
		rec.Units = append(rec.Units, units[c])
	}
	for _, sg := range tab.Segments(gapFactor) {
		rec.Segments = append(rec.Segments, train.Segment{Start: sg.Start, End: sg.End})
	}
	if tab.Labels != nil || len(tab.Invalid) > 0 {
		rec.Normal = make([]bool, len(tab.Rows))
		for i := range rec.Normal {
			rec.Normal[i] = tab.IsNormal(i)
		}
	}
	for _, f := range tab.Files {
		rec.Sources = append(rec.Sources, filepath.Base(f.Path))
	}
	return rec
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

// featureList is spec's features as --features lists them.
func featureList(spec infer.FeatureSpec) string {
	var names []string
	if spec.Raw {
		names = append(names, "raw")
	}
	for _, st := range spec.Stats {
		names = append(names, st.String())
	}
	return strings.Join(names, ",")
}

// joinInts is the comma-separated list of v.
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// reportPacked rescores the validation feature vectors with the packed
// model, whose weights are kind ("int8", "f16"), and prints how far its
// scores and decisions are from the float32 model's.
func reportPacked(env Env, kind string, packed []byte, rows [][]float32, f32 []float32, threshold float64) error {
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
	fmt.Fprintf(env.Stdout, "%s weights: scores change by %.2f%% (median), at most %.3g (%.2f%% of the threshold); %d of %d validation decisions differ (%.2f%%)\n", kind,
		100*rel[len(rel)/2], worst, 100*worst/threshold, flips, len(rows), 100*float64(flips)/float64(len(rows)))
	return nil
}
