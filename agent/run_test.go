package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
)

// writeModel packs a zero-output model over channels into dir.
func writeModel(t *testing.T, dir string, channels ...string) string {
	p := filepath.Join(dir, "m.vgm")
	if err := os.WriteFile(p, zeroModel(t, 0, 1, channels...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// zeroModel packs a model whose output is zero for every input, so a
// sample's score is the mean square of its raw values.
func zeroModel(t *testing.T, version uint64, threshold float32, channels ...string) []byte {
	t.Helper()
	m := &firmware.Model{Name: "t", Version: version, Kind: firmware.KindAutoencoder,
		Scaler:    firmware.Scaler{Kind: "standard"},
		Threshold: firmware.Threshold{Value: threshold, Method: "mean+ksigma", K: 3}}
	n := len(channels)
	for _, c := range channels {
		m.Channels = append(m.Channels, firmware.Channel{Name: c})
		m.Scaler.Center = append(m.Scaler.Center, 0)
		m.Scaler.Scale = append(m.Scaler.Scale, 1)
	}
	m.Layers = firmware.FromDense([]infer.Dense{{In: n, Out: n, W: make([]float32, n*n), B: make([]float32, n)}})
	b, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunRefuses checks that the agent will not start on a model it
// cannot trust, and says why, before touching the source or the broker.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure", "Torque")
	tests := []struct {
		name, extra string
		want        []string
	}{
		{"channels differ", "  allow_unsigned: true\n", []string{`needs ["Torque"]`, `lists ["Voltage"]`, model}},
		{"unsigned", "", []string{"unsigned", "allow_unsigned"}},
	}
	for _, tc := range tests {
		conf := "site: s\ndevice: d\nchannels: [Current, Pressure, Voltage]\nmodel:\n  path: " + model + "\n" + tc.extra +
			"source:\n  serial: {device: /dev/does-not-exist}\n"
		cfg, err := config.Parse([]byte(conf))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = Run(context.Background(), cfg, Options{})
		if err == nil {
			t.Fatalf("%s: Run succeeded", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// vigil-agent --check loads the model and looks for every file the
// configuration names, without connecting; each refusal says what.
func TestCheckFlag(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret\n"), 0o600)
	ok := "site: s\ndevice: d\nchannels: [Current, Pressure]\nmodel: {path: " + model + ", allow_unsigned: true}\n" +
		"source:\n  serial: {device: /dev/null}\nmqtt: {broker: \"tcp://127.0.0.1:1\", password_file: " + pw + "}\n" +
		"outbox: {path: " + filepath.Join(dir, "outbox.db") + "}\n"
	tests := []struct {
		name, from, to string
		want           string // "" = OK
	}{
		{"ok", "", "", "configuration OK"},
		{"missing model", model, filepath.Join(dir, "nope.vgm"), "nope.vgm"},
		{"channels", "channels: [Current, Pressure]", "channels: [Current, Voltage]", `needs ["Pressure"]`},
		{"serial device", "/dev/null", filepath.Join(dir, "ttyUSB9"), "source.serial.device"},
		{"not a device", "/dev/null", pw, "is not a device"},
		{"password file", "password_file: " + pw, "password_file: " + pw + "x", "mqtt.password_file"},
		{"outbox dir", filepath.Join(dir, "outbox.db"), "/no/such/dir/outbox.db", "outbox.path"},
		{"broker port", "127.0.0.1:1", "127.0.0.1:99999", "port"},
		{"top 0", "mqtt:", "decision: {top: 0}\nmqtt:", "decision.top"},
	}
	for _, tc := range tests {
		conf := filepath.Join(dir, tc.name+".yaml")
		os.WriteFile(conf, []byte(strings.Replace(ok, tc.from, tc.to, 1)), 0o600)
		var out, errb strings.Builder
		code := Main([]string{"--check", "--config", conf}, &out, &errb, "test")
		if tc.want == "configuration OK" {
			if code != 0 || !strings.Contains(out.String(), tc.want) {
				t.Errorf("%s: exit %d, out %q, err %q", tc.name, code, out.String(), errb.String())
			}
			continue
		}
		if code != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q: want exit 1 naming %q", tc.name, code, errb.String(), tc.want)
		}
	}
}

// A recording replayed as the source, as when commissioning: the agent
// scores it as it would the device and stops at its end.
func TestRunReplay(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure")
	var rec strings.Builder
	rec.WriteString("datetime;Pressure;Current\n")
	for i := range 30 {
		v := "0;0"
		if i >= 10 && i < 20 {
			v = "9;0" // far out: an anomaly
		}
		fmt.Fprintf(&rec, "2024-01-01 00:00:%02d;%s\n", i, v)
	}
	path := filepath.Join(dir, "rec.csv")
	os.WriteFile(path, []byte(rec.String()), 0o600)
	cfg, err := config.Parse([]byte(fmt.Sprintf("site: r\ndevice: d\nchannels: [Current, Pressure]\nmodel: {path: %s, allow_unsigned: true}\n"+
		"source:\n  replay: {path: %s, speed: 100}\nmqtt: {broker: %q}\noutbox: {path: %s}\ndecision: {k: 2, n: 3}\n",
		model, path, url, filepath.Join(dir, "outbox.db"))))
	if err != nil {
		t.Fatal(err)
	}
	col := collect(t, url, "vigil/r/d/#")
	if err := Run(context.Background(), cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 2))
	if transitions(alerts) != "normal>anomaly anomaly>normal" || alerts[0].Top[0].Channel != "Pressure" {
		t.Errorf("alerts %q, first naming %+v", transitions(alerts), alerts[0].Top)
	}
}

// Two sources, each giving some of the channels, merged into one sample
// per tick: the agent scores them as one machine.
func TestRunMergedSources(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure")
	write := func(name, ch string, far func(i int) bool) string {
		var rec strings.Builder
		rec.WriteString("datetime;" + ch + "\n")
		for i := range 40 {
			v := 0
			if far(i) {
				v = 9
			}
			fmt.Fprintf(&rec, "2024-01-01 00:00:%02d;%d\n", i, v)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(rec.String()), 0o600)
		return p
	}
	pressure := write("pressure.csv", "Pressure", func(i int) bool { return i >= 15 && i < 25 })
	current := write("current.csv", "Current", func(int) bool { return false })
	cfg, err := config.Parse([]byte(fmt.Sprintf(`site: m
device: d
channels: [Current, Pressure]
model: {path: %s, allow_unsigned: true}
sources:
  - replay: {path: %s, speed: 50}
    channels: [Pressure]
  - replay: {path: %s, speed: 50}
    channels: [Current]
merge: {interval: 20ms, max_age: 100ms}
mqtt: {broker: %q}
outbox: {path: %s}
decision: {k: 2, n: 3}
`, model, pressure, current, url, filepath.Join(dir, "outbox.db"))))
	if err != nil {
		t.Fatal(err)
	}
	col := collect(t, url, "vigil/m/d/#")
	if err := Run(context.Background(), cfg, Options{}); err != nil {
		t.Fatal(err)
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 2))
	if tr := transitions(alerts); !strings.HasPrefix(tr, "normal>anomaly anomaly>normal") || alerts[0].Top[0].Channel != "Pressure" {
		t.Errorf("alerts %q, first naming %+v: want the pressure excursion", tr, alerts[0].Top)
	}
}

// A periph source on a machine without the bus or pin: the agent stops
// at start with an error naming what is missing and how to enable it,
// never a crash.
func TestRunPeriphMissing(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure")
	tests := []struct {
		name, devices string
		want          []string
	}{
		{"i2c bus", "[{type: bme280, channels: [Current, Pressure]}]", []string{`I²C bus "99"`, "dtparam=i2c_arm=on", "group i2c"}},
		{"gpio pin", "[{type: pulse, pin: GPIO9999, channels: [Current]}, {type: pulse, pin: GPIO9998, channels: [Pressure]}]",
			[]string{"periph devices entry 1", `GPIO "GPIO9999"`, "group gpio"}},
	}
	for _, tc := range tests {
		cfg, err := config.Parse([]byte(fmt.Sprintf("site: r\ndevice: d\nchannels: [Current, Pressure]\nmodel: {path: %s, allow_unsigned: true}\n"+
			"source:\n  periph: {bus: \"99\", devices: %s}\nmqtt: {broker: \"tcp://127.0.0.1:1\"}\noutbox: {path: %s}\n",
			model, tc.devices, filepath.Join(dir, tc.name+".db"))))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = Run(context.Background(), cfg, Options{})
		if err == nil {
			t.Fatalf("%s: Run succeeded without the hardware", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// A model signed by a key the configuration trusts loads without
// allow_unsigned; one signed by another key, or unsigned, is refused,
// each saying what to do.
func TestTrustedKeys(t *testing.T) {
	dir := t.TempDir()
	path := writeModel(t, dir, "Current", "Pressure")
	unsigned, _ := os.ReadFile(path)
	releasePub, release := keyFile(t, dir, "release")
	otherPub, _ := keyFile(t, dir, "other")
	signed, err := firmware.Sign(unsigned, release)
	if err != nil {
		t.Fatal(err)
	}
	signedPath := filepath.Join(dir, "signed.vgm")
	os.WriteFile(signedPath, signed, 0o600)
	tests := []struct {
		name, model, keys string
		want              []string // substrings of the error; none: loads
	}{
		{"trusted", signedPath, releasePub, nil},
		{"other key", signedPath, otherPub, []string{"not among the 1 trusted keys", "model.trusted_keys"}},
		{"unsigned", path, releasePub, []string{"unsigned", "vigil sign"}},
		{"missing key file", signedPath, filepath.Join(dir, "nope.pub"), []string{"model.trusted_keys", "nope.pub"}},
	}
	for _, tc := range tests {
		cfg, err := config.Parse([]byte(fmt.Sprintf("site: s\ndevice: d\nchannels: [Current, Pressure]\nmodel: {path: %s, trusted_keys: [%s]}\n"+
			"source: {serial: {device: /dev/null}}\nmqtt: {broker: \"tcp://127.0.0.1:1\"}\noutbox: {path: %s}\n", tc.model, tc.keys, filepath.Join(dir, "ob.db"))))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = Check(cfg)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to mention %q", tc.name, err, w)
			}
		}
	}
}

// keyFile makes a signing key named name, writes its public half to
// dir/name.pub and returns that file and the private key.
func keyFile(t *testing.T, dir, name string) (string, firmware.PrivateKey) {
	t.Helper()
	pub, priv, err := firmware.GenerateKey(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := pub.MarshalText()
	f := filepath.Join(dir, name+".pub")
	if err := os.WriteFile(f, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return f, priv
}

// Configured units must match the units the model file gives.
func TestUnits(t *testing.T) {
	dir := t.TempDir()
	m := &firmware.Model{Name: "t", Kind: firmware.KindAutoencoder, Scaler: firmware.Scaler{Kind: "standard", Center: []float32{0, 0}, Scale: []float32{1, 1}},
		Channels: []firmware.Channel{{Name: "Current", Unit: "A"}, {Name: "Pressure", Unit: "bar"}}, Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3},
		Layers: firmware.FromDense([]infer.Dense{{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 2)}})}
	b, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.vgm")
	os.WriteFile(path, b, 0o600)
	for units, want := range map[string]string{"{Pressure: bar}": "", "{Pressure: psi}": "psi", "{Torque: Nm}": "units"} {
		cfg, err := config.Parse([]byte(fmt.Sprintf("site: s\ndevice: d\nchannels: [Current, Pressure]\nunits: %s\nmodel: {path: %s, allow_unsigned: true}\n"+
			"source: {serial: {device: /dev/null}}\nmqtt: {broker: \"tcp://127.0.0.1:1\"}\noutbox: {path: %s}\n", units, path, filepath.Join(dir, "ob.db"))))
		if err == nil {
			_, err = Check(cfg)
		}
		if (err != nil) != (want != "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("units %s: %v, want an error mentioning %q (or none)", units, err, want)
		}
	}
}
