package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

// lossOf is the mse of one sample under the network's current weights.
func lossOf(n *network, x []float32) float64 { return mse(n.forward(x), x, nil) }

// TestGradientCheck compares backward's gradients with central finite
// differences of the loss, for every activation.
func TestGradientCheck(t *testing.T) {
	for _, act := range []infer.Activation{infer.Linear, infer.Tanh, infer.Sigmoid, infer.ReLU, infer.LeakyReLU, infer.ELU} {
		r := rand.New(rand.NewPCG(7, uint64(act)))
		n := newNetwork(r, []int{5, 4, 3, 5}, act, act)
		x := []float32{0.3, -0.7, 1.1, 0.05, -0.4}
		n.zeroGrad()
		mse(n.forward(x), x, n.grads[len(n.grads)-1])
		n.backward()
		const h = 1e-2
		for li := range n.layers {
			l := &n.layers[li]
			params := []struct {
				w, g []float32
			}{{l.W, l.gW}, {l.B, l.gB}}
			for _, p := range params {
				for j := range p.w {
					old := p.w[j]
					p.w[j] = old + h
					up := lossOf(n, x)
					p.w[j] = old - h
					down := lossOf(n, x)
					p.w[j] = old
					num := (up - down) / (2 * h)
					got := float64(p.g[j])
					if math.Abs(num-got) > 1e-3+2e-2*math.Abs(num) {
						t.Errorf("%v layer %d param %d: gradient %v, finite difference %v", act, li, j, got, num)
					}
				}
			}
		}
	}
}

// structured rows: 6 channels driven by 2 latent factors plus noise.
func structured(n int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	rows := make([][]float32, n)
	for i := range rows {
		a, b := r.NormFloat64(), r.NormFloat64()
		rows[i] = []float32{
			float32(a), float32(b), float32(a + b), float32(a - b), float32(0.5 * a), float32(-b),
		}
		for j := range rows[i] {
			rows[i][j] += float32(0.05 * r.NormFloat64())
		}
	}
	return rows
}

func fastOptions() Options {
	o := DefaultOptions
	o.Hidden = []int{16, 2, 16}
	o.Epochs = 40
	o.LearningRate = 3e-3
	return o
}

func TestAutoencoderLearnsStructure(t *testing.T) {
	rows := structured(3000, 1)
	res, err := Autoencoder(context.Background(), rows, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.History[0], res.History[res.BestEpoch-1]
	if last.Val > first.Val/5 {
		t.Errorf("validation loss went from %v to %v, want at least 5× lower", first.Val, last.Val)
	}
	if res.TrainRows != 2400 || res.ValRows != 600 || len(res.ValScores) != 600 {
		t.Errorf("split %d/%d with %d scores, want 2400/600/600", res.TrainRows, res.ValRows, len(res.ValScores))
	}
	// The trained layers score the same in infer as in training.
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: identity(6), Layers: infer.DenseLayers(res.Layers)})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range rows[2400:2410] {
		s := ae.ScoreFeatures(x, nil)
		if math.Abs(float64(s-res.ValScores[i])) > 1e-5 {
			t.Errorf("row %d: infer score %v, training score %v", i, s, res.ValScores[i])
		}
	}
	// A row that breaks the structure scores far above normal ones.
	cal, _ := MeanKSigma(res.ValScores, 3)
	bad := []float32{1, 1, -2, 0, 0.5, -1}
	if s := ae.ScoreFeatures(bad, nil); float64(s) < 5*cal.Threshold {
		t.Errorf("anomalous row scores %v, threshold %v: want well above", s, cal.Threshold)
	}
}

func identity(n int) infer.Scaler {
	s := infer.Scaler{Center: make([]float32, n), Scale: make([]float32, n)}
	for i := range s.Scale {
		s.Scale[i] = 1
	}
	return s
}

func TestDeterministic(t *testing.T) {
	rows := structured(500, 2)
	o := fastOptions()
	o.Epochs = 3
	a, err := Autoencoder(context.Background(), rows, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Autoencoder(context.Background(), rows, o)
	for i := range a.Layers {
		if !slices.Equal(a.Layers[i].W, b.Layers[i].W) || !slices.Equal(a.Layers[i].B, b.Layers[i].B) {
			t.Fatalf("layer %d differs between two runs with seed %d", i, o.Seed)
		}
	}
	o.Seed++
	c, _ := Autoencoder(context.Background(), rows, o)
	if slices.Equal(a.Layers[0].W, c.Layers[0].W) {
		t.Error("different seeds gave identical weights")
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	rows := structured(400, 3)
	o := fastOptions()
	o.Epochs = 200
	o.Patience = 2
	o.MinDelta = 1 // nothing after the first epoch counts as better
	res, err := Autoencoder(context.Background(), rows, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 3 || res.BestEpoch != 1 {
		t.Errorf("ran %d epochs, best %d; want 3 and 1", len(res.History), res.BestEpoch)
	}
	ae, _ := infer.NewAutoencoder(infer.Config{Scaler: identity(6), Layers: infer.DenseLayers(res.Layers)})
	var sum float64
	for _, x := range rows[len(rows)-res.ValRows:] {
		s := ae.ScoreFeatures(x, nil)
		sum += float64(s)
	}
	if got, want := sum/float64(res.ValRows), res.History[0].Val; math.Abs(got-want) > 1e-6 {
		t.Errorf("restored weights give validation loss %v, best epoch had %v", got, want)
	}
}

func TestOptionErrors(t *testing.T) {
	rows := structured(10, 4)
	tests := []struct {
		name string
		mod  func(*Options)
		rows [][]float32
	}{
		{"epochs", func(o *Options) { o.Epochs = 0 }, rows},
		{"validation", func(o *Options) { o.ValidationFraction = 1 }, rows},
		{"hidden", func(o *Options) { o.Hidden = []int{4, 0} }, rows},
		{"lr", func(o *Options) { o.LearningRate = 0 }, rows},
		{"ragged", func(o *Options) {}, [][]float32{{1, 2}, {1}}},
		{"nan", func(o *Options) {}, [][]float32{{1, 2}, {float32(math.NaN()), 1}}},
		{"one row", func(o *Options) {}, rows[:1]},
	}
	for _, tc := range tests {
		o := DefaultOptions
		tc.mod(&o)
		if _, err := Autoencoder(context.Background(), tc.rows, o); err == nil {
			t.Errorf("%s: Autoencoder succeeded, want error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Autoencoder(ctx, rows, DefaultOptions); err != context.Canceled {
		t.Errorf("cancelled context: err %v, want context.Canceled", err)
	}
}

func TestMeanKSigma(t *testing.T) {
	c, err := MeanKSigma([]float32{1, 2, 3, 4, 5}, 3)
	want := 3 + 3*math.Sqrt(2)
	if err != nil || c.Mean != 3 || math.Abs(c.Std-math.Sqrt(2)) > 1e-12 || math.Abs(c.Threshold-want) > 1e-12 || c.N != 5 {
		t.Errorf("MeanKSigma = %+v, %v; want mean 3, std √2, threshold %v", c, err, want)
	}
	if _, err := MeanKSigma(nil, 3); err == nil {
		t.Error("MeanKSigma(nil) succeeded")
	}
	if _, err := MeanKSigma([]float32{1, float32(math.Inf(1))}, 3); err == nil {
		t.Error("MeanKSigma with Inf succeeded")
	}
}
