package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	c, err := Load("testdata/serial.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Source.Serial
	if s == nil || s.Device != "/dev/ttyUSB0" || s.MaxLine != 4096 || len(s.Columns) != 9 || s.Columns[0] != "datetime" {
		t.Errorf("serial source %+v", s)
	}
	if c.MQTT.Prefix != "vigil/plant-1/pump-3/" || c.MQTT.ClientID != "vigil-plant-1-pump-3" {
		t.Errorf("derived prefix %q client id %q", c.MQTT.Prefix, c.MQTT.ClientID)
	}
	if c.MQTT.ScoreInterval != 2*time.Second || c.MQTT.KeepAlive != 30*time.Second {
		t.Errorf("durations: score %v keepalive %v", c.MQTT.ScoreInterval, c.MQTT.KeepAlive)
	}
}

const base = `site: s
device: d
channels: [Current, Pressure]
model: {path: m.vgm}
source:
  sim: {seed: 1}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"typo top", base + "mqtt:\n  brokr: tcp://x:1\n", []string{"line 8", "brokr"}},
		{"typo nested", "site: s\ndevice: d\nchannels: [a]\nmodel: {path: m}\nsource:\n  serial:\n    device: /dev/x\n    baudrate: 9600\n", []string{"line 8", "baudrate"}},
		{"empty", "", []string{"empty"}},
		{"not yaml", "site: [\n", []string{"line"}},
		{"wrong type", base + "decision:\n  k: three\n", []string{"line 8: decision.k: cannot unmarshal", "three"}},
		{"wrong types in flow", strings.Replace(base, "sim: {seed: 1}", "sim: {seed: 1, rate: fast}", 1) + "decision: {k: 2, n: many}\n",
			[]string{"line 6: source.sim.rate: cannot unmarshal !!str `fast`", "; line 7: decision.n: cannot unmarshal !!str `many`"}},
		{"wrong type in a list", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {seed: x}\n    channels: [Current]\n  - sim: {}\n    channels: [Pressure]\n", 1),
			[]string{"line 6: sources.0.sim.seed: cannot unmarshal !!str `x`"}},
		{"no site", "device: d\nchannels: [a]\nmodel: {path: m}\nsource: {sim: {}}\n", []string{"site"}},
		{"bad device", strings.Replace(base, "device: d", "device: a/b", 1), []string{"line 2", "device"}},
		{"no channels", strings.Replace(base, "channels: [Current, Pressure]", "channels: []", 1), []string{"line 3", "channels"}},
		{"dup channel", strings.Replace(base, "[Current, Pressure]", "[Current, Current]", 1), []string{"repeated"}},
		{"sim channel", strings.Replace(base, "[Current, Pressure]", "[Current, Torque]", 1), []string{"line 3", "Torque"}},
		{"sim fault", strings.Replace(base, "sim: {seed: 1}", "sim: {faults: [valve-open@1s]}", 1), []string{"line 6", "valve-open"}},
		{"no model", strings.Replace(base, "model: {path: m.vgm}", "model: {}", 1), []string{"model.path"}},
		{"no source", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "", 1), []string{"source"}},
		{"two sources", base + "  serial: {device: /dev/x}\n", []string{"choose one"}},
		{"sources and source", base + "sources:\n  - sim: {}\n    channels: [Current]\n  - sim: {}\n    channels: [Pressure]\n", []string{"sources", "use source for one"}},
		{"one source in sources", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {}\n    channels: [Current, Pressure]\n", 1), []string{"one entry"}},
		{"sources channel twice", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {}\n    channels: [Current, Pressure]\n  - sim: {}\n    channels: [Pressure]\n", 1), []string{`"Pressure" comes from entries 1 and 2`}},
		{"sources channel missing", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {}\n    channels: [Current]\n  - replay: {path: r.csv}\n    channels: [Voltage]\n", 1), []string{`"Voltage" is not among`}},
		{"sources uncovered", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {}\n    channels: [Current]\n  - replay: {path: r.csv}\n    channels: []\n", 1), []string{"entry 2: channels missing"}},
		{"sources bad entry", strings.Replace(base, "source:\n  sim: {seed: 1}\n", "sources:\n  - sim: {}\n    channels: [Current]\n  - serial: {device: /dev/x, parity: mark}\n    channels: [Pressure]\n", 1), []string{"sources.1.serial.parity"}},
		{"modbus both", strings.Replace(base, "sim: {seed: 1}", "modbus: {device: /dev/x, address: \"h:502\"}", 1), []string{"source.modbus", "not both"}},
		{"modbus address", strings.Replace(base, "sim: {seed: 1}", "modbus: {address: plc}", 1), []string{"source.modbus.address", "host:port"}},
		{"modbus unmapped", strings.Replace(base, "sim: {seed: 1}", "modbus: {address: \"h:502\", registers: [{channel: Current, slave: 1}]}", 1), []string{`channel "Pressure" has no register`}},
		{"modbus type", strings.Replace(base, "sim: {seed: 1}", "modbus: {address: \"h:502\", registers: [{channel: Current, slave: 1, type: float64}, {channel: Pressure, slave: 1, address: 1}]}", 1), []string{"registers.0", `type "float64"`}},
		{"modbus slave", strings.Replace(base, "sim: {seed: 1}", "modbus: {address: \"h:502\", registers: [{channel: Current, slave: 0}, {channel: Pressure, slave: 1}]}", 1), []string{"slave 0: want 1 to 247"}},
		{"modbus twice", strings.Replace(base, "sim: {seed: 1}", "modbus: {address: \"h:502\", registers: [{channel: Current, slave: 1}, {channel: Current, slave: 2}]}", 1), []string{`"Current" is mapped twice`}},
		{"periph no devices", strings.Replace(base, "sim: {seed: 1}", "periph: {bus: \"1\"}", 1), []string{"source.periph.devices", "missing"}},
		{"periph type", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: mpu9250, channels: [Current]}]}", 1), []string{"source.periph.devices", `type "mpu9250"`}},
		{"periph uncovered", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: adxl345, channels: [Current]}]}", 1), []string{`no device gives channel "Pressure"`}},
		{"periph twice", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: adxl345, channels: [Current]}, {type: pulse, pin: GPIO17, channels: [Current]}]}", 1), []string{`channel "Current" is given twice`}},
		{"periph bme names", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: bme280, channels: [Current]}]}", 1), []string{"entry 1 (bme280)", "want 2 to 3 names"}},
		{"periph rate", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: adxl345, rate: 1000, channels: [Current]}]}", 1), []string{"rate 1000"}},
		{"periph address", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: adxl345, address: 0x1D0, channels: [Current]}]}", 1), []string{"address 0x1d0", "0x53 or 0x1d"}},
		{"periph pin", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: pulse, channels: [Current]}]}", 1), []string{"entry 1 (pulse)", "pin: missing"}},
		{"periph edge", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: pulse, pin: GPIO17, edge: up, channels: [Current]}]}", 1), []string{`edge "up"`}},
		{"periph shunt", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: ads1115, inputs: [{channel: Current, input: 0, transmitter: 4-20mA, hi: 10}]}]}", 1), []string{"inputs entry 1 (Current)", "Shunt 0"}},
		{"periph input", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: ads1115, inputs: [{channel: Current, input: 5}]}]}", 1), []string{`input "5"`}},
		{"periph ads channels", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: ads1115, channels: [Current], inputs: [{channel: Current, input: 0}]}]}", 1), []string{"names its values in inputs"}},
		{"periph full scale", strings.Replace(base, "sim: {seed: 1}", "periph: {devices: [{type: ads1115, inputs: [{channel: Current, input: 0, full_scale: 5}]}]}", 1), []string{"full_scale 5"}},
		{"replay path", strings.Replace(base, "sim: {seed: 1}", "replay: {speed: 2}", 1), []string{"line 6", "source.replay.path"}},
		{"replay speed", strings.Replace(base, "sim: {seed: 1}", "replay: {path: r.csv, speed: -2}", 1), []string{"source.replay.speed"}},
		{"column missing", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, columns: [datetime, Current]}", 1), []string{"line 6", "\"Pressure\""}},
		{"baud", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, baud: 7}", 1), []string{"baud"}},
		{"separator", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, separator: \"|\"}", 1), []string{"separator"}},
		{"format", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, format: xml}", 1), []string{"source.serial.format", "xml"}},
		{"kv columns", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, format: kv, columns: [a]}", 1), []string{"source.serial.columns", "kv lines name"}},
		{"parity", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, parity: mark}", 1), []string{"line 6", "source.serial.parity", "mark"}},
		{"data bits", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, data_bits: 5}", 1), []string{"source.serial.data_bits"}},
		{"stop bits", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, stop_bits: 3}", 1), []string{"source.serial.stop_bits"}},
		{"scale channel", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, scale: {Torque: {gain: 2}}}", 1), []string{"source.serial.scale", "Torque"}},
		{"scale gain", strings.Replace(base, "sim: {seed: 1}", "serial: {device: /dev/x, scale: {Current: {offset: 4}}}", 1), []string{"source.serial.scale.Current", "gain 0"}},
		{"broker", base + "mqtt: {broker: \"127.0.0.1:1883\"}\n", []string{"line 7", "mqtt.broker"}},
		{"prefix", base + "mqtt: {prefix: \"a/#\"}\n", []string{"wildcards"}},
		{"k > n", base + "decision: {k: 6, n: 5}\n", []string{"line 7", "decision.k"}},
		{"top", base + "decision: {top: -1}\n", []string{"decision.top"}},
		{"top 0", base + "decision: {top: 0}\n", []string{"line 7", "decision.top", "want 1 to"}},
		{"top too many", base + "decision: {top: 3}\n", []string{"decision.top", "(2)"}},
		{"port", base + "mqtt: {broker: \"tcp://127.0.0.1:99999\"}\n", []string{"line 7", "port \"99999\""}},
		{"no host", base + "mqtt: {broker: \"tcp://:1883\"}\n", []string{"mqtt.broker"}},
		{"broker and brokers", base + "mqtt: {broker: \"tcp://a:1\", brokers: [\"tcp://b:1\"]}\n", []string{"either broker or brokers"}},
		{"bad failover", base + "mqtt:\n  brokers: [\"tcp://a:1\", \"http://b:1\"]\n", []string{"line 8", "mqtt.brokers", "http"}},
		{"tls without ssl", base + "mqtt: {tls: {ca_file: ca.pem}}\n", []string{"mqtt.tls", "no broker URL uses TLS"}},
		{"cert without key", base + "mqtt: {broker: \"ssl://b:8883\", tls: {cert_file: c.pem}}\n", []string{"key_file"}},
		{"exit above enter", base + "decision: {enter: 1.0, exit: 1.5}\n", []string{"decision.exit"}},
		{"negative cooldown", base + "decision: {cooldown: -1s}\n", []string{"decision.cooldown"}},
		{"stale", base[:len(base)-1] + "\n  stale_after: 1ms\n", []string{"source.stale_after"}},
		{"outbox", base + "outbox: {path: \"\"}\n", []string{"outbox.path"}},
		{"health channel", base + "health:\n  Torque: {max: 3}\n", []string{"line 8", "health.Torque"}},
		{"health range", base + "health:\n  Current: {min: 5, max: 1}\n", []string{"health.Current", "min 5 is above max 1"}},
		{"health stuck", base + "health:\n  Current: {stuck: -1m}\n", []string{"health.Current.stuck"}},
		{"level", base + "log: {level: loud}\n", []string{"log.level"}},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.yaml))
		if err == nil {
			t.Errorf("%s: Parse succeeded, want error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte(base + "mqtt:\n  brokers: [\"ssl://a:8883\", \"tcp://b:1883\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Decision.Top != 2 {
		t.Errorf("top %d with two channels and none set, want 2", c.Decision.Top)
	}
	if c.MQTT.Broker != "ssl://a:8883" || len(c.MQTT.Brokers) != 2 {
		t.Errorf("brokers %q broker %q", c.MQTT.Brokers, c.MQTT.Broker)
	}
	if c.Outbox.Path != "/var/lib/vigil/outbox.db" || c.Decision.Cooldown != nil {
		t.Errorf("outbox %+v cooldown %v", c.Outbox, c.Decision.Cooldown)
	}
	tc, err := c.MQTT.TLSConfig()
	if err != nil || tc == nil || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLSConfig() = %+v, %v: want TLS 1.2 or later with the system roots", tc, err)
	}
	c.MQTT.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := c.MQTT.TLSConfig(); err == nil || !strings.Contains(err.Error(), "mqtt.tls.ca_file") {
		t.Errorf("TLSConfig with a missing CA file: %v", err)
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(p, []byte(base+"mqtt:\n  brokr: x\n"), 0o600)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "line 8") {
		t.Errorf("Load error %v, want the path and line 8", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestPassword(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(p, []byte("s3cret\n"), 0o600)
	m := MQTT{PasswordFile: p}
	if pw, err := m.Password(); err != nil || pw != "s3cret" {
		t.Errorf("Password() = %q, %v", pw, err)
	}
}

// FuzzParse: no configuration file makes Parse panic.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/serial.yaml")
	f.Add(b)
	f.Add([]byte(base))
	f.Add([]byte("site: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data)
	})
}

func TestPeriphDefaults(t *testing.T) {
	src := `source:
  periph:
    devices:
      - {type: bme280, channels: [Temperature, Pressure, Humidity]}
      - type: ads1115
        inputs:
          - {channel: Current, input: 0, transmitter: 4-20mA, shunt: 150, lo: 0, hi: 20}
      - {type: adxl345, channels: [Vibration]}
      - {type: pulse, pin: GPIO17, factor: 0.1333, channels: [Flow]}
`
	c, err := Parse([]byte(strings.Replace(strings.Replace(base, "source:\n  sim: {seed: 1}\n", src, 1),
		"[Current, Pressure]", "[Current, Pressure, Vibration, Flow]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Source.Periph
	if p.Bus != "1" || p.Interval != 100*time.Millisecond {
		t.Errorf("bus %q interval %v, want 1 and 100ms", p.Bus, p.Interval)
	}
	want := []struct {
		addr int
		typ  string
	}{{0x76, "bme280"}, {0x48, "ads1115"}, {0x53, "adxl345"}, {0, "pulse"}}
	for i, w := range want {
		if d := p.Devices[i]; d.Address != w.addr || d.Type != w.typ {
			t.Errorf("device %d: %s at %#x, want %s at %#x", i, d.Type, d.Address, w.typ, w.addr)
		}
	}
	if d := p.Devices[1]; d.Supply != 3.3 || d.DataRate != 128 {
		t.Errorf("ads1115 supply %v data rate %d, want 3.3 and 128", d.Supply, d.DataRate)
	}
	if d := p.Devices[2]; d.Rate != 400 {
		t.Errorf("adxl345 rate %d, want 400", d.Rate)
	}
	if d := p.Devices[3]; d.Edge != "falling" || d.Pull != "up" || d.Factor != 0.1333 {
		t.Errorf("pulse edge %q pull %q factor %v", d.Edge, d.Pull, d.Factor)
	}
}
