package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/vigil-edge/vigil/agent/config"
	agenthealth "github.com/vigil-edge/vigil/agent/health"
	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors/health"
)

// Options are the process-level inputs of Run.
type Options struct {
	Version string           // agent version, published in status
	Logger  *slog.Logger     // optional
	Now     func() time.Time // optional; default time.Now
	// Drain is how long a stopping agent keeps delivering queued
	// messages to a connected broker (default 5 s). What is left stays in
	// the outbox for the next start.
	Drain time.Duration
}

// DefaultK and DefaultN are the debounce when neither the configuration
// nor the model sets one.
const DefaultK, DefaultN = 6, 8

// loaded is what Run and Check need from the configuration's files.
type loaded struct {
	model    *firmware.Loaded
	names    []string
	decision decide.Params
	from     string // where k of n came from
}

// load reads the model and checks it against the configuration: the
// store's active model when model.store holds one (as Run would use),
// else model.path.
func load(cfg *config.Config) (*loaded, error) {
	lo, err := cfg.Model.LoadOptions()
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	path := cfg.Model.Path
	if cfg.Model.Store != "" {
		if st, err := slots.ReadStatus(cfg.Model.Store); err == nil && st.Active.Path != "" {
			path = st.Active.Path
		}
	}
	data, err := readModel(path, lo)
	if err != nil {
		return nil, err
	}
	return loadData(cfg, lo, data, path)
}

// readModel reads a model file, refusing one over the size limit before
// reading it all.
func readModel(path string, lo firmware.LoadOptions) ([]byte, error) {
	data, err := readLimited(path, maxBytes(lo))
	if err != nil {
		return nil, fmt.Errorf("agent: model %s: %w", path, err)
	}
	return data, nil
}

// decodeModel decodes and verifies a model file, explaining a refusal
// for want of a signature or a trusted key.
func decodeModel(data []byte, lo firmware.LoadOptions) (*firmware.Loaded, error) {
	model, err := firmware.Decode(data, lo)
	switch {
	case errors.Is(err, firmware.ErrUnsigned):
		return nil, fmt.Errorf("%w (sign it with vigil sign and list the public key in model.trusted_keys, or set model.allow_unsigned: true)", err)
	case errors.Is(err, firmware.ErrUntrustedKey):
		return nil, fmt.Errorf("%w (list its public key file in model.trusted_keys)", err)
	}
	return model, err
}

// loadData decodes the model file data (read from origin) and checks it
// against the configuration.
func loadData(cfg *config.Config, lo firmware.LoadOptions, data []byte, origin string) (*loaded, error) {
	model, err := decodeModel(data, lo)
	if err != nil {
		return nil, fmt.Errorf("agent: %s: %w", origin, err)
	}
	names := model.Model.ChannelNames()
	if err := CheckChannels(names, cfg.Channels); err != nil {
		return nil, fmt.Errorf("agent: model %s: %w", origin, err)
	}
	if err := model.Compatible(firmware.Compat{Units: cfg.Units}); err != nil {
		return nil, fmt.Errorf("agent: model %s: %w", origin, err)
	}
	d, from := decisionParams(cfg.Decision, model.Model.Decision)
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("agent: decision (configuration over model %s): %w", origin, err)
	}
	return &loaded{model: model, names: names, decision: d, from: from}, nil
}

// decisionParams merges the decision: the configuration's values over
// the model's over the defaults.
func decisionParams(c config.Decision, m firmware.Decision) (decide.Params, string) {
	p := m.Params()
	from := "model"
	switch {
	case c.K > 0:
		p.K, p.N, from = c.K, c.N, "configuration"
	case p.K <= 0:
		p.K, p.N, from = DefaultK, DefaultN, "default"
	}
	if c.Enter > 0 {
		p.Enter = c.Enter
	}
	if c.Exit > 0 {
		p.Exit = c.Exit
	}
	if c.MinDuration != nil {
		p.MinDuration = *c.MinDuration
	}
	if c.Cooldown != nil {
		p.Cooldown = *c.Cooldown
	}
	if c.Gap != nil {
		p.Gap = *c.Gap
	}
	return p, from
}

// Check does everything Run does before it starts, without connecting or
// opening devices: it loads and checks the model against the
// configuration, and checks that the serial device, the password file,
// the TLS files and the outbox's directory are there. It returns a
// summary for the operator.
func Check(cfg *config.Config) (string, error) {
	var l *loaded
	var learning string
	lo, err := cfg.Model.LoadOptions()
	if err != nil {
		return "", fmt.Errorf("agent: %w", err)
	}
	if need, err := needLearn(cfg, lo, slog.New(slog.DiscardHandler)); err != nil {
		return "", err
	} else if need {
		if _, err := learnKey(&cfg.Model, lo); err != nil {
			return "", err
		}
		learning = fmt.Sprintf("no model yet: the agent learns one (%d channels) and writes it to %s", len(cfg.Channels), cfg.Model.Path)
	} else if l, err = load(cfg); err != nil {
		return "", err
	}
	srcs, keys := []config.Source{cfg.Source}, []string{"source"}
	if len(cfg.Sources) > 0 {
		srcs, keys = cfg.Sources, nil
		for i := range srcs {
			keys = append(keys, fmt.Sprintf("sources.%d", i))
		}
	}
	for i, src := range srcs {
		if err := checkFiles(src, keys[i]); err != nil {
			return "", err
		}
	}
	if _, err := cfg.MQTT.Password(); err != nil {
		return "", err
	}
	if _, err := cfg.MQTT.TLSConfig(); err != nil {
		return "", err
	}
	dir := filepath.Dir(cfg.Outbox.Path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("agent: outbox.path: directory %s: not there (%v)", dir, err)
	}
	if l == nil {
		return fmt.Sprintf("%s, brokers %v", learning, cfg.MQTT.Brokers), nil
	}
	return fmt.Sprintf("model %s (%s, %d channels, threshold %.4g), decision %d of %d from the %s, brokers %v",
		cfg.Model.Path, l.model.ID, len(l.names), l.model.Model.Threshold.Value, l.decision.K, l.decision.N, l.from, cfg.MQTT.Brokers), nil
}

// checkFiles checks that a source's device or recording is there.
func checkFiles(src config.Source, key string) error {
	if s := src.Serial; s != nil {
		fi, err := os.Stat(s.Device)
		if err != nil {
			return fmt.Errorf("agent: %s.serial.device: %w", key, err)
		}
		if fi.Mode()&os.ModeDevice == 0 && fi.Mode()&os.ModeCharDevice == 0 && fi.Mode()&os.ModeNamedPipe == 0 {
			return fmt.Errorf("agent: %s.serial.device: %s is not a device", key, s.Device)
		}
	}
	if m := src.Modbus; m != nil && m.Device != "" {
		if _, err := os.Stat(m.Device); err != nil {
			return fmt.Errorf("agent: %s.modbus.device: %w", key, err)
		}
	}
	if r := src.Replay; r != nil {
		if _, err := os.Stat(r.Path); err != nil {
			return fmt.Errorf("agent: %s.replay.path: %w", key, err)
		}
	}
	return nil
}

// Run loads the model named by cfg, checks it against the configured
// channels, opens the outbox, the source and the MQTT sender, and scores
// samples until ctx ends (nil) or the source fails. On the way out it
// delivers what it can within Options.Drain and publishes the offline
// status; undelivered messages wait in the outbox for the next start.
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Drain <= 0 {
		o.Drain = 5 * time.Second
	}
	log := o.Logger
	lo, err := cfg.Model.LoadOptions()
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if need, err := needLearn(cfg, lo, log); err != nil {
		return err
	} else if need {
		log.Info("no model yet: learning this machine's normal operation first", "samples", cfg.Model.Learn.Samples,
			"duration", cfg.Model.Learn.Duration, "model", cfg.Model.Path)
		// systemd: the agent is up and working; learning may take longer
		// than a start-up timeout, and the watchdog is kept fed.
		notify(log, daemon.SdNotifyReady+"\nSTATUS=learning the machine's normal operation")
		lctx, stopWatchdog := context.WithCancel(ctx)
		go watchdog(lctx, func(time.Duration) bool { return true }, log)
		err := learn(lctx, cfg, lo, o)
		stopWatchdog()
		if ctx.Err() != nil {
			log.Info("stopped while learning; the next start learns again")
			return nil
		}
		if err != nil {
			return err
		}
	}
	var store *slots.Store
	var l *loaded
	if cfg.Model.Store != "" {
		if store, err = openStore(cfg, lo, log); err != nil {
			return err
		}
		l, err = loadActive(cfg, lo, store)
	} else {
		l, err = load(cfg)
	}
	if err != nil {
		return err
	}
	model := l.model
	log.Info("model loaded", "path", cfg.Model.Path, "store", cfg.Model.Store, "id", model.ID, "name", model.Model.Name,
		"version", model.Model.Version, "format", model.Format, "signer", model.Signer,
		"channels", len(l.names), "threshold", model.Model.Threshold.Value)
	if model.Signer == "" && cfg.Model.AllowUnsigned {
		log.Warn("model.allow_unsigned is set: model files are not verified; sign them (vigil keygen, vigil sign) and list the key in model.trusted_keys",
			"path", cfg.Model.Path)
	}
	for _, w := range model.Warnings {
		log.Warn("model file", "path", cfg.Model.Path, "warning", w)
	}
	po, ob, err := connect(cfg, o, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := ob.Close(); err != nil {
			log.Error("outbox close", "err", err)
		}
	}()
	if st := ob.Stats(); st.Pending > 0 || st.Recovered {
		log.Info("outbox opened", "path", cfg.Outbox.Path, "pending", st.Pending, "alerts", st.PendingAlerts, "recovered_torn_write", st.Recovered)
	}

	var stats sourceStats
	src, err := openSource(cfg, l.names, o, &stats)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer src.Close()

	checker, err := healthChecker(cfg, l.names)
	if err != nil {
		return err
	}
	log.Info("decision", "k", l.decision.K, "n", l.decision.N, "from", l.from, "enter", l.decision.Enter, "exit", l.decision.Exit,
		"min_duration", l.decision.MinDuration, "cooldown", l.decision.Cooldown, "gap", l.decision.Gap)
	var sender *publish.Sender
	var srv *agenthealth.Server
	var inference func(time.Duration)
	if cfg.HTTP.Listen != "" {
		inference = func(d time.Duration) { srv.ObserveInference(d) }
	}
	p, err := NewPipeline(PipelineOptions{
		Source: src, Model: model.Autoencoder, Channels: l.names, Threshold: model.Model.Threshold.Value,
		ModelID: model.ID, Decision: l.decision, Top: cfg.Decision.Top, Health: checker,
		ScoreInterval: cfg.MQTT.ScoreInterval, Outbox: ob,
		Telemetry: func(topic string, b []byte) bool { return sender.Telemetry(topic, b) },
		Site:      cfg.Site, Device: cfg.Device,
		AlertPrefix: cfg.MQTT.ClientID + "-" + strconv.FormatInt(o.Now().UnixNano(), 36),
		StaleAfter:  cfg.Source.StaleAfter,
		Inference:   inference,
		Now:         o.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	// The status payloads carry the connection's time: the offline one is
	// the last will, published by the broker later.
	status := func(online bool, at time.Time) []byte {
		m := StatusMessage{Status: "online", Site: cfg.Site, Device: cfg.Device, Agent: o.Version, Model: p.ModelID(),
			OnlineSince: at, LastSeen: at, State: p.State().String()}
		if !online {
			// The will is fixed when the connection begins; the state
			// then would mislead later, so it names none (see state).
			m.Status, m.Reason, m.State = "offline", "connection lost", ""
		}
		b, _ := json.Marshal(m)
		return b
	}
	stopped := func(at time.Time) []byte {
		b, _ := json.Marshal(StatusMessage{Status: "offline", Site: cfg.Site, Device: cfg.Device, Agent: o.Version, Model: p.ModelID(),
			LastSeen: at, State: p.State().String(), Reason: "stopped"})
		return b
	}
	var mgr *update.Manager
	subscribe := map[string]func([]byte){}
	if store != nil {
		mgr, err = update.New(model, update.Options{
			Store: store, Compat: firmware.Compat{Channels: l.names, Units: cfg.Units}, Probation: probation(cfg.Model.Probation),
			Load: func(data []byte) (*firmware.Loaded, error) { return decodeModel(data, lo) },
			Swap: swapper(cfg, p),
			Report: func(s update.Status) {
				b, _ := json.Marshal(s)
				sender.Retain(TopicModelStatus, b)
				if err := writeResult(cfg.Model.DropDir, s); err != nil {
					log.Warn("model.drop_dir: writing the answer", "err", err)
				}
			},
			Logger: log, Now: o.Now,
		})
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		if cfg.Model.Updates() {
			if cfg.Model.AllowUnsigned {
				log.Warn("model updates over MQTT with model.allow_unsigned: anyone who may publish to the broker can replace the model")
			}
			subscribe[TopicModelSet] = func(b []byte) { mgr.Submit(update.Request{Data: b, From: "mqtt"}) }
			if cfg.Model.Learn != nil {
				key, err := learnKey(&cfg.Model, lo)
				if err != nil {
					return err
				}
				rl := &relearner{cfg: cfg, lo: lo, key: key, p: p, mgr: mgr, store: store, log: log, now: o.Now,
					report: func(s update.Status) {
						b, _ := json.Marshal(s)
						sender.Retain(TopicModelStatus, b)
					}}
				rctx, stopRelearn := context.WithCancel(ctx)
				defer func() { stopRelearn(); rl.wg.Wait() }()
				subscribe[TopicModelRelearn] = func(b []byte) { rl.request(rctx, b) }
			}
		}
	}
	po.Subscribe, po.Status, po.Stopped = subscribe, status, stopped
	sender, err = publish.Start(po)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	log.Info("agent running", "source", sourceName(src), "brokers", cfg.MQTT.Brokers, "prefix", cfg.MQTT.Prefix, "outbox", cfg.Outbox.Path)
	var updates sync.WaitGroup
	if mgr != nil {
		st := store.Status()
		b, _ := json.Marshal(update.Status{Result: update.Current, Model: model.ID, Version: model.Model.Version,
			From: "start", Active: model.ID, Time: o.Now().UTC(), Reason: map[bool]string{true: "on probation"}[st.Trial]})
		sender.Retain(TopicModelStatus, b)
		mctx, stopUpdates := context.WithCancel(ctx)
		defer func() { stopUpdates(); updates.Wait() }()
		updates.Add(1)
		go func() { defer updates.Done(); mgr.Run(mctx) }()
		if dir := cfg.Model.DropDir; dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("agent: model.drop_dir: %w", err)
			}
			updates.Add(1)
			go func() { defer updates.Done(); watchDrop(mctx, dir, dropEvery, maxBytes(lo), mgr, log) }()
		}
	}
	if cfg.HTTP.Listen != "" {
		snap := &snapshotter{cfg: cfg, p: p, ob: ob, sender: &sender, names: l.names, signer: model.Signer,
			version: model.Model.Version, k: l.decision.K, n: l.decision.N, sources: &stats, now: o.Now}
		srv, err = agenthealth.Start(agenthealth.Options{Addr: cfg.HTTP.Listen, AllowRemote: cfg.HTTP.AllowRemote,
			Snapshot: snap.snapshot, Version: o.Version, Logger: log})
		if err != nil {
			return fmt.Errorf("agent: http.listen: %w", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Close(cctx)
		}()
		log.Info("status page", "url", "http://"+srv.Addr()+"/")
	}
	wctx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go watchdog(wctx, p.Ping, log)
	notify(log, daemon.SdNotifyReady)
	err = p.Run(ctx)
	notify(log, daemon.SdNotifyStopping)
	ps := p.Stats()
	log.Info("agent stopping", "samples", ps.Samples, "sensor_faults", ps.Faults, "stale", ps.Stales,
		"not_durable", ps.NotDurable, "alerts_lost", ps.AlertsLost, "state", p.State().String())
	sender.Close(o.Drain)
	if st := ob.Stats(); st.Pending > 0 {
		log.Warn("undelivered messages stay in the outbox for the next start", "pending", st.Pending, "alerts", st.PendingAlerts)
	}
	return err
}

// connect reads the broker settings of cfg (the password file, the TLS
// files) into the sender's options and opens the outbox they deliver;
// the caller adds the status payloads and subscriptions, and closes the
// outbox.
func connect(cfg *config.Config, o Options, log *slog.Logger) (publish.Options, *outbox.Outbox, error) {
	password, err := cfg.MQTT.Password()
	if err != nil {
		return publish.Options{}, nil, err
	}
	tlsConf, err := cfg.MQTT.TLSConfig()
	if err != nil {
		return publish.Options{}, nil, err
	}
	ob, err := outbox.Open(cfg.Outbox.Path, outbox.Options{MaxRecords: cfg.Outbox.MaxRecords, MaxBytes: cfg.Outbox.MaxBytes,
		Now: o.Now, Logger: log.With("component", "outbox")})
	if err != nil {
		return publish.Options{}, nil, fmt.Errorf("agent: %w", err)
	}
	return publish.Options{
		Brokers: cfg.MQTT.Brokers, ClientID: cfg.MQTT.ClientID, Prefix: cfg.MQTT.Prefix,
		Username: cfg.MQTT.Username, Password: password, TLS: tlsConf, KeepAlive: cfg.MQTT.KeepAlive,
		Outbox: ob, Logger: log, Now: o.Now,
	}, ob, nil
}

// healthChecker builds the sensor checks of the configuration.
func healthChecker(cfg *config.Config, channels []string) (*health.Checker, error) {
	lim := map[string]health.Limits{}
	for ch, h := range cfg.Health {
		l := health.NoRange
		if h.Min != nil {
			l.Min = *h.Min
		}
		if h.Max != nil {
			l.Max = *h.Max
		}
		l.Stuck = h.Stuck
		lim[ch] = l
	}
	c, err := health.New(channels, lim)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return c, nil
}
