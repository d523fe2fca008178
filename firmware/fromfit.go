package firmware

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-edge/vigil/infer/train"
)

// FromFit makes the model file's contents of a trained recipe: network,
// scaler, window, threshold and debounce, and the training's provenance.
// Name, Version and Created are the caller's to set.
func FromFit(f *train.Fitted) (*Model, error) {
	res, cal := f.Result, f.Calibration
	layers, err := FromLayers(res.Layers)
	if err != nil {
		return nil, err
	}
	decoder, err := FromLayers(res.Decoder)
	if err != nil {
		return nil, err
	}
	kind := KindAutoencoder
	if f.VAE {
		kind = KindVAE
	}
	best := res.History[res.BestEpoch-1]
	m := &Model{
		// The gateway's decision: the calibrated k of n, the recipe's
		// hysteresis, and the gap rule training windows were cut by.
		Decision: Decision{K: uint32(f.K), N: uint32(f.N), Enter: f.Enter, Exit: f.Exit, Gap: int64(f.Gap)},
		Kind:     kind, Decoder: decoder, KLWeight: res.KLWeight,
		Scaler:   Scaler{Kind: f.ScalerKind, Center: f.Scaler.Center, Scale: f.Scaler.Scale},
		Features: FeaturesOf(f.Features),
		Layers:   layers,
		Error:    f.Error.String(),
		Threshold: Threshold{
			Value: float32(cal.Threshold), Method: cal.Method, K: cal.K, Mean: cal.Mean, Std: cal.Std, N: uint64(cal.N),
		},
		Training: Training{
			DatasetDigest: f.Digest, Rows: uint64(f.Rows), Epochs: uint32(len(res.History)),
			BestEpoch: uint32(res.BestEpoch), TrainLoss: best.Train, ValLoss: best.Val, Seed: f.Seed,
			Tool: f.Tool, Sources: slices.Clone(f.Sources), Widened: slices.Clone(f.Widened), WidenFactor: float32(f.WidenFactor),
		},
	}
	for i, name := range f.Channels {
		ch := Channel{Name: name}
		if i < len(f.Units) {
			ch.Unit = f.Units[i]
		}
		m.Channels = append(m.Channels, ch)
	}
	return m, nil
}

// FitModel trains r on rec and makes its model (FromFit); with members, a
// multi-scale model: each member recipe is trained on the same rows with
// r's seed and added as a member (AddMember), and the k-of-n debounce is
// then calibrated on the fused score (train.Recipe.Debounce), which the
// gateway decides on. progress, if non-nil, receives every network's
// epochs in turn. The Fitted is r's.
func FitModel(ctx context.Context, r *train.Recipe, members []train.Recipe, rec *train.Recording, progress func(train.Epoch)) (*Model, *train.Fitted, error) {
	fit, err := r.Fit(ctx, rec, progress)
	if err != nil {
		return nil, nil, err
	}
	m, err := FromFit(fit)
	if err != nil || len(members) == 0 {
		return m, fit, err
	}
	for i, mr := range members {
		mr.Options.Seed = r.Options.Seed // a member follows the model's seed
		mfit, err := mr.Fit(ctx, rec, progress)
		if err != nil {
			return nil, nil, fmt.Errorf("member %d: %w", i, err)
		}
		mm, err := FromFit(mfit)
		if err != nil {
			return nil, nil, fmt.Errorf("member %d: %w", i, err)
		}
		if err := AddMember(m, mm); err != nil {
			return nil, nil, err
		}
	}
	ae, err := m.autoencoder()
	if err != nil {
		return nil, nil, err
	}
	k, n, err := r.Debounce(ae, rec, float64(m.Threshold.Value))
	if err != nil {
		return nil, nil, err
	}
	m.Decision.K, m.Decision.N = uint32(k), uint32(n)
	return m, fit, nil
}
