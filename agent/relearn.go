package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
	"github.com/vigil-edge/vigil/infer/train"
)

// TopicModelRelearn takes a crew's request to re-baseline: to learn the
// machine's normal afresh from the samples that follow (a new stable
// operating state, after maintenance or an acknowledged alarm). Payload:
// RelearnRequest.
const TopicModelRelearn = "model/relearn"

// Learning is the model/status result while a re-baselining records and
// trains; Reason says how far it is.
const Learning = "learning"

// RelearnRequest is the payload of <prefix>model/relearn: who asks, and
// why. Both are logged and carried in every answer.
type RelearnRequest struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// relearner re-baselines a running agent: it records the next samples
// the pipeline scores (the running model keeps deciding all the while, so
// a fault in progress is still reported), trains model.learn's recipe on
// them, and submits the result to the update manager, which puts it on
// probation and rolls it back if it fails.
type relearner struct {
	cfg   *config.Config
	lo    firmware.LoadOptions
	key   *firmware.PrivateKey
	p     *Pipeline
	mgr   *update.Manager
	store *slots.Store
	// report publishes an answer on model/status; it runs on the
	// sampling loop too, so it must not block.
	report func(update.Status)
	log    *slog.Logger
	now    func() time.Time
	busy   atomic.Bool
	wg     sync.WaitGroup
}

// request handles one model/relearn payload: it starts a re-baselining
// in the background unless one is running or the request is malformed.
func (r *relearner) request(ctx context.Context, payload []byte) {
	var req RelearnRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || strings.TrimSpace(req.By) == "" {
		r.answer(update.Rejected, fmt.Sprintf(`%s: want {"by": "who asks", "reason": "why"} (by is required)`, TopicModelRelearn))
		return
	}
	if !r.busy.CompareAndSwap(false, true) {
		r.answer(update.Rejected, "busy: a re-baselining is already under way")
		return
	}
	r.log.Warn("re-baselining: learning the machine's normal afresh from the next samples", "by", req.By, "reason", req.Reason)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.busy.Store(false)
		if err := r.run(ctx, req); err != nil {
			r.log.Error("re-baselining failed", "err", err, "by", req.By)
			r.answer(update.Rejected, fmt.Sprintf("re-baselining asked by %s: %v", req.By, err))
		}
	}()
}

// answer publishes a model/status answer about the re-baselining.
func (r *relearner) answer(result, reason string) {
	r.report(update.Status{Result: result, From: "relearn", Reason: reason, Time: r.now().UTC()})
}

// run records, trains and submits.
func (r *relearner) run(ctx context.Context, req RelearnRequest) error {
	lc := r.cfg.Model.Learn
	who := fmt.Sprintf("asked by %s (%s)", req.By, req.Reason)
	done := make(chan struct{})
	rec := &recorder{lc: lc, progress: func(n, skipped int, frac float64) {
		r.answer(Learning, fmt.Sprintf("recording: %d samples (%.0f %%), %d skipped; %s", n, 100*frac, skipped, who))
	}}
	var once sync.Once
	if !r.p.SetTap(func(t time.Time, v []float32) bool {
		more := rec.add(t, v)
		if !more {
			once.Do(func() { close(done) })
		}
		return more
	}) {
		return fmt.Errorf("the sampling loop is already recording")
	}
	select {
	case <-done:
	case <-ctx.Done():
		r.p.ClearTap()
		return ctx.Err()
	}
	recording, err := rec.recording(r.cfg.Channels, "re-baselined on the gateway, "+who)
	if err != nil {
		return err
	}
	version := r.store.Status().Active.Version + 1
	b, m, _, err := fitLearnt(ctx, r.cfg, r.lo, r.key, recording, version, r.now(), func(e train.Epoch, network, networks int) {
		of := ""
		if networks > 1 {
			of = fmt.Sprintf(" of network %d of %d", network, networks)
		}
		r.answer(Learning, fmt.Sprintf("training: epoch %d of at most %d%s; %s", e.N, e.Of, of, who))
	})
	if err != nil {
		return err
	}
	r.log.Info("re-baselining: model learnt; submitting it for probation", "version", version, "threshold", m.Threshold.Value, "by", req.By)
	if !r.mgr.Submit(update.Request{Data: b, From: "relearn"}) {
		return fmt.Errorf("the update queue is full")
	}
	return nil
}
