package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// units of the channels vigil knows by name (SKAB's pump).
var units = map[string]string{
	"Accelerometer1RMS": "g", "Accelerometer2RMS": "g", "Current": "A", "Pressure": "bar",
	"Temperature": "°C", "Thermocouple": "°C", "Voltage": "V", "Volume Flow RateRMS": "L/min",
}

func runTrain(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "train", "--data FILE.csv [--data ...] --out MODEL.vgm")
	var data listFlag
	fs.Var(&data, "data", "CSV recording of normal operation, or a directory of them (read recursively);\nrepeatable, and further files may follow the flags")
	out := fs.String("out", "", "model file to write (required)")
	channels := fs.String("channels", "", "comma-separated channels to use (default: every column but datetime and labels)")
	hidden := fs.String("hidden", intsString(train.DefaultOptions.Hidden), "hidden layer sizes, comma-separated")
	epochs := fs.Int("epochs", train.DefaultOptions.Epochs, "most passes over the training rows")
	batch := fs.Int("batch", train.DefaultOptions.Batch, "rows per optimiser step")
	lr := fs.Float64("lr", train.DefaultOptions.LearningRate, "Adam learning rate")
	val := fs.Float64("val", train.DefaultOptions.ValidationFraction, "fraction of rows, from the end, held out for validation and threshold calibration")
	patience := fs.Int("patience", train.DefaultOptions.Patience, "epochs without validation improvement before stopping (0: never stop early)")
	seed := fs.Uint64("seed", train.DefaultOptions.Seed, "random seed; the same data, flags and seed give the same weights")
	method := fs.String("threshold", "mean+ksigma", "how to set the threshold from the validation scores:\nmean+ksigma (mean + sigma·std, the seeds' rule), percentile, or pot (extreme value theory at --risk)")
	sigma := fs.Float64("sigma", 3, "with --threshold mean+ksigma: threshold = mean + sigma × standard deviation")
	pct := fs.Float64("percentile", 99.5, "with --threshold percentile: the percentile of validation scores")
	risk := fs.Float64("risk", 1e-3, "with --threshold pot: the probability a normal score exceeds the threshold")
	name := fs.String("name", "", "model name (default: the output file's base name)")
	version := fs.Uint64("version", 1, "model version (increase it for every model pushed to a device)")
	scalerKind := fs.String("scaler", firmware.ScalerStandard, "input scaler: standard (z-score), minmax or robust (median/IQR)")
	int8w := fs.Bool("int8", false, "store int8 weights (a quarter of the size) and report how scores change")
	window := fs.Int("window", 1, "samples per window (1: score every sample on its own)")
	stride := fs.Int("stride", 1, "score every this many samples once the window is full")
	gap := fs.Float64("gap", 5, "a time step over this many times a file's median step is a gap: windows never span it")
	features := fs.String("features", "raw", "what the network sees of a window, comma-separated: raw (the samples themselves)\nand/or statistics per channel: mean, std, min, max, rms, slope")
	conv := fs.String("conv", "", "a convolutional autoencoder over the raw window instead of dense layers:\nchannels per encoder layer, comma-separated, e.g. 32,16 (needs --window and --features raw)")
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
	quiet := fs.Bool("q", false, "print only the summary")
	if err := parse(fs, args); err != nil {
		return err
	}
	data = append(data, fs.Args()...)
	if len(data) == 0 {
		return usagef("no training data: give --data FILE.csv")
	}
	if *out == "" {
		return usagef("--out is required")
	}
	o := train.DefaultOptions
	var err error
	if o.Hidden, err = parseInts(*hidden); err != nil {
		return usagef("--hidden: %v", err)
	}
	o.Epochs, o.Batch, o.LearningRate, o.ValidationFraction, o.Patience, o.Seed = *epochs, *batch, *lr, *val, *patience, *seed
	o.Optimizer, o.WeightDecay, o.Dropout, o.InputNoise = train.Optimizer(*optimizer), *decay, *dropout, *noise
	o.Loss = train.Loss(*loss)
	if o.Output, err = infer.ParseActivation(*output); err != nil {
		return usagef("--output: %v", err)
	}
	if o.Activation, err = infer.ParseActivation(*activation); err != nil {
		return usagef("--activation: %v", err)
	}
	kind := firmware.KindAutoencoder
	if *vae > 0 {
		o.VAE, kind = &train.VAEArch{Latent: *vae, Beta: *beta}, firmware.KindVAE
	}
	calibrate, ok := map[string]func([]float32) (train.Calibration, error){
		"mean+ksigma": func(v []float32) (train.Calibration, error) { return train.MeanKSigma(v, *sigma) },
		"percentile":  func(v []float32) (train.Calibration, error) { return train.Percentile(v, *pct) },
		"pot":         func(v []float32) (train.Calibration, error) { return train.PeaksOverThreshold(v, *risk) },
	}[*method]
	if !ok {
		return usagef("--threshold %q: want mean+ksigma, percentile or pot", *method)
	}
	if *sigma <= 0 {
		return usagef("--sigma %v: want a positive number", *sigma)
	}
	var want []string
	if *channels != "" {
		want = strings.Split(*channels, ",")
	}
	spec, err := parseFeatures(*window, *stride, *features)
	if err != nil {
		return usageError{err.Error()}
	}
	if *conv != "" {
		filters, err := parseInts(*conv)
		if err != nil {
			return usagef("--conv: %v", err)
		}
		if !spec.Raw || len(spec.Stats) > 0 || spec.Window < 2 {
			return usagef("--conv needs --window of 2 or more and --features raw")
		}
		o.Conv = &train.ConvArch{Window: spec.Window, Filters: filters, Kernel: *kernel, Stride: *convStride}
	}

	start := time.Now()
	files, err := dataset.Expand(data)
	if err != nil {
		return err
	}
	tab, err := dataset.ReadFiles(files, want)
	if err != nil {
		return err
	}
	rows := tab.Normal()
	fmt.Fprintf(env.Stdout, "read %d rows (%d normal) of %d channels from %d files\n", len(tab.Rows), len(rows), len(tab.Channels), len(tab.Files))
	nTrain := len(rows) - int(float64(len(rows))*o.ValidationFraction+0.5)
	if nTrain < 1 || nTrain >= len(rows) {
		return fmt.Errorf("%d normal rows are too few to split %v for validation", len(rows), o.ValidationFraction)
	}
	fitScaler, ok := scalerFits[*scalerKind]
	if !ok {
		return usagef("--scaler %q: want standard, minmax or robust", *scalerKind)
	}
	scaler, err := fitScaler(rows[:nTrain])
	if err != nil {
		return err
	}
	if *gap <= 1 {
		return usagef("--gap %v: want a factor above 1", *gap)
	}
	scaled, err := featureRows(tab, scaler, spec, *gap)
	if err != nil {
		return err
	}
	if o.Conv != nil {
		o.Conv.Channels = len(tab.Channels)
	}
	if spec.Window > 1 {
		fmt.Fprintf(env.Stdout, "%d windows of %d samples (%d features each) hold only normal rows\n", len(scaled), spec.Window, spec.Len(len(tab.Channels)))
	}
	done := func() {}
	if !*quiet {
		o.Progress, done = epochReporter(env.Stdout, o.Epochs)
	}
	res, err := train.Autoencoder(ctx, scaled, o)
	done()
	if err != nil {
		return err
	}
	cal, err := calibrate(res.ValScores)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
	}
	best := res.History[res.BestEpoch-1]
	layers, err := firmware.FromLayers(res.Layers)
	if err != nil {
		return err
	}
	decoder, err := firmware.FromLayers(res.Decoder)
	if err != nil {
		return err
	}
	m := &firmware.Model{
		Name: *name, Version: *version, Created: time.Now().Unix(), Kind: kind, Decoder: decoder, KLWeight: res.KLWeight,
		Scaler:   firmware.Scaler{Kind: *scalerKind, Center: scaler.Center, Scale: scaler.Scale},
		Features: firmware.FeaturesOf(spec),
		Layers:   layers,
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
	if *int8w {
		if err := m.QuantizeInt8(); err != nil {
			return err
		}
	}
	b, err := firmware.Pack(m)
	if err != nil {
		return err
	}
	if *int8w {
		if err := reportInt8(env, b, scaled[len(scaled)-res.ValRows:], res.ValScores, cal.Threshold); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(*out, b); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "trained %s on %d rows (%d validation) in %v: best epoch %d of %d, val loss %.5f\n",
		layerShape(res.Layers), res.TrainRows, res.ValRows, time.Since(start).Round(time.Millisecond), res.BestEpoch, len(res.History), best.Val)
	fmt.Fprintf(env.Stdout, "threshold %.5f (%s %g; validation scores: mean %.5f, std %.5f over %d rows)\n", cal.Threshold, cal.Method, cal.K, cal.Mean, cal.Std, cal.N)
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes)\n", *out, len(b))
	return nil
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

// writeFileAtomic writes b to path via a synced temporary file and a
// rename, so a crash never leaves a half-written model.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func intsString(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// layerShape renders layers as in→h1→…→out (flattened sizes).
func layerShape(ls []infer.Layer) string {
	var b strings.Builder
	for i, l := range ls {
		in, out := l.Shape()
		if i == 0 {
			b.WriteString(strconv.Itoa(in))
		}
		fmt.Fprintf(&b, "→%d", out)
	}
	return b.String()
}
