package firmware

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// multiScaleModel is goldenModel("window") with goldenModel("conv") as
// its member.
func multiScaleModel() *Model {
	m := goldenModel("window")
	conv := goldenModel("conv")
	mb := *conv.own()
	mb.Threshold = Threshold{Value: 2, Method: "mean+ksigma", K: 3}
	m.Members, m.Norm = []Member{mb}, 0.5
	return m
}

// packLoad packs m and decodes the file, failing the test on an error;
// it returns the loaded model and the file's size.
func packLoad(t testing.TB, m *Model) (*Loaded, int) {
	t.Helper()
	b, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Decode(b, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	return l, len(b)
}

// A multi-scale model packs, lists what it requires, loads, and scores
// the fusion of its networks: the mean of each one's score over its norm.
func TestMultiScaleModel(t *testing.T) {
	m := multiScaleModel()
	l, _ := packLoad(t, m)
	if want := []string{FeatureConv1D, FeatureMultiScale, FeatureWindow}; !slices.Equal(l.Model.Requires, want) {
		t.Errorf("requires %q, want %q", l.Model.Requires, want)
	}
	if len(l.Autoencoder.Members()) != 1 || l.Model.Norm != 0.5 || l.Model.Members[0].Threshold.Value != 2 {
		t.Fatalf("decoded %d members, norm %v", len(l.Autoencoder.Members()), l.Model.Norm)
	}
	var parts [2]*Loaded
	for i, p := range []*Model{goldenModel("window"), goldenModel("conv")} {
		parts[i], _ = packLoad(t, p)
	}
	r := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, 8)
	var last [2]float32
	scored := 0
	for i := range 40 {
		for c := range x {
			x[c] = m.Scaler.Center[c] + m.Scaler.Scale[c]*float32(r.NormFloat64())
		}
		var ready [2]bool
		for k, p := range parts {
			s, ok, err := p.Autoencoder.Push(x, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				last[k], ready[k] = s, true
			}
		}
		got, ok, err := l.Autoencoder.Push(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i < 11 || !ready[0] { // the conv member needs 12 samples; the model scores every 2nd
			if ok {
				t.Errorf("sample %d: scored before every network had", i)
			}
			continue
		}
		scored++
		want := (last[0]/0.5 + last[1]/2) / 2
		if !ok || math.Abs(float64(got-want)) > 1e-5*math.Max(1, float64(want)) {
			t.Errorf("sample %d: fused %v (ready %v), want %v", i, got, ok, want)
		}
	}
	if scored == 0 {
		t.Fatal("no fused score")
	}
	// int8 reaches the member's layers too.
	q := multiScaleModel()
	if err := q.QuantizeInt8(); err != nil {
		t.Fatal(err)
	}
	if len(q.Members[0].Layers[0].WeightsQ8) == 0 || !q.Int8() {
		t.Error("QuantizeInt8 left the member's weights in float32")
	}
	if _, err := Pack(q); err != nil {
		t.Errorf("int8 multi-scale model: %v", err)
	}
}

func TestMultiScaleRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Model)
		want string
	}{
		{"no norm", func(m *Model) { m.Norm = 0 }, "norm 0, want the model's own threshold"},
		{"norm without members", func(m *Model) { m.Members = nil }, "norm 0.5 in a model without members"},
		{"member kind", func(m *Model) { m.Members[0].Kind = "gan" }, `member 0: model kind "gan"`},
		{"member scaler", func(m *Model) { m.Members[0].Scaler.Center = m.Members[0].Scaler.Center[:7] }, "member 0: scaler has 7 centres"},
		{"member threshold", func(m *Model) { m.Members[0].Threshold.Value = float32(math.Inf(1)) }, "member 0: threshold +Inf"},
		{"member layers", func(m *Model) { m.Members[0].Layers = nil }, "member 0: infer: autoencoder has no layers"},
		{"too many", func(m *Model) {
			m.Members = append(m.Members, m.Members[0], m.Members[0], m.Members[0], m.Members[0])
		}, `"members": 5 entries, at most 4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := multiScaleModel()
			tc.mod(m)
			_, err := Pack(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Pack: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A file that hides its members from older agents is refused.
	m := multiScaleModel()
	m.Requires = []string{FeatureConv1D, FeatureWindow}
	p, err := m.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(v2File(p), LoadOptions{AllowUnsigned: true}); err == nil || !strings.Contains(err.Error(), `"multi-scale"`) {
		t.Errorf("multi-scale model not requiring it: %v, want it refused naming \"multi-scale\"", err)
	}
}
