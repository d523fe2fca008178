package firmware

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
)

// Magic marks a vigil model file.
const Magic = "vigil-model"

// File format versions.
const (
	// FormatV1 is the first file format: the envelope holds no digest and
	// is never signed, and unknown payload fields are skipped. Decode
	// still reads it, with a warning (or refuses it: LoadOptions.RefuseV1).
	FormatV1 = 1
	// FormatV2 adds the payload's SHA-256 digest and an optional ed25519
	// signature of Magic, format and payload, and refuses fields it does
	// not know. Pack and Sign write it.
	FormatV2 = 2
)

// Size limits of a model file.
const (
	// DefaultMaxBytes is the largest file Load, ReadFile and Decode accept
	// unless LoadOptions.MaxBytes says otherwise.
	DefaultMaxBytes = 16 << 20
	// HardMaxBytes is the largest LoadOptions.MaxBytes allowed; the msgp
	// limits of the schema are set so that no file this size is refused
	// by them.
	HardMaxBytes = 64 << 20
	// MaxFileSize is DefaultMaxBytes.
	//
	// Deprecated: use DefaultMaxBytes or LoadOptions.MaxBytes.
	MaxFileSize = DefaultMaxBytes
)

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

// Errors a caller may want to tell apart (errors.Is); the errors returned
// wrap them with details.
var (
	// ErrUnsigned: the file is unsigned and unsigned files are not allowed
	// (LoadOptions.AllowUnsigned).
	ErrUnsigned = errors.New("firmware: model file is unsigned")
	// ErrTooLarge: the file is over LoadOptions.MaxBytes.
	ErrTooLarge = errors.New("firmware: model file too large")
	// ErrDamaged: the payload does not match the digest in the file.
	ErrDamaged = errors.New("firmware: payload digest mismatch: file damaged")
	// ErrUntrustedKey: the file is signed by a key that is not among
	// LoadOptions.Trusted (and unsigned files are not allowed).
	ErrUntrustedKey = errors.New("firmware: model signed by an untrusted key")
	// ErrBadSignature: the signature does not verify with the trusted key
	// its key id names, or a signed file's payload was changed.
	ErrBadSignature = errors.New("firmware: bad signature")
)

// LoadOptions control which files Load, ReadFile and Decode accept. The
// zero value accepts only files signed by a trusted key — of which it
// has none.
type LoadOptions struct {
	// AllowUnsigned accepts files without a signature, and files signed
	// by a key that is not in Trusted, whose signature then cannot be
	// checked (Loaded.Warnings says so). A file whose key id names a
	// trusted key must verify either way.
	AllowUnsigned bool
	// Trusted are the keys whose signatures are accepted.
	Trusted []PublicKey
	// RefuseV1 refuses format 1 files (no checksum, never signed) instead
	// of loading them with a warning.
	RefuseV1 bool
	// MaxBytes is the largest file accepted, at most HardMaxBytes; 0
	// means DefaultMaxBytes. A larger file is refused with ErrTooLarge.
	MaxBytes int64
}

// check checks o and returns the size limit it sets.
func (o LoadOptions) check() (int64, error) {
	for i, k := range o.Trusted {
		if len(k.Key) != ed25519.PublicKeySize {
			return 0, fmt.Errorf("firmware: LoadOptions.Trusted[%d] (%q): a %d-byte key, want %d", i, truncate(k.Name), len(k.Key), ed25519.PublicKeySize)
		}
	}
	switch {
	case o.MaxBytes == 0:
		return DefaultMaxBytes, nil
	case o.MaxBytes < 0 || o.MaxBytes > HardMaxBytes:
		return 0, fmt.Errorf("firmware: LoadOptions.MaxBytes %d, want 1 to %d (or 0: %d)", o.MaxBytes, HardMaxBytes, DefaultMaxBytes)
	}
	return o.MaxBytes, nil
}

// Loaded is a decoded, verified and validated model ready to score.
type Loaded struct {
	// ID identifies the model: the first 12 hex digits of the SHA-256 of
	// its payload, so equal models have equal ids.
	ID string
	// Format is the file's format version (FormatV1 or FormatV2).
	Format int
	// KeyID is the id of the key that signed the file; empty if unsigned.
	KeyID string
	// Signer is the name of the trusted key that verified the signature;
	// empty if the file is unsigned or its key is not trusted.
	Signer string
	// Warnings say what was accepted but should not have been needed,
	// such as a format 1 file.
	Warnings []string
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

// ReadFile loads the model file at path; errors name the path. A file
// over the size limit is refused before it is read.
func ReadFile(path string, o LoadOptions) (*Loaded, error) {
	limit, err := o.check()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, fmt.Errorf("%s: %w", path, tooLarge(st.Size(), limit))
	}
	l, err := Load(f, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Load reads a model file of at most LoadOptions.MaxBytes from r and
// decodes it (Decode).
func Load(r io.Reader, o LoadOptions) (*Loaded, error) {
	limit, err := o.check()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("firmware: reading model: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes, over the limit (LoadOptions.MaxBytes)", ErrTooLarge, limit)
	}
	return Decode(data, o)
}

// tooLarge is ErrTooLarge for a file of size bytes over limit.
func tooLarge(size, limit int64) error {
	return fmt.Errorf("%w: %d bytes, over the %d-byte limit (LoadOptions.MaxBytes)", ErrTooLarge, size, limit)
}

// Decode is Load for a file already in memory. In order, it checks the
// file's size, its MessagePack structure (no length the bytes cannot hold,
// so memory stays bounded), the envelope, the format, the digest, the
// signature against o.Trusted, the payload's structure and fields, the
// features it requires, the model's consistency, and that the model
// scores its own scaler's statistics to finite numbers; then it builds
// the autoencoder. Errors name what failed; see the Err variables and
// CheckError for those a caller may want to tell apart. Decode keeps no
// reference to data.
func Decode(data []byte, o LoadOptions) (*Loaded, error) {
	l, _, err := decode(data, o)
	return l, err
}

// decode is Decode, also returning the parsed envelope (pointing into data).
func decode(data []byte, o LoadOptions) (*Loaded, *envelope, error) {
	limit, err := o.check()
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, tooLarge(int64(len(data)), limit)
	}
	e, err := parseEnvelope(data)
	if err != nil {
		return nil, nil, err
	}
	l := &Loaded{Format: int(e.format)}
	if err := e.verify(data, o, l); err != nil {
		return nil, nil, err
	}
	m, err := decodeModel(e.payload, e.format == FormatV2)
	if err != nil {
		return nil, nil, err
	}
	ae, err := m.autoencoder()
	if err != nil {
		return nil, nil, err
	}
	if err := checkScores(m, ae); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(e.payload)
	l.ID, l.Model, l.Autoencoder = hex.EncodeToString(sum[:6]), m, ae
	return l, e, nil
}

// decodeModel checks the structure of a payload, the features it
// requires and, if strict (format 2), that it holds only known fields in
// canonical form, and decodes it.
func decodeModel(p []byte, strict bool) (*Model, error) {
	w := walker{what: "model payload", limits: schemaLimits}
	if strict {
		w.known = knownModelPaths()
	}
	if err := w.check(p); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	if err := checkRequires(p); err != nil {
		return nil, err
	}
	if w.unknown != "" {
		return nil, fmt.Errorf("firmware: model field %q is unknown to this version, and format 2 refuses fields it cannot check: upgrade the agent, or re-pack the model without it", w.unknown)
	}
	m := new(Model)
	rest, err := m.UnmarshalMsg(p)
	if err != nil {
		return nil, fmt.Errorf("firmware: model payload: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("firmware: %d stray bytes after the model payload", len(rest))
	}
	if !strict {
		return m, nil
	}
	canon, err := m.MarshalMsg(make([]byte, 0, len(p)))
	if err != nil {
		return nil, fmt.Errorf("firmware: model payload: %w", err)
	}
	if !bytes.Equal(canon, p) {
		return nil, fmt.Errorf("firmware: model payload differs from its canonical encoding at byte %d (a repeated field, or a value encoded otherwise than Pack writes it): re-pack the model", firstDifference(canon, p))
	}
	return m, checkDeclared(m)
}

// firstDifference returns the index of the first byte where a and b
// differ, or the shorter length.
func firstDifference(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// Pack encodes m as an unsigned format 2 model file, with m's Requires
// completed from FeaturesUsed (m itself is not changed), and decodes the
// result (Decode with AllowUnsigned and default limits) before returning
// it, so a file Pack returns always loads.
func Pack(m *Model) ([]byte, error) {
	payload, err := canonicalPayload(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	data := appendEnvelope(nil, FormatV2, payload, sum[:], "", nil)
	if _, err := Decode(data, LoadOptions{AllowUnsigned: true}); err != nil {
		return nil, err
	}
	return data, nil
}

// canonicalPayload encodes a copy of m whose Requires lists m's own and
// the features it uses.
func canonicalPayload(m *Model) ([]byte, error) {
	c := *m
	c.Requires = union(m.Requires, m.FeaturesUsed())
	payload, err := c.MarshalMsg(nil)
	if err != nil {
		return nil, fmt.Errorf("firmware: encoding model: %w", err)
	}
	return payload, nil
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

// autoencoder validates m and builds its infer model, members included.
func (m *Model) autoencoder() (*infer.Autoencoder, error) {
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
	if t := float64(m.Threshold.Value); math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
		return nil, fmt.Errorf("firmware: threshold %v, want a positive finite number", t)
	}
	if err := m.Decision.Validate(); err != nil {
		return nil, err
	}
	own := m.own()
	cfg, err := own.config(m.Channels)
	if err != nil {
		return nil, err
	}
	switch {
	case len(m.Members) > infer.MaxMembers:
		return nil, fmt.Errorf("firmware: %d members, at most %d", len(m.Members), infer.MaxMembers)
	case len(m.Members) == 0 && m.Norm != 0:
		return nil, fmt.Errorf("firmware: norm %v in a model without members (only a multi-scale model has one)", m.Norm)
	case len(m.Members) > 0 && !(isFinite(m.Norm) && m.Norm > 0):
		return nil, fmt.Errorf("firmware: norm %v, want the model's own threshold, a positive finite number, in a multi-scale model", m.Norm)
	}
	cfg.Norm = m.Norm
	for i := range m.Members {
		mb := &m.Members[i]
		mc, err := mb.config(m.Channels)
		if t := mb.Threshold.Value; err == nil && !(isFinite(t) && t > 0) {
			err = fmt.Errorf("firmware: threshold %v, want a positive finite number", t)
		}
		if err != nil {
			return nil, fmt.Errorf("firmware: member %d: %s", i, strings.TrimPrefix(err.Error(), "firmware: "))
		}
		cfg.Members = append(cfg.Members, infer.Member{Config: mc, Norm: mb.Threshold.Value})
	}
	ae, err := infer.NewAutoencoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	return ae, nil
}

// own returns the network of m itself as a Member; its slices are m's.
func (m *Model) own() *Member {
	return &Member{Kind: m.Kind, Scaler: m.Scaler, Features: m.Features, Layers: m.Layers, Decoder: m.Decoder,
		KLWeight: m.KLWeight, Error: m.Error, Threshold: m.Threshold}
}

// parts returns the model's own network and its members'.
func (m *Model) parts() []*Member {
	ps := []*Member{m.own()}
	for i := range m.Members {
		ps = append(ps, &m.Members[i])
	}
	return ps
}

// config validates the network p over channels and returns its infer
// configuration (without members).
func (p *Member) config(channels []Channel) (infer.Config, error) {
	if p.Kind != KindAutoencoder && p.Kind != KindVAE {
		return infer.Config{}, fmt.Errorf("firmware: model kind %q, want %q or %q", truncate(p.Kind), KindAutoencoder, KindVAE)
	}
	switch p.Scaler.Kind {
	case ScalerStandard, ScalerMinMax, ScalerRobust:
	default:
		return infer.Config{}, fmt.Errorf("firmware: scaler kind %q, want standard, minmax or robust", truncate(p.Scaler.Kind))
	}
	if err := checkScaler(&p.Scaler, channels); err != nil {
		return infer.Config{}, err
	}
	cfg := infer.Config{Scaler: infer.Scaler{Center: p.Scaler.Center, Scale: p.Scaler.Scale}, KLWeight: p.KLWeight}
	var err error
	if cfg.Features, err = p.Features.spec(); err != nil {
		return cfg, err
	}
	if p.Error != "" {
		if cfg.Error, err = infer.ParseErrorKind(p.Error); err != nil {
			return cfg, fmt.Errorf("firmware: %w", err)
		}
	}
	if cfg.Layers, err = inferLayers("layer", p.Layers); err != nil {
		return cfg, err
	}
	if (p.Kind == KindVAE) != (len(p.Decoder) > 0) {
		return cfg, fmt.Errorf("firmware: a %q model has %d decoder layers; only \"vae\" models have a decoder, and they need one", p.Kind, len(p.Decoder))
	}
	if cfg.Decoder, err = inferLayers("decoder layer", p.Decoder); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// checkScaler checks that sc has a finite centre and a finite, non-zero
// scale with a finite reciprocal for each of channels; errors name the
// channel.
func checkScaler(sc *Scaler, channels []Channel) error {
	if len(sc.Center) != len(channels) || len(sc.Scale) != len(channels) {
		return fmt.Errorf("firmware: scaler has %d centres and %d scales, the model lists %d channels", len(sc.Center), len(sc.Scale), len(channels))
	}
	for i, c := range channels {
		center, scale := sc.Center[i], sc.Scale[i]
		switch {
		case !isFinite(center):
			return fmt.Errorf("firmware: scaler channel %d (%q): centre %v, want a finite number", i, truncate(c.Name), center)
		case !isFinite(scale) || scale == 0:
			return fmt.Errorf("firmware: scaler channel %d (%q): scale %v, want a finite non-zero number", i, truncate(c.Name), scale)
		case !isFinite(1 / scale):
			return fmt.Errorf("firmware: scaler channel %d (%q): scale %v has no finite reciprocal (1/scale overflows float32)", i, truncate(c.Name), scale)
		case !isFinite(center+scale) || !isFinite(center-scale):
			return fmt.Errorf("firmware: scaler channel %d (%q): centre %v ± scale %v overflows float32", i, truncate(c.Name), center, scale)
		}
	}
	return nil
}

func isFinite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// checkScores scores, with ae, a full feature window of samples equal to
// m's scaler centre, then of centre + scale and of centre − scale (the
// scaler's own statistics, in raw units), and refuses the model if any
// score is NaN or infinite: its weights or scaler overflow on the data it
// was calibrated on. It leaves ae reset.
func checkScores(m *Model, ae *infer.Autoencoder) error {
	defer ae.Reset()
	x := make([]float32, len(m.Channels))
	for _, k := range []float32{0, 1, -1} {
		for i := range x {
			x[i] = m.Scaler.Center[i] + k*m.Scaler.Scale[i]
		}
		ae.Reset()
		s, err := windowScore(ae, x, warmUp(m))
		if err != nil {
			return fmt.Errorf("firmware: scoring the model on %s: %w", statName(k), err)
		}
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("firmware: model gives a non-finite score (%v) on %s: weights or scaler overflow", s, statName(k))
		}
	}
	return nil
}

// statName names the sample checkScores scores for a factor k of the scale.
func statName(k float32) string {
	switch {
	case k > 0:
		return "its own scaler centre + 1 scale"
	case k < 0:
		return "its own scaler centre − 1 scale"
	}
	return "its own scaler centre"
}

// warmUp is how many samples are enough for m's first score: the
// longest window and stride of its networks.
func warmUp(m *Model) int {
	n := 0
	for _, p := range m.parts() {
		n = max(n, int(max(p.Features.Window, 1)+max(p.Features.Stride, 1)))
	}
	return n
}

// windowScore pushes x into ae until a score is due, at most n times.
func windowScore(ae *infer.Autoencoder, x []float32, n int) (float32, error) {
	for range n {
		s, ready, err := ae.Push(x, nil)
		if err != nil {
			return s, err
		}
		if ready {
			return s, nil
		}
	}
	return 0, fmt.Errorf("no score after %d samples", n)
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
		if len(l.WeightsF16) > 0 {
			return nil, errors.New("float16 weights are for dense layers only")
		}
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
	if len(l.WeightsF16) > 0 {
		switch {
		case len(l.Weights) != 0 || len(l.WeightsQ8) != 0:
			return nil, errors.New("has float16 weights and float32 or int8 ones")
		case len(l.Scales) != 0:
			return nil, errors.New("has float16 weights and int8 scales")
		case len(l.WeightsF16)%2 != 0:
			return nil, fmt.Errorf("float16 weights of %d bytes, want two per weight", len(l.WeightsF16))
		}
		return &infer.DenseF16{In: in, Out: out, H: bytesHalf(l.WeightsF16), B: l.Bias, Act: act}, nil
	}
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
		case *infer.DenseF16:
			out[i] = Layer{Kind: LayerDense, In: uint32(d.In), Out: uint32(d.Out), Activation: d.Act.String(), WeightsF16: halfBytes(d.H), Bias: d.B}
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
// and members included) with int8 weights and a float32 scale per output
// channel (infer.QuantizeLayer). Layers already in int8 are left as they
// are. It fails only if a layer is invalid.
func (m *Model) QuantizeInt8() error { return m.convert(infer.QuantizeLayer) }

// HalfF16 replaces the float32 weights of every dense layer of m (decoder
// and members included) with IEEE binary16 weights (infer.HalfLayer):
// half the bytes, with about three significant digits. Convolutions and
// int8 layers are left as they are. It fails only if a layer is invalid.
func (m *Model) HalfF16() error { return m.convert(infer.HalfLayer) }

// convert replaces every layer of m, members' included, by to(layer).
func (m *Model) convert(to func(infer.Layer) infer.Layer) error {
	for pi, p := range m.parts() {
		for k, ls := range [][]Layer{p.Layers, p.Decoder} {
			what := [2]string{"layer", "decoder layer"}[k]
			if pi > 0 {
				what = fmt.Sprintf("member %d: %s", pi-1, what)
			}
			for i := range ls {
				l, err := ls[i].layer()
				if err == nil {
					err = l.Validate()
				}
				if err != nil {
					return fmt.Errorf("firmware: %s %d: %w", what, i, err)
				}
				q, err := FromLayers([]infer.Layer{to(l)})
				if err != nil {
					return err
				}
				ls[i] = q[0]
			}
		}
	}
	return nil
}

// Int8 reports whether any layer of m (members included) holds int8
// weights.
func (m *Model) Int8() bool { return m.anyLayer(func(l *Layer) bool { return len(l.WeightsQ8) > 0 }) }

// F16 reports whether any layer of m (members included) holds float16
// weights.
func (m *Model) F16() bool { return m.anyLayer(func(l *Layer) bool { return len(l.WeightsF16) > 0 }) }

// anyLayer reports whether f holds for a layer of m, members' included.
func (m *Model) anyLayer(f func(*Layer) bool) bool {
	for _, p := range m.parts() {
		for _, ls := range [][]Layer{p.Layers, p.Decoder} {
			for i := range ls {
				if f(&ls[i]) {
					return true
				}
			}
		}
	}
	return false
}

// Clone returns a copy of m whose layer lists (members' included) are
// its own, so converting its weights leaves m as it was. The weights
// themselves are shared.
func (m *Model) Clone() *Model {
	c := *m
	c.Layers, c.Decoder = slices.Clone(m.Layers), slices.Clone(m.Decoder)
	c.Members = slices.Clone(m.Members)
	for i := range c.Members {
		c.Members[i].Layers, c.Members[i].Decoder = slices.Clone(c.Members[i].Layers), slices.Clone(c.Members[i].Decoder)
	}
	return &c
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

// bytesHalf and halfBytes convert float16 weights to and from the bytes
// the file stores them as (little-endian, two bytes each).
func bytesHalf(b []byte) []uint16 {
	h := make([]uint16, len(b)/2)
	for i := range h {
		h[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return h
}

func halfBytes(h []uint16) []byte {
	if len(h) == 0 {
		return nil
	}
	b := make([]byte, 2*len(h))
	for i, v := range h {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
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
