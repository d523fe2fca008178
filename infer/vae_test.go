package infer

import (
	"errors"
	"math"
	"testing"
)

// A windowed model scores only when the window is due, attributes by
// channel, and restarts its window after an invalid sample.
func TestPushWindowed(t *testing.T) {
	spec := FeatureSpec{Window: 3, Stride: 1, Raw: true}
	f := spec.Len(2)
	zero := Dense{In: f, Out: f, W: make([]float32, f*f), B: make([]float32, f)}
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(2), Features: spec, Layers: []Layer{&zero}})
	if err != nil {
		t.Fatal(err)
	}
	if ae.Features() != 6 || ae.Channels() != 2 {
		t.Fatalf("features %d channels %d", ae.Features(), ae.Channels())
	}
	per := make([]float32, 2)
	samples := [][]float32{{1, 0}, {1, 0}, {1, 3}, {0, 0}}
	var scores []float32
	for i, x := range samples {
		s, ready, err := ae.Push(x, per)
		if err != nil {
			t.Fatal(err)
		}
		if ready != (i >= 2) {
			t.Fatalf("sample %d: ready %v", i, ready)
		}
		if ready {
			scores = append(scores, s)
			if math.Abs(float64(per[0]+per[1]-s)) > 1e-6 {
				t.Errorf("sample %d: contributions %v do not sum to the score %v", i, per, s)
			}
		}
	}
	// Window {1,0},{1,0},{1,3}: Σ squares 1+1+1+9 = 12 over 6 features.
	// Window {1,0},{1,3},{0,0}: 1+1+9 = 11.
	if scores[0] != 2 || math.Abs(float64(scores[1]-11.0/6)) > 1e-6 {
		t.Errorf("scores %v, want [2 1.8333]", scores)
	}
	if _, ready, err := ae.Push([]float32{float32(math.NaN()), 0}, per); !errors.Is(err, ErrInvalidInput) || ready {
		t.Errorf("NaN: ready %v err %v", ready, err)
	}
	for i := 0; i < 3; i++ {
		if _, ready, _ := ae.Push([]float32{0, 0}, per); ready != (i == 2) {
			t.Errorf("after the gap, sample %d: ready %v; the window must refill", i, ready)
		}
	}
}

// A VAE scores through μ (no sampling) and adds the weighted KL term.
func TestVAE(t *testing.T) {
	// Encoder: 2 features → μ (1), log σ² (1), linear.
	// μ = 0.5·x0, log σ² = 0 + ln 4 (σ² = 4).
	enc := Dense{In: 2, Out: 2, W: []float32{0.5, 0, 0, 0}, B: []float32{0, float32(math.Log(4))}}
	// Decoder: μ → (2μ, 0).
	dec := Dense{In: 1, Out: 2, W: []float32{2, 0}, B: []float32{0, 0}}
	cfg := Config{Scaler: identityScaler(2), Layers: []Layer{&enc}, Decoder: []Layer{&dec}, KLWeight: 0.5}
	ae, err := NewAutoencoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	per := make([]float32, 2)
	s, _, err := ae.Push([]float32{2, 3}, per)
	if err != nil {
		t.Fatal(err)
	}
	// μ = 1 → reconstruction (2, 0): errors (0, 9), mean 4.5.
	// KL = -½(1 + ln 4 - 1 - 4) = 2 - ln 2 ≈ 1.3069; × 0.5 / 2 features.
	kl := 2 - math.Log(2)
	want := 4.5 + 0.5*kl/2
	if math.Abs(float64(s)-want) > 1e-5 || per[0] != 0 || per[1] != 4.5 {
		t.Errorf("VAE score %v per %v, want %v and [0 4.5]", s, per, want)
	}
	_, recon := ae.Reconstruction()
	if recon[0] != 2 || recon[1] != 0 {
		t.Errorf("reconstruction %v, want [2 0]", recon)
	}
	// Absolute error: |0| + |-3| over 2 = 1.5, plus the same KL part.
	cfg.Error = AbsoluteError
	ae, _ = NewAutoencoder(cfg)
	if s, _, _ := ae.Push([]float32{2, 3}, nil); math.Abs(float64(s)-(1.5+0.5*kl/2)) > 1e-5 {
		t.Errorf("absolute-error VAE score %v", s)
	}
}

func TestNewAutoencoderRejectsConfig(t *testing.T) {
	sq := func(n int) *Dense { return &Dense{In: n, Out: n, W: make([]float32, n*n), B: make([]float32, n)} }
	rect := func(in, out int) *Dense {
		return &Dense{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"features", Config{Scaler: identityScaler(2), Features: FeatureSpec{Window: 3}, Layers: []Layer{sq(2)}}},
		{"bad spec", Config{Scaler: identityScaler(2), Features: FeatureSpec{Window: -3}, Layers: []Layer{sq(2)}}},
		{"odd latent", Config{Scaler: identityScaler(2), Layers: []Layer{rect(2, 3)}, Decoder: []Layer{rect(1, 2)}}},
		{"decoder in", Config{Scaler: identityScaler(2), Layers: []Layer{rect(2, 4)}, Decoder: []Layer{rect(1, 2)}}},
		{"decoder out", Config{Scaler: identityScaler(2), Layers: []Layer{rect(2, 2)}, Decoder: []Layer{rect(1, 3)}}},
		{"kl without decoder", Config{Scaler: identityScaler(2), Layers: []Layer{sq(2)}, KLWeight: 1}},
		{"negative kl", Config{Scaler: identityScaler(2), Layers: []Layer{rect(2, 2)}, Decoder: []Layer{rect(1, 2)}, KLWeight: -1}},
		{"error kind", Config{Scaler: identityScaler(2), Layers: []Layer{sq(2)}, Error: 7}},
		{"nil layer", Config{Scaler: identityScaler(2), Layers: []Layer{nil}}},
		{"no scaler", Config{Layers: []Layer{sq(2)}}},
	}
	for _, tc := range tests {
		if _, err := NewAutoencoder(tc.cfg); err == nil {
			t.Errorf("%s: NewAutoencoder succeeded", tc.name)
		}
	}
	for _, k := range []ErrorKind{SquaredError, AbsoluteError} {
		if back, err := ParseErrorKind(k.String()); err != nil || back != k {
			t.Errorf("ParseErrorKind(%q) = %v, %v", k.String(), back, err)
		}
	}
}

func TestPushWindowedAllocs(t *testing.T) {
	spec := FeatureSpec{Window: 60, Raw: true, Stats: []Stat{Mean, Std}}
	ds, _ := benchModel(t, spec.Len(8), []int{32, 8, 32})
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(8), Features: spec, Layers: DenseLayers(ds)})
	if err != nil {
		t.Fatal(err)
	}
	x, per := make([]float32, 8), make([]float32, 8)
	if a := testing.AllocsPerRun(200, func() { ae.Push(x, per) }); a != 0 {
		t.Errorf("windowed Push allocates %v times, want 0", a)
	}
}

// Hostile sizes are refused before anything is allocated, in 64-bit
// arithmetic (2^16·2^16 wraps to 0 in a 32-bit int).
func TestSizeLimits(t *testing.T) {
	for _, l := range []Layer{
		&Dense{In: 1 << 16, Out: 1 << 16, B: make([]float32, 1<<16)},
		&DenseQ8{In: 1 << 16, Out: 1 << 16, Scale: make([]float32, 1<<16), B: make([]float32, 1<<16)},
		&Conv1D{InChannels: 1 << 16, OutChannels: 1 << 16, Kernel: 1, Stride: 1, Length: 1, B: make([]float32, 1<<16)},
		&ConvTranspose1D{InChannels: 1, OutChannels: 1, Kernel: 1, Stride: 1 << 20, Length: 1 << 16, W: []float32{1}, B: []float32{0}},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%T with hostile sizes validated", l)
		}
	}
	if _, err := NewWindow(FeatureSpec{Window: 1 << 16, Raw: true}, 256); err == nil {
		t.Error("a 64 Ki-sample window of 256 channels (16 Mi values) was accepted")
	}
}

// A per-sample model with a stride scores every Stride-th sample, as
// Sequence builds its training vectors.
func TestPerSampleStride(t *testing.T) {
	id := Dense{In: 1, Out: 1, W: []float32{1}, B: []float32{0}}
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(1), Features: FeatureSpec{Stride: 5}, Layers: []Layer{&id}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; i < 20; i++ {
		if _, ready, _ := ae.Push([]float32{1}, nil); ready {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d scores from 20 samples with stride 5, want 4", n)
	}
}

// A VAE with no KL weight ignores an overflowing log-variance instead of
// turning 0·Inf into a NaN score.
func TestVAEIgnoresKLAtZeroWeight(t *testing.T) {
	enc := Dense{In: 1, Out: 2, W: []float32{1, 0}, B: []float32{0, 100}} // log σ² = 100
	dec := Dense{In: 1, Out: 1, W: []float32{1}, B: []float32{0}}
	ae, err := NewAutoencoder(Config{Scaler: identityScaler(1), Layers: []Layer{&enc}, Decoder: []Layer{&dec}})
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := ae.Push([]float32{3}, nil); s != 0 {
		t.Errorf("score %v, want 0 (perfect reconstruction, no KL term)", s)
	}
}
