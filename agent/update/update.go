package update

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
)

// Results reported in Status.Result.
const (
	Probation = "probation"   // installed and scoring; not yet committed
	Installed = "installed"   // committed after probation
	Current   = "current"     // the file is the model already running
	Rejected  = "rejected"    // refused before install: Reason says which check
	Reverted  = "rolled-back" // failed probation (or an operator rollback)
)

// Status is what the agent answers on model/status.
type Status struct {
	Result  string    `json:"result"`
	Model   string    `json:"model,omitempty"`   // the id of the file the answer is about
	Version uint64    `json:"version,omitempty"` // its version
	Reason  string    `json:"reason,omitempty"`
	From    string    `json:"from,omitempty"`   // where the file came from: mqtt, a drop-directory file, local
	Active  string    `json:"active,omitempty"` // the id of the model now running
	Time    time.Time `json:"time"`
}

// Request is a model file to install, or a rollback.
type Request struct {
	Data []byte
	From string
	// Rollback with no Data asks to go back to the other slot's model;
	// with Data it allows a version not newer than the installed one.
	Rollback bool
	// Err, if set, is why the file could not even be read: the request
	// is answered as rejected with it.
	Err error
}

// Options configure a Manager. Store, Load, Swap and Report are required.
type Options struct {
	Store *slots.Store
	// Load decodes and verifies a file as the agent does at start (its
	// trusted keys, format and size limits).
	Load func(data []byte) (*firmware.Loaded, error)
	// Compat is the installation models must fit; Installed is filled in.
	Compat firmware.Compat
	// Probation sets what a new model must pass before it is committed.
	Probation slots.ProbationOptions
	// Swap puts l in place of the running model; observe (nil for a
	// model not on probation) receives every judged sample's outcome from
	// the sampling loop.
	Swap func(ctx context.Context, l *firmware.Loaded, observe func(scored, raised bool)) error
	// Report receives every outcome, in order.
	Report func(Status)
	Logger *slog.Logger
	Now    func() time.Time
}

// Manager owns the model store while the agent runs: one goroutine (Run)
// handles requests one at a time.
type Manager struct {
	o        Options
	reqs     chan Request
	verdicts chan verdict
	active   *firmware.Loaded
	trial    *slots.Probation // the running probation, nil if none
	trialOf  *firmware.Loaded
	trialReq Request
}

// verdict is a probation's outcome, sent from the sampling loop.
type verdict struct {
	p *slots.Probation
	v slots.Verdict
}

// New returns a Manager for the model active now (running in the
// pipeline); a model still on trial in the store goes on probation again
// when Run starts.
func New(active *firmware.Loaded, o Options) (*Manager, error) {
	if o.Store == nil || o.Load == nil || o.Swap == nil || o.Report == nil || active == nil {
		return nil, errors.New("update: store, load, swap, report and the active model are required")
	}
	if _, err := slots.NewProbation(o.Probation); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{o: o, reqs: make(chan Request, 4), verdicts: make(chan verdict, 4), active: active}, nil
}

// Submit queues r without waiting; it reports false (and the request is
// answered as rejected) when four requests are already waiting.
func (m *Manager) Submit(r Request) bool {
	select {
	case m.reqs <- r:
		return true
	default:
		m.report(Status{Result: Rejected, From: r.From, Reason: "busy: four requests are already waiting"})
		return false
	}
}

// Run handles requests and probation verdicts until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	if m.o.Store.Status().Trial {
		m.startProbation(ctx, m.active, Request{From: "restart"})
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-m.reqs:
			m.handle(ctx, r)
		case v := <-m.verdicts:
			if v.p == m.trial { // not a probation ended otherwise
				m.finish(ctx, v.v)
			}
		}
	}
}

// handle installs (or rolls back) one request and reports the outcome.
func (m *Manager) handle(ctx context.Context, r Request) {
	if r.Err != nil {
		m.report(Status{Result: Rejected, From: r.From, Reason: r.Err.Error()})
		return
	}
	if r.Rollback && r.Data == nil {
		m.rollback(ctx, r)
		return
	}
	reject := func(id string, version uint64, err error) {
		m.report(Status{Result: Rejected, Model: id, Version: version, From: r.From, Reason: err.Error()})
	}
	l, err := m.o.Load(r.Data)
	if err != nil {
		reject("", 0, err)
		return
	}
	if l.ID == m.active.ID {
		// A repeated delivery (MQTT is at least once) or a second push.
		m.report(Status{Result: Current, Model: l.ID, Version: l.Model.Version, From: r.From})
		return
	}
	if m.trial != nil {
		reject(l.ID, l.Model.Version, fmt.Errorf("busy: model %s is on probation; try again once it is committed or rolled back", m.trialOf.ID))
		return
	}
	c := m.o.Compat
	c.Installed, c.AllowRollback = m.active.Model, r.Rollback
	if err := l.Compatible(c); err != nil {
		reject(l.ID, l.Model.Version, err)
		return
	}
	if _, err := m.o.Store.Install(r.Data, slots.InstallOptions{AllowRollback: r.Rollback}); err != nil {
		reject(l.ID, l.Model.Version, err)
		return
	}
	if _, err := m.o.Store.Activate(); err != nil {
		reject(l.ID, l.Model.Version, err)
		return
	}
	m.startProbation(ctx, l, r)
}

// startProbation swaps l in with an observer and reports it on probation.
func (m *Manager) startProbation(ctx context.Context, l *firmware.Loaded, r Request) {
	p, _ := slots.NewProbation(m.o.Probation) // checked by New
	verdicts := m.verdicts
	sent := false
	observe := func(scored, raised bool) {
		if v := p.Observe(scored, raised); v != slots.Running && !sent {
			sent = true
			select { // never blocks the sampling loop; Run drains it
			case verdicts <- verdict{p, v}:
			default:
			}
		}
	}
	prev := m.active
	if err := m.o.Swap(ctx, l, observe); err != nil {
		if ctx.Err() != nil {
			// Stopping: the store keeps the model on trial, and the next
			// start goes back to the committed one (slots.Open).
			return
		}
		m.revert(ctx, prev, l, r, "could not be put in place: "+err.Error())
		return
	}
	m.active, m.trial, m.trialOf, m.trialReq = l, p, l, r
	m.report(Status{Result: Probation, Model: l.ID, Version: l.Model.Version, From: r.From,
		Reason: fmt.Sprintf("scoring %d samples before it is committed", m.o.Probation.Samples)})
}

// finish ends the running probation with its verdict.
func (m *Manager) finish(ctx context.Context, v slots.Verdict) {
	if m.trial == nil {
		return
	}
	l, r, p := m.trialOf, m.trialReq, m.trial
	m.trial, m.trialOf = nil, nil
	if v == slots.Passed {
		if err := m.o.Store.Commit(); err != nil {
			m.o.Logger.Error("model store: commit failed; the model stays on trial until the next start", "model", l.ID, "err", err)
			return
		}
		m.report(Status{Result: Installed, Model: l.ID, Version: l.Model.Version, From: r.From})
		return
	}
	m.revert(ctx, nil, l, r, "failed probation: "+p.Reason())
}

// revert goes back to the committed model after l failed, and reports why.
func (m *Manager) revert(ctx context.Context, prev, l *firmware.Loaded, r Request, why string) {
	if _, err := m.o.Store.Revert(why); err != nil {
		m.o.Logger.Error("model store: revert failed", "model", l.ID, "err", err)
	}
	back := prev
	if back == nil {
		var err error
		if back, err = m.loadActive(); err != nil {
			m.o.Logger.Error("model store: the model reverted to does not load; keeping the failed one", "err", err)
			m.report(Status{Result: Reverted, Model: l.ID, Version: l.Model.Version, From: r.From, Reason: why + "; and the previous model does not load: " + err.Error()})
			return
		}
	}
	if err := m.o.Swap(ctx, back, nil); err != nil {
		m.o.Logger.Error("swapping the previous model back in failed", "err", err)
	}
	m.active = back
	m.report(Status{Result: Reverted, Model: l.ID, Version: l.Model.Version, From: r.From, Reason: why})
}

// rollback is the operator's explicit return to the other slot's model.
func (m *Manager) rollback(ctx context.Context, r Request) {
	if m.trial != nil {
		l := m.trialOf
		m.trial, m.trialOf = nil, nil
		m.revert(ctx, nil, l, r, "rolled back by the operator during probation")
		return
	}
	if _, err := m.o.Store.Rollback(); err != nil {
		m.report(Status{Result: Rejected, From: r.From, Reason: "rollback: " + err.Error()})
		return
	}
	l, err := m.loadActive()
	if err != nil {
		m.report(Status{Result: Rejected, From: r.From, Reason: "rollback: " + err.Error()})
		return
	}
	from := m.active
	if err := m.o.Swap(ctx, l, nil); err != nil {
		m.report(Status{Result: Rejected, From: r.From, Reason: "rollback: " + err.Error()})
		return
	}
	m.active = l
	m.report(Status{Result: Reverted, Model: from.ID, Version: from.Model.Version, From: r.From, Reason: "rolled back by the operator to " + l.ID})
}

// loadActive loads the store's active model.
func (m *Manager) loadActive() (*firmware.Loaded, error) {
	_, data, err := m.o.Store.Active()
	if err != nil {
		return nil, err
	}
	return m.o.Load(data)
}

// report stamps s, logs it and hands it to Options.Report.
func (m *Manager) report(s Status) {
	s.Time = m.o.Now().UTC()
	if m.active != nil {
		s.Active = m.active.ID
	}
	log := m.o.Logger.Info
	if s.Result == Rejected || s.Result == Reverted {
		log = m.o.Logger.Warn
	}
	log("model update", "result", s.Result, "model", s.Model, "version", s.Version, "from", s.From, "reason", s.Reason, "active", s.Active)
	m.o.Report(s)
}
