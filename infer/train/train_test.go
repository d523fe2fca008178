package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

// lossOf is the mse of one sample under the network's current weights.
func lossOf(n *network, x []float32) float64 { return mse(n.forward(x, nil, nil), x, nil) }

// gradCheck compares backward's parameter and input gradients with central
// finite differences of the loss.
func gradCheck(t *testing.T, name string, n *network, x []float32) {
	t.Helper()
	n.zeroGrad()
	mse(n.forward(x, nil, nil), x, n.grads[len(n.grads)-1])
	n.backward(true)
	const h = 1e-2
	check := func(what string, w []float32, g float32, j int) {
		old := w[j]
		w[j] = old + h
		up := lossOf(n, x)
		w[j] = old - h
		down := lossOf(n, x)
		w[j] = old
		num := (up - down) / (2 * h)
		if math.Abs(num-float64(g)) > 2e-3+2e-2*math.Abs(num) {
			t.Errorf("%s %s %d: gradient %v, finite difference %v", name, what, j, g, num)
		}
	}
	for li, l := range n.layers {
		for ti, tn := range l.tensors() {
			for j := range tn.w {
				check(fmt.Sprintf("layer %d tensor %d", li, ti), tn.w, tn.g[j], j)
			}
		}
	}
	// The input gradient: the loss's own dependence on x (x is also the
	// target) is left out by perturbing only the network's input copy.
	in := append([]float32(nil), x...)
	for j := range in {
		old := in[j]
		in[j] = old + h
		up := mse(n.forward(in, nil, nil), x, nil)
		in[j] = old - h
		down := mse(n.forward(in, nil, nil), x, nil)
		in[j] = old
		num := (up - down) / (2 * h)
		if math.Abs(num-float64(n.dx0[j])) > 2e-3+2e-2*math.Abs(num) {
			t.Errorf("%s input %d: gradient %v, finite difference %v", name, j, n.dx0[j], num)
		}
	}
}

// TestGradientCheck proves every layer's and activation's backward pass
// against finite differences.
func TestGradientCheck(t *testing.T) {
	for _, act := range []infer.Activation{infer.Linear, infer.Tanh, infer.Sigmoid, infer.ReLU, infer.LeakyReLU, infer.ELU} {
		r := rand.New(rand.NewPCG(7, uint64(act)))
		n := newNetwork(denseLayers(r, []int{5, 4, 3, 5}, act, act), 0)
		gradCheck(t, "dense "+act.String(), n, []float32{0.3, -0.7, 1.1, 0.05, -0.4})
	}
	r := rand.New(rand.NewPCG(8, 8))
	for _, arch := range []ConvArch{
		{Window: 8, Channels: 2, Filters: []int{3}, Kernel: 3, Stride: 2},
		{Window: 12, Channels: 3, Filters: []int{4, 2}, Kernel: 5, Stride: 2},
		{Window: 7, Channels: 2, Filters: []int{3}, Kernel: 3, Stride: 1},
	} {
		ls, err := convLayers(r, &arch, infer.Tanh, infer.Linear)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, arch.Window*arch.Channels)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		gradCheck(t, fmt.Sprintf("conv %+v", arch), newNetwork(ls, 0), x)
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
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: identity(6), Layers: res.Layers})
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
		da, db := a.Layers[i].(*infer.Dense), b.Layers[i].(*infer.Dense)
		if !slices.Equal(da.W, db.W) || !slices.Equal(da.B, db.B) {
			t.Fatalf("layer %d differs between two runs with seed %d", i, o.Seed)
		}
	}
	o.Seed++
	c, _ := Autoencoder(context.Background(), rows, o)
	if slices.Equal(a.Layers[0].(*infer.Dense).W, c.Layers[0].(*infer.Dense).W) {
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
	ae, _ := infer.NewAutoencoder(infer.Config{Scaler: identity(6), Layers: res.Layers})
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
		{"optimiser", func(o *Options) { o.Optimizer = "sgd" }, rows},
		{"dropout", func(o *Options) { o.Dropout = 1 }, rows},
		{"noise", func(o *Options) { o.InputNoise = -1 }, rows},
		{"decay", func(o *Options) { o.WeightDecay = -1 }, rows},
		{"rho", func(o *Options) { o.Rho = 1 }, rows},
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

func l2(ls []infer.Layer) float64 {
	var s float64
	for _, l := range ls {
		for _, w := range l.(*infer.Dense).W {
			s += float64(w) * float64(w)
		}
	}
	return s
}

// The regularisers and RMSprop still learn the structure; weight decay
// shrinks the weights; noise and dropout stay deterministic for a seed.
func TestRegularisersAndRMSprop(t *testing.T) {
	rows := structured(2000, 5)
	base := fastOptions()
	base.Epochs = 25
	plain, err := Autoencoder(context.Background(), rows, base)
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct {
		name string
		mod  func(*Options)
	}{
		{"rmsprop", func(o *Options) { o.Optimizer = RMSprop }},
		{"weight decay", func(o *Options) { o.WeightDecay = 1e-2 }},
		{"dropout", func(o *Options) { o.Dropout = 0.1 }},
		{"input noise", func(o *Options) { o.InputNoise = 0.1 }},
	}
	for _, v := range variants {
		o := base
		v.mod(&o)
		res, err := Autoencoder(context.Background(), rows, o)
		if err != nil {
			t.Fatal(err)
		}
		first, best := res.History[0].Val, res.History[res.BestEpoch-1].Val
		if best > first/3 || best > 0.5 {
			t.Errorf("%s: validation loss %v → %v, want it to learn (below a third and 0.5)", v.name, first, best)
		}
		again, _ := Autoencoder(context.Background(), rows, o)
		if !slices.Equal(res.ValScores, again.ValScores) {
			t.Errorf("%s: two runs with one seed differ", v.name)
		}
		if v.name == "weight decay" && l2(res.Layers) >= l2(plain.Layers) {
			t.Errorf("weight decay: ‖w‖² %v, without %v: want smaller", l2(res.Layers), l2(plain.Layers))
		}
	}
}

// A convolutional autoencoder learns windows of a smooth multichannel
// signal, and its layers score in infer exactly as in training.
func TestConvAutoencoderTrains(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const w, c = 16, 3
	rows := make([][]float32, 600)
	for i := range rows {
		phase, amp := r.Float64()*2*math.Pi, 0.5+r.Float64()
		row := make([]float32, w*c)
		for t := 0; t < w; t++ {
			v := amp * math.Sin(phase+float64(t)/3)
			row[t*c], row[t*c+1], row[t*c+2] = float32(v), float32(-v), float32(0.5*v)
		}
		rows[i] = row
	}
	o := DefaultOptions
	o.Conv = &ConvArch{Window: w, Channels: c, Filters: []int{8, 4}, Kernel: 5, Stride: 2}
	o.Epochs, o.LearningRate = 30, 3e-3
	res, err := Autoencoder(context.Background(), rows, o)
	if err != nil {
		t.Fatal(err)
	}
	if first, best := res.History[0].Val, res.History[res.BestEpoch-1].Val; best > first/4 {
		t.Errorf("conv autoencoder: validation loss %v → %v, want at least 4× lower", first, best)
	}
	if _, ok := res.Layers[0].(*infer.Conv1D); !ok || len(res.Layers) != 4 {
		t.Fatalf("layers %T…, %d of them; want Conv1D first and 4 in all", res.Layers[0], len(res.Layers))
	}
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: identity(c), Features: infer.FeatureSpec{Window: w, Raw: true}, Layers: res.Layers})
	if err != nil {
		t.Fatal(err)
	}
	val := rows[len(rows)-res.ValRows:]
	for i := 0; i < 5; i++ {
		if s := ae.ScoreFeatures(val[i], nil); math.Abs(float64(s-res.ValScores[i])) > 1e-5*(1+float64(s)) {
			t.Errorf("row %d: infer %v, training %v", i, s, res.ValScores[i])
		}
	}
	o.Conv = &ConvArch{Window: w + 1, Channels: c, Filters: []int{8}, Kernel: 5, Stride: 2}
	if _, err := Autoencoder(context.Background(), rows, o); err == nil {
		t.Error("a conv architecture that does not match the row length was accepted")
	}
}

func TestPercentile(t *testing.T) {
	scores := make([]float32, 101)
	for i := range scores {
		scores[100-i] = float32(i) // unsorted on purpose
	}
	c, err := Percentile(scores, 99)
	if err != nil || c.Threshold != 99 || c.Method != "percentile" || c.K != 99 {
		t.Errorf("Percentile(0..100, 99) = %+v, %v; want 99", c, err)
	}
	if c, _ := Percentile(scores, 99.5); math.Abs(c.Threshold-99.5) > 1e-9 {
		t.Errorf("Percentile 99.5 = %v, want 99.5 (interpolated)", c.Threshold)
	}
	for _, p := range []float64{0, 100, -1} {
		if _, err := Percentile(scores, p); err == nil {
			t.Errorf("Percentile(%v) succeeded", p)
		}
	}
}

// On samples with a known tail, the peaks-over-threshold estimate lands
// near the true quantile at the requested risk.
func TestPeaksOverThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n = 200000
	tests := []struct {
		name   string
		sample func() float64
		quant  func(risk float64) float64 // true value exceeded with prob risk
	}{
		{"exponential", func() float64 { return r.ExpFloat64() }, func(q float64) float64 { return -math.Log(q) }},
		{"pareto tail ξ=0.2", func() float64 { return 5 * (math.Pow(1-r.Float64(), -0.2) - 1) }, func(q float64) float64 { return 5 * (math.Pow(q, -0.2) - 1) }},
	}
	for _, tc := range tests {
		scores := make([]float32, n)
		for i := range scores {
			scores[i] = float32(tc.sample())
		}
		for _, risk := range []float64{1e-3, 1e-4} {
			c, err := PeaksOverThreshold(scores, risk)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.quant(risk); math.Abs(c.Threshold-want) > 0.1*want {
				t.Errorf("%s risk %v: threshold %v, true quantile %v", tc.name, risk, c.Threshold, want)
			}
		}
	}
	if _, err := PeaksOverThreshold(make([]float32, 100), 1e-3); err == nil {
		t.Error("POT on 100 equal scores succeeded")
	}
	if _, err := PeaksOverThreshold(make([]float32, 1000), 0.05); err == nil {
		t.Error("POT with risk above the initial 2 % succeeded")
	}
}

func TestKofN(t *testing.T) {
	tests := []struct {
		scores string // '+' above the threshold 1, '-' below
		maxN   int
		k, n   int
	}{
		{"----------", 10, 1, 1}, // nothing above: alarm on the first
		{"---+------", 10, 2, 2}, // single spikes: two in a row
		{"-++--+-+--", 10, 3, 3}, // runs of two: three of three
		{"-+-+-+-+-+", 10, 2, 2}, // alternating: never two in a row
		{"++++++++++", 5, 5, 5},  // always above: give up at maxN
	}
	for _, tc := range tests {
		scores := make([]float32, len(tc.scores))
		for i, c := range tc.scores {
			if c == '+' {
				scores[i] = 2
			}
		}
		if k, n := KofN(scores, 1, tc.maxN); k != tc.k || n != tc.n {
			t.Errorf("KofN(%s) = %d of %d, want %d of %d", tc.scores, k, n, tc.k, tc.n)
		}
	}
}

// TestDivergedTrainingFails: a loss that is not a finite number ends
// training with an error naming the epoch, never a model whose scores
// are NaN.
func TestDivergedTrainingFails(t *testing.T) {
	rows := make([][]float32, 64)
	for i := range rows {
		rows[i] = []float32{1e20 * float32(i%3), -1e20, 3e19}
	}
	o := DefaultOptions
	o.Hidden, o.Epochs = []int{4}, 5
	_, err := Autoencoder(context.Background(), rows, o)
	if err == nil || !strings.Contains(err.Error(), "epoch 1: training diverged") {
		t.Fatalf("err %v, want training diverged at epoch 1", err)
	}
}

// benchRows are n rows of a smooth multichannel signal, window w × c
// channels flattened time-major, as vigil bench skab feeds training.
func benchRows(n, w, c int) [][]float32 {
	r := rand.New(rand.NewPCG(12, 13))
	rows := make([][]float32, n)
	for i := range rows {
		row := make([]float32, w*c)
		for t := 0; t < w; t++ {
			for ch := 0; ch < c; ch++ {
				row[t*c+ch] = float32(math.Sin(float64(i+t)/7+float64(ch)) + 0.1*r.NormFloat64())
			}
		}
		rows[i] = row
	}
	return rows
}

// BenchmarkTrainConv is one SKAB file of the recipe --window 60 --conv
// 32,16: 341 windows of 8 channels, 3 epochs
// (go test -run '^$' -bench TrainConv -cpu 1 ./infer/train/).
func BenchmarkTrainConv(b *testing.B) {
	rows := benchRows(341, 60, 8)
	o := DefaultOptions
	o.Conv = &ConvArch{Window: 60, Channels: 8, Filters: []int{32, 16}, Kernel: 7, Stride: 2}
	o.Epochs, o.Patience = 3, 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Autoencoder(context.Background(), rows, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainDense is one SKAB file of the default recipe: 391 rows
// of 96 features through 64-16-64, 10 epochs.
func BenchmarkTrainDense(b *testing.B) {
	rows := benchRows(391, 12, 8)
	o := DefaultOptions
	o.Hidden = []int{64, 16, 64}
	o.Epochs, o.Patience = 10, 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Autoencoder(context.Background(), rows, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainVAE is BenchmarkTrainDense's rows through a VAE.
func BenchmarkTrainVAE(b *testing.B) {
	rows := benchRows(391, 12, 8)
	o := DefaultOptions
	o.Hidden = []int{64, 16}
	o.VAE = &VAEArch{Latent: 4, Beta: 1}
	o.Epochs, o.Patience = 10, 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Autoencoder(context.Background(), rows, o); err != nil {
			b.Fatal(err)
		}
	}
}

// batchCases are networks whose shapes reach both the SSE micro-kernel
// (rows in fours, columns in eights) and the Go edges of gemm.
func batchCases(t *testing.T) []struct {
	name string
	m    model
	in   int
} {
	t.Helper()
	r := rand.New(rand.NewPCG(21, 22))
	var cases []struct {
		name string
		m    model
		in   int
	}
	add := func(name string, m model, in int) {
		cases = append(cases, struct {
			name string
			m    model
			in   int
		}{name, m, in})
	}
	add("dense", &ae{newNetwork(denseLayers(r, []int{16, 12, 5, 8, 16}, infer.Tanh, infer.Linear), 0)}, 16)
	for _, arch := range []ConvArch{
		{Window: 12, Channels: 8, Filters: []int{8, 4}, Kernel: 3, Stride: 2},
		{Window: 10, Channels: 3, Filters: []int{5}, Kernel: 5, Stride: 2},
	} {
		ls, err := convLayers(r, &arch, infer.ELU, infer.Linear)
		if err != nil {
			t.Fatal(err)
		}
		add(fmt.Sprintf("conv %d×%d %v k%d", arch.Window, arch.Channels, arch.Filters, arch.Kernel), &ae{newNetwork(ls, 0)}, arch.Window*arch.Channels)
	}
	o := DefaultOptions
	o.Hidden, o.Activation = []int{16, 8}, infer.Tanh
	o.VAE = &VAEArch{Latent: 4, Beta: 0.5}
	add("vae", newVAE(r, 16, &o), 16)
	return cases
}

func batchOf(r *rand.Rand, nb, in int) [][]float32 {
	xs := make([][]float32, nb)
	for i := range xs {
		xs[i] = make([]float32, in)
		for j := range xs[i] {
			xs[i][j] = float32(0.5 * r.NormFloat64())
		}
	}
	return xs
}

// TestBatchGradientCheck proves the batched backward passes (several
// samples through the GEMMs at once, the VAE's input gradients included)
// against finite differences of the batch's summed loss.
func TestBatchGradientCheck(t *testing.T) {
	o := DefaultOptions
	for _, tc := range batchCases(t) {
		const nb = 6 // a block of four rows and a remainder of two
		xs := batchOf(rand.New(rand.NewPCG(23, 24)), nb, tc.in)
		tc.m.reserve(nb)
		zeroGrad(tc.m)
		var loss func() float64
		switch m := tc.m.(type) {
		case *ae:
			m.trainBatch(xs, nil, &o, 0)
			loss = func() float64 {
				var s float64
				for _, x := range xs {
					s += mse(m.net.forward(x, nil, nil), x, nil)
				}
				return s
			}
		case *vae:
			m.trainBatch(xs, rand.New(rand.NewPCG(25, 26)), &o, 0)
			eps := append([]float32(nil), m.eps...)
			loss = func() float64 { // the batch's training loss with the same ε
				var s float64
				L := m.latent
				z := make([]float32, L)
				for b, x := range xs {
					h := m.enc.forward(x, nil, nil)
					for i := range z {
						z[i] = h[i] + float32(math.Exp(0.5*float64(h[L+i])))*eps[b*L+i]
					}
					s += mse(m.dec.forward(z, nil, nil), x, nil) + m.beta*kl(h, L)/float64(len(x))
				}
				return s
			}
		}
		paramCheck(t, "batch "+tc.name, tc.m.nets(), loss)
	}
}

// TestBatchMatchesSamples: a batch's gradients, noise and dropout
// included, are bit-identical to those of its samples trained one at a
// time, the per-sample loop the batched passes replaced.
func TestBatchMatchesSamples(t *testing.T) {
	o := DefaultOptions
	o.Dropout, o.InputNoise = 0.2, 0.1
	for _, tc := range batchCases(t) {
		const nb = 7
		xs := batchOf(rand.New(rand.NewPCG(27, 28)), nb, tc.in)
		tc.m.reserve(nb)
		zeroGrad(tc.m)
		batchLoss := tc.m.trainBatch(xs, rand.New(rand.NewPCG(29, 30)), &o, 0)
		var batch [][]float32
		for _, n := range tc.m.nets() {
			for _, l := range n.layers {
				for _, tn := range l.tensors() {
					batch = append(batch, append([]float32(nil), tn.g...))
				}
			}
		}
		zeroGrad(tc.m)
		r := rand.New(rand.NewPCG(29, 30))
		var loss float64
		for _, x := range xs {
			loss = tc.m.trainBatch([][]float32{x}, r, &o, loss)
		}
		if loss != batchLoss {
			t.Errorf("%s: batch loss %v, one sample at a time %v", tc.name, batchLoss, loss)
		}
		i := 0
		for _, n := range tc.m.nets() {
			for li, l := range n.layers {
				for ti, tn := range l.tensors() {
					if d := firstDiff(tn.g, batch[i]); d >= 0 {
						t.Errorf("%s layer %d tensor %d: gradient %d is %v one at a time, %v batched", tc.name, li, ti, d, tn.g[d], batch[i][d])
					}
					i++
				}
			}
		}
	}
}

// TestTrainBatchAllocs: a training step allocates nothing once the
// buffers are reserved.
func TestTrainBatchAllocs(t *testing.T) {
	o := DefaultOptions
	o.Dropout, o.InputNoise = 0.1, 0.1
	for _, tc := range batchCases(t) {
		xs := batchOf(rand.New(rand.NewPCG(31, 32)), 32, tc.in)
		tc.m.reserve(len(xs))
		r := rand.New(rand.NewPCG(33, 34))
		if n := testing.AllocsPerRun(5, func() {
			zeroGrad(tc.m)
			tc.m.trainBatch(xs, r, &o, 0)
			tc.m.step(&o, 1, len(xs))
		}); n != 0 {
			t.Errorf("%s: a training step allocates %v times, want 0", tc.name, n)
		}
	}
}

func TestConvArchCheck(t *testing.T) {
	for _, tc := range []struct {
		arch ConvArch
		ok   bool
	}{
		{ConvArch{Window: 60, Filters: []int{32, 16}, Kernel: DefaultKernel, Stride: DefaultStride}, true},
		{ConvArch{Window: 2, Channels: 8, Filters: []int{8, 8, 8}, Kernel: DefaultKernel, Stride: DefaultStride}, true},
		{ConvArch{Window: 0, Filters: []int{8}, Kernel: 7, Stride: 2}, false},
		{ConvArch{Window: 60, Kernel: 7, Stride: 2}, false},
		{ConvArch{Window: 60, Filters: []int{8, 0}, Kernel: 7, Stride: 2}, false},
		{ConvArch{Window: 60, Filters: []int{8}, Kernel: 7, Stride: 0}, false},
	} {
		if err := tc.arch.Check(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v, want ok %v", tc.arch, err, tc.ok)
		}
	}
}
