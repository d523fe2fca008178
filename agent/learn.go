package agent

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/sensors"
)

// LearnMessage is the retained payload of <prefix>state while the agent
// learns its model: State "learning", then the phase and how far it is.
type LearnMessage struct {
	State  string `json:"state"` // learning
	Site   string `json:"site"`
	Device string `json:"device"`
	// Phase is recording (sampling normal operation), training, or
	// failed (Reason says why; the agent then exits).
	Phase string `json:"phase"`
	// Progress is how far the phase is, 0 to 1.
	Progress float64 `json:"progress"`
	// Samples recorded so far and the number wanted (0 when learning
	// for a duration only); Skipped counts samples with a missing or
	// invalid value, which are not learnt from.
	Samples int `json:"samples"`
	Of      int `json:"of,omitempty"`
	Skipped int `json:"skipped,omitempty"`
	// Epoch and Epochs, while training; for a multi-scale model
	// (model.learn.members), of network Network of Networks.
	Epoch    int       `json:"epoch,omitempty"`
	Epochs   int       `json:"epochs,omitempty"`
	Network  int       `json:"network,omitempty"`
	Networks int       `json:"networks,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Since    time.Time `json:"since"` // when learning began
	Time     time.Time `json:"time"`
}

// learnGapFactor cuts the recording where a step is over this many
// times the median step, as vigil train does by default.
const learnGapFactor = 5

// needLearn reports whether the agent must learn its model first:
// model.learn is set, there is no file at model.path, and the model
// store, if there is one, holds no model.
func needLearn(cfg *config.Config, lo firmware.LoadOptions, log *slog.Logger) (bool, error) {
	if cfg.Model.Learn == nil {
		return false, nil
	}
	if _, err := os.Stat(cfg.Model.Path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("agent: model.path: %w", err)
	}
	if cfg.Model.Store == "" {
		return true, nil
	}
	st, err := slots.Open(cfg.Model.Store, storeOptions(cfg, lo, log))
	if err != nil {
		return false, fmt.Errorf("agent: model.store: %w", err)
	}
	return st.Status().Active.Slot == "", nil
}

// learnKey reads model.learn.sign_key and checks that the model it signs
// will load: its public key must be trusted unless unsigned models are
// allowed. No key (with allow_unsigned): the model stays unsigned.
func learnKey(m *config.Model, lo firmware.LoadOptions) (*firmware.PrivateKey, error) {
	if m.Learn.SignKey == "" {
		return nil, nil
	}
	k, err := firmware.ReadPrivateKeyFile(m.Learn.SignKey)
	if err != nil {
		return nil, fmt.Errorf("agent: model.learn.sign_key: %w", err)
	}
	id := k.Public().ID()
	if !m.AllowUnsigned && !slices.ContainsFunc(lo.Trusted, func(p firmware.PublicKey) bool { return p.ID() == id }) {
		return nil, fmt.Errorf("agent: model.learn.sign_key %s: its public key (id %s) is not in model.trusted_keys, so the learnt model would not load; add its .pub there",
			m.Learn.SignKey, id)
	}
	return &k, nil
}

// learn records normal operation from the configured source, trains a
// model on it with vigil train's recipe, and writes it, signed, to
// model.path, reporting progress on the retained state topic. The
// caller then starts as with any model file.
func learn(ctx context.Context, cfg *config.Config, lo firmware.LoadOptions, o Options) error {
	log := o.Logger.With("component", "learn")
	lc := cfg.Model.Learn
	key, err := learnKey(&cfg.Model, lo)
	if err != nil {
		return err
	}
	// The outbox keeps what earlier runs could not deliver; while the
	// agent learns, the sender goes on delivering it.
	po, ob, err := connect(cfg, o, log)
	if err != nil {
		return err
	}
	defer ob.Close()
	begun := o.Now().UTC()
	status := func(online bool, at time.Time) []byte {
		m := StatusMessage{Status: "online", Site: cfg.Site, Device: cfg.Device, Agent: o.Version, OnlineSince: at, LastSeen: at, State: "learning"}
		if !online {
			m.Status, m.Reason, m.State = "offline", "connection lost", ""
		}
		b, _ := json.Marshal(m)
		return b
	}
	// The agent goes on monitoring after learning: closing this
	// connection leaves the online status, not an offline one.
	po.Status, po.Stopped = status, func(at time.Time) []byte { return status(true, at) }
	sender, err := publish.Start(po)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer sender.Close(o.Drain)
	report := func(m LearnMessage) {
		m.State, m.Site, m.Device, m.Since, m.Time = "learning", cfg.Site, cfg.Device, begun, o.Now().UTC()
		b, _ := json.Marshal(m)
		sender.Retain(publish.TopicState, b)
	}
	fail := func(err error) error {
		report(LearnMessage{Phase: "failed", Reason: err.Error()})
		return err
	}

	var stats sourceStats
	src, err := openSource(cfg, cfg.Channels, o, &stats)
	if err != nil {
		return fail(fmt.Errorf("agent: %w", err))
	}
	rec, skipped, err := record(ctx, src, cfg.Channels, lc, o.Now, func(n, skipped int, progress float64) {
		report(LearnMessage{Phase: "recording", Progress: progress, Samples: n, Of: lc.Samples, Skipped: skipped})
	})
	src.Close()
	if err != nil {
		return fail(err)
	}
	log.Info("learning: recorded normal operation", "samples", len(rec.Rows), "skipped", skipped, "source", sourceName(src))
	start := time.Now()
	data, m, fit, err := fitLearnt(ctx, cfg, lo, key, rec, 1, o.Now(), func(e train.Epoch, network, networks int) {
		msg := LearnMessage{Phase: "training", Progress: (float64(network-1) + float64(e.N)/float64(e.Of)) / float64(networks),
			Samples: len(rec.Rows), Of: lc.Samples, Skipped: skipped, Epoch: e.N, Epochs: e.Of}
		if networks > 1 {
			msg.Network, msg.Networks = network, networks
		}
		report(msg)
	})
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Model.Path), 0o750); err != nil {
		return fail(fmt.Errorf("agent: model.path: %w", err))
	}
	if err := firmware.WriteFile(cfg.Model.Path, data, 0o640); err != nil {
		return fail(fmt.Errorf("agent: writing the learnt model: %w", err))
	}
	log.Info("learning: model learnt", "path", cfg.Model.Path, "samples", len(rec.Rows), "windows", len(fit.Scaled),
		"epochs", len(fit.Result.History), "threshold", m.Threshold.Value, "k", m.Decision.K, "n", m.Decision.N,
		"widened", m.Training.Widened, "signed", key != nil, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// fitLearnt trains model.learn's recipe on rec and returns the model
// file, packed, signed with key (if any) and checked to load as the agent
// loads models, with the model as version and the fit. progress receives
// each network's epochs: network (from 1) of networks, more than one
// with model.learn.members.
func fitLearnt(ctx context.Context, cfg *config.Config, lo firmware.LoadOptions, key *firmware.PrivateKey, rec *train.Recording,
	version uint64, now time.Time, progress func(e train.Epoch, network, networks int)) ([]byte, *firmware.Model, *train.Fitted, error) {
	lc := cfg.Model.Learn
	recipe := train.DefaultRecipe()
	recipe.Tool = "vigil-agent learn"
	recipe = memberRecipe(recipe, config.LearnMember{Window: lc.Window, Hidden: lc.Hidden, Epochs: lc.Epochs})
	if lc.Seed > 0 {
		recipe.Options.Seed = lc.Seed
	}
	members := make([]train.Recipe, len(lc.Members))
	for i, mb := range lc.Members {
		members[i] = memberRecipe(recipe, mb)
	}
	rec.Units = rec.Units[:0]
	for _, c := range cfg.Channels {
		rec.Units = append(rec.Units, cfg.Units[c])
	}
	// Each network's epochs count from 1: a count that does not go up
	// starts the next network.
	network, last := 1, 0
	m, fit, err := firmware.FitModel(ctx, &recipe, members, rec, func(e train.Epoch) {
		if e.N <= last {
			network++
		}
		last = e.N
		progress(e, network, 1+len(members))
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: learning from %d samples: %w", len(rec.Rows), err)
	}
	m.Name = lc.Name
	if m.Name == "" {
		m.Name = cfg.Device
	}
	m.Version, m.Created = version, now.Unix()
	data, err := firmware.Pack(m)
	if err == nil && key != nil {
		data, err = firmware.Sign(data, *key)
	}
	if err == nil {
		_, err = decodeModel(data, lo) // it must load as any model would
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: the learnt model: %w", err)
	}
	return data, m, fit, nil
}

// memberRecipe is r with what mb sets: the recipe of a member of a
// learnt multi-scale model (r the learn section's recipe), and the learn
// section's own recipe (r the defaults, mb its window, hidden and
// epochs). (Fit copies the slices it is given.)
func memberRecipe(r train.Recipe, mb config.LearnMember) train.Recipe {
	if mb.Window > 0 {
		r.Features.Window = mb.Window
	}
	if len(mb.Conv) > 0 { // a convolution reads the raw window
		r.Features = infer.FeatureSpec{Window: r.Features.Window, Stride: 1, Raw: true}
		arch := mb.ConvArch(0)
		r.Options.Conv = &arch
	}
	if len(mb.Hidden) > 0 {
		r.Options.Hidden = mb.Hidden
	}
	if mb.Epochs > 0 {
		r.Options.Epochs = mb.Epochs
	}
	if mb.ThresholdFactor > 0 {
		r.Threshold.Factor = mb.ThresholdFactor
	}
	return r
}

// record reads samples of normal operation from src until lc's count or
// duration (in sample time) is reached; samples with a value that is not
// a finite number are skipped and counted. progress is called about
// once a second of sample time and at the end.
func record(ctx context.Context, src sensors.Source, channels []string, lc *config.Learn, now func() time.Time,
	progress func(n, skipped int, frac float64)) (*train.Recording, int, error) {
	r := &recorder{lc: lc, progress: progress}
	s := sensors.Sample{Values: make([]float32, len(channels))}
	for {
		if err := src.Read(ctx, &s); err != nil {
			if errors.Is(err, sensors.ErrAbsent) {
				r.skipped++
				continue
			}
			return nil, r.skipped, fmt.Errorf("agent: learning: after %d samples: %w", len(r.rows), err)
		}
		t := s.Time
		if t.IsZero() {
			t = now()
		}
		if !r.add(t, s.Values) {
			break
		}
	}
	rec, err := r.recording(channels, "learnt on the gateway from "+sourceName(src))
	return rec, r.skipped, err
}

// recorder collects samples of normal operation until model.learn's
// count or duration (in sample time) is reached.
type recorder struct {
	lc    *config.Learn
	rows  [][]float32
	times []time.Time
	// flat holds the rows' values when the count is known, so that
	// recording from the sampling loop (re-baselining) does not allocate
	// per sample.
	flat              []float32
	skipped           int
	first, lastReport time.Time
	// progress is called about once a second of sample time, and at the
	// end: samples kept, skipped, and the share of the way.
	progress func(n, skipped int, frac float64)
}

// add takes one sample (a copy of it) and reports whether more are
// wanted; a sample with a value that is not a finite number is counted
// as skipped.
func (r *recorder) add(t time.Time, v []float32) bool {
	if r.first.IsZero() {
		r.first = t
	}
	if r.lc.Duration > 0 && t.Sub(r.first) >= r.lc.Duration {
		return false
	}
	if !finite(v) {
		r.skipped++
		return true
	}
	if r.lc.Samples > 0 && r.flat == nil {
		r.flat = make([]float32, 0, r.lc.Samples*len(v))
		r.rows, r.times = make([][]float32, 0, r.lc.Samples), make([]time.Time, 0, r.lc.Samples)
	}
	var row []float32
	if n := len(r.flat); cap(r.flat)-n >= len(v) {
		r.flat = append(r.flat, v...)
		row = r.flat[n:len(r.flat):len(r.flat)]
	} else {
		row = slices.Clone(v)
	}
	r.rows, r.times = append(r.rows, row), append(r.times, t)
	if t.Sub(r.lastReport) >= time.Second {
		f := 0.0
		if r.lc.Samples > 0 {
			f = float64(len(r.rows)) / float64(r.lc.Samples)
		}
		if r.lc.Duration > 0 {
			f = max(f, float64(t.Sub(r.first))/float64(r.lc.Duration))
		}
		r.progress(len(r.rows), r.skipped, min(f, 1))
		r.lastReport = t
	}
	return r.lc.Samples == 0 || len(r.rows) < r.lc.Samples
}

// recording is what was collected, as a recording to learn from.
func (r *recorder) recording(channels []string, source string) (*train.Recording, error) {
	r.progress(len(r.rows), r.skipped, 1)
	if len(r.rows) < config.MinLearnSamples {
		return nil, fmt.Errorf("agent: learning: %d valid samples (%d skipped), want at least %d", len(r.rows), r.skipped, config.MinLearnSamples)
	}
	return recordingFrom(r.rows, r.times, channels, source), nil
}

// recordingFrom makes rows (in time order, at times) a recording to
// learn from: its digest, and segments cut where a step is over
// learnGapFactor times the median step or goes backwards.
func recordingFrom(rows [][]float32, times []time.Time, channels []string, source string) *train.Recording {
	rec := &train.Recording{Channels: slices.Clone(channels), Rows: rows, Sources: []string{source}}
	h := sha256.New()
	var buf []byte
	for _, row := range rows {
		buf = buf[:0]
		for _, v := range row {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
	}
	rec.Digest = hex.EncodeToString(h.Sum(nil))
	steps := make([]time.Duration, 0, len(times))
	for i := 1; i < len(times); i++ {
		steps = append(steps, times[i].Sub(times[i-1]))
	}
	slices.Sort(steps)
	if len(steps) > 0 && steps[len(steps)/2] > 0 {
		rec.Gap = learnGapFactor * steps[len(steps)/2]
		start := 0
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d <= 0 || d > rec.Gap {
				rec.Segments = append(rec.Segments, train.Segment{Start: start, End: i})
				start = i
			}
		}
		rec.Segments = append(rec.Segments, train.Segment{Start: start, End: len(times)})
	}
	return rec
}

// finite reports whether every value is a finite number.
func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
