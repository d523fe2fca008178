package firmware

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A model with float16 weights packs at about half the bytes, requires
// "f16-weights", and scores within half precision of the float32 model;
// convolutions stay float32.
func TestHalfF16(t *testing.T) {
	for _, name := range []string{"f32", "window", "conv", "vae"} {
		f32 := goldenModel(name)
		h := f32.Clone()
		if err := h.HalfF16(); err != nil {
			t.Fatal(err)
		}
		if name == "conv" {
			if h.F16() || !slices.Equal(h.Layers[0].Weights, f32.Layers[0].Weights) {
				t.Error("conv: convolutions were converted")
			}
			continue
		}
		if !h.F16() || f32.F16() || len(f32.Layers[0].WeightsF16) != 0 {
			t.Fatalf("%s: F16 %v, the original's %v: Clone shares the layer list", name, h.F16(), f32.F16())
		}
		l32, n32 := packLoad(t, f32)
		l16, n16 := packLoad(t, h)
		if !slices.Contains(l16.Model.Requires, FeatureF16Weights) || n16 > n32*7/10 {
			t.Errorf("%s: requires %q, %d bytes against %d in float32", name, l16.Model.Requires, n16, n32)
		}
		r := rand.New(rand.NewPCG(9, 9))
		x := make([]float32, 8)
		for range 30 {
			for c := range x {
				x[c] = f32.Scaler.Center[c] + f32.Scaler.Scale[c]*float32(r.NormFloat64())
			}
			a, oka, _ := l32.Autoencoder.Push(x, nil)
			b, okb, _ := l16.Autoencoder.Push(x, nil)
			if oka != okb || math.Abs(float64(a-b)) > 2e-2*math.Max(math.Abs(float64(a)), 1e-3) {
				t.Errorf("%s: float16 scores %v (ready %v), float32 %v (ready %v)", name, b, okb, a, oka)
			}
		}
	}
}

func TestF16LayerRejects(t *testing.T) {
	h := goldenModel("f32")
	if err := h.HalfF16(); err != nil {
		t.Fatal(err)
	}
	conv := goldenModel("conv")
	for _, tc := range []struct {
		name string
		mod  func(*Model)
		want string
	}{
		{"odd bytes", func(m *Model) { m.Layers[0].WeightsF16 = m.Layers[0].WeightsF16[:5] }, "float16 weights of 5 bytes"},
		{"and float32", func(m *Model) { m.Layers[0].Weights = []float32{1} }, "float16 weights and float32 or int8 ones"},
		{"and scales", func(m *Model) { m.Layers[0].Scales = []float32{1} }, "float16 weights and int8 scales"},
		{"infinite", func(m *Model) { m.Layers[0].WeightsF16[0], m.Layers[0].WeightsF16[1] = 0x00, 0x7c }, "layer 0"},
		{"conv", func(m *Model) {
			m.Layers, m.Features = conv.Layers, conv.Features
			m.Layers[0].WeightsF16 = []byte{0, 0}
		}, "float16 weights are for dense layers only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := h.Clone()
			m.Layers[0].WeightsF16 = slices.Clone(m.Layers[0].WeightsF16)
			tc.mod(m)
			if _, err := Pack(m); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Pack: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
