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
	"time"

	"github.com/vigil-edge/vigil/agent/decision"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/sensors"
)

// Publisher sends a payload to a topic under the agent's prefix; the
// payload belongs to the Publisher afterwards. *publish.Client is the
// production Publisher.
type Publisher interface {
	Publish(topic string, qos byte, retained bool, payload []byte)
}

// PipelineOptions configure NewPipeline. All fields are required unless
// marked optional.
type PipelineOptions struct {
	Source sensors.Source // its Channels must equal Channels
	Model  *infer.Autoencoder
	// Channels are the model's channel names, in model input order.
	Channels  []string
	Threshold float32
	ModelID   string
	K, N      int // debounce: K of the last N scores
	Top       int // contributing channels named in messages
	// ScoreInterval is the least time between score messages; 0 = none.
	ScoreInterval time.Duration
	Publisher     Publisher
	// AlertPrefix makes alert ids unique across agents and restarts.
	AlertPrefix string
	Now         func() time.Time // optional; default time.Now
	Logger      *slog.Logger     // optional
}

// Pipeline reads samples, scores them and publishes decisions. It is not
// safe for concurrent use.
type Pipeline struct {
	o       PipelineOptions
	deb     *decision.Debouncer
	sample  sensors.Sample
	per     []float32
	shares  []infer.Share
	lastPub time.Time
	seq     uint64
	samples uint64
	faults  uint64
}

// NewPipeline checks o and allocates every per-sample buffer.
func NewPipeline(o PipelineOptions) (*Pipeline, error) {
	if o.Source == nil || o.Model == nil || o.Publisher == nil {
		return nil, errors.New("agent: pipeline needs a source, a model and a publisher")
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
	if !(o.Threshold > 0) || math.IsInf(float64(o.Threshold), 0) {
		return nil, fmt.Errorf("agent: threshold %v, want a positive finite number", o.Threshold)
	}
	deb, err := decision.New(o.K, o.N)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := len(o.Channels)
	return &Pipeline{
		o:      o,
		deb:    deb,
		sample: sensors.Sample{Values: make([]float32, c)},
		per:    make([]float32, c),
		shares: make([]infer.Share, 0, min(o.Top, c)),
	}, nil
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
// exhausted (nil) or the source fails (the error).
func (p *Pipeline) Run(ctx context.Context) error {
	for {
		err := p.o.Source.Read(ctx, &p.sample)
		switch {
		case err == nil:
			p.Step(&p.sample)
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			p.o.Logger.Info("source exhausted", "samples", p.samples)
			return nil
		default:
			return fmt.Errorf("agent: reading samples: %w", err)
		}
	}
}

// Step scores one sample (values in model channel order) and publishes
// what it changes. It allocates only when it publishes.
func (p *Pipeline) Step(s *sensors.Sample) {
	p.samples++
	prev := p.deb.State()
	score, ready, err := p.o.Model.Push(s.Values, p.per)
	if err != nil {
		p.faults++
		if p.deb.Fault() {
			p.changed(prev, s, math.NaN())
		}
		return
	}
	if !ready { // a windowed model between scores
		return
	}
	// A NaN score (an overflow inside the network) counts as above.
	st, changed := p.deb.Observe(!(score <= p.o.Threshold))
	if changed {
		p.changed(prev, s, float64(score))
	}
	if p.o.ScoreInterval > 0 && st != decision.Unknown {
		if now := p.o.Now(); now.Sub(p.lastPub) >= p.o.ScoreInterval {
			p.lastPub = now
			p.publish(publish.TopicScore, 0, false, ScoreMessage{Score: jsonScore(float64(score)), Threshold: float64(p.o.Threshold), State: st.String(), Time: now})
		}
	}
}

// State returns the current debounced state.
func (p *Pipeline) State() decision.State { return p.deb.State() }

// Counts returns how many samples were processed and how many of them
// could not be scored (sensor faults).
func (p *Pipeline) Counts() (samples, faults uint64) { return p.samples, p.faults }

// changed publishes the retained state and, unless the agent just
// learnt the machine is normal at start-up, an alert.
func (p *Pipeline) changed(prev decision.State, s *sensors.Sample, score float64) {
	now := p.o.Now()
	st := p.deb.State()
	msg := StateMessage{
		State:      st.String(),
		Since:      now,
		Threshold:  float64(p.o.Threshold),
		Model:      p.o.ModelID,
		SampleTime: s.Time,
		Time:       now,
	}
	if st == decision.SensorFault {
		for _, i := range p.o.Model.InvalidChannels(nil, s.Values) {
			msg.Fault = append(msg.Fault, p.o.Channels[i])
		}
	} else {
		msg.Score = jsonScore(score)
		for _, sh := range infer.TopShares(p.shares, p.per) {
			msg.Top = append(msg.Top, Contribution{Channel: p.o.Channels[sh.Channel], Share: math.Round(float64(sh.Share)*1000) / 1000})
		}
	}
	p.o.Logger.Info("state changed", "from", prev.String(), "to", msg.State, "score", score, "threshold", p.o.Threshold, "top", msg.Top, "fault", msg.Fault)
	p.publish(publish.TopicState, 1, true, msg)
	if prev == decision.Unknown && st == decision.Normal {
		return
	}
	p.seq++
	p.publish(publish.TopicAlert, 1, false, AlertMessage{
		ID:           p.o.AlertPrefix + "-" + strconv.FormatUint(p.seq, 10),
		From:         prev.String(),
		StateMessage: msg,
	})
}

func (p *Pipeline) publish(topic string, qos byte, retained bool, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every number is made finite first, so only a programming error
		// gets here. A state or an alert still goes out, reduced to what
		// cannot fail to encode: losing it would be worse.
		p.o.Logger.Error("encoding message", "topic", topic, "err", err)
		var state, id string
		switch m := v.(type) {
		case StateMessage:
			state = m.State
		case AlertMessage:
			state, id = m.State, m.ID
		default:
			return
		}
		b, _ = json.Marshal(map[string]string{"state": state, "id": id, "model": p.o.ModelID, "error": "message could not be encoded"})
	}
	p.o.Publisher.Publish(topic, qos, retained, b)
}
