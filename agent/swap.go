package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
)

// ModelSwap is a model to put in place of the running one.
type ModelSwap struct {
	Model     *infer.Autoencoder // over the pipeline's channels, in order
	Threshold float32
	ModelID   string
	Decision  decide.Params
	// Observe, if set, is called from the sampling loop with the outcome
	// of every sample the new model judges: scored is false when the
	// model failed or gave a non-finite score, raised is true when the
	// state turned to anomaly on it. It must not block; probation uses it.
	Observe func(scored, raised bool)
}

// swapReq is a ModelSwap on its way to Run's loop.
type swapReq struct {
	s    ModelSwap
	done chan error
}

// errNotRunning is Swap's error when Run is not processing samples.
var errNotRunning = errors.New("agent: the pipeline is not running")

// Swap replaces the running model between two samples, without stopping
// the source or losing a sample, and returns once it has (or ctx ends,
// or Run has returned: a Swap before Run waits for it).
//
// The decision state carries over: the state reported stays as it was
// (no alert is raised by the swap itself), and the new model, with its
// own threshold and decision, must judge afresh — a full feature window
// and then the decision's n verdicts — before the state can change, as
// after a restart. The new model's window fills from the next sample.
func (p *Pipeline) Swap(ctx context.Context, s ModelSwap) error {
	if s.Model == nil || s.Model.Channels() != len(p.o.Channels) {
		n := 0
		if s.Model != nil {
			n = s.Model.Channels()
		}
		return fmt.Errorf("agent: swap: a model of %d inputs for %d channels", n, len(p.o.Channels))
	}
	if _, err := decide.New(s.Threshold, s.Decision); err != nil {
		return fmt.Errorf("agent: swap: %w", err)
	}
	req := swapReq{s: s, done: make(chan error, 1)}
	select {
	case p.swaps <- req:
	case <-p.stopped:
		return errNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// Run applies it all the same; the caller stops waiting.
		return ctx.Err()
	}
}

// swap applies s in Run's loop.
func (p *Pipeline) swap(s ModelSwap) error {
	dec, err := decide.New(s.Threshold, s.Decision)
	if err != nil {
		return fmt.Errorf("agent: swap: %w", err)
	}
	if st := p.dec.State(); st != decide.Unknown {
		dec.Restore(st)
	}
	s.Model.Reset()
	p.dec, p.o.Model, p.o.Threshold, p.o.Decision = dec, s.Model, s.Threshold, s.Decision
	p.o.ModelID, p.observe = s.ModelID, s.Observe
	p.modelID.Store(&s.ModelID)
	p.o.Logger.Info("model swapped", "model", s.ModelID, "threshold", s.Threshold, "state", dec.State().String())
	return nil
}

// ModelID returns the id of the model scoring now; safe from any
// goroutine.
func (p *Pipeline) ModelID() string { return *p.modelID.Load() }

// observed reports a judged sample to the model's observer, if any.
func (p *Pipeline) observed(score float32, err error, raised bool) {
	if p.observe != nil {
		p.observe(err == nil && !math.IsNaN(float64(score)) && !math.IsInf(float64(score), 0), raised)
	}
}

// Ping reports whether Run's loop answers within timeout: it is alive,
// not stuck in a read, a step or a swap. The systemd watchdog uses it.
func (p *Pipeline) Ping(timeout time.Duration) bool {
	reply := make(chan struct{})
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case p.pings <- reply:
	case <-p.stopped:
		return false
	case <-t.C:
		return false
	}
	select {
	case <-reply:
		return true
	case <-t.C:
		return false
	}
}
