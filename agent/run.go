package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// Options are the process-level inputs of Run.
type Options struct {
	Version string           // agent version, published in status
	Logger  *slog.Logger     // optional
	Now     func() time.Time // optional; default time.Now
}

// Run loads the model named by cfg, checks it against the configured
// channels, opens the source and the MQTT connection, and scores samples
// until ctx ends (nil) or the source fails. On the way out it publishes
// the offline status and waits briefly for unacknowledged messages.
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	model, err := firmware.ReadFile(cfg.Model.Path, firmware.LoadOptions{AllowUnsigned: cfg.Model.AllowUnsigned})
	if errors.Is(err, firmware.ErrUnsigned) {
		return fmt.Errorf("agent: %w (set model.allow_unsigned: true to accept unsigned models)", err)
	}
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	names := model.Model.ChannelNames()
	if err := CheckChannels(names, cfg.Channels); err != nil {
		return fmt.Errorf("agent: model %s: %w", cfg.Model.Path, err)
	}
	log.Info("model loaded", "path", cfg.Model.Path, "id", model.ID, "name", model.Model.Name,
		"version", model.Model.Version, "channels", len(names), "threshold", model.Model.Threshold.Value)

	src, err := openSource(cfg, names, o)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer src.Close()

	password, err := cfg.MQTT.Password()
	if err != nil {
		return err
	}
	// The online status carries the start time; the offline one none, as
	// the broker may publish it (the last will) long after it was made.
	status := func(s string, t time.Time) []byte {
		b, _ := json.Marshal(StatusMessage{Status: s, Agent: o.Version, Model: model.ID, Time: t})
		return b
	}
	pub, err := publish.Connect(publish.Options{
		Broker: cfg.MQTT.Broker, ClientID: cfg.MQTT.ClientID, Prefix: cfg.MQTT.Prefix,
		Username: cfg.MQTT.Username, Password: password, KeepAlive: cfg.MQTT.KeepAlive,
		Online: status("online", o.Now().UTC()), Offline: status("offline", time.Time{}), Logger: log,
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer func() {
		if err := pub.Close(5 * time.Second); err != nil {
			log.Warn("mqtt close", "err", err)
		}
	}()

	k, n := cfg.Decision.K, cfg.Decision.N
	switch {
	case k > 0:
	case model.Model.Decision.K > 0:
		k, n = int(model.Model.Decision.K), int(model.Model.Decision.N)
	default:
		k, n = DefaultK, DefaultN
	}
	log.Info("decision", "k", k, "n", n, "from", decisionSource(cfg.Decision.K, model.Model.Decision.K))
	p, err := NewPipeline(PipelineOptions{
		Source: src, Model: model.Autoencoder, Channels: names, Threshold: model.Model.Threshold.Value,
		ModelID: model.ID, K: k, N: n, Top: cfg.Decision.Top,
		ScoreInterval: cfg.MQTT.ScoreInterval, Publisher: pub,
		AlertPrefix: cfg.MQTT.ClientID + "-" + strconv.FormatInt(o.Now().UnixNano(), 36),
		Now:         o.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	log.Info("agent running", "source", sourceName(cfg), "broker", cfg.MQTT.Broker, "prefix", cfg.MQTT.Prefix)
	err = p.Run(ctx)
	samples, faults := p.Counts()
	log.Info("agent stopping", "samples", samples, "sensor_faults", faults, "state", p.State().String())
	return err
}

// DefaultK and DefaultN are the debounce when neither the configuration
// nor the model sets one.
const DefaultK, DefaultN = 6, 8

func decisionSource(cfgK int, modelK uint32) string {
	switch {
	case cfgK > 0:
		return "configuration"
	case modelK > 0:
		return "model"
	}
	return "default"
}

// openSource opens the configured source, giving channels in model order.
func openSource(cfg *config.Config, channels []string, o Options) (sensors.Source, error) {
	if s := cfg.Source.Serial; s != nil {
		var sep byte
		if s.Separator != "" {
			sep = s.Separator[0]
		}
		return serial.Open(serial.Opts{
			Device: s.Device, Baud: s.Baud, Columns: s.Columns, Channels: channels,
			Separator: sep, MaxLine: s.MaxLine, Logger: o.Logger.With("source", s.Device), Now: o.Now,
		})
	}
	return openSim(cfg.Source.Sim, channels, o)
}

func sourceName(cfg *config.Config) string {
	if cfg.Source.Serial != nil {
		return "serial " + cfg.Source.Serial.Device
	}
	return "simulator"
}
