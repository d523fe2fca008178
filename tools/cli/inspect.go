package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer/decide"
)

func runInspect(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "inspect", "[--key NAME.pub ...] MODEL.vgm")
	var keys keyFiles
	fs.Var(&keys, "key", "public key file to check the signature against and name the signer (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one model file, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	trusted, err := keys.read()
	if err != nil {
		return err
	}
	o := firmware.LoadOptions{AllowUnsigned: true, Trusted: trusted}
	l, err := firmware.ReadFile(path, o)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	m := l.Model
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "model\t%s (id %s, version %d)\n", m.Name, l.ID, m.Version)
	sig := "unsigned"
	switch {
	case l.Signer != "":
		sig = fmt.Sprintf("signed by %q (key id %s), signature good", l.Signer, l.KeyID)
	case l.KeyID != "":
		sig = "signed with key id " + l.KeyID + " (inspect --key or vigil verify --key checks it)"
	}
	fmt.Fprintf(w, "file\t%s, %d bytes, format %d, %s\n", path, st.Size(), l.Format, sig)
	if len(m.Requires) > 0 {
		fmt.Fprintf(w, "requires\t%s\n", strings.Join(m.Requires, ", "))
	}
	for _, warn := range l.Warnings {
		fmt.Fprintf(w, "warning\t%s\n", warn)
	}
	fmt.Fprintf(w, "created\t%s\n", time.Unix(m.Created, 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "kind\t%s, %d parameters, %s error\n", m.Kind, l.Autoencoder.Params(), orDefault(m.Error, "squared"))
	cfg := l.Autoencoder.Config()
	if f := cfg.Features; f.Window > 1 || len(f.Stats) > 0 {
		fmt.Fprintf(w, "features\twindow %d, stride %d, raw %v, statistics %v: %d inputs\n", f.Window, max(f.Stride, 1), f.Raw, f.Stats, l.Autoencoder.Features())
	}
	if m.Kind == firmware.KindVAE {
		fmt.Fprintf(w, "latent\tKL weight %g, %d decoder layers\n", m.KLWeight, len(m.Decoder))
	}
	fmt.Fprintf(w, "threshold\t%.6g (%s; normal scores mean %.4g, std %.4g, n=%d)\n",
		m.Threshold.Value, thresholdRule(m.Threshold.Method, m.Threshold.K), m.Threshold.Mean, m.Threshold.Std, m.Threshold.N)
	if len(m.Members) > 0 {
		fmt.Fprintf(w, "multi-scale\t%d networks; this one's own threshold %.6g\n", 1+len(m.Members), m.Norm)
	}
	for i, mb := range m.Members {
		fmt.Fprintf(w, "member %d\t%s, %s scaler, window %d, stride %d: %s; threshold %.6g (%s)\n", i, mb.Kind, mb.Scaler.Kind,
			max(mb.Features.Window, 1), max(mb.Features.Stride, 1), memberShape(mb), mb.Threshold.Value, thresholdRule(mb.Threshold.Method, mb.Threshold.K))
	}
	fmt.Fprintf(w, "decision\t%s\n", decisionSummary(m.Decision))
	t := m.Training
	fmt.Fprintf(w, "training\t%d rows from %v, %d epochs (best %d), train loss %.5f, val loss %.5f, seed %d\n",
		t.Rows, t.Sources, t.Epochs, t.BestEpoch, t.TrainLoss, t.ValLoss, t.Seed)
	fmt.Fprintf(w, "dataset\tsha256 %s\n", t.DatasetDigest)
	w.Flush()

	fmt.Fprintf(env.Stdout, "\nchannels (%s scaler):\n", m.Scaler.Kind)
	w = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "  #\tname\tunit\tcenter\tscale\t")
	for i, c := range m.Channels {
		note := ""
		if slices.Contains(t.Widened, c.Name) {
			note = "  (drifted in training: scale widened)"
			if t.WidenFactor > 0 {
				note = fmt.Sprintf("  (drifted in training: scale ×%g)", t.WidenFactor)
			}
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%.6g\t%.6g\t%s\n", i, c.Name, c.Unit, m.Scaler.Center[i], m.Scaler.Scale[i], note)
	}
	w.Flush()

	fmt.Fprintln(env.Stdout, "\nlayers:")
	w = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "  #\tkind\tin\tout\tshape\tactivation\tweights\tparams\t")
	for i, l := range l.Autoencoder.Layers() {
		ly := m.Layers[i]
		dtype := "float32"
		switch {
		case len(ly.WeightsQ8) > 0:
			dtype = "int8"
		case len(ly.WeightsF16) > 0:
			dtype = "float16"
		}
		in, out := l.Shape()
		shape := ""
		if ly.Kind != firmware.LayerDense {
			shape = fmt.Sprintf("%d→%d ch, k%d s%d, %d steps", ly.InChannels, ly.OutChannels, ly.Kernel, ly.Stride, ly.Length)
		}
		fmt.Fprintf(w, "  %d\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t\n", i, ly.Kind, in, out, shape, ly.Activation, dtype, l.Params())
	}
	return w.Flush()
}

// decisionSummary tells what a model suggests for the agent's decision;
// zero fields show what they mean.
func decisionSummary(d firmware.Decision) string {
	p := d.Params().Normalized()
	kn := fmt.Sprintf("%d of %d", p.K, p.N)
	if p.K == 0 {
		def := decide.DefaultParams()
		kn = fmt.Sprintf("none (the agent's default: %d of %d)", def.K, def.N)
	}
	gap := "none"
	if p.Gap > 0 {
		gap = p.Gap.String()
	}
	return fmt.Sprintf("k of n %s, enter %g× and exit %g× the threshold, min duration %v, cooldown %v, gap %s",
		kn, p.Enter, p.Exit, p.MinDuration, p.Cooldown, gap)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// thresholdRule says in words how a threshold was chosen from its method
// (mean+ksigma, percentile or pot, with an optional ×factor) and
// parameter k, e.g. "mean + 3σ of the validation scores, ×1.2".
func thresholdRule(method string, k float64) string {
	base, factor, scaled := strings.Cut(method, "×")
	var s string
	switch base {
	case "mean+ksigma":
		s = fmt.Sprintf("mean + %gσ of the validation scores", k)
	case "percentile":
		s = fmt.Sprintf("%gth percentile of the validation scores", k)
	case "pot":
		s = fmt.Sprintf("peaks over threshold at risk %g", k)
	case firmware.FusedMethod:
		s = "over the mean of the networks' scores, each over its own threshold"
	default:
		s = fmt.Sprintf("%s, k=%g", base, k)
	}
	if scaled {
		s += ", ×" + factor
	}
	return s
}
