package firmware

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tinylib/msgp/msgp"
	"github.com/vigil-edge/vigil/infer"
)

// Features a model may require (Model.Requires). A program that reads
// model files lists the ones it supports (SupportedFeatures) and refuses
// a model requiring any other, so that a model using something newer
// than the agent is refused with a clear message instead of being run
// wrongly. Features this version supports:
const (
	// FeatureInt8Weights: layers with int8 weights and a float32 scale per
	// output channel (Layer.WeightsQ8, Layer.Scales).
	FeatureInt8Weights = "int8-weights"
	// FeatureConv1D: "conv1d" and "convtranspose1d" layers.
	FeatureConv1D = "conv1d"
	// FeatureVAE: a variational autoencoder (Kind "vae", a Decoder, a KL
	// weight).
	FeatureVAE = "vae"
	// FeatureWindow: feature windows (Features with a window or stride
	// over 1, or statistics) instead of one sample at a time.
	FeatureWindow = "window-features"
	// FeatureAbsoluteError: Error "absolute" instead of squared.
	FeatureAbsoluteError = "absolute-error"
	// FeatureDecisionV2: a suggested decision with hysteresis factors,
	// delays or a gap (Decision.Enter, Exit, MinDuration, Cooldown, Gap)
	// beyond k of n.
	FeatureDecisionV2 = "decision-v2"
	// FeatureF16Weights: dense layers with IEEE binary16 weights
	// (Layer.WeightsF16).
	FeatureF16Weights = "f16-weights"
	// FeatureMultiScale: further networks (Model.Members) whose scores
	// are fused with the model's own.
	FeatureMultiScale = "multi-scale"
)

// supported lists the features of this version, sorted.
var supported = []string{FeatureAbsoluteError, FeatureConv1D, FeatureDecisionV2, FeatureF16Weights, FeatureInt8Weights, FeatureMultiScale, FeatureVAE, FeatureWindow}

// SupportedFeatures returns the features this version of the package
// supports, sorted; the caller owns the slice.
func SupportedFeatures() []string { return slices.Clone(supported) }

// FeaturesUsed returns the features m uses, sorted: what Pack puts in
// Requires.
func (m *Model) FeaturesUsed() []string {
	var f []string
	add := func(name string, used bool) {
		if used && !slices.Contains(f, name) {
			f = append(f, name)
		}
	}
	for _, p := range m.parts() {
		add(FeatureAbsoluteError, p.Error == infer.AbsoluteError.String())
		add(FeatureConv1D, p.hasConv())
		add(FeatureVAE, p.Kind == KindVAE)
		ft := p.Features
		add(FeatureWindow, ft.Window > 1 || ft.Stride > 1 || len(ft.Stats) > 0)
	}
	d := m.Decision
	add(FeatureDecisionV2, d.Enter != 0 || d.Exit != 0 || d.MinDuration != 0 || d.Cooldown != 0 || d.Gap != 0)
	add(FeatureInt8Weights, m.Int8())
	add(FeatureF16Weights, m.F16())
	add(FeatureMultiScale, len(m.Members) > 0)
	slices.Sort(f)
	return f
}

// hasConv reports whether any layer of p is a convolution.
func (p *Member) hasConv() bool {
	for _, ls := range [][]Layer{p.Layers, p.Decoder} {
		for i := range ls {
			if ls[i].Kind == LayerConv1D || ls[i].Kind == LayerConvTranspose1D {
				return true
			}
		}
	}
	return false
}

// checkRequires refuses a payload (already walked) whose "requires"
// lists a feature this version does not support. It reads only that
// field, so that a model from a newer packer is refused for what it
// requires before anything else about it is.
func checkRequires(p []byte) error {
	n, b, err := msgp.ReadMapHeaderBytes(p)
	if err != nil {
		return fmt.Errorf("firmware: model payload: %w", err)
	}
	for ; n > 0; n-- {
		var key []byte
		if key, b, err = msgp.ReadMapKeyZC(b); err != nil {
			return fmt.Errorf("firmware: model payload: %w", err)
		}
		if string(key) != "requires" {
			if b, err = msgp.Skip(b); err != nil {
				return fmt.Errorf("firmware: model payload: %w", err)
			}
			continue
		}
		if b, err = checkFeatureList(b); err != nil {
			return err
		}
	}
	return nil
}

// checkFeatureList reads the array of feature names at the start of b.
func checkFeatureList(b []byte) ([]byte, error) {
	k, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return nil, fmt.Errorf("firmware: model field %q: %w", "requires", err)
	}
	for ; k > 0; k-- {
		var f []byte
		if f, b, err = msgp.ReadStringZC(b); err != nil {
			return nil, fmt.Errorf("firmware: model field %q: %w", "requires", err)
		}
		if _, ok := slices.BinarySearch(supported, string(f)); !ok {
			return nil, &CheckError{Check: CheckFeatures, Msg: fmt.Sprintf("model requires feature %q, which this agent does not support: upgrade the agent", truncate(string(f)))}
		}
	}
	return b, nil
}

// checkDeclared refuses a format 2 model that uses a feature its
// Requires does not list: an older program would run it wrongly.
func checkDeclared(m *Model) error {
	var missing []string
	for _, f := range m.FeaturesUsed() {
		if !slices.Contains(m.Requires, f) {
			missing = append(missing, fmt.Sprintf("%q", f))
		}
	}
	if missing == nil {
		return nil
	}
	return &CheckError{Check: CheckFeatures, Msg: fmt.Sprintf("model uses %s but does not list it in requires: re-pack it", strings.Join(missing, ", "))}
}

// union returns the sorted union of a and b, without repeats.
func union(a, b []string) []string {
	u := append(slices.Clone(a), b...)
	slices.Sort(u)
	return slices.Compact(u)
}
