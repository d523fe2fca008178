package firmware

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
)

// Magic marks a vigil model file.
const Magic = "vigil-model"

// FormatV1 is the only payload format this version reads and writes.
const FormatV1 = 1

// MaxFileSize bounds how many bytes Load reads: larger files are refused
// before they are decoded.
const MaxFileSize = 16 << 20

// Model kinds.
const (
	KindAutoencoder = "ae"
	KindVAE         = "vae"
)

// Scaler kinds: how Scaler.Center and Scaler.Scale were fitted.
const (
	ScalerStandard = "standard"
	ScalerMinMax   = "minmax"
	ScalerRobust   = "robust"
)

// ErrUnsigned is returned by Load for an unsigned file when unsigned
// files are not allowed.
var ErrUnsigned = errors.New("firmware: model file is unsigned")

// LoadOptions control which files Load accepts.
type LoadOptions struct {
	// AllowUnsigned accepts files without a signature. Until signing is
	// built every file is unsigned, so callers must set it.
	AllowUnsigned bool
}

// Loaded is a decoded, validated model ready to score.
type Loaded struct {
	// ID identifies the model: the first 12 hex digits of the SHA-256 of
	// its payload, so equal models have equal ids.
	ID string
	// Model is the decoded payload, metadata and weights.
	Model *Model
	// Autoencoder scores samples given in Model.Channels order.
	Autoencoder *infer.Autoencoder
}

// ChannelNames returns the model's input channel names in order.
func (m *Model) ChannelNames() []string {
	names := make([]string, len(m.Channels))
	for i, c := range m.Channels {
		names[i] = c.Name
	}
	return names
}

// ReadFile loads the model file at path; errors name the path.
func ReadFile(path string, o LoadOptions) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	defer f.Close()
	l, err := Load(f, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Load reads a model file of at most MaxFileSize bytes from r, decodes and
// validates it, and builds its autoencoder. Truncated, corrupt, oversized
// or inconsistent files return an error.
func Load(r io.Reader, o LoadOptions) (*Loaded, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("firmware: reading model: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("firmware: model file is over the %d-byte limit", MaxFileSize)
	}
	return Decode(data, o)
}

// Decode is Load for a file already in memory.
func Decode(data []byte, o LoadOptions) (*Loaded, error) {
	var env Envelope
	rest, err := env.UnmarshalMsg(data)
	if err != nil {
		return nil, fmt.Errorf("firmware: not a valid model file: envelope: %w", err)
	}
	switch {
	case len(rest) != 0:
		return nil, fmt.Errorf("firmware: %d stray bytes after the envelope", len(rest))
	case env.Magic != Magic:
		return nil, fmt.Errorf("firmware: not a vigil model file (magic %q, want %q)", truncate(env.Magic), Magic)
	case env.Format != FormatV1:
		return nil, fmt.Errorf("firmware: model format %d, this version reads format %d", env.Format, FormatV1)
	case env.KeyID != "" || len(env.Signature) != 0:
		return nil, fmt.Errorf("firmware: model is signed with key %q, but this version cannot verify signatures", truncate(env.KeyID))
	case !o.AllowUnsigned:
		return nil, ErrUnsigned
	}
	m := new(Model)
	if rest, err = m.UnmarshalMsg(env.Payload); err != nil {
		return nil, fmt.Errorf("firmware: model payload: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("firmware: %d stray bytes after the model payload", len(rest))
	}
	ae, err := m.autoencoder()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(env.Payload)
	return &Loaded{ID: hex.EncodeToString(sum[:6]), Model: m, Autoencoder: ae}, nil
}

// Pack encodes m as an unsigned model file, after checking that it
// decodes into a working model.
func Pack(m *Model) ([]byte, error) {
	if _, err := m.autoencoder(); err != nil {
		return nil, err
	}
	payload, err := m.MarshalMsg(nil)
	if err != nil {
		return nil, fmt.Errorf("firmware: encoding model: %w", err)
	}
	env := Envelope{Magic: Magic, Format: FormatV1, Payload: payload}
	return env.MarshalMsg(nil)
}

// Params returns the decision the model suggests as infer/decide
// parameters, field for field. K and N are 0 when the model suggests no k
// of n, and other zero fields keep decide's meaning (factors of 1, rules
// off): callers merge them with their own configuration and
// decide.DefaultParams before calling decide.New.
func (d Decision) Params() decide.Params {
	return decide.Params{K: int(d.K), N: int(d.N), Enter: d.Enter, Exit: d.Exit,
		MinDuration: time.Duration(d.MinDuration), Cooldown: time.Duration(d.Cooldown), Gap: time.Duration(d.Gap)}
}

// Validate checks the suggested decision: K and N both 0 (none) or 1 ≤ K
// ≤ N ≤ decide.MaxN, and the other fields as decide.Params.Validate
// checks them (finite factors with exit ≤ enter, no negative duration).
// The error names the field.
func (d Decision) Validate() error {
	if (d.K != 0 || d.N != 0) && (d.K < 1 || d.K > d.N || d.N > decide.MaxN) {
		return fmt.Errorf("firmware: decision %d of %d, want 1 ≤ k ≤ n ≤ %d (or both 0: none)", d.K, d.N, decide.MaxN)
	}
	p := d.Params()
	if p.K == 0 {
		p.K, p.N = 1, 1 // checked above; the rest is decide's to check
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("firmware: model decision: %w", err)
	}
	return nil
}

// autoencoder validates m and builds its infer model.
func (m *Model) autoencoder() (*infer.Autoencoder, error) {
	if m.Kind != KindAutoencoder && m.Kind != KindVAE {
		return nil, fmt.Errorf("firmware: model kind %q, want %q or %q", truncate(m.Kind), KindAutoencoder, KindVAE)
	}
	if len(m.Channels) == 0 {
		return nil, errors.New("firmware: model has no channels")
	}
	seen := make(map[string]bool, len(m.Channels))
	for i, c := range m.Channels {
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("firmware: channel %d: name %q is empty or repeated", i, truncate(c.Name))
		}
		seen[c.Name] = true
	}
	switch m.Scaler.Kind {
	case ScalerStandard, ScalerMinMax, ScalerRobust:
	default:
		return nil, fmt.Errorf("firmware: scaler kind %q, want standard, minmax or robust", truncate(m.Scaler.Kind))
	}
	if len(m.Scaler.Center) != len(m.Channels) {
		return nil, fmt.Errorf("firmware: scaler has %d channels, the model lists %d", len(m.Scaler.Center), len(m.Channels))
	}
	if t := float64(m.Threshold.Value); math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return nil, fmt.Errorf("firmware: threshold %v, want a positive finite number", t)
	}
	if err := m.Decision.Validate(); err != nil {
		return nil, err
	}
	cfg := infer.Config{Scaler: infer.Scaler{Center: m.Scaler.Center, Scale: m.Scaler.Scale}, KLWeight: m.KLWeight}
	var err error
	if cfg.Features, err = m.Features.spec(); err != nil {
		return nil, err
	}
	if m.Error != "" {
		if cfg.Error, err = infer.ParseErrorKind(m.Error); err != nil {
			return nil, fmt.Errorf("firmware: %w", err)
		}
	}
	if cfg.Layers, err = inferLayers("layer", m.Layers); err != nil {
		return nil, err
	}
	if (m.Kind == KindVAE) != (len(m.Decoder) > 0) {
		return nil, fmt.Errorf("firmware: a %q model has %d decoder layers; only \"vae\" models have a decoder, and they need one", m.Kind, len(m.Decoder))
	}
	if cfg.Decoder, err = inferLayers("decoder layer", m.Decoder); err != nil {
		return nil, err
	}
	ae, err := infer.NewAutoencoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	return ae, nil
}

func inferLayers(what string, ls []Layer) ([]infer.Layer, error) {
	out := make([]infer.Layer, len(ls))
	for i := range ls {
		l, err := ls[i].layer()
		if err != nil {
			return nil, fmt.Errorf("firmware: %s %d: %w", what, i, err)
		}
		out[i] = l
	}
	return out, nil
}

// spec converts the file's feature description.
func (f *Features) spec() (infer.FeatureSpec, error) {
	if f.Window > infer.MaxWindow || f.Stride > infer.MaxWindow {
		return infer.FeatureSpec{}, fmt.Errorf("firmware: features: window %d stride %d, want at most %d", f.Window, f.Stride, infer.MaxWindow)
	}
	s := infer.FeatureSpec{Window: int(f.Window), Stride: int(f.Stride), Raw: f.Raw}
	for _, name := range f.Stats {
		st, err := infer.ParseStat(name)
		if err != nil {
			return s, fmt.Errorf("firmware: features: %w", err)
		}
		s.Stats = append(s.Stats, st)
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("firmware: %w", err)
	}
	return s, nil
}

// FeaturesOf returns the file form of an infer feature spec.
func FeaturesOf(s infer.FeatureSpec) Features {
	f := Features{Window: uint32(s.Window), Stride: uint32(s.Stride), Raw: s.Raw}
	for _, st := range s.Stats {
		f.Stats = append(f.Stats, st.String())
	}
	return f
}

// Layer kinds.
const (
	LayerDense           = "dense"
	LayerConv1D          = "conv1d"
	LayerConvTranspose1D = "convtranspose1d"
)

// layer turns a schema layer into an infer layer.
func (l *Layer) layer() (infer.Layer, error) {
	act, err := infer.ParseActivation(l.Activation)
	if err != nil {
		return nil, err
	}
	if err := finite("bias", l.Bias); err != nil {
		return nil, err
	}
	switch l.Kind {
	case LayerDense:
	case LayerConv1D, LayerConvTranspose1D:
		if err := finite("weight", l.Weights); err != nil {
			return nil, err
		}
		if err := finite("scale", l.Scales); err != nil {
			return nil, err
		}
		if max(l.InChannels, l.OutChannels, l.Kernel, l.Stride, l.Padding, l.OutputPadding, l.Length) > 1<<20 {
			return nil, errors.New("convolution sizes over 2^20")
		}
		ci, co, k, s, p, n := int(l.InChannels), int(l.OutChannels), int(l.Kernel), int(l.Stride), int(l.Padding), int(l.Length)
		q := bytesInt8(l.WeightsQ8)
		if l.Kind == LayerConv1D {
			return &infer.Conv1D{InChannels: ci, OutChannels: co, Kernel: k, Stride: s, Padding: p, Length: n,
				W: l.Weights, Q: q, Scale: l.Scales, B: l.Bias, Act: act}, nil
		}
		return &infer.ConvTranspose1D{InChannels: ci, OutChannels: co, Kernel: k, Stride: s, Padding: p, OutputPadding: int(l.OutputPadding),
			Length: n, W: l.Weights, Q: q, Scale: l.Scales, B: l.Bias, Act: act}, nil
	default:
		return nil, fmt.Errorf("kind %q, want dense, conv1d or convtranspose1d", truncate(l.Kind))
	}
	in, out := int(l.In), int(l.Out)
	if len(l.WeightsQ8) == 0 {
		if err := finite("weight", l.Weights); err != nil {
			return nil, err
		}
		return &infer.Dense{In: in, Out: out, W: l.Weights, B: l.Bias, Act: act}, nil
	}
	if len(l.Weights) != 0 {
		return nil, errors.New("has both float32 and int8 weights")
	}
	if err := finite("scale", l.Scales); err != nil {
		return nil, err
	}
	return &infer.DenseQ8{In: in, Out: out, Q: bytesInt8(l.WeightsQ8), Scale: l.Scales, B: l.Bias, Act: act}, nil
}

func finite(what string, v []float32) error {
	for j, w := range v {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("%s %d is %v", what, j, w)
		}
	}
	return nil
}

// FromLayers builds the Layers of a model from infer layers (Dense or
// DenseQ8). Float32 slices are shared, not copied.
func FromLayers(ls []infer.Layer) ([]Layer, error) {
	out := make([]Layer, len(ls))
	for i, l := range ls {
		switch d := l.(type) {
		case *infer.Dense:
			out[i] = Layer{Kind: LayerDense, In: uint32(d.In), Out: uint32(d.Out), Activation: d.Act.String(), Weights: d.W, Bias: d.B}
		case *infer.DenseQ8:
			out[i] = Layer{Kind: LayerDense, In: uint32(d.In), Out: uint32(d.Out), Activation: d.Act.String(), WeightsQ8: int8Bytes(d.Q), Scales: d.Scale, Bias: d.B}
		case *infer.Conv1D:
			out[i] = Layer{Kind: LayerConv1D, InChannels: uint32(d.InChannels), OutChannels: uint32(d.OutChannels), Kernel: uint32(d.Kernel),
				Stride: uint32(d.Stride), Padding: uint32(d.Padding), Length: uint32(d.Length), Activation: d.Act.String(),
				Weights: d.W, WeightsQ8: int8Bytes(d.Q), Scales: d.Scale, Bias: d.B}
		case *infer.ConvTranspose1D:
			out[i] = Layer{Kind: LayerConvTranspose1D, InChannels: uint32(d.InChannels), OutChannels: uint32(d.OutChannels), Kernel: uint32(d.Kernel),
				Stride: uint32(d.Stride), Padding: uint32(d.Padding), OutputPadding: uint32(d.OutputPadding), Length: uint32(d.Length),
				Activation: d.Act.String(), Weights: d.W, WeightsQ8: int8Bytes(d.Q), Scales: d.Scale, Bias: d.B}
		default:
			return nil, fmt.Errorf("firmware: layer %d: type %T has no model-file form", i, l)
		}
	}
	return out, nil
}

// FromDense builds the Layers of a model from float32 dense layers, such
// as infer/train produces.
func FromDense(ds []infer.Dense) []Layer {
	ls, _ := FromLayers(infer.DenseLayers(ds)) // cannot fail for Dense
	return ls
}

// QuantizeInt8 replaces the float32 weights of every layer of m (decoder
// included) with int8 weights and a float32 scale per output channel
// (infer.QuantizeLayer). Layers already in int8 are left as they are. It
// fails only if a layer is invalid.
func (m *Model) QuantizeInt8() error {
	for k, ls := range [][]Layer{m.Layers, m.Decoder} {
		what := [2]string{"layer", "decoder layer"}[k]
		for i := range ls {
			l, err := ls[i].layer()
			if err == nil {
				err = l.Validate()
			}
			if err != nil {
				return fmt.Errorf("firmware: %s %d: %w", what, i, err)
			}
			q, err := FromLayers([]infer.Layer{infer.QuantizeLayer(l)})
			if err != nil {
				return err
			}
			ls[i] = q[0]
		}
	}
	return nil
}

// Int8 reports whether any layer of m holds int8 weights.
func (m *Model) Int8() bool {
	for _, ls := range [][]Layer{m.Layers, m.Decoder} {
		for i := range ls {
			if len(ls[i].WeightsQ8) > 0 {
				return true
			}
		}
	}
	return false
}

// truncate shortens strings from a file before they go into messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// bytesInt8 and int8Bytes convert int8 weights to and from the bytes the
// file stores them as (two's complement, one byte each).
func bytesInt8(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	q := make([]int8, len(b))
	for i, v := range b {
		q[i] = int8(v)
	}
	return q
}

func int8Bytes(q []int8) []byte {
	if len(q) == 0 {
		return nil
	}
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}
