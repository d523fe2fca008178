package infer

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// windowConfig is a random dense autoencoder over channels channels and a
// window of w samples (raw, mean and std) scored every stride samples.
func windowConfig(r *rand.Rand, channels, w, stride int) Config {
	spec := FeatureSpec{Window: w, Stride: stride, Raw: true, Stats: []Stat{Mean, Std}}
	f := spec.Len(channels)
	ds := []Dense{randDense(r, f, 6, Tanh), randDense(r, 6, f, Linear)}
	for i := range ds {
		for j := range ds[i].W {
			ds[i].W[j] /= float32(math.Sqrt(float64(ds[i].In)))
		}
	}
	sc := identityScaler(channels)
	for c := range sc.Center {
		sc.Center[c], sc.Scale[c] = float32(r.NormFloat64()), float32(0.5+r.Float64())
	}
	return Config{Scaler: sc, Features: spec, Layers: DenseLayers(ds)}
}

// TestMultiScaleFusesCausally replays samples through a multi-scale
// model and, beside it, through each part on its own, and checks the
// fused score and contributions against the rule in Member's doc: the
// mean of each part's latest score over its norm, due when the model
// itself scores once every member has scored.
func TestMultiScaleFusesCausally(t *testing.T) {
	const channels = 3
	r := rand.New(rand.NewPCG(11, 12))
	primary := windowConfig(r, channels, 4, 1)
	members := []Member{{Config: windowConfig(r, channels, 9, 1), Norm: 0.7}, {Config: windowConfig(r, channels, 6, 4), Norm: 2.5}}
	cfg := primary
	cfg.Members, cfg.Norm = members, 1.3
	ms, err := NewAutoencoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ms.Members()), 2; got != want {
		t.Fatalf("Members() = %d, want %d", got, want)
	}
	parts := []*Autoencoder{mustAE(t, primary), mustAE(t, members[0].Config), mustAE(t, members[1].Config)}
	norms := []float32{1.3, 0.7, 2.5}
	latest := make([]float32, 3)
	have := make([]bool, 3)
	pers := [][]float32{make([]float32, channels), make([]float32, channels), make([]float32, channels)}
	lastPer := [][]float32{make([]float32, channels), make([]float32, channels), make([]float32, channels)}
	per := make([]float32, channels)
	x := make([]float32, channels)
	scored := 0
	for i := range 60 {
		for c := range x {
			x[c] = float32(r.NormFloat64())
		}
		if i == 30 { // a sensor fault empties every window
			x[1] = float32(math.NaN())
		}
		primaryReady := false
		for k, p := range parts {
			s, ok, err := p.Push(x, pers[k])
			if err != nil {
				for k := range parts {
					parts[k].Reset()
					have[k] = false
				}
				break
			}
			if ok {
				latest[k], have[k] = s/norms[k], true
				copy(lastPer[k], pers[k])
				primaryReady = primaryReady || k == 0
			}
		}
		got, ok, err := ms.Push(x, per)
		if i == 30 {
			if !errors.Is(err, ErrInvalidInput) || ok {
				t.Fatalf("sample 30 (NaN): ok %v, err %v, want ErrInvalidInput", ok, err)
			}
			continue
		}
		want := (latest[0] + latest[1] + latest[2]) / 3
		due := primaryReady && have[1] && have[2]
		if ok != due || err != nil {
			t.Fatalf("sample %d: ready %v, err %v; want ready %v", i, ok, err, due)
		}
		if !ok {
			continue
		}
		scored++
		if math.Abs(float64(got-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
			t.Errorf("sample %d: fused score %v, want %v", i, got, want)
		}
		var sum float32
		for c := range per {
			w := (lastPer[0][c]/norms[0] + lastPer[1][c]/norms[1] + lastPer[2][c]/norms[2]) / 3
			if math.Abs(float64(per[c]-w)) > 1e-5*math.Max(1, math.Abs(float64(w))) {
				t.Errorf("sample %d: channel %d contributes %v, want %v", i, c, per[c], w)
			}
			sum += per[c]
		}
		if math.Abs(float64(sum-got)) > 1e-4*math.Max(1, float64(got)) {
			t.Errorf("sample %d: contributions sum to %v, score %v", i, sum, got)
		}
	}
	// Warm-up at the start and after the fault: 9 samples for the longest
	// window each time, the rest scored.
	if want := 60 - 1 - 2*8; scored != want {
		t.Errorf("%d fused scores, want %d", scored, want)
	}
}

func mustAE(t *testing.T, c Config) *Autoencoder {
	t.Helper()
	ae, err := NewAutoencoder(c)
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

func TestMultiScaleRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	base := windowConfig(r, 2, 3, 1)
	member := Member{Config: windowConfig(r, 2, 5, 1), Norm: 1}
	other := Member{Config: windowConfig(r, 3, 5, 1), Norm: 1}
	nested := member
	nested.Config.Members, nested.Config.Norm = []Member{member}, 1
	for _, tc := range []struct {
		name    string
		norm    float32
		members []Member
		want    string
	}{
		{"own norm 0", 0, []Member{member}, "own norm is 0"},
		{"own norm NaN", float32(math.NaN()), []Member{member}, "own norm is NaN"},
		{"member norm negative", 1, []Member{{Config: member.Config, Norm: -1}}, "member 0: norm -1"},
		{"member norm Inf", 1, []Member{member, {Config: member.Config, Norm: float32(math.Inf(1))}}, "member 1: norm +Inf"},
		{"channels differ", 1, []Member{other}, "member 0 reads 3 channels, the model 2"},
		{"nested", 1, []Member{nested}, "member 0 has members of its own"},
		{"too many", 1, []Member{member, member, member, member, member}, "5 members, at most 4"},
		{"member invalid", 1, []Member{{Config: Config{Scaler: identityScaler(2)}, Norm: 1}}, "member 0: infer: autoencoder has no layers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Members, c.Norm = tc.members, tc.norm
			_, err := NewAutoencoder(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestMultiScaleAllocsAndClone checks that a multi-scale model scores
// without allocating and that a clone has windows of its own.
func TestMultiScaleAllocsAndClone(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	cfg := windowConfig(r, 4, 5, 1)
	cfg.Members, cfg.Norm = []Member{{Config: windowConfig(r, 4, 12, 2), Norm: 3}}, 2
	ms := mustAE(t, cfg)
	if got, want := ms.Params(), mustAE(t, windowConfig(rand.New(rand.NewPCG(15, 16)), 4, 5, 1)).Params()+ms.Members()[0].Params(); got != want {
		t.Errorf("Params() = %d, want %d (members included)", got, want)
	}
	x := []float32{0.1, -0.2, 0.3, 0.4}
	per := make([]float32, 4)
	var s float32
	for range 20 {
		s, _, _ = ms.Push(x, per)
	}
	cl := ms.Clone()
	if _, ok, _ := cl.Push(x, per); ok {
		t.Error("a fresh clone scored on its first sample: it shares the members' windows")
	}
	allocs := testing.AllocsPerRun(200, func() { ms.Push(x, per) })
	if allocs != 0 {
		t.Errorf("%v allocs per sample, want 0", allocs)
	}
	if got, ok, err := ms.Push(x, nil); !ok || err != nil || got != s {
		t.Errorf("without contributions: %v %v %v, want the same score %v", got, ok, err, s)
	}
	ms.Reset()
	if _, ok, _ := ms.Push(x, per); ok {
		t.Error("scored right after Reset: the members' windows were not emptied")
	}
	x[2] = float32(math.Inf(1))
	if got := ms.InvalidChannels(nil, x); len(got) != 1 || got[0] != 2 {
		t.Errorf("InvalidChannels = %v, want [2]", got)
	}
}

func BenchmarkPushMultiScale(b *testing.B) {
	r := rand.New(rand.NewPCG(17, 18))
	cfg := windowConfig(r, 8, 10, 1)
	cfg.Members, cfg.Norm = []Member{{Config: windowConfig(r, 8, 60, 1), Norm: 1}}, 1
	ms, err := NewAutoencoder(cfg)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, 8)
	per := make([]float32, 8)
	for range 60 {
		ms.Push(x, per)
	}
	b.ReportAllocs()
	for b.Loop() {
		ms.Push(x, per)
	}
}
