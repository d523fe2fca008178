package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/health"
)

// PipelineOptions configure NewPipeline. All fields are required unless
// marked optional.
type PipelineOptions struct {
	Source sensors.Source // its Channels must equal Channels
	Model  *infer.Autoencoder
	// Channels are the model's channel names, in model input order.
	Channels  []string
	Threshold float32
	ModelID   string
	// Decision is the debounce, hysteresis, delays and gap rule.
	Decision decide.Params
	Top      int // contributing channels named in messages, >= 1
	// ScoreInterval is the least time between score messages; 0 = none.
	ScoreInterval time.Duration
	// Outbox receives every state change and alert, durably, before Step
	// returns; the publish.Sender delivers them.
	Outbox *outbox.Outbox
	// Health checks each sample's channels (range, stuck) before scoring;
	// a faulty sample is a sensor fault naming them (optional).
	Health *health.Checker
	// Telemetry takes a QoS 0 score message without waiting and reports
	// whether it was queued (optional; publish.Sender.Telemetry).
	Telemetry func(topic string, payload []byte) bool
	// Site and Device are named in every message.
	Site, Device string
	// AlertPrefix makes alert ids unique across agents and restarts.
	AlertPrefix string
	// StaleAfter is how long Run waits for a sample before the state
	// becomes stale; 0 means 10 sample periods as measured, at least 5 s
	// (30 s until a period is measured).
	StaleAfter time.Duration
	// Inference, if set, receives the time each Push took (the status
	// server's histogram); it must not allocate.
	Inference func(time.Duration)
	Now       func() time.Time // optional; default time.Now
	Logger    *slog.Logger     // optional
}

// The automatic stale timeout is StalePeriods sample periods, at least
// MinStale, and StartupStale until two samples have measured a period.
const (
	MinStale     = 5 * time.Second
	StalePeriods = 10
	StartupStale = 30 * time.Second
)

// Pipeline reads samples, scores them and queues decisions. Run and Step
// are not safe for concurrent use; State, Counts and the other accessors
// are.
type Pipeline struct {
	o      PipelineOptions
	dec    *decide.Decider
	bufs   [2]sensors.Sample
	per    []float32
	shares []infer.Share
	fault  []int

	lastPub    time.Time
	lastSample time.Time // sample time of the last sample read
	lastArr    time.Time // arrival (clock) time of the last sample
	period     time.Duration
	alertSeq   uint64

	state       atomic.Uint32 // decide.State, for other goroutines
	samples     atomic.Uint64
	tap         atomic.Pointer[Tap]
	faults      atomic.Uint64
	stales      atomic.Uint64
	notDurable  atomic.Uint64
	alertsLost  atomic.Uint64
	lastWarnNDR time.Time

	swaps     chan swapReq              // models for Run to put in place
	pings     chan chan struct{}        // liveness checks answered by Run's loop
	stopped   chan struct{}             // closed when Run returns
	observe   func(scored, raised bool) // the running model's observer
	modelID   atomic.Pointer[string]    // the running model's id, for other goroutines
	arrivedNs atomic.Int64              // clock time of the last sample, Unix ns
	staleNs   atomic.Int64              // staleAfter(), for other goroutines
	live      live                      // the last scored sample, for the status page
}

// NewPipeline checks o, allocates every per-sample buffer and restores
// the state an earlier run left in the outbox, so a restart that finds a
// different state raises the alert that clears or confirms it.
func NewPipeline(o PipelineOptions) (*Pipeline, error) {
	if o.Source == nil || o.Model == nil || o.Outbox == nil {
		return nil, errors.New("agent: pipeline needs a source, a model and an outbox")
	}
	if err := CheckChannels(o.Channels, o.Source.Channels()); err != nil {
		return nil, fmt.Errorf("agent: source: %w", err)
	}
	if len(o.Source.Channels()) != len(o.Channels) {
		return nil, fmt.Errorf("agent: the source gives %d channels, the model wants %d (a channel listed twice?)", len(o.Source.Channels()), len(o.Channels))
	}
	for i, name := range o.Source.Channels() {
		if name != o.Channels[i] {
			return nil, fmt.Errorf("agent: source gives channel %q at position %d, the model wants %q", name, i, o.Channels[i])
		}
	}
	if len(o.Channels) != o.Model.Channels() {
		return nil, fmt.Errorf("agent: %d channel names for a model of %d inputs", len(o.Channels), o.Model.Channels())
	}
	if o.Top < 1 {
		return nil, fmt.Errorf("agent: top %d: want at least 1 channel named in messages", o.Top)
	}
	dec, err := decide.New(o.Threshold, o.Decision)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if o.StaleAfter < 0 {
		return nil, fmt.Errorf("agent: stale after %v: want 0 (automatic) or more", o.StaleAfter)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := len(o.Channels)
	p := &Pipeline{
		o:       o,
		dec:     dec,
		per:     make([]float32, c),
		shares:  make([]infer.Share, 0, min(o.Top, c)),
		fault:   make([]int, 0, c),
		swaps:   make(chan swapReq),
		pings:   make(chan chan struct{}),
		stopped: make(chan struct{}),
	}
	p.modelID.Store(&o.ModelID)
	for i := range p.bufs {
		p.bufs[i].Values = make([]float32, c)
	}
	p.live = live{values: make([]float32, c), per: make([]float32, c), score: float32(math.NaN()), threshold: o.Threshold,
		enter: p.dec.Params().Enter, exit: p.dec.Params().Exit}
	p.alertSeq = o.Outbox.LastAlertSeq()
	if b := o.Outbox.LastState(); b != nil {
		if st, since, err := lastState(b); err != nil {
			o.Logger.Warn("outbox: the last state stored is unreadable; starting afresh", "err", err)
		} else if st != decide.Unknown {
			dec.Restore(st)
			o.Logger.Info("restored the last state", "state", st.String(), "since", since)
		}
	}
	p.state.Store(uint32(dec.State()))
	return p, nil
}

// lastState decodes a stored state message.
func lastState(b []byte) (decide.State, time.Time, error) {
	var m StateMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return decide.Unknown, time.Time{}, err
	}
	st, err := decide.ParseState(m.State)
	return st, m.Since, err
}

// CheckChannels reports, by name, how the model's channels and the
// configured ones differ; nil if they are the same set.
func CheckChannels(model, configured []string) error {
	var lack, extra []string
	for _, m := range model {
		if !slices.Contains(configured, m) {
			lack = append(lack, m)
		}
	}
	for _, c := range configured {
		if !slices.Contains(model, c) {
			extra = append(extra, c)
		}
	}
	if lack == nil && extra == nil {
		return nil
	}
	msg := "model channels differ from the configured channels:"
	if lack != nil {
		msg += fmt.Sprintf(" the model needs %q, which the configuration lacks;", lack)
	}
	if extra != nil {
		msg += fmt.Sprintf(" the configuration lists %q, which the model does not use;", extra)
	}
	return errors.New(msg[:len(msg)-1])
}

// Run processes samples until ctx ends (returns nil), the source is
// exhausted (nil) or the source fails (the error). A reader goroutine
// reads the source into two alternating buffers, so Run can notice a
// source that delivers nothing: after StaleAfter without a sample the
// state becomes stale, and leaves it once samples return. A source whose
// device went away (an error wrapping sensors.ErrAbsent) is a sensor
// fault naming the source, and is read again: it reopens the device.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer close(p.stopped)
	type event struct {
		buf int   // the buffer read, or returned with err
		err error // nil, an ErrAbsent error, or the end (buf -1)
	}
	free := make(chan int, len(p.bufs))
	events := make(chan event, len(p.bufs))
	for i := range p.bufs {
		free <- i
	}
	go func() {
		for {
			var i int
			select {
			case i = <-free:
			case <-ctx.Done():
				return
			}
			err := p.o.Source.Read(ctx, &p.bufs[i])
			switch {
			case err == nil || errors.Is(err, sensors.ErrAbsent):
				events <- event{i, err}
			default:
				events <- event{-1, err}
				return
			}
		}
	}()
	timer := time.NewTimer(p.staleAfter())
	defer timer.Stop()
	for {
		select {
		case ev := <-events:
			switch {
			case ev.err == nil:
				p.arrived()
				p.Step(&p.bufs[ev.buf])
			case ev.buf >= 0:
				p.Absent(ev.err)
			case ctx.Err() != nil:
				return nil
			case errors.Is(ev.err, io.EOF):
				p.o.Logger.Info("source exhausted", "samples", p.samples.Load())
				return nil
			default:
				return fmt.Errorf("agent: reading samples: %w", ev.err)
			}
			free <- ev.buf
			timer.Reset(p.staleAfter())
		case <-timer.C:
			p.Stale()
			timer.Reset(p.staleAfter())
		case req := <-p.swaps:
			req.done <- p.swap(req.s)
		case reply := <-p.pings:
			close(reply)
		case <-ctx.Done():
			return nil
		}
	}
}

// Absent records that the source's device went away (err says how): the
// state becomes sensor-fault for every channel, with err as the reason,
// and the window restarts.
func (p *Pipeline) Absent(err error) {
	p.faults.Add(1)
	p.o.Model.Reset()
	prev := p.dec.State()
	if !p.dec.Fault(p.lastSample) {
		return
	}
	p.changedFor(prev, p.lastSample, nil, math.NaN(), err.Error())
}

// arrived measures the sample period from arrival times (a moving
// average), for the automatic stale timeout. An interval longer than the
// timeout is an outage, already reported, not a period.
func (p *Pipeline) arrived() {
	now := p.o.Now()
	if !p.lastArr.IsZero() {
		switch d := now.Sub(p.lastArr); {
		case p.period == 0:
			p.period = d
		case d <= p.staleAfter():
			p.period += (d - p.period) / 8
		}
	}
	p.lastArr = now
	p.arrivedNs.Store(now.UnixNano())
	p.staleNs.Store(int64(p.staleAfter()))
}

// staleAfter is the configured timeout; else StalePeriods measured
// periods, at least MinStale; StartupStale until a period is known.
func (p *Pipeline) staleAfter() time.Duration {
	switch {
	case p.o.StaleAfter > 0:
		return p.o.StaleAfter
	case p.period == 0:
		return StartupStale
	}
	return max(MinStale, StalePeriods*p.period)
}

// Tap receives, on the sampling loop, every sample that passed the
// sensor checks and goes to the model; it must not keep values, and it
// is removed once it returns false.
type Tap func(t time.Time, values []float32) (more bool)

// SetTap installs t and reports true, or reports false if a tap is
// installed already.
func (p *Pipeline) SetTap(t Tap) bool { return p.tap.CompareAndSwap(nil, &t) }

// ClearTap removes the tap, if any.
func (p *Pipeline) ClearTap() { p.tap.Store(nil) }

// Step scores one sample (values in model channel order) and queues what
// it changes. It allocates only when it builds a message (or its tap
// does: re-baselining for a duration, not a count of samples).
func (p *Pipeline) Step(s *sensors.Sample) {
	p.samples.Add(1)
	if p.dec.Next(s.Time) {
		// A gap in sample time longer than the decision's gap rule: the
		// source was silent, as if stale, and the window would join two
		// unrelated stretches. vigil eval replays gaps the same way.
		p.o.Model.Reset()
		p.stale("a gap in sample time", p.lastSample)
	}
	p.lastSample = s.Time
	prev := p.dec.State()
	if p.o.Health != nil && p.o.Health.Check(s) > 0 {
		// Never scored: the model would blame the machine.
		p.faults.Add(1)
		p.o.Model.Reset()
		if p.dec.Fault(s.Time) {
			p.healthFault(prev, s.Time)
		}
		return
	}
	if tp := p.tap.Load(); tp != nil && !(*tp)(s.Time, s.Values) {
		p.tap.CompareAndSwap(tp, nil)
	}
	var t0 time.Time
	if p.o.Inference != nil {
		t0 = time.Now()
	}
	score, ready, err := p.o.Model.Push(s.Values, p.per)
	if p.o.Inference != nil {
		p.o.Inference(time.Since(t0))
	}
	if err != nil {
		p.faults.Add(1)
		p.observed(score, err, false)
		if p.dec.Fault(s.Time) {
			p.changed(prev, s.Time, s.Values, math.NaN())
		}
		return
	}
	if !ready { // a windowed model between scores
		return
	}
	st, changed := p.dec.Observe(s.Time, score)
	p.observed(score, nil, changed && st == decide.Anomaly)
	p.live.record(s, p.per, score, p.o.Threshold, p.dec.Params())
	if changed {
		p.changed(prev, s.Time, s.Values, float64(score))
	}
	if p.o.Telemetry != nil && p.o.ScoreInterval > 0 && st != decide.Unknown {
		if now := p.o.Now(); now.Sub(p.lastPub) >= p.o.ScoreInterval {
			p.lastPub = now
			b, _ := json.Marshal(ScoreMessage{Score: jsonScore(float64(score)), Threshold: float64(p.o.Threshold),
				State: st.String(), Site: p.o.Site, Device: p.o.Device, Time: now})
			p.o.Telemetry(publish.TopicScore, b)
		}
	}
}

// Stale records that no sample arrived in time; the state becomes stale
// (once) and the alert is queued. Run calls it; it is exported for
// drivers of Step.
func (p *Pipeline) Stale() { p.stale("no sample within "+p.staleAfter().String(), p.lastSample) }

func (p *Pipeline) stale(why string, at time.Time) {
	prev := p.dec.State()
	if !p.dec.Stale() {
		return
	}
	p.stales.Add(1)
	p.o.Logger.Warn("source stale", "why", why, "last_sample", p.lastSample)
	p.changedFor(prev, at, nil, math.NaN(), why)
}

// State returns the current debounced state. It is safe for concurrent
// use.
func (p *Pipeline) State() decide.State { return decide.State(p.state.Load()) }

// Counts returns how many samples were processed and how many of them
// could not be scored (sensor faults). It is safe for concurrent use.
func (p *Pipeline) Counts() (samples, faults uint64) { return p.samples.Load(), p.faults.Load() }

// PipelineStats are a pipeline's running totals, for logs and metrics.
type PipelineStats struct {
	Samples    uint64 // samples read
	Faults     uint64 // samples that could not be scored
	Stales     uint64 // times the source went stale
	NotDurable uint64 // state changes held in memory only (the disk failing)
	AlertsLost uint64 // alerts the outbox had no room for
}

// Stats returns the running totals. It is safe for concurrent use.
func (p *Pipeline) Stats() PipelineStats {
	return PipelineStats{Samples: p.samples.Load(), Faults: p.faults.Load(), Stales: p.stales.Load(),
		NotDurable: p.notDurable.Load(), AlertsLost: p.alertsLost.Load()}
}

// healthFault reports the health checker's faults as the sensor fault.
func (p *Pipeline) healthFault(prev decide.State, at time.Time) {
	faults := p.o.Health.Faults()
	names := make([]string, len(faults))
	for i, f := range faults {
		names[i] = p.o.Channels[f.Channel]
	}
	p.changedFor(prev, at, nil, math.NaN(), p.o.Health.Describe(faults), names...)
}

// changed queues the retained state and, unless the agent just learnt
// at start-up that the machine is normal, an alert. values are the
// sample's (nil when stale); score is NaN without one.
func (p *Pipeline) changed(prev decide.State, sampleTime time.Time, values []float32, score float64) {
	p.changedFor(prev, sampleTime, values, score, "")
}

// changedFor is changed with the reason for a sensor fault or stale
// state ("" derives it) and, for a sensor fault found by other means than
// values, the faulty channels (none: every channel).
func (p *Pipeline) changedFor(prev decide.State, sampleTime time.Time, values []float32, score float64, reason string, faulty ...string) {
	now := p.o.Now().UTC()
	st := p.dec.State()
	p.state.Store(uint32(st))
	msg := StateMessage{
		State:      st.String(),
		Site:       p.o.Site,
		Device:     p.o.Device,
		Since:      now,
		Threshold:  float64(p.o.Threshold),
		Top:        []Contribution{},
		Model:      p.o.ModelID,
		SampleTime: sampleTime,
		Time:       now,
	}
	if d := p.dec.Params(); d.Enter != 1 || d.Exit != 1 {
		msg.AlarmAbove, msg.NormalAt = msg.Threshold*d.Enter, msg.Threshold*d.Exit
	}
	switch st {
	case decide.SensorFault:
		switch {
		case faulty != nil:
			msg.Fault = faulty
		case values == nil: // the whole source
			msg.Fault = append(msg.Fault, p.o.Channels...)
		default:
			for _, i := range p.o.Model.InvalidChannels(p.fault[:0], values) {
				msg.Fault = append(msg.Fault, p.o.Channels[i])
			}
			reason = "missing or non-finite values"
		}
		msg.Reason = reason
	case decide.Stale:
		msg.Reason = reason
	default:
		msg.Score = jsonScore(score)
		for _, sh := range infer.TopShares(p.shares, p.per) {
			msg.Top = append(msg.Top, Contribution{Channel: p.o.Channels[sh.Channel], Share: math.Round(float64(sh.Share)*1000) / 1000})
		}
	}
	p.o.Logger.Info("state changed", "from", prev.String(), "to", msg.State, "score", score, "threshold", p.o.Threshold, "top", msg.Top, "fault", msg.Fault, "reason", msg.Reason)
	recs := []outbox.Record{{Kind: outbox.KindState, Topic: publish.TopicState, Retained: true, Payload: p.encode(msg)}}
	if prev != decide.Unknown || st != decide.Normal {
		p.alertSeq++
		recs = append(recs, outbox.Record{Kind: outbox.KindAlert, Topic: publish.TopicAlert, AlertSeq: p.alertSeq,
			Payload: p.encode(AlertMessage{
				ID:           p.o.AlertPrefix + "-" + strconv.FormatUint(p.alertSeq, 10),
				Seq:          p.alertSeq,
				From:         prev.String(),
				StateMessage: msg,
			})})
	}
	p.queue(recs)
}

// queue stores recs in the outbox. A record kept in memory only (the
// disk failing) is still delivered; an alert the outbox has no room for
// is lost, which is counted and logged as an error, and the state is
// still queued alone so the retained state stays true.
func (p *Pipeline) queue(recs []outbox.Record) {
	err := p.o.Outbox.Append(recs...)
	switch {
	case err == nil:
	case errors.Is(err, outbox.ErrNotDurable):
		p.notDurable.Add(1)
		if now := p.o.Now(); now.Sub(p.lastWarnNDR) >= 10*time.Second {
			p.lastWarnNDR = now
			p.o.Logger.Error("outbox: messages held in memory only until the disk accepts them again", "err", err)
		}
	default:
		if len(recs) == 1 {
			p.o.Logger.Error("outbox: state change could not be stored", "state", p.State().String(), "err", err)
			return
		}
		p.alertsLost.Add(1)
		p.o.Logger.Error("outbox: alert could not be stored; it is lost", "seq", p.alertSeq, "err", err)
		// The state alone still goes out, and carries the lost alert's
		// number so that it is never used again: the gap shows the loss.
		state := recs[0]
		state.AlertSeq = p.alertSeq
		if err := p.o.Outbox.Append(state); err != nil && !errors.Is(err, outbox.ErrNotDurable) {
			p.o.Logger.Error("outbox: state change could not be stored either", "state", p.State().String(), "err", err)
		}
	}
}

// encode marshals a message. Every number is made finite first, so an
// error is a programming error; the state still goes out, reduced to
// what cannot fail to encode: losing it would be worse.
func (p *Pipeline) encode(v any) []byte {
	b, err := json.Marshal(v)
	if err == nil {
		return b
	}
	p.o.Logger.Error("encoding message", "err", err)
	var state, id string
	switch m := v.(type) {
	case StateMessage:
		state = m.State
	case AlertMessage:
		state, id = m.State, m.ID
	}
	b, _ = json.Marshal(map[string]string{"state": state, "id": id, "site": p.o.Site, "device": p.o.Device,
		"model": p.o.ModelID, "error": "message could not be encoded"})
	return b
}
