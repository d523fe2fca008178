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
	layers []Dense
	// acts[0] holds the scaled input, acts[i+1] layer i's output.
	acts [][]float32
}

// NewAutoencoder validates the scaler and layers and allocates every
// buffer scoring needs. The layers must chain (each In equals the previous
// Out) and map the channel count back onto itself. The Autoencoder keeps
// references to the weights, which must not change afterwards.
func NewAutoencoder(scaler Scaler, layers []Dense) (*Autoencoder, error) {
	if len(layers) == 0 {
		return nil, errors.New("infer: autoencoder has no layers")
	}
	channels := layers[0].In
	if err := scaler.Validate(channels); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	acts := make([][]float32, len(layers)+1)
	acts[0] = make([]float32, channels)
	for i := range layers {
		l := &layers[i]
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("infer: layer %d: %w", i, err)
		}
		if i > 0 && l.In != layers[i-1].Out {
			return nil, fmt.Errorf("infer: layer %d takes %d inputs but layer %d gives %d", i, l.In, i-1, layers[i-1].Out)
		}
		acts[i+1] = make([]float32, l.Out)
	}
	if out := layers[len(layers)-1].Out; out != channels {
		return nil, fmt.Errorf("infer: autoencoder maps %d channels to %d outputs, want equal", channels, out)
	}
	return &Autoencoder{scaler: scaler, layers: layers, acts: acts}, nil
}

// Channels returns the number of input channels.
func (a *Autoencoder) Channels() int { return len(a.acts[0]) }

// Layers returns the model's layers. The caller must not modify them.
func (a *Autoencoder) Layers() []Dense { return a.layers }

// Scaler returns the model's input scaler. The caller must not modify it.
func (a *Autoencoder) Scaler() Scaler { return a.scaler }

// Params returns the number of trainable parameters.
func (a *Autoencoder) Params() int {
	n := 0
	for i := range a.layers {
		n += a.layers[i].Params()
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
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return float32(math.NaN()), ErrInvalidInput
		}
	}
	a.scaler.Transform(in, x)
	for i := range a.layers {
		a.layers[i].Forward(a.acts[i+1], a.acts[i])
	}
	out := a.acts[len(a.acts)-1][:len(in)]
	if perChannel != nil {
		perChannel = perChannel[:len(in)]
	}
	var sum float32
	for i, v := range in {
		d := out[i] - v
		e := d * d
		sum += e
		if perChannel != nil {
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
