package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vigil-edge/vigil/infer"
)

// Optimizer selects the update rule.
type Optimizer string

// The optimisers.
const (
	Adam    Optimizer = "adam"
	RMSprop Optimizer = "rmsprop"
)

// ConvArch describes a convolutional autoencoder over a window of Window
// samples × Channels (the flattened raw window, time-major): a Conv1D per
// entry of Filters (output channels), each with the given kernel and
// stride and padding Kernel/2, then the mirror image in transposed
// convolutions back to Window × Channels.
type ConvArch struct {
	Window, Channels int
	Filters          []int
	Kernel, Stride   int
}

// DefaultKernel and DefaultStride are a convolutional recipe's kernel and
// stride unless told otherwise (vigil train --kernel, --conv-stride).
const (
	DefaultKernel = 7
	DefaultStride = 2
)

// VAEArch makes the network a variational autoencoder (as in the seeds:
// encoder in→Hidden…→latent μ and log σ², decoder mirrored back), trained
// with the reparameterisation trick on reconstruction loss plus Beta
// times the KL divergence from N(0, 1), divided by the row length.
type VAEArch struct {
	Latent int
	Beta   float64
}

// Loss is the reconstruction loss trained on.
type Loss string

// The losses.
const (
	MSE Loss = "mse" // mean squared error
	BCE Loss = "bce" // binary cross-entropy: sigmoid outputs, targets in [0, 1]
)

// Options configure Autoencoder. DefaultOptions holds the defaults.
type Options struct {
	// Hidden lists the sizes of the hidden dense layers, e.g. {32, 4, 32};
	// the input and output size is the row length. Ignored when Conv is
	// set.
	Hidden []int
	// Conv, if set, makes the network convolutional instead.
	Conv *ConvArch
	// VAE, if set, makes it a variational autoencoder (dense layers).
	VAE *VAEArch
	// Loss is MSE (the default when empty) or BCE.
	Loss Loss
	// Activation is used after every hidden layer, Output after the last.
	Activation, Output infer.Activation
	// Epochs is the most passes over the training rows; Batch the rows
	// per optimiser step.
	Epochs, Batch int
	// Optimizer is Adam (Beta1, Beta2) or RMSprop (Rho); both use
	// LearningRate and Epsilon.
	Optimizer                           Optimizer
	LearningRate, Beta1, Beta2, Epsilon float64
	Rho                                 float64
	// WeightDecay adds WeightDecay·w to every weight's gradient (L2
	// regularisation of ½·WeightDecay·‖w‖²; biases are not decayed).
	WeightDecay float64
	// Dropout is the probability of zeroing each hidden activation while
	// training (inverted dropout: the rest are scaled by 1/(1−Dropout)).
	Dropout float64
	// InputNoise is the standard deviation of Gaussian noise added to
	// the inputs while training, the targets staying clean (a denoising
	// autoencoder).
	InputNoise float64
	// ValidationFraction of the rows, taken from the end in time order as
	// Keras does, are held out for early stopping and calibration.
	ValidationFraction float64
	// Patience is how many epochs without a validation improvement of at
	// least MinDelta end training; the best weights are restored.
	// Patience 0 disables early stopping.
	Patience int
	MinDelta float64
	// Seed makes training deterministic: the same rows, options and seed
	// give bit-identical weights.
	Seed uint64
	// Progress, if set, is called after every epoch.
	Progress func(Epoch)
}

// DefaultOptions are the seeds' recipe adapted to sensor channels: Adam
// with Keras' defaults, batch 32, 20 % validation, early stopping.
var DefaultOptions = Options{
	Hidden:             []int{32, 4, 32},
	Activation:         infer.ReLU,
	Output:             infer.Linear,
	Epochs:             50,
	Batch:              32,
	Optimizer:          Adam,
	LearningRate:       1e-3,
	Beta1:              0.9,
	Beta2:              0.999,
	Epsilon:            1e-7,
	Rho:                0.9,
	ValidationFraction: 0.2,
	Patience:           5,
	MinDelta:           1e-5,
	Seed:               1,
}

// Epoch reports one pass over the training rows.
type Epoch struct {
	N, Of      int     // this epoch (from 1) and the most there will be
	Train, Val float64 // mean loss over training and validation rows
	Best       bool    // the validation loss is the best so far
}

// Result is a trained autoencoder.
type Result struct {
	Layers []infer.Layer // the best weights found (a VAE's encoder)
	// Decoder and KLWeight are a VAE's, for infer.Config.
	Decoder   []infer.Layer
	KLWeight  float32
	History   []Epoch
	BestEpoch int // 1-based epoch whose weights Layers holds
	// ValScores are the per-row scores (mean squared error) of the
	// validation rows under the best weights, in row order.
	ValScores []float32
	// TrainRows and ValRows count the rows used for each part.
	TrainRows, ValRows int
}

func (o *Options) validate(rows [][]float32) error {
	switch {
	case len(rows) < 2:
		return fmt.Errorf("train: %d rows, want at least 2", len(rows))
	case len(rows[0]) == 0:
		return errors.New("train: rows have no values")
	case o.Epochs <= 0 || o.Batch <= 0:
		return fmt.Errorf("train: epochs %d and batch %d must be positive", o.Epochs, o.Batch)
	case o.ValidationFraction <= 0 || o.ValidationFraction >= 1:
		return fmt.Errorf("train: validation fraction %v, want between 0 and 1", o.ValidationFraction)
	case o.LearningRate <= 0 || o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 || o.Epsilon <= 0 || o.Rho < 0 || o.Rho >= 1:
		return errors.New("train: optimiser parameters out of range (lr > 0, 0 <= beta, rho < 1, epsilon > 0)")
	case o.Loss != "" && o.Loss != MSE && o.Loss != BCE:
		return fmt.Errorf("train: loss %q, want mse or bce", o.Loss)
	case o.VAE != nil && (o.VAE.Latent <= 0 || o.VAE.Beta < 0 || math.IsNaN(o.VAE.Beta) || math.IsInf(o.VAE.Beta, 0) || o.Conv != nil):
		return fmt.Errorf("train: VAE latent %d, beta %v: want a positive latent size, beta ≥ 0, and dense layers", o.VAE.Latent, o.VAE.Beta)
	case o.Optimizer != Adam && o.Optimizer != RMSprop:
		return fmt.Errorf("train: optimiser %q, want adam or rmsprop", o.Optimizer)
	case o.WeightDecay < 0 || o.Dropout < 0 || o.Dropout >= 1 || o.InputNoise < 0:
		return fmt.Errorf("train: weight decay %v, dropout %v, input noise %v: want ≥ 0 (dropout < 1)", o.WeightDecay, o.Dropout, o.InputNoise)
	case o.Patience < 0:
		return fmt.Errorf("train: patience %d, want >= 0", o.Patience)
	case !o.Activation.Valid() || !o.Output.Valid():
		return errors.New("train: invalid activation")
	}
	for _, h := range o.Hidden {
		if h <= 0 {
			return fmt.Errorf("train: hidden layer size %d, want positive", h)
		}
	}
	c := len(rows[0])
	for i, r := range rows {
		if len(r) != c {
			return fmt.Errorf("train: row %d has %d values, want %d", i, len(r), c)
		}
		for j, v := range r {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("train: row %d value %d is %v, want a finite number", i, j, v)
			}
		}
	}
	return nil
}

// Autoencoder trains a dense autoencoder to reconstruct rows (already
// scaled; every row the same length) under mean squared error. It stops
// early when ctx ends, returning ctx.Err().
func Autoencoder(ctx context.Context, rows [][]float32, o Options) (*Result, error) {
	if err := o.validate(rows); err != nil {
		return nil, err
	}
	nVal := int(math.Round(float64(len(rows)) * o.ValidationFraction))
	nVal = max(1, min(nVal, len(rows)-1))
	trainRows, valRows := rows[:len(rows)-nVal], rows[len(rows)-nVal:]

	r := rand.New(rand.NewPCG(o.Seed, 0x76696769)) // "vigi"
	c := len(rows[0])
	var m model
	switch {
	case o.VAE != nil:
		m = newVAE(r, c, &o)
	case o.Conv != nil:
		if o.Conv.Window*o.Conv.Channels != c {
			return nil, fmt.Errorf("train: rows of %d values, but the convolutional architecture wants %d samples × %d channels", c, o.Conv.Window, o.Conv.Channels)
		}
		layers, err := convLayers(r, o.Conv, o.Activation, o.Output)
		if err != nil {
			return nil, err
		}
		m = &ae{newNetwork(layers, o.Dropout)}
	default:
		m = &ae{newNetwork(denseLayers(r, append(append([]int{c}, o.Hidden...), c), o.Activation, o.Output), o.Dropout)}
	}

	batch := make([][]float32, 0, o.Batch)
	m.reserve(min(o.Batch, len(trainRows)))
	order := make([]int, len(trainRows))
	for i := range order {
		order[i] = i
	}
	res := &Result{TrainRows: len(trainRows), ValRows: len(valRows)}
	best, bestW, since, steps := math.Inf(1), snapshot(m), 0, 0
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var trainLoss float64
		for start := 0; start < len(order); start += o.Batch {
			end := min(start+o.Batch, len(order))
			m.zeroGrad()
			batch = batch[:0]
			for _, idx := range order[start:end] {
				batch = append(batch, trainRows[idx])
			}
			trainLoss = m.trainBatch(batch, r, &o, trainLoss)
			steps++
			m.step(&o, steps, end-start)
		}
		ep := Epoch{N: epoch, Of: o.Epochs, Train: trainLoss / float64(len(trainRows)), Val: meanScore(m, valRows)}
		if bad(ep.Train) || bad(ep.Val) {
			return nil, fmt.Errorf("train: epoch %d: training diverged (training loss %v, validation loss %v); a lower --lr, or a scaler whose scales are not tiny, may help", epoch, ep.Train, ep.Val)
		}
		if ep.Val < best-o.MinDelta || res.BestEpoch == 0 {
			best, bestW, since, res.BestEpoch = ep.Val, snapshot(m), 0, epoch
			ep.Best = true
		} else {
			since++
		}
		res.History = append(res.History, ep)
		if o.Progress != nil {
			o.Progress(ep)
		}
		if o.Patience > 0 && since >= o.Patience {
			break
		}
	}
	restore(m, bestW)
	switch m := m.(type) {
	case *ae:
		res.Layers = m.net.inferLayers()
	case *vae:
		res.Layers, res.Decoder, res.KLWeight = m.enc.inferLayers(), m.dec.inferLayers(), float32(m.beta)
	}
	res.ValScores = make([]float32, len(valRows))
	for i, x := range valRows {
		res.ValScores[i] = float32(m.score(x))
	}
	return res, nil
}

// bad reports whether a loss is not a finite number.
func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// meanScore is the validation loss: the mean deterministic score.
func meanScore(m model, rows [][]float32) float64 {
	var s float64
	for _, x := range rows {
		s += m.score(x)
	}
	return s / float64(len(rows))
}
