package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer/train"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/modbus"
	"github.com/vigil-edge/vigil/sensors/periph"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// MaxFileSize bounds the configuration file.
const MaxFileSize = 1 << 20

// Config is the whole agent configuration.
type Config struct {
	// Site and Device name this gateway; they form the default MQTT
	// topic prefix vigil/<site>/<device>/ and client id.
	Site   string `yaml:"site"`
	Device string `yaml:"device"`
	// Channels are the sensor channels this device provides to the
	// model. They must be exactly the model's channels.
	Channels []string `yaml:"channels"`
	// Units optionally gives channels' units (Pressure: bar): a model
	// whose file names another unit for a channel is refused.
	Units  map[string]string `yaml:"units"`
	Model  Model             `yaml:"model"`
	Source Source            `yaml:"source"`
	// Sources lists several sources instead of Source, each naming the
	// channels it provides; their samples are merged (Merge).
	Sources []Source `yaml:"sources"`
	Merge   Merge    `yaml:"merge"`
	MQTT    MQTT     `yaml:"mqtt"`
	Outbox  Outbox   `yaml:"outbox"`
	// Health configures per-channel sensor checks by channel name.
	Health   map[string]Health `yaml:"health"`
	Decision Decision          `yaml:"decision"`
	Log      Log               `yaml:"log"`
	HTTP     HTTP              `yaml:"http"`
}

// HTTP configures the agent's local web server: /metrics (Prometheus),
// /healthz and a live status page at / for commissioning.
type HTTP struct {
	// Listen is its address, e.g. 127.0.0.1:9377; empty (the default)
	// serves nothing.
	Listen string `yaml:"listen"`
	// AllowRemote lets Listen be an address other machines reach. The
	// server has no authentication: put it behind a firewall or a proxy.
	AllowRemote bool `yaml:"allow_remote"`
}

// Model says which model file to load.
type Model struct {
	Path string `yaml:"path"`
	// AllowUnsigned accepts model files without a signature (a warning
	// at every start).
	AllowUnsigned bool `yaml:"allow_unsigned"`
	// TrustedKeys are public key files (vigil keygen's .pub): a model
	// file must be signed by one of them.
	TrustedKeys []string `yaml:"trusted_keys"`
	// RefuseV1 refuses format 1 model files (no checksum, never signed),
	// which otherwise load with a warning.
	RefuseV1 bool `yaml:"refuse_v1"`
	// Store is the directory of the A/B model store. With it set the
	// agent takes new models while it runs (MQTT model/set, DropDir,
	// vigil-agent model install); Path only seeds an empty store.
	Store string `yaml:"store"`
	// DropDir is a directory the agent watches for model files (*.vgm)
	// to install; it needs Store.
	DropDir string `yaml:"drop_dir"`
	// MQTTUpdates accepts model files published on <prefix>model/set;
	// default true when Store is set.
	MQTTUpdates *bool `yaml:"mqtt_updates"`
	// Probation is what a new model must pass before it is committed.
	Probation Probation `yaml:"probation"`
	// Learn, when set, lets the agent learn its model on the gateway
	// when there is none yet (no file at Path, an empty Store): it
	// records normal operation, trains, writes the model to Path and
	// then monitors with it.
	Learn *Learn `yaml:"learn"`
}

// Learn says how the agent learns a machine's normal on the gateway: from
// Samples samples, or the samples of Duration (sample time), whichever
// ends first when both are set; by vigil train's default recipe, with
// Window, Hidden, Epochs and Seed overriding it when set. SignKey is a
// private key file (vigil keygen) the learnt model is signed with; it is
// needed unless model.allow_unsigned is set, and its public key must be
// in model.trusted_keys.
type Learn struct {
	Samples  int           `yaml:"samples"`
	Duration time.Duration `yaml:"duration"`
	Window   int           `yaml:"window"`
	Hidden   []int         `yaml:"hidden"`
	Epochs   int           `yaml:"epochs"`
	Seed     uint64        `yaml:"seed"`
	SignKey  string        `yaml:"sign_key"`
	// Name names the learnt model (default: the device).
	Name string `yaml:"name"`
	// Members make the learnt model multi-scale, as vigil train --member
	// does: each a further network learnt from the same samples.
	Members []LearnMember `yaml:"members"`
}

// LearnMember is one further network of a learnt multi-scale model: the
// learn section's recipe with Window, and either Conv (the channels of
// each convolutional encoder layer, kernel 7, stride 2, over the raw
// window) or Hidden, Epochs and ThresholdFactor (the calibrated
// threshold's margin, default 1.2) overriding it when set.
type LearnMember struct {
	Window          int     `yaml:"window"`
	Conv            []int   `yaml:"conv"`
	Hidden          []int   `yaml:"hidden"`
	Epochs          int     `yaml:"epochs"`
	ThresholdFactor float64 `yaml:"threshold_factor"`
}

// MaxLearnMembers is the most members a learnt model may have: a model
// file holds at most infer.MaxMembers networks, its own among them.
const MaxLearnMembers = 3

// MinLearnSamples is the fewest samples the agent learns from: enough
// for a 10-sample window, a validation fifth and the slow-channel check.
const MinLearnSamples = 100

func (l *Learn) check(root *yaml.Node, m *Model) error {
	if l.Samples == 0 && l.Duration == 0 {
		return fieldError(root, "model.learn", "want samples (how many samples of normal operation to learn from) or duration (for how long)")
	}
	if l.Samples != 0 && (l.Samples < MinLearnSamples || l.Samples > 10_000_000) {
		return fieldError(root, "model.learn.samples", "%d: want %d to 10000000", l.Samples, MinLearnSamples)
	}
	if l.Duration < 0 {
		return fieldError(root, "model.learn.duration", "%v: want a positive duration such as 30m", l.Duration)
	}
	if l.Window < 0 || l.Window > 1000 {
		return fieldError(root, "model.learn.window", "%d: want 1 to 1000 samples (0: the default, 5)", l.Window)
	}
	for _, h := range l.Hidden {
		if h < 1 || h > 4096 {
			return fieldError(root, "model.learn.hidden", "%v: want layer sizes of 1 to 4096", l.Hidden)
		}
	}
	if l.Epochs < 0 || l.Epochs > 10_000 {
		return fieldError(root, "model.learn.epochs", "%d: want 1 to 10000 (0: the default)", l.Epochs)
	}
	if len(l.Members) > MaxLearnMembers {
		return fieldError(root, "model.learn.members", "%d members: want at most %d", len(l.Members), MaxLearnMembers)
	}
	for i, mb := range l.Members {
		if err := mb.check(); err != nil {
			return fieldError(root, fmt.Sprintf("model.learn.members[%d]", i), "%v", err)
		}
	}
	if l.SignKey == "" && !m.AllowUnsigned {
		return fieldError(root, "model.learn", "the learnt model must be signed: set model.learn.sign_key to a private key (vigil keygen) whose .pub is in model.trusted_keys, or set model.allow_unsigned")
	}
	return nil
}

func (mb *LearnMember) check() error {
	switch {
	case mb.Window < 0 || mb.Window > 1000:
		return fmt.Errorf("window %d: want 1 to 1000 samples (0: the learn section's)", mb.Window)
	case mb.Epochs < 0 || mb.Epochs > 10_000:
		return fmt.Errorf("epochs %d: want 1 to 10000 (0: the learn section's)", mb.Epochs)
	case mb.ThresholdFactor < 0 || math.IsNaN(mb.ThresholdFactor) || math.IsInf(mb.ThresholdFactor, 0):
		return fmt.Errorf("threshold_factor %v: want a positive number (0: 1.2)", mb.ThresholdFactor)
	case len(mb.Conv) > 0 && len(mb.Hidden) > 0:
		return errors.New("conv and hidden both set: a member is convolutional or dense")
	case len(mb.Conv) > 0 && mb.Window < 2:
		return errors.New("conv needs a window of 2 or more samples")
	}
	for _, h := range append(slices.Clone(mb.Hidden), mb.Conv...) {
		if h < 1 || h > 4096 {
			return fmt.Errorf("layer size %d: want 1 to 4096", h)
		}
	}
	if len(mb.Conv) > 0 {
		if err := mb.ConvArch(1).Check(); err != nil {
			return fmt.Errorf("conv %v over %d samples: %w", mb.Conv, mb.Window, err)
		}
	}
	return nil
}

// ConvArch is the convolutional network a member with Conv has over
// channels channels.
func (mb *LearnMember) ConvArch(channels int) train.ConvArch {
	return train.ConvArch{Window: mb.Window, Channels: channels, Filters: mb.Conv, Kernel: train.DefaultKernel, Stride: train.DefaultStride}
}

// Probation is what a new model must do, right after it is swapped in,
// to be kept: score Samples samples (default 600) with at most
// MaxFailures failing (default 0) and raise at most MaxAlerts alerts
// (default: no limit). Otherwise the previous model is restored.
type Probation struct {
	Samples     int  `yaml:"samples"`
	MaxFailures int  `yaml:"max_failures"`
	MaxAlerts   *int `yaml:"max_alerts"`
}

func (m *Model) check(root *yaml.Node) error {
	if m.DropDir != "" && m.Store == "" {
		return fieldError(root, "model.drop_dir", "set, but model.store is not: the store holds what is installed")
	}
	if m.MQTTUpdates != nil && *m.MQTTUpdates && m.Store == "" {
		return fieldError(root, "model.mqtt_updates", "true, but model.store is not set: the store holds what is installed")
	}
	if m.Learn != nil {
		if err := m.Learn.check(root, m); err != nil {
			return err
		}
	}
	p := &m.Probation
	if p.Samples == 0 {
		p.Samples = 600
	}
	if p.Samples < 1 || p.Samples > 10_000_000 {
		return fieldError(root, "model.probation.samples", "%d: want 1 to 10000000", p.Samples)
	}
	if p.MaxFailures < 0 || p.MaxFailures >= p.Samples {
		return fieldError(root, "model.probation.max_failures", "%d: want 0 to samples-1 (%d)", p.MaxFailures, p.Samples-1)
	}
	if p.MaxAlerts != nil && (*p.MaxAlerts < 0 || *p.MaxAlerts > p.Samples) {
		return fieldError(root, "model.probation.max_alerts", "%d: want 0 to samples (%d), or leave it out for no limit", *p.MaxAlerts, p.Samples)
	}
	return nil
}

// Updates reports whether the agent takes new models over MQTT.
func (m *Model) Updates() bool { return m.Store != "" && (m.MQTTUpdates == nil || *m.MQTTUpdates) }

// LoadOptions reads the trusted keys and returns the model file options
// the configuration sets; errors name the key file.
func (m *Model) LoadOptions() (firmware.LoadOptions, error) {
	o := firmware.LoadOptions{AllowUnsigned: m.AllowUnsigned, RefuseV1: m.RefuseV1}
	for _, f := range m.TrustedKeys {
		k, err := firmware.ReadPublicKeyFile(f)
		if err != nil {
			return o, fmt.Errorf("config: model.trusted_keys: %w", err)
		}
		o.Trusted = append(o.Trusted, k)
	}
	return o, nil
}

// Source selects and configures where samples come from: exactly one of
// Serial, Sim and Replay.
type Source struct {
	Serial *Serial `yaml:"serial"`
	Sim    *Sim    `yaml:"sim"`
	Replay *Replay `yaml:"replay"`
	Modbus *Modbus `yaml:"modbus"`
	Periph *Periph `yaml:"periph"`
	// Channels are the channels this source provides, in a sources list
	// only.
	Channels []string `yaml:"channels"`
	// StaleAfter is how long the agent waits for a valid sample before it
	// reports the state stale. 0 (the default) means 10 sample periods as
	// measured, and at least 5 s.
	StaleAfter time.Duration `yaml:"stale_after"`
}

// Serial reads CSV text lines from a serial device.
type Serial struct {
	Device string `yaml:"device"`
	Baud   int    `yaml:"baud"`
	// Format is the line format: csv (the default), kv (key=value pairs)
	// or json (a flat object per line).
	Format string `yaml:"format"`
	// Columns is the layout of lines that carry no header, e.g.
	// [datetime, Pressure, Current]; it defaults to datetime followed by
	// Channels. A header line on the wire re-maps columns by name.
	Columns []string `yaml:"columns"`
	// Separator is ";" or ","; empty accepts either.
	Separator string `yaml:"separator"`
	// MaxLine is the longest line accepted, in bytes.
	MaxLine int `yaml:"max_line"`
	// DataBits (7 or 8), Parity (none, even or odd) and StopBits (1 or
	// 2) frame the line; default 8, none, 1.
	DataBits int    `yaml:"data_bits"`
	Parity   string `yaml:"parity"`
	StopBits int    `yaml:"stop_bits"`
	// Scale converts named channels to engineering units: value×gain +
	// offset.
	Scale map[string]Linear `yaml:"scale"`
}

// Linear is a linear conversion of a channel's readings.
type Linear struct {
	Gain   float64 `yaml:"gain"`
	Offset float64 `yaml:"offset"`
}

// ParityByte returns the parity as serial.Opts wants it: 'N', 'E' or 'O'.
func (s *Serial) ParityByte() byte {
	switch s.Parity {
	case "even":
		return 'E'
	case "odd":
		return 'O'
	}
	return 'N'
}

// Merge configures how several sources make one sample: one every
// Interval (default 100 ms) with each source's newest values, which count
// for MaxAge (default 3 intervals) and read as missing after.
type Merge struct {
	Interval time.Duration `yaml:"interval"`
	MaxAge   time.Duration `yaml:"max_age"`
}

// Modbus polls registers of Modbus slaves: over RTU (Device, a serial
// line) or TCP (Address, host:port).
type Modbus struct {
	Device  string `yaml:"device"`
	Address string `yaml:"address"`
	// Baud (default 19200), Parity (none, even or odd; default even, the
	// Modbus default) and StopBits (default 1) frame an RTU line.
	Baud     int    `yaml:"baud"`
	Parity   string `yaml:"parity"`
	StopBits int    `yaml:"stop_bits"`
	// Timeout bounds one request (default 500 ms); Interval is the time
	// between polls of the whole map (default 1 s).
	Timeout  time.Duration `yaml:"timeout"`
	Interval time.Duration `yaml:"interval"`
	// MaxGap lets registers up to this many addresses apart share a
	// request (default 0: only adjacent ones).
	MaxGap int `yaml:"max_gap"`
	// Registers map each channel to a register.
	Registers []ModbusRegister `yaml:"registers"`
}

// ModbusRegister maps one channel to a value in a slave's register map.
type ModbusRegister struct {
	Channel string `yaml:"channel"`
	Slave   int    `yaml:"slave"`
	// Table is holding (default), input, coil or discrete.
	Table string `yaml:"table"`
	// Address is the 0-based protocol address (register 40001 is holding 0).
	Address int `yaml:"address"`
	// Type is uint16 (default), int16, uint32, int32 or float32.
	Type string `yaml:"type"`
	// WordOrder (32-bit types: which register holds the high word) and
	// ByteOrder (within a register) are big (default) or little.
	WordOrder string `yaml:"word_order"`
	ByteOrder string `yaml:"byte_order"`
	// The channel's value is raw×Scale + Offset (Scale 0 means 1).
	Scale  float64 `yaml:"scale"`
	Offset float64 `yaml:"offset"`
}

// Periph reads devices wired to the gateway's own I²C bus and GPIO
// pins, all polled together every Interval (default 100 ms).
type Periph struct {
	// Bus is the I²C bus: "1" (the default) for /dev/i2c-1, the Pi's
	// header bus.
	Bus      string         `yaml:"bus"`
	Interval time.Duration  `yaml:"interval"`
	Devices  []PeriphDevice `yaml:"devices"`
}

// PeriphDevice is one device of a Periph source. Type selects it and
// which other keys apply.
type PeriphDevice struct {
	// Type is bme280 (also BMP280), ads1115, adxl345 or pulse.
	Type string `yaml:"type"`
	// Address is the I²C address; default 0x76 (bme280), 0x48 (ads1115)
	// or 0x53 (adxl345).
	Address int `yaml:"address"`
	// Channels name the values: bme280 temperature, pressure and (not on
	// a BMP280) humidity; adxl345 one (RMS magnitude) or, with Axes,
	// three; pulse one. ads1115 names them in Inputs instead.
	Channels []string `yaml:"channels"`
	// ADS1115: Supply voltage (default 3.3), DataRate in samples/s
	// (default 128) and the Inputs read.
	Supply   float64    `yaml:"supply"`
	DataRate int        `yaml:"data_rate"`
	Inputs   []ADCInput `yaml:"inputs"`
	// ADXL345: Rate in Hz (default 400), Axes for three per-axis RMS
	// values, KeepGravity to leave gravity in.
	Rate        int  `yaml:"rate"`
	Axes        bool `yaml:"axes"`
	KeepGravity bool `yaml:"keep_gravity"`
	// Pulse: the GPIO Pin (e.g. GPIO17), Edge (falling, rising, both;
	// default falling), Pull (up, down, none; default up), Factor from Hz
	// to the channel's unit (default 1) and Debounce.
	Pin      string        `yaml:"pin"`
	Edge     string        `yaml:"edge"`
	Pull     string        `yaml:"pull"`
	Factor   float64       `yaml:"factor"`
	Debounce time.Duration `yaml:"debounce"`
}

// ADCInput is one ADS1115 input and the transmitter on it.
type ADCInput struct {
	Channel string `yaml:"channel"`
	// Input is 0 to 3 (AINx against GND) or 0-1, 0-3, 1-3, 2-3.
	Input string `yaml:"input"`
	// Transmitter is 4-20mA (across Shunt Ω), 0-10V (through a Divider)
	// or volts; Lo and Hi are the engineering values at 4 mA / 0 V and at
	// 20 mA / 10 V.
	Transmitter string  `yaml:"transmitter"`
	Shunt       float64 `yaml:"shunt"`
	Divider     float64 `yaml:"divider"`
	Lo          float64 `yaml:"lo"`
	Hi          float64 `yaml:"hi"`
	// FullScale is the ADC range in V (6.144 … 0.256); 0 picks the
	// smallest that reads the transmitter's fault limits.
	FullScale float64 `yaml:"full_scale"`
}

// Scaling returns the input's conversion, checked.
func (in *ADCInput) Scaling() (periph.Scaling, error) {
	tr, err := periph.ParseTransmitter(in.Transmitter)
	if err != nil {
		return periph.Scaling{}, err
	}
	s := periph.Scaling{Transmitter: tr, Shunt: in.Shunt, Divider: in.Divider, Lo: in.Lo, Hi: in.Hi}
	return s, s.Check()
}

// Replay plays a CSV recording (with a header naming the channels) as the
// source, paced by its timestamps.
type Replay struct {
	Path string `yaml:"path"`
	// Speed is how many times faster than recorded to play (default 1).
	Speed float64 `yaml:"speed"`
	// Fast plays without pacing.
	Fast bool `yaml:"fast"`
	// Loop starts again at the end instead of stopping the agent.
	Loop bool `yaml:"loop"`
}

// Sim runs the built-in pump simulator in-process.
type Sim struct {
	Seed uint64  `yaml:"seed"`
	Rate float64 `yaml:"rate"`
	// Faults to inject, each KIND@START+DURATION, e.g. valve-closed@20s+15s.
	Faults []string `yaml:"faults"`
}

// MQTT configures the broker connection and topics.
type MQTT struct {
	// Broker is the broker's URL: tcp://host:port (or ssl://, ws://).
	Broker string `yaml:"broker"`
	// Brokers lists several brokers for failover, tried in order; use it
	// instead of Broker.
	Brokers []string `yaml:"brokers"`
	// TLS configures ssl://, tls://, mqtts:// and wss:// brokers.
	TLS TLS `yaml:"tls"`
	// ClientID is fixed so the broker keeps the session; default
	// vigil-<site>-<device>.
	ClientID string `yaml:"client_id"`
	// Prefix of every topic; default vigil/<site>/<device>/.
	Prefix       string        `yaml:"prefix"`
	Username     string        `yaml:"username"`
	PasswordFile string        `yaml:"password_file"`
	KeepAlive    time.Duration `yaml:"keepalive"`
	// ScoreInterval is the least time between two score messages; 0
	// turns score telemetry off.
	ScoreInterval time.Duration `yaml:"score_interval"`
}

// TLS names the files of a TLS connection to the broker, all PEM.
type TLS struct {
	// CAFile holds the certificate authorities that signed the broker's
	// certificate; empty uses the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the agent's client certificate and key,
	// for brokers that require one; set both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked against the broker's
	// certificate (default: the host in the broker URL).
	ServerName string `yaml:"server_name"`
}

// Health configures the sensor checks of one channel: a reading outside
// [Min, Max], or unchanged for Stuck, is a sensor fault, never scored.
type Health struct {
	Min   *float64      `yaml:"min"`
	Max   *float64      `yaml:"max"`
	Stuck time.Duration `yaml:"stuck"`
}

// Outbox configures the durable queue of state and alert messages.
type Outbox struct {
	// Path of the queue's file (default /var/lib/vigil/outbox.db); its
	// directory must be writable by the agent.
	Path string `yaml:"path"`
	// MaxRecords and MaxBytes bound the messages kept while the broker
	// is unreachable (defaults 100000 and 32 MiB). Superseded state
	// messages are dropped first; alerts never are.
	MaxRecords int   `yaml:"max_records"`
	MaxBytes   int64 `yaml:"max_bytes"`
}

// Decision configures the debounce: the state becomes anomaly once K of
// the last N scores are above the threshold, and normal again once K of
// the last N are below it. K and N both 0 (the default) take the model's
// calibrated k of n, or 6 of 8 if the model has none.
type Decision struct {
	K int `yaml:"k"`
	N int `yaml:"n"`
	// Top is how many contributing channels messages name: 1 to the
	// number of channels (default 3).
	Top int `yaml:"top"`
	// Enter and Exit are hysteresis factors of the model's threshold: a
	// score counts toward entering anomaly above Enter×threshold and
	// toward leaving it at or below Exit×threshold (0 < Exit <= Enter).
	// 0 takes the model's value, or 1.
	Enter float64 `yaml:"enter"`
	Exit  float64 `yaml:"exit"`
	// MinDuration: the entry condition must hold this long (sample time)
	// before anomaly is reported. Cooldown: the exit condition must hold
	// this long before normal is reported again. Absent takes the
	// model's value, or 0.
	MinDuration *time.Duration `yaml:"min_duration"`
	Cooldown    *time.Duration `yaml:"cooldown"`
	// Gap: a sample more than Gap after the previous one restarts the
	// window and the decision history. Absent takes the model's value;
	// 0 turns the rule off.
	Gap *time.Duration `yaml:"gap"`
}

// Log configures the agent's own log.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
	// Format is text, json, or auto (the default): JSON lines under
	// systemd (its journal keeps the fields), text on a terminal.
	Format string `yaml:"format"`
}

// Default returns the values used where a file says nothing.
func Default() Config {
	return Config{
		MQTT: MQTT{
			Broker:        "tcp://127.0.0.1:1883",
			KeepAlive:     30 * time.Second,
			ScoreInterval: time.Second,
		},
		Outbox:   Outbox{Path: "/var/lib/vigil/outbox.db", MaxRecords: 100000, MaxBytes: 32 << 20},
		Decision: Decision{Top: 3},
		Log:      Log{Level: "info"},
	}
}

// Load reads and checks the configuration file at path. Errors name the
// file, and where they can, the key and line.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s: larger than %d bytes", path, MaxFileSize)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and checks a configuration held in memory.
func Parse(data []byte) (*Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty configuration")
		}
		return nil, yamlError(err, data)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if err := c.check(&root); err != nil {
		return nil, err
	}
	return &c, nil
}

// fieldError is a check failure at a dotted key such as "mqtt.broker".
func fieldError(root *yaml.Node, key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line := lineOf(root, key); line > 0 {
		return fmt.Errorf("line %d: %s: %s", line, key, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// lineOf finds the line of a dotted key in a decoded document, or 0.
func lineOf(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(key, ".") {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// hasKey reports whether the document sets the dotted key.
func hasKey(root *yaml.Node, key string) bool {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(key, ".") {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

func (c *Config) check(root *yaml.Node) error {
	if !validName(c.Site) {
		return fieldError(root, "site", "%q: want a non-empty name without '/', '+', '#' or spaces", c.Site)
	}
	if !validName(c.Device) {
		return fieldError(root, "device", "%q: want a non-empty name without '/', '+', '#' or spaces", c.Device)
	}
	if len(c.Channels) == 0 {
		return fieldError(root, "channels", "missing: list the channels this device provides")
	}
	for i, ch := range c.Channels {
		if ch == "" || slices.Contains(c.Channels[:i], ch) {
			return fieldError(root, "channels", "entry %d %q is empty or repeated", i, ch)
		}
	}
	if c.Model.Path == "" {
		return fieldError(root, "model.path", "missing: the model file to load")
	}
	if err := c.Model.check(root); err != nil {
		return err
	}
	for ch := range c.Units {
		if !slices.Contains(c.Channels, ch) {
			return fieldError(root, "units", "%q is not among the channels %q", ch, c.Channels)
		}
	}
	switch {
	case len(c.Sources) > 0 && hasKey(root, "source"):
		return fieldError(root, "sources", "set, and so is source: use source for one, sources for several")
	case len(c.Sources) == 1:
		return fieldError(root, "sources", "one entry: use source for a single source")
	case len(c.Sources) > 1:
		owner := map[string]int{}
		for i := range c.Sources {
			e := &c.Sources[i]
			key := fmt.Sprintf("sources.%d", i)
			if len(e.Channels) == 0 {
				return fieldError(root, "sources", "entry %d: channels missing: list the channels this source provides", i+1)
			}
			for _, ch := range e.Channels {
				if !slices.Contains(c.Channels, ch) {
					return fieldError(root, "sources", "entry %d: channel %q is not among the channels %q", i+1, ch, c.Channels)
				}
				if j, dup := owner[ch]; dup {
					return fieldError(root, "sources", "channel %q comes from entries %d and %d: name each channel once", ch, j+1, i+1)
				}
				owner[ch] = i
			}
			if err := e.check(root, key, e.Channels); err != nil {
				return err
			}
		}
		for _, ch := range c.Channels {
			if _, ok := owner[ch]; !ok {
				return fieldError(root, "sources", "no entry provides channel %q", ch)
			}
		}
		if c.Merge.Interval < 0 || c.Merge.MaxAge < 0 {
			return fieldError(root, "merge", "interval %v max_age %v: want positive durations", c.Merge.Interval, c.Merge.MaxAge)
		}
	default:
		if len(c.Source.Channels) > 0 {
			return fieldError(root, "source.channels", "set: a single source provides the top-level channels")
		}
		if err := c.Source.check(root, "source", c.Channels); err != nil {
			return err
		}
	}
	for ch, h := range c.Health {
		key := "health." + ch
		if !slices.Contains(c.Channels, ch) {
			return fieldError(root, key, "%q is not among the channels %q", ch, c.Channels)
		}
		for _, b := range []*float64{h.Min, h.Max} {
			if b != nil && (math.IsInf(*b, 0) || math.IsNaN(*b)) {
				return fieldError(root, key, "bound %v: want a finite number", *b)
			}
		}
		if h.Min != nil && h.Max != nil && *h.Min > *h.Max {
			return fieldError(root, key, "min %v is above max %v", *h.Min, *h.Max)
		}
		if h.Stuck < 0 {
			return fieldError(root, key+".stuck", "%v: want 0 (off) or a positive duration", h.Stuck)
		}
	}
	if err := c.MQTT.check(root, c.Site, c.Device); err != nil {
		return err
	}
	d := c.Decision
	if d.K != 0 || d.N != 0 {
		if d.N < 1 || d.N > 1000 {
			return fieldError(root, "decision.n", "%d: want 1 to 1000 (or k and n both left out)", d.N)
		}
		if d.K < 1 || d.K > d.N {
			return fieldError(root, "decision.k", "%d: want 1 to n (%d)", d.K, d.N)
		}
	}
	if !hasKey(root, "decision.top") {
		d.Top = min(d.Top, len(c.Channels))
		c.Decision.Top = d.Top
	}
	if d.Top < 1 || d.Top > len(c.Channels) {
		return fieldError(root, "decision.top", "%d: want 1 to the number of channels (%d)", d.Top, len(c.Channels))
	}
	if d.Enter < 0 || d.Exit < 0 || math.IsInf(d.Enter, 0) || math.IsInf(d.Exit, 0) || math.IsNaN(d.Enter) || math.IsNaN(d.Exit) {
		return fieldError(root, "decision.enter", "enter %v exit %v: want positive finite factors of the threshold (or leave them out)", d.Enter, d.Exit)
	}
	if d.Enter > 0 && d.Exit > d.Enter {
		return fieldError(root, "decision.exit", "%v is above enter (%v): the exit level must not exceed the entry level", d.Exit, d.Enter)
	}
	for _, f := range []struct {
		key string
		v   *time.Duration
	}{{"decision.min_duration", d.MinDuration}, {"decision.cooldown", d.Cooldown}, {"decision.gap", d.Gap}} {
		if f.v != nil && *f.v < 0 {
			return fieldError(root, f.key, "%v: want 0 or a positive duration", *f.v)
		}
	}
	if c.Source.StaleAfter < 0 || c.Source.StaleAfter > 0 && c.Source.StaleAfter < 100*time.Millisecond {
		return fieldError(root, "source.stale_after", "%v: want 0 (automatic) or at least 100ms", c.Source.StaleAfter)
	}
	if c.Outbox.Path == "" {
		return fieldError(root, "outbox.path", "missing: the outbox file, e.g. /var/lib/vigil/outbox.db")
	}
	if c.Outbox.MaxRecords < 10 {
		return fieldError(root, "outbox.max_records", "%d: want at least 10", c.Outbox.MaxRecords)
	}
	if c.Outbox.MaxBytes < 64<<10 {
		return fieldError(root, "outbox.max_bytes", "%d: want at least 65536", c.Outbox.MaxBytes)
	}
	if a := c.HTTP.Listen; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fieldError(root, "http.listen", "%q: want host:port, e.g. 127.0.0.1:9377", a)
		}
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "auto"
	case "auto", "text", "json":
	default:
		return fieldError(root, "log.format", "%q: want auto, text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fieldError(root, "log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	return nil
}

// check checks one source, at key prefix ("source" or "sources.N"),
// providing channels.
func (src *Source) check(root *yaml.Node, prefix string, channels []string) error {
	set := 0
	for _, on := range []bool{src.Serial != nil, src.Sim != nil, src.Replay != nil, src.Modbus != nil, src.Periph != nil} {
		if on {
			set++
		}
	}
	switch {
	case set == 0:
		return fieldError(root, prefix, "missing: configure serial, modbus, periph, sim or replay")
	case set > 1:
		return fieldError(root, prefix, "more than one of serial, modbus, periph, sim and replay is set: choose one")
	case src.Periph != nil:
		return src.Periph.check(root, prefix+".periph", channels)
	case src.Modbus != nil:
		return src.Modbus.check(root, prefix+".modbus", channels)
	case src.Replay != nil:
		r := src.Replay
		if r.Path == "" {
			return fieldError(root, prefix+".replay.path", "missing: the CSV recording to play")
		}
		if r.Speed < 0 || r.Speed > 1e6 || math.IsNaN(r.Speed) {
			return fieldError(root, prefix+".replay.speed", "%v: want more than 0 and at most 1e6 (default 1)", r.Speed)
		}
	case src.Serial != nil:
		return src.Serial.check(root, prefix, channels)
	default:
		if src.Sim.Rate < 0 {
			return fieldError(root, prefix+".sim.rate", "%v: want a positive rate in samples per second", src.Sim.Rate)
		}
		for _, f := range src.Sim.Faults {
			if _, err := sim.ParseFault(f); err != nil {
				return fieldError(root, prefix+".sim.faults", "%v", err)
			}
		}
		for _, ch := range channels {
			if !slices.Contains(sensors.SKABChannels, ch) {
				return fieldError(root, "channels", "%q is not a simulator channel (it has %q)", ch, sensors.SKABChannels)
			}
		}
	}
	return nil
}

func (m *Modbus) check(root *yaml.Node, key string, channels []string) error {
	switch {
	case (m.Device == "") == (m.Address == ""):
		return fieldError(root, key, "set device (RTU, e.g. /dev/ttyUSB0) or address (TCP, host:port), not both")
	case m.Address != "":
		if _, port, err := net.SplitHostPort(m.Address); err != nil || port == "" {
			return fieldError(root, key+".address", "%q: want host:port, e.g. 10.0.0.7:502", m.Address)
		}
	}
	if m.Baud == 0 {
		m.Baud = 19200
	}
	if m.Baud < 300 || m.Baud > 4000000 {
		return fieldError(root, key+".baud", "%d: want 300 to 4000000", m.Baud)
	}
	if err := checkFraming(root, key, &m.Parity, &m.StopBits, "even"); err != nil {
		return err
	}
	if m.Timeout == 0 {
		m.Timeout = 500 * time.Millisecond
	}
	if m.Interval == 0 {
		m.Interval = time.Second
	}
	if m.Timeout < time.Millisecond || m.Interval < time.Millisecond {
		return fieldError(root, key+".timeout", "timeout %v interval %v: want at least 1ms each", m.Timeout, m.Interval)
	}
	if m.MaxGap < 0 || m.MaxGap > 120 {
		return fieldError(root, key+".max_gap", "%d: want 0 to 120", m.MaxGap)
	}
	mapped := map[string]bool{}
	for i := range m.Registers {
		r := &m.Registers[i]
		rk := fmt.Sprintf("%s.registers.%d", key, i)
		if !slices.Contains(channels, r.Channel) {
			return fieldError(root, key+".registers", "entry %d: channel %q is not among the channels %q", i+1, r.Channel, channels)
		}
		if mapped[r.Channel] {
			return fieldError(root, key+".registers", "entry %d: channel %q is mapped twice", i+1, r.Channel)
		}
		mapped[r.Channel] = true
		if r.Slave < 1 || r.Slave > 247 {
			return fieldError(root, key+".registers", "%s: slave %d: want 1 to 247", rk, r.Slave)
		}
		if r.Address < 0 || r.Address > 65535 {
			return fieldError(root, key+".registers", "%s: address %d: want 0 to 65535", rk, r.Address)
		}
		for _, f := range []struct {
			v     *string
			def   string
			parse func(string) error
		}{
			{&r.Table, "holding", func(s string) error { _, err := modbus.ParseTable(s); return err }},
			{&r.Type, "uint16", func(s string) error { _, err := modbus.ParseType(s); return err }},
			{&r.WordOrder, "big", func(s string) error { _, err := modbus.ParseOrder(s); return err }},
			{&r.ByteOrder, "big", func(s string) error { _, err := modbus.ParseOrder(s); return err }},
		} {
			if *f.v == "" {
				*f.v = f.def
			}
			if err := f.parse(*f.v); err != nil {
				return fieldError(root, key+".registers", "%s: %v", rk, err)
			}
		}
		if math.IsNaN(r.Scale) || math.IsInf(r.Scale, 0) || math.IsNaN(r.Offset) || math.IsInf(r.Offset, 0) {
			return fieldError(root, key+".registers", "%s: scale %v offset %v: want finite numbers", rk, r.Scale, r.Offset)
		}
	}
	for _, ch := range channels {
		if !mapped[ch] {
			return fieldError(root, key+".registers", "channel %q has no register", ch)
		}
	}
	return nil
}

func (p *Periph) check(root *yaml.Node, key string, channels []string) error {
	if p.Bus == "" {
		p.Bus = "1"
	}
	if p.Interval == 0 {
		p.Interval = sensors.DefaultPollInterval
	}
	if p.Interval < time.Millisecond {
		return fieldError(root, key+".interval", "%v: want at least 1ms", p.Interval)
	}
	if len(p.Devices) == 0 {
		return fieldError(root, key+".devices", "missing: list the devices, e.g. - {type: bme280, channels: [Temperature, Pressure, Humidity]}")
	}
	given := map[string]bool{}
	for i := range p.Devices {
		names, err := p.Devices[i].check()
		if err != nil {
			return fieldError(root, key+".devices", "entry %d (%s): %v", i+1, p.Devices[i].Type, err)
		}
		for _, ch := range names {
			if given[ch] {
				return fieldError(root, key+".devices", "entry %d: channel %q is given twice", i+1, ch)
			}
			given[ch] = true
		}
	}
	for _, ch := range channels {
		if !given[ch] {
			return fieldError(root, key+".devices", "no device gives channel %q", ch)
		}
	}
	return nil
}

// check checks d, filling in defaults, and returns the channels it gives.
func (d *PeriphDevice) check() ([]string, error) {
	def := map[string]int{"bme280": 0x76, "ads1115": 0x48, "adxl345": 0x53}
	if a, ok := def[d.Type]; ok && d.Address == 0 {
		d.Address = a
	}
	allowed := map[string][]int{"bme280": {0x76, 0x77}, "ads1115": {0x48, 0x49, 0x4A, 0x4B}, "adxl345": {0x53, 0x1D}}
	if a, ok := allowed[d.Type]; ok && !slices.Contains(a, d.Address) {
		return nil, fmt.Errorf("address %#x: an %s answers at %s", d.Address, d.Type, hexList(a))
	}
	need := func(min, max int) error {
		if len(d.Channels) < min || len(d.Channels) > max {
			return fmt.Errorf("channels %q: want %d to %d names", d.Channels, min, max)
		}
		return nil
	}
	switch d.Type {
	case "bme280":
		return d.Channels, need(2, 3)
	case "adxl345":
		if d.Rate == 0 {
			d.Rate = 400
		}
		if !slices.Contains([]int{100, 200, 400, 800}, d.Rate) {
			return nil, fmt.Errorf("rate %d: want 100, 200, 400 or 800 Hz", d.Rate)
		}
		if d.Axes {
			return d.Channels, need(3, 3)
		}
		return d.Channels, need(1, 1)
	case "pulse":
		if d.Pin == "" {
			return nil, errors.New("pin: missing: the GPIO pin, e.g. GPIO17")
		}
		for _, f := range []struct {
			v     *string
			def   string
			parse func(string) error
		}{
			{&d.Edge, "falling", func(s string) error { _, err := periph.ParseEdge(s); return err }},
			{&d.Pull, "up", func(s string) error { _, err := periph.ParsePull(s); return err }},
		} {
			if *f.v == "" {
				*f.v = f.def
			}
			if err := f.parse(*f.v); err != nil {
				return nil, err
			}
		}
		if d.Factor == 0 {
			d.Factor = 1
		}
		if !(d.Factor > 0) || math.IsInf(d.Factor, 0) {
			return nil, fmt.Errorf("factor %v: want a positive number (units per Hz)", d.Factor)
		}
		if d.Debounce < 0 {
			return nil, fmt.Errorf("debounce %v: want 0 or more", d.Debounce)
		}
		return d.Channels, need(1, 1)
	case "ads1115":
		if len(d.Channels) > 0 {
			return nil, errors.New("channels: set, but an ads1115 names its values in inputs: leave channels out")
		}
		if d.Supply == 0 {
			d.Supply = 3.3
		}
		if d.DataRate == 0 {
			d.DataRate = 128
		}
		if !slices.Contains([]int{8, 16, 32, 64, 128, 250, 475, 860}, d.DataRate) {
			return nil, fmt.Errorf("data_rate %d: want 8, 16, 32, 64, 128, 250, 475 or 860 samples/s", d.DataRate)
		}
		if !(d.Supply >= 2 && d.Supply <= 5.5) {
			return nil, fmt.Errorf("supply %v V: want the ADS1115's VDD, 2 to 5.5 (3.3 on a Pi's header)", d.Supply)
		}
		if len(d.Inputs) == 0 || len(d.Inputs) > 8 {
			return nil, fmt.Errorf("inputs: %d listed: want 1 to 8", len(d.Inputs))
		}
		var names []string
		for j := range d.Inputs {
			in := &d.Inputs[j]
			if in.Channel == "" {
				return nil, fmt.Errorf("inputs entry %d: channel: missing", j+1)
			}
			if _, err := periph.ParseInput(in.Input); err != nil {
				return nil, fmt.Errorf("inputs entry %d (%s): %v", j+1, in.Channel, err)
			}
			if in.FullScale != 0 && !slices.Contains([]float64{0.256, 0.512, 1.024, 2.048, 4.096, 6.144}, in.FullScale) {
				return nil, fmt.Errorf("inputs entry %d (%s): full_scale %v V: want 0 (automatic), 0.256, 0.512, 1.024, 2.048, 4.096 or 6.144", j+1, in.Channel, in.FullScale)
			}
			if _, err := in.Scaling(); err != nil {
				return nil, fmt.Errorf("inputs entry %d (%s): %v", j+1, in.Channel, err)
			}
			names = append(names, in.Channel)
		}
		return names, nil
	}
	return nil, fmt.Errorf("type %q: want bme280, ads1115, adxl345 or pulse", d.Type)
}

// hexList formats I²C addresses for messages: "0x76 or 0x77".
func hexList(a []int) string {
	s := make([]string, len(a))
	for i, v := range a {
		s[i] = fmt.Sprintf("%#x", v)
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// checkFraming checks a line's parity (none, even or odd; "" takes
// defaultParity) and stop bits (1 or 2; 0 takes 1) at key.
func checkFraming(root *yaml.Node, key string, parity *string, stopBits *int, defaultParity string) error {
	switch *parity {
	case "":
		*parity = defaultParity
	case "none", "even", "odd":
	default:
		return fieldError(root, key+".parity", "%q: want none, even or odd", *parity)
	}
	if *stopBits == 0 {
		*stopBits = 1
	}
	if *stopBits != 1 && *stopBits != 2 {
		return fieldError(root, key+".stop_bits", "%d: want 1 or 2", *stopBits)
	}
	return nil
}

func (s *Serial) check(root *yaml.Node, prefix string, channels []string) error {
	if s.Device == "" {
		return fieldError(root, prefix+".serial.device", "missing: the serial device path, e.g. /dev/ttyUSB0")
	}
	if s.Baud == 0 {
		s.Baud = 115200
	}
	if s.Baud < 50 || s.Baud > 4000000 {
		return fieldError(root, prefix+".serial.baud", "%d: want 50 to 4000000", s.Baud)
	}
	switch s.Format {
	case "", "csv":
		s.Format = "csv"
		if len(s.Columns) == 0 {
			s.Columns = append([]string{"datetime"}, channels...)
		}
		for _, ch := range channels {
			if !slices.Contains(s.Columns, ch) {
				return fieldError(root, prefix+".serial.columns", "channel %q is not among the columns %v", ch, s.Columns)
			}
		}
	case "kv", "json":
		if len(s.Columns) > 0 {
			return fieldError(root, prefix+".serial.columns", "set, but %s lines name their values: leave columns out", s.Format)
		}
	default:
		return fieldError(root, prefix+".serial.format", "%q: want csv, kv or json", s.Format)
	}
	switch s.Separator {
	case "", ";", ",":
	default:
		return fieldError(root, prefix+".serial.separator", "%q: want \";\" or \",\"", s.Separator)
	}
	if s.DataBits == 0 {
		s.DataBits = 8
	}
	if s.DataBits != 7 && s.DataBits != 8 {
		return fieldError(root, prefix+".serial.data_bits", "%d: want 7 or 8", s.DataBits)
	}
	if err := checkFraming(root, prefix+".serial", &s.Parity, &s.StopBits, "none"); err != nil {
		return err
	}
	for ch, lin := range s.Scale {
		if !slices.Contains(channels, ch) {
			return fieldError(root, prefix+".serial.scale", "%q is not among the channels %q", ch, channels)
		}
		if lin.Gain == 0 || math.IsInf(lin.Gain, 0) || math.IsNaN(lin.Gain) || math.IsInf(lin.Offset, 0) || math.IsNaN(lin.Offset) {
			return fieldError(root, prefix+".serial.scale."+ch, "gain %v offset %v: want a finite non-zero gain and a finite offset", lin.Gain, lin.Offset)
		}
	}
	if s.MaxLine == 0 {
		s.MaxLine = 4096
	}
	if s.MaxLine < 64 || s.MaxLine > 1<<20 {
		return fieldError(root, prefix+".serial.max_line", "%d: want 64 to 1048576 bytes", s.MaxLine)
	}
	return nil
}

func (m *MQTT) check(root *yaml.Node, site, device string) error {
	switch {
	case len(m.Brokers) > 0 && hasKey(root, "mqtt.broker"):
		return fieldError(root, "mqtt.brokers", "set either broker or brokers, not both")
	case len(m.Brokers) == 0:
		if m.Broker == "" {
			return fieldError(root, "mqtt.broker", "missing: the broker URL, e.g. tcp://127.0.0.1:1883")
		}
		m.Brokers = []string{m.Broker}
	}
	m.Broker = m.Brokers[0]
	key := "mqtt.broker"
	if hasKey(root, "mqtt.brokers") {
		key = "mqtt.brokers"
	}
	secure := false
	for _, b := range m.Brokers {
		s, err := checkBroker(b)
		if err != nil {
			return fieldError(root, key, "%v", err)
		}
		secure = secure || s
	}
	t := m.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fieldError(root, "mqtt.tls", "cert_file and key_file go together: set both or neither")
	}
	if !secure && (t.CAFile != "" || t.CertFile != "" || t.ServerName != "") {
		return fieldError(root, "mqtt.tls", "set, but no broker URL uses TLS (ssl://, tls://, mqtts:// or wss://)")
	}
	if m.ClientID == "" {
		m.ClientID = "vigil-" + site + "-" + device
	}
	if m.Prefix == "" {
		m.Prefix = "vigil/" + site + "/" + device + "/"
	}
	if strings.ContainsAny(m.Prefix, "+#") {
		return fieldError(root, "mqtt.prefix", "%q: must not contain the wildcards + or #", m.Prefix)
	}
	if !strings.HasSuffix(m.Prefix, "/") {
		m.Prefix += "/"
	}
	if m.KeepAlive < time.Second {
		return fieldError(root, "mqtt.keepalive", "%v: want at least 1s", m.KeepAlive)
	}
	if m.ScoreInterval < 0 {
		return fieldError(root, "mqtt.score_interval", "%v: want 0 (off) or a positive duration", m.ScoreInterval)
	}
	return nil
}

// checkBroker checks one broker URL and reports whether it uses TLS.
func checkBroker(b string) (bool, error) {
	u, err := url.Parse(b)
	if err != nil || u.Host == "" {
		return false, fmt.Errorf("%q: want a URL such as tcp://127.0.0.1:1883", b)
	}
	secure := false
	switch u.Scheme {
	case "tcp", "mqtt", "ws":
	case "ssl", "tls", "mqtts", "wss":
		secure = true
	default:
		return false, fmt.Errorf("%q: scheme %q: want tcp, ssl, tls, mqtt, mqtts, ws or wss", b, u.Scheme)
	}
	if u.Hostname() == "" {
		return false, fmt.Errorf("%q: no host", b)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return false, fmt.Errorf("%q: port %q: want 1 to 65535", b, p)
		}
	}
	return secure, nil
}

// TLSConfig loads the TLS files named by m.TLS into a configuration for
// the broker connection; nil (and no error) when no broker uses TLS.
// Errors name the key and file.
func (m *MQTT) TLSConfig() (*tls.Config, error) {
	secure := false
	for _, b := range m.Brokers {
		s, _ := checkBroker(b)
		secure = secure || s
	}
	if !secure {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: m.TLS.ServerName}
	if f := m.TLS.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("config: mqtt.tls.ca_file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("config: mqtt.tls.ca_file: %s holds no PEM certificate", f)
		}
	}
	if m.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(m.TLS.CertFile, m.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("config: mqtt.tls.cert_file %s / key_file %s: %w", m.TLS.CertFile, m.TLS.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Password reads the MQTT password from PasswordFile, if one is set.
func (m *MQTT) Password() (string, error) {
	if m.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("config: mqtt.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// yamlError turns yaml.v3's multi-line messages into one line per
// problem, each starting "line N:".
func yamlError(err error, data []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // a type error still leaves the tree
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, nameKey(&root, l))
		}
	}
	return errors.New(strings.Join(parts, "; "))
}

// nameKey puts the dotted key into a decoder message "line N: cannot
// unmarshal !!str `abc` into int": the key whose value on line N is the
// one quoted (else the last value on that line), as
// "line N: model.learn.samples: cannot unmarshal ...".
func nameKey(root *yaml.Node, msg string) string {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return msg
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil || !strings.HasPrefix(text, "cannot unmarshal") {
		return msg // an unknown field names itself
	}
	value := ""
	if _, q, ok := strings.Cut(text, "`"); ok {
		value, _, _ = strings.Cut(q, "`")
	}
	key, exact := "", false
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for i, c := range n.Content {
				p := path
				if n.Kind == yaml.SequenceNode {
					p = fmt.Sprintf("%s.%d", path, i)
				}
				walk(c, p)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
				if v := n.Content[i+1]; v.Line == line && !exact && (v.Kind == yaml.ScalarNode || v.Line == n.Content[i].Line) {
					key, exact = p, v.Kind == yaml.ScalarNode && value != "" && v.Value == value
				}
				walk(n.Content[i+1], p)
			}
		}
	}
	walk(root, "")
	if key == "" {
		return msg
	}
	return fmt.Sprintf("line %d: %s: %s", line, key, text)
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/+# \t\n")
}
