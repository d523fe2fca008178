package agent

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// A model swapped in while samples flow: no sample is lost, the state
// carries over without an alert of its own, and the new model (here one
// that finds every ordinary sample far out) decides afresh; its observer
// sees every sample it judged.
func TestSwap(t *testing.T) {
	r := startRig(t, "vigil/test/pump/", "")
	col := collect(t, r.url, "vigil/test/pump/#")
	col.wait(t, "status", 1)
	pr, pw := io.Pipe()
	src, err := serial.NewReader(pr, serial.Opts{Device: "pipe", Channels: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(r.options(t, src, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	row := 0
	write := func(n int) {
		for range n {
			fmt.Fprintf(pw, "2024-01-01 00:%02d:%02d;0;0\n", row/60, row%60)
			row++
		}
	}
	fmt.Fprintln(pw, "datetime;a;b")
	write(10)
	waitState(t, p, decide.Normal)
	for deadline := time.Now().Add(10 * time.Second); p.Stats().Samples < 10; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 10 samples processed in 10 s", p.Stats().Samples)
		}
	}

	sc := infer.Scaler{Center: []float32{10, 10}, Scale: []float32{1, 1}}
	shifted, err := infer.NewAutoencoder(infer.Config{Scaler: sc, Layers: infer.DenseLayers([]infer.Dense{{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 2)}})})
	if err != nil {
		t.Fatal(err)
	}
	var scored, failed, raised atomic.Int64
	err = p.Swap(ctx, ModelSwap{Model: shifted, Threshold: 4, ModelID: "m2", Decision: decide.Params{K: 3, N: 5},
		Observe: func(ok, up bool) {
			if ok {
				scored.Add(1)
			} else {
				failed.Add(1)
			}
			if up {
				raised.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if p.State() != decide.Normal || p.ModelID() != "m2" {
		t.Fatalf("after the swap: state %v model %q, want normal (carried over) and m2", p.State(), p.ModelID())
	}
	write(10)
	waitState(t, p, decide.Anomaly)
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Samples; got != 20 {
		t.Errorf("%d samples processed, want all 20", got)
	}
	if scored.Load() != 10 || failed.Load() != 0 || raised.Load() != 1 {
		t.Errorf("observer saw %d scored, %d failed, %d raised; want 10, 0, 1", scored.Load(), failed.Load(), raised.Load())
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 1))
	if transitions(alerts) != "normal>anomaly" || alerts[0].Model != "m2" {
		t.Errorf("alerts %q from model %q; want one, normal>anomaly, from m2 (the swap raises none)", transitions(alerts), alerts[0].Model)
	}
	// Refused before it reaches the loop: a model of the wrong width, and
	// a swap after Run has returned.
	if err := p.Swap(context.Background(), ModelSwap{Model: zscoreModel(t, 3), Threshold: 1, Decision: decide.Params{K: 1, N: 1}}); err == nil {
		t.Error("a 3-input model swapped into a 2-channel pipeline")
	}
	if err := p.Swap(context.Background(), ModelSwap{Model: zscoreModel(t, 2), Threshold: 1, Decision: decide.Params{K: 1, N: 1}}); err != errNotRunning {
		t.Errorf("swap after Run: %v, want %v", err, errNotRunning)
	}
}

// waitState waits up to 10 s for p's state.
func waitState(t *testing.T, p *Pipeline, want decide.State) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); p.State() != want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("state %v, want %v within 10 s", p.State(), want)
		}
	}
}
