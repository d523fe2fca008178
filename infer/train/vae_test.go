package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vigil-edge/vigil/infer"
)

// paramCheck compares the gradients trainStep accumulated with central
// finite differences of loss() over every parameter of nets.
func paramCheck(t *testing.T, name string, nets []*network, loss func() float64) {
	t.Helper()
	const h = 1e-2
	for ni, n := range nets {
		for li, l := range n.layers {
			for ti, tn := range l.tensors() {
				for j := range tn.w {
					old := tn.w[j]
					tn.w[j] = old + h
					up := loss()
					tn.w[j] = old - h
					down := loss()
					tn.w[j] = old
					num := (up - down) / (2 * h)
					if g := float64(tn.g[j]); math.Abs(num-g) > 2e-3+2e-2*math.Abs(num) {
						t.Errorf("%s net %d layer %d tensor %d param %d: gradient %v, finite difference %v", name, ni, li, ti, j, g, num)
					}
				}
			}
		}
	}
}

// The VAE's gradients — through the decoder, the reparameterisation and
// the KL term — match finite differences for a fixed ε.
func TestVAEGradientCheck(t *testing.T) {
	for _, loss := range []Loss{MSE, BCE} {
		o := DefaultOptions
		o.Hidden, o.Activation, o.Output, o.Loss = []int{5}, infer.Tanh, infer.Sigmoid, loss
		o.VAE = &VAEArch{Latent: 2, Beta: 0.7}
		v := newVAE(rand.New(rand.NewPCG(1, 2)), 4, &o)
		x := []float32{0.2, 0.9, 0.4, 0.6}
		zeroGrad(v)
		v.trainStep(x, rand.New(rand.NewPCG(3, 4)), &o)
		eps := append([]float32(nil), v.eps...)
		lossAt := func() float64 { // the training loss with the same ε
			h := v.enc.forward(x, nil, nil)
			z := make([]float32, v.latent)
			for i := range z {
				z[i] = h[i] + float32(math.Exp(0.5*float64(h[v.latent+i])))*eps[i]
			}
			g := make([]float32, len(x))
			return reconLoss(loss, v.dec.forward(z, nil, nil), x, g, 1) + v.beta*kl(h, v.latent)/float64(len(x))
		}
		paramCheck(t, "vae "+string(loss), v.nets(), lossAt)
	}
}

// BCE's gradient through a sigmoid output matches finite differences.
func TestBCEGradientCheck(t *testing.T) {
	o := DefaultOptions
	o.Loss = BCE
	a := &ae{newNetwork(denseLayers(rand.New(rand.NewPCG(5, 6)), []int{3, 4, 3}, infer.ELU, infer.Sigmoid), 0)}
	x := []float32{0.1, 0.5, 1}
	zeroGrad(a)
	a.trainStep(x, nil, &o)
	paramCheck(t, "bce", a.nets(), func() float64 {
		return reconLoss(BCE, a.net.forward(x, nil, nil), x, make([]float32, 3), 1)
	})
}

// A VAE learns the structured rows, and infer scores its layers exactly
// as training calibrated them.
func TestVAETrains(t *testing.T) {
	rows := structured(2000, 6)
	o := fastOptions()
	o.Hidden = []int{16, 8}
	o.VAE = &VAEArch{Latent: 2, Beta: 0.1}
	o.Epochs = 40
	res, err := Autoencoder(context.Background(), rows, o)
	if err != nil {
		t.Fatal(err)
	}
	if first, best := res.History[0].Val, res.History[res.BestEpoch-1].Val; best > first/3 {
		t.Errorf("VAE validation loss %v → %v, want at least 3× lower", first, best)
	}
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: identity(6), Layers: res.Layers, Decoder: res.Decoder, KLWeight: res.KLWeight})
	if err != nil {
		t.Fatal(err)
	}
	val := rows[len(rows)-res.ValRows:]
	for i := 0; i < 10; i++ {
		if s := ae.ScoreFeatures(val[i], nil); math.Abs(float64(s-res.ValScores[i])) > 1e-5*(1+math.Abs(float64(s))) {
			t.Errorf("row %d: infer %v, training %v", i, s, res.ValScores[i])
		}
	}
	cal, _ := MeanKSigma(res.ValScores, 3)
	if s := ae.ScoreFeatures([]float32{1, 1, -2, 0, 0.5, -1}, nil); float64(s) < 2*cal.Threshold {
		t.Errorf("anomalous row scores %v, threshold %v: want well above", s, cal.Threshold)
	}
	o.VAE = &VAEArch{Latent: 0}
	if _, err := Autoencoder(context.Background(), rows, o); err == nil {
		t.Error("a VAE with latent size 0 was accepted")
	}
}
