package firmware

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
)

// testModel is a small valid 3-channel autoencoder.
func testModel() *Model {
	return &Model{
		Name: "test", Version: 3, Created: 1700000000, Kind: KindAutoencoder,
		Channels: []Channel{{"a", "bar"}, {"b", "A"}, {"c", "g"}},
		Scaler:   Scaler{Kind: "standard", Center: []float32{1, 2, 3}, Scale: []float32{1, 2, 0.5}},
		Layers: FromDense([]infer.Dense{
			{In: 3, Out: 2, W: []float32{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, B: []float32{0.01, -0.02}, Act: infer.Tanh},
			{In: 2, Out: 3, W: []float32{1, 0, 0, 1, 1, 1}, B: []float32{0, 0.1, 0}, Act: infer.Linear},
		}),
		Threshold: Threshold{Value: 0.75, Method: "mean+ksigma", K: 3, Mean: 0.3, Std: 0.15, N: 100},
		Training:  Training{DatasetDigest: "abc", Sources: []string{"x.csv"}, Rows: 100, Epochs: 10, BestEpoch: 7, Tool: "vigil test"},
	}
}

// score pushes one sample through a per-sample model.
func score(ae *infer.Autoencoder, x, per []float32) (float32, error) {
	s, _, err := ae.Push(x, per)
	return s, err
}

// v2File wraps payload in an unsigned format 2 envelope with its digest.
func v2File(payload []byte) []byte {
	sum := sha256.Sum256(payload)
	return appendEnvelope(nil, FormatV2, payload, sum[:], "", nil)
}

// v1File wraps payload in a format 1 envelope as the first version wrote
// it: magic, format, payload, key id and signature, no digest.
func v1File(payload []byte) []byte {
	b := msgp.AppendMapHeader(nil, 5)
	b = msgp.AppendUint16(msgp.AppendString(msgp.AppendString(msgp.AppendString(b, "magic"), Magic), "format"), FormatV1)
	b = msgp.AppendBytes(msgp.AppendString(b, "payload"), payload)
	b = msgp.AppendString(msgp.AppendString(b, "key_id"), "")
	return msgp.AppendBytes(msgp.AppendString(b, "sig"), nil)
}

// payloadOf encodes m as Pack does (Requires completed) without
// checking it.
func payloadOf(t testing.TB, m *Model) []byte {
	t.Helper()
	p, err := canonicalPayload(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	m := testModel()
	data, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(data, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ID) != 12 || l.Model.Name != "test" || l.Model.Threshold.Value != 0.75 || strings.Join(l.Model.ChannelNames(), ",") != "a,b,c" {
		t.Errorf("decoded id %q model %+v", l.ID, l.Model)
	}
	if l.Format != FormatV2 || l.KeyID != "" || l.Signer != "" || len(l.Warnings) != 0 || len(l.Model.Requires) != 0 {
		t.Errorf("decoded format %d key %q signer %q warnings %q requires %q: want format 2, unsigned, no warnings or requirements",
			l.Format, l.KeyID, l.Signer, l.Warnings, l.Model.Requires)
	}
	// The decoded model scores exactly like one built from the same layers.
	want, _ := infer.NewAutoencoder(infer.Config{Scaler: infer.Scaler{Center: m.Scaler.Center, Scale: m.Scaler.Scale},
		Layers: infer.DenseLayers([]infer.Dense{{In: 3, Out: 2, W: m.Layers[0].Weights, B: m.Layers[0].Bias, Act: infer.Tanh},
			{In: 2, Out: 3, W: m.Layers[1].Weights, B: m.Layers[1].Bias, Act: infer.Linear}})})
	x := []float32{1.5, 2.5, 3.5}
	a, _ := score(l.Autoencoder, x, nil)
	b, _ := score(want, x, nil)
	if a != b {
		t.Errorf("decoded model scores %v, want %v", a, b)
	}
	// Same payload, same id; any change, another id.
	again, _ := Pack(testModel())
	l2, _ := Decode(again, LoadOptions{AllowUnsigned: true})
	m.Version++
	other, _ := Pack(m)
	l3, _ := Decode(other, LoadOptions{AllowUnsigned: true})
	if l2.ID != l.ID || l3.ID == l.ID {
		t.Errorf("ids %s %s %s: want first two equal, third different", l.ID, l2.ID, l3.ID)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Pack(testModel())
	envelope := func(mod func(*Envelope)) []byte {
		var e Envelope
		if _, err := e.UnmarshalMsg(good); err != nil {
			t.Fatal(err)
		}
		mod(&e)
		b, _ := e.MarshalMsg(nil)
		return b
	}
	model := func(mod func(*Model)) []byte {
		m := testModel()
		mod(m)
		return v2File(payloadOf(t, m))
	}
	tests := []struct {
		name, data string
		want       string // in the error
	}{
		{"empty", "", "envelope"},
		{"garbage", "\x00\x01\x02hello", "envelope"},
		{"not a map", "\x93\x01\x02\x03", "envelope"},
		{"trailing", string(good) + "x", "stray bytes"},
		{"magic", string(envelope(func(e *Envelope) { e.Magic = "zip" })), "not a vigil model"},
		{"format", string(envelope(func(e *Envelope) { e.Format = 3 })), "model format 3; this version reads formats 1 and 2"},
		{"digest short", string(envelope(func(e *Envelope) { e.Digest = e.Digest[:31] })), `envelope field "digest": 31 bytes, want 32`},
		{"digest wrong", string(envelope(func(e *Envelope) { e.Digest[0] ^= 1 })), "payload digest mismatch: file damaged"},
		{"key id", string(envelope(func(e *Envelope) { e.KeyID = "k1"; e.Signature = make([]byte, 64) })), `envelope field "key_id": "k1", want 16 lowercase hex digits`},
		{"key id upper", string(envelope(func(e *Envelope) { e.KeyID = "ABCDEF0123456789"; e.Signature = make([]byte, 64) })), `"key_id"`},
		{"signature size", string(envelope(func(e *Envelope) { e.KeyID = "0123456789abcdef"; e.Signature = make([]byte, 63) })), `envelope field "sig": 63 bytes, want 64`},
		{"signature without key", string(envelope(func(e *Envelope) { e.Signature = make([]byte, 64) })), `"key_id": ""`},
		{"payload garbage", string(v2File([]byte{0xc1})), "model payload"},
		{"chain", string(model(func(m *Model) { m.Layers[1].In = 4 })), "layer 1"},
		{"channels", string(model(func(m *Model) { m.Channels = m.Channels[:2] })), "channels"},
		{"dup channel", string(model(func(m *Model) { m.Channels[1].Name = "a" })), "repeated"},
		{"kind", string(model(func(m *Model) { m.Kind = "cnn" })), "kind"},
		{"vae without decoder", string(model(func(m *Model) { m.Kind = KindVAE })), "decoder"},
		{"scaler size", string(model(func(m *Model) { m.Scaler.Center = m.Scaler.Center[:2] })), "scaler"},
		{"stat", string(model(func(m *Model) { m.Features = Features{Window: 2, Stats: []string{"median"}} })), "median"},
		{"window", string(model(func(m *Model) { m.Features = Features{Window: 1 << 20} })), "window"},
		{"error kind", string(model(func(m *Model) { m.Error = "cubed" })), "cubed"},
		{"activation", string(model(func(m *Model) { m.Layers[0].Activation = "swish" })), "layer 0"},
		{"nan weight", string(model(func(m *Model) { m.Layers[0].Weights[2] = float32(math.NaN()) })), "weight 2"},
		{"threshold", string(model(func(m *Model) { m.Threshold.Value = 0 })), "threshold"},
		{"decision", string(model(func(m *Model) { m.Decision = Decision{K: 5, N: 3} })), "decision 5 of 3"},
		{"decision n only", string(model(func(m *Model) { m.Decision = Decision{N: 3} })), "decision 0 of 3"},
		{"decision exit", string(model(func(m *Model) { m.Decision = Decision{K: 2, N: 3, Enter: 1.1, Exit: 1.2} })), "exit 1.2 > enter 1.1"},
		{"decision enter", string(model(func(m *Model) { m.Decision = Decision{Enter: math.NaN()} })), "enter NaN"},
		{"decision min duration", string(model(func(m *Model) { m.Decision = Decision{K: 1, N: 1, MinDuration: -1e9} })), "min duration -1s"},
		{"decision cooldown", string(model(func(m *Model) { m.Decision = Decision{Cooldown: -1} })), "cooldown -1ns"},
		{"decision gap", string(model(func(m *Model) { m.Decision = Decision{Gap: -5e9} })), "gap -5s"},
		{"scaler", string(model(func(m *Model) { m.Scaler.Scale[1] = 0 })), `scaler channel 1 ("b"): scale 0, want a finite non-zero number`},
		{"scaler nan", string(model(func(m *Model) { m.Scaler.Center[2] = float32(math.NaN()) })), `scaler channel 2 ("c"): centre NaN`},
		{"scaler scales", string(model(func(m *Model) { m.Scaler.Scale = m.Scaler.Scale[:1] })), "1 scales"},
	}
	for _, tc := range tests {
		_, err := Decode([]byte(tc.data), LoadOptions{AllowUnsigned: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Decode(good, LoadOptions{}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned file without AllowUnsigned: %v, want ErrUnsigned", err)
	}
	var ce *CheckError
	if _, err := Decode(envelope(func(e *Envelope) { e.Format = 3 }), LoadOptions{AllowUnsigned: true}); !errors.As(err, &ce) || ce.Check != CheckFormat {
		t.Errorf("format 3: %v, want a *CheckError of check %q", err, CheckFormat)
	}
}

func TestDecodeTruncated(t *testing.T) {
	good, _ := Pack(testModel())
	signed, err := Sign(good, testKey(t, "release"))
	if err != nil {
		t.Fatal(err)
	}
	old := v1File(payloadOf(t, testModel()))
	for _, file := range [][]byte{good, signed, old} {
		for n := 0; n < len(file); n++ {
			if _, err := Decode(file[:n], trustTest(t)); err == nil {
				t.Fatalf("Decode of the first %d of %d bytes succeeded", n, len(file))
			}
		}
	}
}

func TestInt8RoundTrip(t *testing.T) {
	m := testModel()
	f32, _ := Pack(m)
	lf, err := Decode(f32, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.QuantizeInt8(); err != nil {
		t.Fatal(err)
	}
	if !m.Int8() || len(m.Layers[0].Weights) != 0 || len(m.Layers[0].WeightsQ8) != 6 || len(m.Layers[0].Scales) != 2 {
		t.Fatalf("quantised layer 0: %+v", m.Layers[0])
	}
	q8, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	lq, err := Decode(q8, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lq.Autoencoder.Layers()[1].(*infer.DenseQ8); !ok {
		t.Errorf("decoded layer 1 is %T, want *infer.DenseQ8", lq.Autoencoder.Layers()[1])
	}
	x := []float32{1.5, 2.5, 3.5}
	a, _ := score(lf.Autoencoder, x, nil)
	b, _ := score(lq.Autoencoder, x, nil)
	if math.Abs(float64(a-b)) > 0.01*math.Abs(float64(a)) {
		t.Errorf("int8 model scores %v, float32 %v: more than 1%% apart", b, a)
	}
	// Quantising again changes nothing.
	if err := m.QuantizeInt8(); err != nil {
		t.Fatal(err)
	}
	if again, _ := Pack(m); !bytes.Equal(again, q8) {
		t.Error("a second QuantizeInt8 changed the model")
	}
}

func TestDecodeRejectsLayerData(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Model)
		want string
	}{
		{"both weights", func(m *Model) { m.Layers[0].WeightsQ8 = make([]byte, 6); m.Layers[0].Scales = []float32{1, 1} }, "both"},
		{"nan scale", func(m *Model) { m.QuantizeInt8(); m.Layers[1].Scales[2] = float32(math.Inf(1)) }, "scale 2"},
		{"q8 size", func(m *Model) { m.QuantizeInt8(); m.Layers[0].WeightsQ8 = m.Layers[0].WeightsQ8[:5] }, "layer 0"},
		{"nan bias", func(m *Model) { m.Layers[1].Bias[0] = float32(math.NaN()) }, "bias 0"},
		{"scaler kind", func(m *Model) { m.Scaler.Kind = "log" }, "scaler kind"},
		{"layer kind", func(m *Model) { m.Layers[0].Kind = "lstm" }, "lstm"},
		{"conv with both weights", func(m *Model) {
			m.Layers[0] = Layer{Kind: LayerConv1D, InChannels: 3, OutChannels: 1, Kernel: 1, Stride: 1, Length: 1, Activation: "relu",
				Weights: []float32{1, 1, 1}, WeightsQ8: []byte{1, 1, 1}, Scales: []float32{1}, Bias: []float32{0}}
		}, "both float32 and int8"},
		{"conv shape", func(m *Model) {
			m.Layers[0] = Layer{Kind: LayerConv1D, InChannels: 3, OutChannels: 2, Kernel: 0, Stride: 1, Length: 1, Activation: "relu", Bias: []float32{0, 0}}
		}, "layer 0"},
		{"huge conv", func(m *Model) { m.Layers[0] = Layer{Kind: LayerConvTranspose1D, Kernel: 1 << 30, Activation: "relu"} }, "2^20"},
	}
	for _, tc := range tests {
		m := testModel()
		tc.mod(m)
		_, err := Decode(v2File(payloadOf(t, m)), LoadOptions{AllowUnsigned: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	for _, kind := range []string{ScalerStandard, ScalerMinMax, ScalerRobust} {
		m := testModel()
		m.Scaler.Kind = kind
		if _, err := Pack(m); err != nil {
			t.Errorf("scaler kind %q: %v", kind, err)
		}
	}
}

// Convolutions quantise too, and the int8 model scores close to the
// float32 one.
func TestInt8Conv(t *testing.T) {
	m := goldenModel("conv")
	f32, _ := Pack(m)
	if err := m.QuantizeInt8(); err != nil {
		t.Fatal(err)
	}
	q8, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	lf, _ := Decode(f32, LoadOptions{AllowUnsigned: true})
	lq, err := Decode(q8, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := lq.Autoencoder.Layers()[0].(*infer.Conv1D); !ok || len(c.Q) == 0 || len(c.W) != 0 {
		t.Fatalf("decoded layer 0: %T %+v", lq.Autoencoder.Layers()[0], lq.Autoencoder.Layers()[0])
	}
	if len(q8) >= len(f32)/2 {
		t.Errorf("int8 file %d bytes, float32 %d: want less than half", len(q8), len(f32))
	}
	x := make([]float32, 8)
	for i := 0; i < 12; i++ {
		for c := range x {
			x[c] = m.Scaler.Center[c] + m.Scaler.Scale[c]*float32(i%3-1)
		}
		a, ra, _ := lf.Autoencoder.Push(x, nil)
		b, rb, _ := lq.Autoencoder.Push(x, nil)
		if ra != rb || math.Abs(float64(a-b)) > 0.02*math.Abs(float64(a)) {
			t.Errorf("sample %d: int8 %v (%v), float32 %v (%v)", i, b, rb, a, ra)
		}
	}
}

func TestQuantizeInt8Invalid(t *testing.T) {
	m := testModel()
	m.Decoder = []Layer{{Kind: LayerDense, In: 1, Out: 1, Activation: "linear", Weights: []float32{1, 2}, Bias: []float32{0}}}
	if err := m.QuantizeInt8(); err == nil || !strings.Contains(err.Error(), "decoder layer 0") {
		t.Errorf("QuantizeInt8 of an invalid decoder layer: %v, want an error naming it", err)
	}
}

// The decision's fields round-trip, and a decision written before its
// hysteresis, delays and gap existed (only k and n, as in the golden
// files) decodes with them zero.
func TestDecision(t *testing.T) {
	m := testModel()
	m.Decision = Decision{K: 3, N: 5, Enter: 1.2, Exit: 0.9, MinDuration: int64(2 * time.Second), Cooldown: int64(time.Minute), Gap: int64(5 * time.Second)}
	b, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	want := decide.Params{K: 3, N: 5, Enter: 1.2, Exit: 0.9, MinDuration: 2 * time.Second, Cooldown: time.Minute, Gap: 5 * time.Second}
	if got := l.Model.Decision.Params(); got != want {
		t.Errorf("Params() = %+v, want %+v", got, want)
	}

	old := msgp.AppendMapHeader(nil, 2)
	old = msgp.AppendUint32(msgp.AppendString(old, "k"), 6)
	old = msgp.AppendUint32(msgp.AppendString(old, "n"), 8)
	var d Decision
	if rest, err := d.UnmarshalMsg(old); err != nil || len(rest) != 0 {
		t.Fatalf("old decision: %v, %d bytes left", err, len(rest))
	}
	if d != (Decision{K: 6, N: 8}) || d.Validate() != nil {
		t.Errorf("old decision decoded as %+v (Validate: %v), want k 6 n 8 and the rest zero", d, d.Validate())
	}
	for _, name := range []string{"f32", "window"} {
		l, err := ReadFile("testdata/golden/"+name+".vgm", LoadOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatal(err)
		}
		if l.Model.Decision != (Decision{}) || l.Model.Decision.Params() != (decide.Params{}) {
			t.Errorf("golden %s: decision %+v, want none", name, l.Model.Decision)
		}
	}
}

// A model whose weights or scaler overflow on its own scaler's statistics
// is refused, saying so.
func TestDecodeRefusesOverflow(t *testing.T) {
	tests := []struct {
		name  string
		model string // testModel if empty, else a golden model
		mod   func(*Model)
		want  string
	}{
		{"weight 1e38", "", func(m *Model) { m.Layers[1].Weights[0] = 1e38 },
			"firmware: model gives a non-finite score (+Inf) on its own scaler centre: weights or scaler overflow"},
		{"weight 1e38 behind tanh", "", func(m *Model) { m.Layers[0].Weights[0] = 1e38; m.Layers[0].Activation = "linear" },
			"non-finite score (+Inf) on its own scaler centre + 1 scale"},
		{"bias 3e38", "", func(m *Model) { m.Layers[1].Bias[0] = 3e38 }, "non-finite score (+Inf)"},
		{"subnormal scale", "", func(m *Model) { m.Scaler.Scale[2] = 1e-40 },
			`scaler channel 2 ("c"): scale 1e-40 has no finite reciprocal`},
		{"centre + scale overflows", "", func(m *Model) { m.Scaler.Center[0], m.Scaler.Scale[0] = 3e38, 1e38 },
			`scaler channel 0 ("a"): centre 3e+38 ± scale 1e+38 overflows float32`},
		{"int8 scale 1e38", "int8", func(m *Model) { m.Layers[5].Scales[0] = 1e38 }, "non-finite score"},
		{"conv weight 1e38", "conv", func(m *Model) { m.Layers[1].Weights[3] = 1e38 }, "non-finite score"},
		{"vae log-variance overflows", "vae", func(m *Model) { m.Layers[1].Bias[5] = 200 }, "non-finite score (+Inf)"},
		{"window", "window", func(m *Model) { m.Layers[3].Bias[0] = 1e30 }, "non-finite score (+Inf)"},
	}
	for _, tc := range tests {
		m := testModel()
		if tc.model != "" {
			m = goldenModel(tc.model)
		}
		tc.mod(m)
		_, err := Pack(m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Pack error %v, want one containing %q", tc.name, err, tc.want)
		}
		if _, err := Decode(v1File(payloadOf(t, m)), LoadOptions{AllowUnsigned: true}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode of format 1 error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// The check leaves the autoencoder as new: the first scores of a loaded
// windowed model come from the caller's samples only.
func TestDecodeLeavesModelReset(t *testing.T) {
	b, _ := Pack(goldenModel("window"))
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 8)
	for i := range 5 {
		if _, ready, _ := l.Autoencoder.Push(x, nil); ready {
			t.Fatalf("a score after %d samples of a 6-sample window", i+1)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.vgm")
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer")} {
		if err := WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(data) {
			t.Fatalf("read back %q, %v; want %q", got, err, data)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v; want 0640", st.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "m.vgm"), []byte("x"), 0o600); err == nil {
		t.Error("a missing directory: no error")
	}
}
