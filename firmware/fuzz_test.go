package firmware

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeed is a file of the committed seed corpus of FuzzDecode and what
// Decode, with trustTest's options, must make of it.
type fuzzSeed struct {
	name string
	data []byte
	want string // in the error; "" if the file loads
}

// fuzzSeeds returns the seed corpus: valid files of both formats, signed
// and unsigned, of every architecture, and damaged or hostile ones.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	release, other := testKey(t, "release"), testKey(t, "other")
	sign := func(b []byte, k PrivateKey) []byte {
		s, err := Sign(b, k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pack := func(m *Model) []byte {
		b, err := Pack(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unsigned := pack(testModel())
	signed := sign(unsigned, release)
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x10
		return b
	}
	m := testModel()
	m.Requires = []string{"bf16-weights"}
	future, _ := m.MarshalMsg(nil)
	seeds := []fuzzSeed{
		{"v2-unsigned", unsigned, ""},
		{"v2-signed", signed, ""},
		{"v2-signed-other-key", sign(unsigned, other), ""}, // untrusted, but unsigned files are allowed
		{"v1", v1File(payloadOf(t, testModel())), ""},
		{"v2-signed-int8", sign(pack(goldenModel("int8")), release), ""},
		{"v2-window", pack(goldenModel("window")), ""},
		{"v2-signed-conv", sign(pack(goldenModel("conv")), release), ""},
		{"v2-vae", pack(goldenModel("vae")), ""},
		{"v2-payload-flipped", flip(unsigned, len(unsigned)/2), "digest mismatch"},
		{"v2-signature-flipped", flip(signed, len(signed)-3), "bad signature"},
		{"v2-truncated", signed[:len(signed)-40], "declares"},
		{"v2-requires-bf16", v2File(future), "bf16-weights"},
		{"v2-unknown-field", v2File(appendField(t, payloadOf(t, testModel()), "comment", []byte{0xc0})), `"comment"`},
	}
	for _, h := range hostileFiles(t) {
		name := strings.NewReplacer(" ", "-", "^", "-", ",", "").Replace(h.name)
		seeds = append(seeds, fuzzSeed{"hostile-" + name, h.data, h.want})
	}
	return seeds
}

// TestFuzzSeeds checks the committed seed corpus of FuzzDecode; with
// -update it writes it first.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, s := range fuzzSeeds(t) {
		path := filepath.Join(dir, s.name)
		if *update {
			os.MkdirAll(dir, 0o755)
			text := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s.data)))
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		data, err := readCorpusFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run TestFuzzSeeds -update ./firmware/ writes the corpus)", err)
		}
		_, err = Decode(data, trustTest(t))
		if s.want == "" && err != nil || s.want != "" && (err == nil || !strings.Contains(err.Error(), s.want)) {
			t.Errorf("seed %s: Decode error %v, want one containing %q", s.name, err, s.want)
		}
	}
}

// readCorpusFile reads a one-value []byte file of Go's fuzz corpus format.
func readCorpusFile(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lit, ok := strings.CutPrefix(string(text), "go test fuzz v1\n[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")\n")
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s: not a []byte fuzz corpus file", path)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []byte(s), nil
}

// FuzzDecode: no input makes Decode panic or allocate without bound
// (the fuzzer's memory limit); whatever it accepts scores without
// panicking, decodes again to the same model, fits its own channels, and
// can be signed.
func FuzzDecode(f *testing.F) {
	good, _ := Pack(testModel())
	f.Add(good)
	f.Add([]byte{0x86})
	key := testKey(f, "release")
	o := trustTest(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Decode(data, o)
		if err != nil {
			return
		}
		x := make([]float32, l.Autoencoder.Channels())
		copy(x, l.Model.Scaler.Center)
		l.Autoencoder.Push(x, nil)
		again, err := Decode(data, o)
		if err != nil || again.ID != l.ID || again.Signer != l.Signer {
			t.Fatalf("decoded again: %v (id %s, was %s)", err, again.ID, l.ID)
		}
		if err := l.Compatible(Compat{Channels: l.Model.ChannelNames(), Installed: &Model{Version: l.Model.Version - 1}, AllowRollback: l.Model.Version == 0}); err != nil {
			t.Fatalf("model does not fit its own channels: %v", err)
		}
		if _, err := Sign(data, key); err != nil {
			t.Fatalf("an accepted file cannot be signed: %v", err)
		}
	})
}
