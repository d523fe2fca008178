package infer

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidInput is returned by Score when an input value is NaN or
// infinite: a sensor fault, not something to score.
var ErrInvalidInput = errors.New("infer: input value is NaN or infinite")

// Autoencoder scores samples by how badly a stack of dense layers
// reconstructs them. Its input and output are the scaled channel values;
// the score of a sample is the mean over channels of the squared
// reconstruction error.
//
// An Autoencoder owns its work buffers: it is not safe for concurrent use.
type Autoencoder struct {
	scaler Scaler
	layers []Layer
	// acts[0] holds the scaled input, acts[i+1] layer i's output.
	acts [][]float32
}

// NewAutoencoder validates the scaler and layers and allocates every
// buffer scoring needs. The layers must chain (each input length equals the
// previous output length) and map the channel count back onto itself. The
// Autoencoder keeps references to the layers, which must not change
// afterwards.
func NewAutoencoder(scaler Scaler, layers []Layer) (*Autoencoder, error) {
	if len(layers) == 0 {
		return nil, errors.New("infer: autoencoder has no layers")
	}
	acts := make([][]float32, len(layers)+1)
	prev := 0
	for i, l := range layers {
		if l == nil {
			return nil, fmt.Errorf("infer: layer %d is nil", i)
		}
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("infer: layer %d: %w", i, err)
		}
		in, out := l.Shape()
		if i == 0 {
			acts[0] = make([]float32, in)
		} else if in != prev {
			return nil, fmt.Errorf("infer: layer %d takes %d inputs but layer %d gives %d", i, in, i-1, prev)
		}
		acts[i+1] = make([]float32, out)
		prev = out
	}
	channels := len(acts[0])
	if err := scaler.Validate(channels); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	if prev != channels {
		return nil, fmt.Errorf("infer: autoencoder maps %d channels to %d outputs, want equal", channels, prev)
	}
	return &Autoencoder{scaler: scaler, layers: layers, acts: acts}, nil
}

// Channels returns the number of input channels.
func (a *Autoencoder) Channels() int { return len(a.acts[0]) }

// Layers returns the model's layers. The caller must not modify them.
func (a *Autoencoder) Layers() []Layer { return a.layers }

// Scaler returns the model's input scaler. The caller must not modify it.
func (a *Autoencoder) Scaler() Scaler { return a.scaler }

// Params returns the number of trainable parameters.
func (a *Autoencoder) Params() int {
	n := 0
	for _, l := range a.layers {
		n += l.Params()
	}
	return n
}

// Clone returns an Autoencoder sharing a's weights with buffers of its
// own, for use from another goroutine.
func (a *Autoencoder) Clone() *Autoencoder {
	b, err := NewAutoencoder(a.scaler, a.layers)
	if err != nil {
		panic("infer: clone of a valid model failed: " + err.Error())
	}
	return b
}

// Score scales the raw channel values x (len Channels()), reconstructs
// them and returns the sample's score: the mean over channels of the
// squared error between scaled input and reconstruction. If perChannel is
// non-nil (len Channels()), it receives each channel's squared error.
// A NaN or infinite input returns ErrInvalidInput and a score of NaN.
// Score does not allocate.
func (a *Autoencoder) Score(x, perChannel []float32) (float32, error) {
	in := a.acts[0]
	x = x[:len(in)]
	if !a.scaler.transformFinite(in, x) {
		return float32(math.NaN()), ErrInvalidInput
	}
	for i, l := range a.layers {
		l.Forward(a.acts[i+1], a.acts[i])
	}
	out := a.acts[len(a.acts)-1][:len(in)]
	var sum float32
	if perChannel == nil {
		for i, v := range in {
			d := out[i] - v
			sum += d * d
		}
	} else {
		perChannel = perChannel[:len(in)]
		for i, v := range in {
			d := out[i] - v
			e := d * d
			sum += e
			perChannel[i] = e
		}
	}
	return sum / float32(len(in)), nil
}

// Reconstruction returns the scaled input and the reconstruction of the
// last sample scored. Both are views of internal buffers, valid until the
// next call to Score.
func (a *Autoencoder) Reconstruction() (scaled, recon []float32) {
	return a.acts[0], a.acts[len(a.acts)-1]
}
