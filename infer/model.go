package infer

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidInput is returned by Push when an input value is NaN or
// infinite (or becomes infinite once scaled): a sensor fault, not
// something to score.
var ErrInvalidInput = errors.New("infer: input value is NaN or infinite")

// ErrorKind is how a feature's reconstruction error counts in the score.
type ErrorKind uint8

// The error kinds.
const (
	SquaredError  ErrorKind = iota // (reconstruction - input)²
	AbsoluteError                  // |reconstruction - input|
)

var errorNames = [...]string{SquaredError: "squared", AbsoluteError: "absolute"}

// String returns the kind's name as stored in model files.
func (k ErrorKind) String() string {
	if int(k) < len(errorNames) {
		return errorNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// ParseErrorKind returns the error kind named s ("squared" or "absolute").
func ParseErrorKind(s string) (ErrorKind, error) {
	for i, n := range errorNames {
		if n == s {
			return ErrorKind(i), nil
		}
	}
	return 0, fmt.Errorf("infer: unknown error kind %q (want squared or absolute)", s)
}

// Config describes an autoencoder for NewAutoencoder.
type Config struct {
	// Scaler standardises each sample's channels before windowing.
	Scaler Scaler
	// Features turns scaled samples into the network's input; the zero
	// value scores every sample on its own.
	Features FeatureSpec
	// Layers reconstruct the feature vector (an autoencoder). For a
	// variational autoencoder they are the encoder: its last layer gives
	// 2·L values, the latent means μ and then the log-variances log σ².
	Layers []Layer
	// Decoder, for a variational autoencoder only, maps μ (L values, no
	// sampling at run time) back to the feature vector.
	Decoder []Layer
	// KLWeight, for a variational autoencoder, adds KLWeight times the
	// Kullback-Leibler divergence of N(μ, σ²) from N(0, 1), divided by
	// the number of features, to the score.
	KLWeight float32
	// Error selects squared (default) or absolute reconstruction error.
	Error ErrorKind
	// Members, if any, make a multi-scale model: further autoencoders
	// over the same channels (typically over longer windows) whose
	// scores are fused with this one's (see Member). Members have no
	// members of their own.
	Members []Member
	// Norm divides this model's own score in a multi-scale model's
	// fusion: its calibrated threshold. It must be positive when Members
	// is set, and is ignored otherwise.
	Norm float32
}

// Autoencoder scores samples by how badly a network reconstructs their
// features. The score is the mean over features of the reconstruction
// error (plus the KL term of a variational autoencoder); a channel's
// contribution is the part of that mean owed to its features.
//
// An Autoencoder owns its window and work buffers: it is not safe for
// concurrent use. Clone gives another goroutine its own.
type Autoencoder struct {
	cfg    Config
	c, f   int // channels per sample, features per vector
	latent int // L for a variational autoencoder, else 0
	window *Window
	single bool        // per-sample features: the scaled sample is the vector
	inv    []float32   // 1/Scale per channel
	scaled []float32   // the current sample, scaled
	feat   []float32   // the current feature vector
	errs   []float32   // each channel's error sum, when the caller wants none
	enc    [][]float32 // enc[i]: output of Layers[i]
	dec    [][]float32 // dec[i]: output of Decoder[i]
	fused  *fusion     // the members of a multi-scale model, else nil
}

// NewAutoencoder validates c and allocates every buffer scoring needs.
// The layers must chain and map the feature vector back onto itself (see
// Config). The Autoencoder keeps references to the layers and scaler,
// which must not change afterwards.
func NewAutoencoder(c Config) (*Autoencoder, error) {
	if len(c.Layers) == 0 {
		return nil, errors.New("infer: autoencoder has no layers")
	}
	in, _ := shape(c.Layers[0])
	channels := len(c.Scaler.Center)
	if err := c.Scaler.Validate(channels); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	if err := c.Features.Validate(); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	if channels == 0 {
		return nil, errors.New("infer: the scaler has no channels")
	}
	f := c.Features.Len(channels)
	if in != f {
		return nil, fmt.Errorf("infer: layer 0 takes %d inputs, but %d channels give %d features", in, channels, f)
	}
	if int(c.Error) >= len(errorNames) {
		return nil, fmt.Errorf("infer: invalid error kind %v", c.Error)
	}
	w := float64(c.KLWeight)
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 || (w > 0 && len(c.Decoder) == 0) {
		return nil, fmt.Errorf("infer: KL weight %v, want 0, or a finite positive number for a variational autoencoder", w)
	}
	enc, out, err := chain("layer", c.Layers, f)
	if err != nil {
		return nil, err
	}
	a := &Autoencoder{cfg: c, c: channels, f: f, enc: enc, inv: c.Scaler.reciprocals(),
		scaled: make([]float32, channels), feat: make([]float32, f), errs: make([]float32, channels)}
	if len(c.Decoder) == 0 {
		if out != f {
			return nil, fmt.Errorf("infer: autoencoder maps %d features to %d outputs, want equal", f, out)
		}
	} else {
		if out%2 != 0 {
			return nil, fmt.Errorf("infer: encoder gives %d outputs, want 2·latent (μ, then log σ²)", out)
		}
		a.latent = out / 2
		if a.dec, out, err = chain("decoder layer", c.Decoder, a.latent); err != nil {
			return nil, err
		}
		if out != f {
			return nil, fmt.Errorf("infer: decoder gives %d outputs for %d features, want equal", out, f)
		}
	}
	if a.window, err = NewWindow(c.Features, channels); err != nil {
		return nil, fmt.Errorf("infer: %w", err)
	}
	n := c.Features.normalized()
	a.single = n.Window == 1 && n.Stride == 1 && n.Raw && len(n.Stats) == 0
	if len(c.Members) > 0 {
		if a.fused, err = newFusion(c, channels); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func shape(l Layer) (int, int) {
	if l == nil {
		return 0, 0
	}
	return l.Shape()
}

// MaxBuffers bounds the float32 values all of a model's layer outputs
// hold together (16 MiB): far above what real models need (a
// 480-sample window through 32 channels is 15,360), and low enough that
// a tiny hostile model file cannot make a 512 MiB gateway run short.
const MaxBuffers = 1 << 22

// chain validates layers fed with in values, checks that they chain and
// that their outputs fit in MaxBuffers — all before allocating anything —
// and then allocates the outputs.
func chain(what string, layers []Layer, in int) ([][]float32, int, error) {
	total := 0
	for i, l := range layers {
		if l == nil {
			return nil, 0, fmt.Errorf("infer: %s %d is nil", what, i)
		}
		if err := l.Validate(); err != nil {
			return nil, 0, fmt.Errorf("infer: %s %d: %w", what, i, err)
		}
		li, lo := l.Shape()
		if li != in {
			return nil, 0, fmt.Errorf("infer: %s %d takes %d inputs but gets %d", what, i, li, in)
		}
		if total += lo; total > MaxBuffers {
			return nil, 0, fmt.Errorf("infer: %s %d: the outputs so far hold %d values, over the limit of %d", what, i, total, MaxBuffers)
		}
		in = lo
	}
	outs := make([][]float32, len(layers))
	for i, l := range layers {
		_, lo := l.Shape()
		outs[i] = make([]float32, lo)
		if p, ok := l.(interface{ Prepare() }); ok {
			p.Prepare()
		}
	}
	return outs, in, nil
}

// Channels returns the number of values per sample.
func (a *Autoencoder) Channels() int { return a.c }

// Features returns the length of the network's input vector.
func (a *Autoencoder) Features() int { return a.f }

// Config returns the configuration the model was built from. The caller
// must not modify it.
func (a *Autoencoder) Config() Config { return a.cfg }

// Layers returns the model's layers (the encoder of a variational
// autoencoder). The caller must not modify them.
func (a *Autoencoder) Layers() []Layer { return a.cfg.Layers }

// Params returns the number of stored parameters, members' included.
func (a *Autoencoder) Params() int {
	n := 0
	if a.fused != nil {
		for _, m := range a.fused.members {
			n += m.Params()
		}
	}
	for _, l := range a.cfg.Layers {
		n += l.Params()
	}
	for _, l := range a.cfg.Decoder {
		n += l.Params()
	}
	return n
}

// Clone returns an Autoencoder sharing a's weights with a window and
// buffers of its own, for use from another goroutine.
func (a *Autoencoder) Clone() *Autoencoder {
	b, err := NewAutoencoder(a.cfg)
	if err != nil {
		panic("infer: clone of a valid model failed: " + err.Error())
	}
	return b
}

// Reset empties the window (and every member's), as after a gap in the
// samples.
func (a *Autoencoder) Reset() {
	a.window.Reset()
	if a.fused != nil {
		a.fused.reset()
	}
}

// Push scales one sample of raw channel values x (len Channels()) into
// the window. When a feature vector is due it scores it and returns
// (score, true, nil), writing each channel's contribution into perChannel
// if it is non-nil (len Channels()); the contributions sum to the score's
// reconstruction part. Otherwise it returns (0, false, nil). A NaN or
// infinite value returns ErrInvalidInput and empties the window, so no
// feature vector spans the gap. Push does not allocate.
//
// A multi-scale model (Config.Members) pushes x into every member too,
// and its score is their fusion (see Member): due when this model scores
// and every member has scored since the last Reset.
func (a *Autoencoder) Push(x, perChannel []float32) (float32, bool, error) {
	if a.fused != nil {
		return a.fused.push(a, x, perChannel)
	}
	return a.push(x, perChannel)
}

// push is Push without the members.
func (a *Autoencoder) push(x, perChannel []float32) (float32, bool, error) {
	if a.single { // no window to keep: scale straight into the vector
		if !a.cfg.Scaler.transformFinite(a.feat, x[:a.c], a.inv) {
			return float32(math.NaN()), false, ErrInvalidInput
		}
		return a.ScoreFeatures(a.feat, perChannel), true, nil
	}
	if !a.cfg.Scaler.transformFinite(a.scaled, x[:a.c], a.inv) {
		a.window.Reset()
		return float32(math.NaN()), false, ErrInvalidInput
	}
	if !a.window.Push(a.scaled) {
		return 0, false, nil
	}
	a.window.Features(a.feat)
	return a.ScoreFeatures(a.feat, perChannel), true, nil
}

// ScoreFeatures scores a feature vector f (len Features()) made from
// scaled samples — by Window or Sequence — and writes each channel's
// contribution into perChannel if it is non-nil (len Channels()). It
// scores with this model alone, never its Members.
// Evaluation uses it on prepared data; the gateway goes through Push. It
// does not allocate.
func (a *Autoencoder) ScoreFeatures(f, perChannel []float32) float32 {
	f = f[:a.f]
	x := f
	for i, l := range a.cfg.Layers {
		l.Forward(a.enc[i], x)
		x = a.enc[i]
	}
	var kl float32
	if a.latent > 0 {
		mu, logvar := x[:a.latent], x[a.latent:2*a.latent]
		if a.cfg.KLWeight > 0 { // skipped at 0: 0·Inf would be NaN
			var s float64
			for i, m := range mu {
				lv := float64(logvar[i])
				s += 1 + lv - float64(m)*float64(m) - math.Exp(lv)
			}
			kl = float32(-0.5 * s)
		}
		x = mu
		for i, l := range a.cfg.Decoder {
			l.Forward(a.dec[i], x)
			x = a.dec[i]
		}
	}
	recon := x[:a.f]
	inv := 1 / float32(a.f)
	// Each channel's errors are summed in its slot (a scratch one when
	// perChannel is nil), then the slots: feature i belongs to channel i
	// mod C, so the vector is walked a sample-sized block at a time. The
	// slots are independent sums, where one running sum over every
	// feature would wait on each add in turn.
	pc := a.errs
	if perChannel != nil {
		pc = perChannel[:a.c]
	}
	clear(pc)
	abs := a.cfg.Error == AbsoluteError
	if useAsmVec && a.c%8 == 0 {
		errSlots8(&pc[0], &f[0], &recon[0], a.c, a.f/a.c, abs)
	} else {
		for start := 0; start < a.f; start += a.c {
			fb, rb := f[start:start+a.c], recon[start:start+a.c]
			rb, pb := rb[:len(fb)], pc[:len(fb)]
			if abs {
				for c, v := range fb {
					pb[c] += float32(math.Abs(float64(rb[c] - v)))
				}
				continue
			}
			for c, v := range fb {
				d := rb[c] - v
				pb[c] += d * d
			}
		}
	}
	sum := sumSlots(pc, inv)
	return sum*inv + a.cfg.KLWeight*kl*inv
}

// sumSlots returns the sum of s and multiplies each slot by inv as it is
// added: eight lanes at a time where vector_amd64.s serves, else in four
// running sums.
func sumSlots(s []float32, inv float32) float32 {
	var sum float32
	if useAsmVec && len(s) >= 8 {
		n8 := len(s) &^ 7
		sum = sumSlots8(&s[0], n8, inv)
		s = s[n8:]
	}
	var s0, s1, s2, s3 float32
	for len(s) >= 4 {
		s0 += s[0]
		s1 += s[1]
		s2 += s[2]
		s3 += s[3]
		s[0], s[1], s[2], s[3] = s[0]*inv, s[1]*inv, s[2]*inv, s[3]*inv
		s = s[4:]
	}
	for i, v := range s {
		s0 += v
		s[i] = v * inv
	}
	return sum + ((s0 + s1) + (s2 + s3))
}

// InvalidChannels appends to dst the indexes of the channels of x that
// cannot be scored — NaN, infinite, or infinite once scaled (by this
// model's scaler or a member's) — and returns it. It is for reporting a sensor fault, off the per-sample path.
func (a *Autoencoder) InvalidChannels(dst []int, x []float32) []int {
	for i, v := range x[:a.c] {
		bad := a.unscalable(i, v)
		for _, m := range a.Members() {
			bad = bad || m.unscalable(i, v)
		}
		if bad {
			dst = append(dst, i)
		}
	}
	return dst
}

// unscalable reports whether v, as channel i, is NaN or infinite once
// scaled.
func (a *Autoencoder) unscalable(i int, v float32) bool {
	const exp = 0x7f800000
	z := (v - a.cfg.Scaler.Center[i]) * a.inv[i]
	return math.Float32bits(z)&exp == exp
}

// Reconstruction returns the last feature vector scored by Push and its
// reconstruction. Both are views of internal buffers, valid until the
// next call to Push or ScoreFeatures.
func (a *Autoencoder) Reconstruction() (features, recon []float32) {
	if a.latent > 0 {
		return a.feat, a.dec[len(a.dec)-1]
	}
	return a.feat, a.enc[len(a.enc)-1]
}
