package firmware

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
	"github.com/vigil-edge/vigil/infer"
)

func TestSizeLimits(t *testing.T) {
	good, _ := Pack(testModel())
	path := filepath.Join(t.TempDir(), "m.vgm")
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	small := LoadOptions{AllowUnsigned: true, MaxBytes: int64(len(good) - 1)}
	if _, err := Decode(good, small); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Decode over MaxBytes: %v, want ErrTooLarge", err)
	}
	if _, err := Load(bytes.NewReader(good), small); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Load over MaxBytes: %v, want ErrTooLarge", err)
	}
	if _, err := ReadFile(path, small); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile over MaxBytes: %v, want ErrTooLarge naming the path", err)
	}
	exact := LoadOptions{AllowUnsigned: true, MaxBytes: int64(len(good))}
	if _, err := ReadFile(path, exact); err != nil {
		t.Errorf("ReadFile of exactly MaxBytes: %v", err)
	}
	big := bytes.Repeat([]byte{0}, DefaultMaxBytes+1)
	if _, err := Load(bytes.NewReader(big), LoadOptions{AllowUnsigned: true}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("file over DefaultMaxBytes: %v, want ErrTooLarge", err)
	}
	for _, n := range []int64{-1, HardMaxBytes + 1} {
		if _, err := Decode(good, LoadOptions{AllowUnsigned: true, MaxBytes: n}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
			t.Errorf("MaxBytes %d: %v, want an error naming MaxBytes", n, err)
		}
	}
	bad := LoadOptions{Trusted: []PublicKey{{Name: "short", Key: make([]byte, 31)}}}
	if _, err := Decode(good, bad); err == nil || !strings.Contains(err.Error(), `LoadOptions.Trusted[0] ("short"): a 31-byte key`) {
		t.Errorf("a 31-byte trusted key: %v", err)
	}
	if _, err := ReadFile("testdata/does-not-exist.vgm", LoadOptions{AllowUnsigned: true}); err == nil {
		t.Error("ReadFile of a missing file succeeded")
	}
}

// obj builds a MessagePack map from key, value pairs (values already
// encoded).
func obj(kv ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for i := 0; i < len(kv); i += 2 {
		b = append(msgp.AppendString(b, kv[i].(string)), kv[i+1].([]byte)...)
	}
	return b
}

// hostileFiles are tiny files declaring huge lengths, with the text
// their refusal must contain.
func hostileFiles(t testing.TB) []struct {
	name string
	data []byte
	want string
} {
	bs := func(b ...byte) []byte { return b }
	layer := func(kv ...any) []byte { return append([]byte{0x91}, obj(kv...)...) } // [ {kv} ]
	deep := append(bytes.Repeat([]byte{0x91}, 10000), 0x00)
	channels := append(bs(0xdc, 0x01, 0x01), bytes.Repeat([]byte{0x80}, 257)...)
	return []struct {
		name string
		data []byte
		want string
	}{
		{"float array of 2^32-1", v2File(obj("scaler", obj("center", bs(0xdd, 0xff, 0xff, 0xff, 0xff, 0xca)))), "declares 4294967295 elements"},
		{"weights of 2^26", v2File(obj("layers", layer("w", bs(0xdd, 0x04, 0x00, 0x00, 0x00, 0xca)))), "declares 67108864 elements"},
		{"layers of 2^16-1", v2File(obj("layers", bs(0xdc, 0xff, 0xff, 0x80))), "declares 65535 elements"},
		{"map of 2^32-1", v2File(obj("scaler", bs(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'x'))), "declares 4294967295 entries"},
		{"string of 2^32-1", v2File(obj("name", bs(0xdb, 0xff, 0xff, 0xff, 0xff, 'x'))), "declares 4294967295 bytes"},
		{"int8 weights of 2^32-1", v2File(obj("layers", layer("wq", bs(0xc6, 0xff, 0xff, 0xff, 0xff, 1)))), "declares 4294967295 bytes"},
		{"extension of 2^32-1", v2File(obj("name", bs(0xc9, 0xff, 0xff, 0xff, 0xff, 1, 2))), "declares 4294967295 bytes"},
		{"payload of 16 MiB", append(appendEnvelopeHead(nil, FormatV2, DefaultMaxBytes), 0, 0, 0), "declares 16777216 bytes"},
		{"envelope map of 2^32-1", bs(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'x'), "declares 4294967295 entries"},
		{"nested 10000 deep", v1File(obj("future", deep)), "nested deeper than 16 levels"},
		{"channels over the limit", v2File(obj("channels", channels)), `model field "channels": 257 entries, at most 256`},
	}
}

func TestHostileLengths(t *testing.T) {
	for _, tc := range hostileFiles(t) {
		_, err := Decode(tc.data, LoadOptions{AllowUnsigned: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode error %v, want one containing %q", tc.name, err, tc.want)
		}
		if n := allocBytes(func() { Decode(tc.data, LoadOptions{AllowUnsigned: true}) }); n > 1<<20 {
			t.Errorf("%s: refusing a %d-byte file allocated %d bytes, want under 1 MiB", tc.name, len(tc.data), n)
		}
	}
}

// allocBytes returns how many bytes f allocates, on average over 5 runs.
func allocBytes(f func()) uint64 {
	var before, after runtime.MemStats
	f() // warm up: one-time initialisations
	runtime.ReadMemStats(&before)
	for range 5 {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / 5
}

// peakHeap returns the heap growth f causes with the garbage collector
// off (so nothing it allocates is freed): an upper bound on its peak.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc
}

// TestHostilePeakHeap reports the peak heap of refusing each hostile
// file, and what msgp alone allocates for the worst of them.
func TestHostilePeakHeap(t *testing.T) {
	var worst uint64
	for _, tc := range hostileFiles(t) {
		n := peakHeap(func() { Decode(tc.data, LoadOptions{AllowUnsigned: true}) })
		t.Logf("%-24s %4d-byte file: refused, peak heap growth %d bytes", tc.name, len(tc.data), n)
		worst = max(worst, n)
	}
	t.Logf("largest peak heap growth refusing a hostile file: %d bytes", worst)
	if worst > 1<<20 {
		t.Errorf("refusing a hostile file took up to %d bytes of heap, want under 1 MiB", worst)
	}
	// Without the walk, msgp allocates the declared weights (here 2^24
	// float32: 64 MiB) before it finds they are missing.
	hostile := obj("layers", append([]byte{0x91}, obj("w", []byte{0xdd, 0x01, 0x00, 0x00, 0x00, 0xca})...))
	n := peakHeap(func() { new(Model).UnmarshalMsg(hostile) })
	t.Logf("msgp alone on a %d-byte payload declaring 2^24 weights: peak heap growth %d bytes", len(hostile), n)
	if _, err := Decode(v2File(hostile), LoadOptions{AllowUnsigned: true}); err == nil || !strings.Contains(err.Error(), "declares 16777216 elements") {
		t.Errorf("Decode of that payload: %v", err)
	}
}

// The walk's named limits equal the schema's msgp limits: an array at its
// limit passes both, one more is refused by both, and the walk names it.
func TestSchemaLimitsAgree(t *testing.T) {
	set := func(m *Model, path string, n int) {
		strs := make([]string, n)
		switch path {
		case "requires":
			m.Requires = strs
		case "channels":
			m.Channels = make([]Channel, n)
		case "scaler.center":
			m.Scaler.Center = make([]float32, n)
		case "scaler.scale":
			m.Scaler.Scale = make([]float32, n)
		case "features.stats":
			m.Features.Stats = strs
		case "layers":
			m.Layers = make([]Layer, n)
		case "decoder":
			m.Decoder = make([]Layer, n)
		case "training.sources":
			m.Training.Sources = strs
		case "training.widened":
			m.Training.Widened = strs
		case "members":
			m.Members = make([]Member, n)
		case "members[].scaler.center":
			m.Members = []Member{{Scaler: Scaler{Center: make([]float32, n)}}}
		case "members[].scaler.scale":
			m.Members = []Member{{Scaler: Scaler{Scale: make([]float32, n)}}}
		case "members[].features.stats":
			m.Members = []Member{{Features: Features{Stats: strs}}}
		case "members[].layers":
			m.Members = []Member{{Layers: make([]Layer, n)}}
		case "members[].decoder":
			m.Members = []Member{{Decoder: make([]Layer, n)}}
		default:
			t.Fatalf("no test for the limit of %q", path)
		}
	}
	for path, limit := range schemaLimits {
		for _, n := range []int{int(limit), int(limit) + 1} {
			var m Model
			set(&m, path, n)
			p, _ := m.MarshalMsg(nil)
			w := walker{what: "model payload", limits: schemaLimits}
			werr := w.check(p)
			_, merr := new(Model).UnmarshalMsg(p)
			if n == int(limit) && (werr != nil || merr != nil) {
				t.Errorf("%s: %d entries (the limit): walk %v, msgp %v, want both to accept", path, n, werr, merr)
			}
			if n > int(limit) && (werr == nil || !strings.Contains(werr.Error(), `"`+path+`"`) || !errors.Is(merr, msgp.ErrLimitExceeded)) {
				t.Errorf("%s: %d entries: walk %v, msgp %v, want both to refuse and the walk to name the field", path, n, werr, merr)
			}
		}
	}
}

// wideModel returns a valid per-window model of about n bytes: a raw
// window of one channel through one dense layer of w×w weights.
func wideModel(n int, int8w bool) *Model {
	per := 5 // bytes per float32 weight in the file
	if int8w {
		per = 1
	}
	w := 1
	for (w+1)*(w+1)*per < n {
		w++
	}
	d := infer.Dense{In: w, Out: w, W: make([]float32, w*w), B: make([]float32, w), Act: infer.Linear}
	for i := range w {
		d.W[i*w+i] = 0.5 // each feature reconstructed as half itself
	}
	m := &Model{Name: "wide", Version: 1, Kind: KindAutoencoder, Channels: []Channel{{Name: "x", Unit: "bar"}},
		Scaler:    Scaler{Kind: ScalerStandard, Center: []float32{1}, Scale: []float32{2}},
		Features:  Features{Window: uint32(w), Stride: 1, Raw: true},
		Layers:    FromDense([]infer.Dense{d}),
		Threshold: Threshold{Value: 1}}
	if int8w {
		if err := m.QuantizeInt8(); err != nil {
			panic(err)
		}
	}
	return m
}

// Models over msgp's old limits (1 MiB of payload or int8 weights, 2^20
// float32 weights), up to DefaultMaxBytes, pack and load; a larger one is
// refused by Pack with ErrTooLarge.
func TestLargeModels(t *testing.T) {
	type size struct {
		bytes int
		int8w bool
	}
	sizes := []size{{1<<20 + 1000, false}, {2 << 20, true}}
	if !testing.Short() {
		sizes = append(sizes, size{6 << 20, false}, size{DefaultMaxBytes - 64<<10, true})
	}
	for _, s := range sizes {
		m := wideModel(s.bytes, s.int8w)
		b, err := Pack(m)
		if err != nil {
			t.Fatalf("%d-byte model (int8 %v): %v", s.bytes, s.int8w, err)
		}
		l, err := Decode(b, LoadOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatalf("%d-byte file: %v", len(b), err)
		}
		if len(b) < s.bytes-s.bytes/50 || len(b) > DefaultMaxBytes {
			t.Errorf("file of %d bytes, want about %d", len(b), s.bytes)
		}
		t.Logf("%d-byte model file (int8 %v, window %d) packs and loads; id %s", len(b), s.int8w, m.Features.Window, l.ID)
	}
	if _, err := Pack(wideModel(DefaultMaxBytes+1000, true)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Pack of a model over DefaultMaxBytes: %v, want ErrTooLarge", err)
	}
}
