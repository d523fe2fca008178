package firmware

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from this machine's results")

// golden holds a sequence of samples and what the model gives for each:
// whether a score was due, the score, and the channels' contributions.
type golden struct {
	Inputs [][]float32 `json:"inputs"`
	Ready  []bool      `json:"ready"`
	Scores []float32   `json:"scores"`
	// PerChannel are the per-channel squared errors of each input.
	PerChannel [][]float32 `json:"per_channel"`
}

// goldenTolerance is how far a score may be from the recorded one. The
// same model gives different last bits on different machines: Go fuses
// multiply-adds into FMA instructions on arm64 (one rounding instead of
// two) but not on amd64 or 32-bit arm, and the AVX2 kernels sum each dot
// product in another order (eight lanes, then a tree) than the portable
// loops (four running sums). Over a chain of dot products of length ≤ 32
// these differ by a few float32 ulps per layer — measured: at most 2e-7
// relative on arm64, 0 on armv6 — far inside a relative 1e-4 (plus 1e-6
// absolute for scores near zero), which still catches any real error.
func goldenTolerance(want float32) float64 { return 1e-4*math.Abs(float64(want)) + 1e-6 }

// randLayers makes dense layers sizes[0]→…→sizes[n] with the given
// activations and seeded random weights.
func randLayers(r *rand.Rand, sizes []int, acts []infer.Activation) []infer.Dense {
	var ds []infer.Dense
	for i, a := range acts {
		in, out := sizes[i], sizes[i+1]
		d := infer.Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out), Act: a}
		for j := range d.W {
			d.W[j] = float32(r.NormFloat64() / math.Sqrt(float64(in)))
		}
		for j := range d.B {
			d.B[j] = float32(0.1 * r.NormFloat64())
		}
		ds = append(ds, d)
	}
	return ds
}

// goldenModel returns one of the fixed random models: "f32" and "int8"
// (per sample, every activation), "window" (a 6-sample window, stride 2,
// raw values and every statistic), "conv" (a convolution and its
// transpose over a 12-sample window) and "vae" (latent 3, KL weight 0.5,
// absolute error).
func goldenModel(name string) *Model {
	r := rand.New(rand.NewPCG(2024, 4))
	m := &Model{Name: "golden-" + name, Version: 1, Created: 1700000000, Kind: KindAutoencoder,
		Scaler:    Scaler{Kind: ScalerStandard, Center: []float32{0.21, 0.27, 2.4, 0.11, 89.5, 28.5, 228.6, 125.2}, Scale: []float32{0.005, 0.004, 0.49, 0.25, 0.67, 0.73, 11, 1.6}},
		Threshold: Threshold{Value: 1, Method: "mean+ksigma", K: 3}}
	for i := range 8 {
		m.Channels = append(m.Channels, Channel{Name: string(rune('a' + i))})
	}
	all := []infer.Activation{infer.ReLU, infer.ELU, infer.Tanh, infer.LeakyReLU, infer.Sigmoid, infer.Linear}
	switch name {
	case "f32", "int8":
		m.Layers = FromDense(randLayers(r, []int{8, 32, 16, 4, 16, 32, 8}, all))
		if name == "int8" {
			if err := m.QuantizeInt8(); err != nil {
				panic(err)
			}
		}
	case "window":
		m.Features = Features{Window: 6, Stride: 2, Raw: true, Stats: []string{"mean", "std", "min", "max", "rms", "slope"}}
		m.Layers = FromDense(randLayers(r, []int{96, 24, 6, 24, 96}, []infer.Activation{infer.ELU, infer.Tanh, infer.ReLU, infer.Linear}))
	case "conv":
		m.Features = Features{Window: 12, Raw: true}
		w := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(r.NormFloat64() / 6)
			}
			return v
		}
		m.Layers, _ = FromLayers([]infer.Layer{
			&infer.Conv1D{InChannels: 8, OutChannels: 16, Kernel: 5, Stride: 2, Padding: 2, Length: 12, W: w(640), B: w(16), Act: infer.ELU},
			&infer.ConvTranspose1D{InChannels: 16, OutChannels: 8, Kernel: 5, Stride: 2, Padding: 2, OutputPadding: 1, Length: 6, W: w(640), B: w(8), Act: infer.Linear},
		})
	case "vae":
		m.Kind, m.KLWeight, m.Error = KindVAE, 0.5, "absolute"
		m.Layers = FromDense(randLayers(r, []int{8, 16, 6}, []infer.Activation{infer.ReLU, infer.Linear}))
		m.Decoder = FromDense(randLayers(r, []int{3, 16, 8}, []infer.Activation{infer.ReLU, infer.Sigmoid}))
	}
	return m
}

// TestGolden scores recorded inputs with recorded model files and checks
// the recorded scores, so every architecture (amd64 natively; arm64, armv7
// and armv6 under qemu via make test-arm) computes the same results. Each
// model is kept in three files: <name>.vgm in format 1, as the first
// version wrote it (never rewritten: it proves old files still load),
// v2/<name>.vgm in format 2, and v2/<name>.signed.vgm signed by the test
// key "release" (release.pub), which fixes what a signature covers.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	keyPath := filepath.Join(dir, "release.pub")
	if *update {
		writeKey(t, keyPath)
	}
	key, err := ReadPublicKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	o := LoadOptions{AllowUnsigned: true, Trusted: []PublicKey{key}}
	for _, name := range []string{"f32", "int8", "window", "conv", "vae"} {
		v2, signed := filepath.Join(dir, "v2", name+".vgm"), filepath.Join(dir, "v2", name+".signed.vgm")
		dataPath := filepath.Join(dir, name+".json")
		if *update {
			writeGolden(t, name, v2, signed, dataPath)
		}
		b, err := os.ReadFile(dataPath)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", dataPath, err)
		}
		if len(g.Inputs) == 0 || len(g.Inputs) != len(g.Scores) {
			t.Fatalf("%s: %d inputs, %d scores", dataPath, len(g.Inputs), len(g.Scores))
		}
		files := []struct {
			path           string
			format         int
			signer, warned string
		}{
			{filepath.Join(dir, name+".vgm"), FormatV1, "", "format 1 file: no checksum; re-pack it"},
			{v2, FormatV2, "", ""},
			{signed, FormatV2, "release", ""},
		}
		for _, f := range files {
			l, err := ReadFile(f.path, o)
			if err != nil {
				t.Fatal(err)
			}
			if l.Format != f.format || l.Signer != f.signer || strings.Join(l.Warnings, "; ") != f.warned {
				t.Errorf("%s: format %d, signer %q, warnings %q; want %d, %q, %q", f.path, l.Format, l.Signer, l.Warnings, f.format, f.signer, f.warned)
			}
			checkGolden(t, f.path, l, g)
		}
	}
}

// checkGolden scores g's inputs with l and compares with g's results.
func checkGolden(t *testing.T, name string, l *Loaded, g golden) {
	per := make([]float32, 8)
	var worst float64
	for i, x := range g.Inputs {
		s, ready, err := l.Autoencoder.Push(x, per)
		if err != nil {
			t.Fatalf("%s input %d: %v", name, i, err)
		}
		if ready != g.Ready[i] {
			t.Fatalf("%s input %d: ready %v, golden %v", name, i, ready, g.Ready[i])
		}
		if !ready {
			continue
		}
		worst = max(worst, math.Abs(float64(s-g.Scores[i]))/math.Abs(float64(g.Scores[i])))
		if math.Abs(float64(s-g.Scores[i])) > goldenTolerance(g.Scores[i]) {
			t.Errorf("%s input %d: score %v, golden %v", name, i, s, g.Scores[i])
		}
		for c, e := range per {
			if math.Abs(float64(e-g.PerChannel[i][c])) > goldenTolerance(g.PerChannel[i][c]) {
				t.Errorf("%s input %d channel %d: error %v, golden %v", name, i, c, e, g.PerChannel[i][c])
			}
		}
	}
	t.Logf("%s: largest relative score difference from golden %.3g", name, worst)
}

// writeKey writes the public half of the "release" test key.
func writeKey(t *testing.T, path string) {
	text, err := testKey(t, "release").Public().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeGolden(t *testing.T, name, modelPath, signedPath, dataPath string) {
	b, err := Pack(goldenModel(name))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(b, testKey(t, "release"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	m := l.Model
	r := rand.New(rand.NewPCG(7, 7))
	var g golden
	for range 64 {
		x := make([]float32, 8)
		for c := range x {
			x[c] = m.Scaler.Center[c] + m.Scaler.Scale[c]*float32(2*r.NormFloat64())
		}
		per := make([]float32, 8)
		s, ready, err := l.Autoencoder.Push(x, per)
		if err != nil {
			t.Fatal(err)
		}
		g.Inputs, g.Ready, g.Scores, g.PerChannel = append(g.Inputs, x), append(g.Ready, ready), append(g.Scores, s), append(g.PerChannel, per)
	}
	js, _ := json.MarshalIndent(g, "", " ")
	os.MkdirAll(filepath.Dir(modelPath), 0o755)
	for path, data := range map[string][]byte{modelPath: b, signedPath: signed, dataPath: append(js, '\n')} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
