package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/sensors"
)

// TestLearnMode: an agent with no model learns one from the simulated
// pump, reporting its progress on the state topic, writes it signed to
// model.path, and then monitors with it: normal at first, anomaly when
// the valve closes.
func TestLearnMode(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	pub, priv := keyFile(t, dir, "gateway")
	text, _ := priv.MarshalText()
	keyPath := filepath.Join(dir, "gateway.key")
	if err := os.WriteFile(keyPath, text, 0o600); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "models", "learnt.vgm")
	// 600 samples at 50 Hz: 12 s of the pump. The fault starts 14 s after
	// a start, so the recording never sees it, and monitoring does.
	conf := fmt.Sprintf("site: s\ndevice: pump-7\nchannels: [%s]\n"+
		"model: {path: %s, trusted_keys: [%s], learn: {samples: 600, epochs: 30, sign_key: %s}}\n"+
		"source: {sim: {seed: 3, rate: 50, faults: [valve-closed@14s+30s]}}\nmqtt: {broker: %q, prefix: learn/}\noutbox: {path: %s}\n",
		strings.Join(sensors.SKABChannels, ", "), model, pub, keyPath, url, filepath.Join(dir, "outbox.db"))
	cfg, err := config.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Check(cfg); err != nil || !strings.Contains(s, "no model yet: the agent learns one (8 channels)") {
		t.Errorf("--check: %q, %v", s, err)
	}
	col := collect(t, url, "learn/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{Version: "v-test"}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// Progress while recording and training, then the learnt model's
	// states: normal, and anomaly once the valve closes.
	var phases []string
	seen := map[string]bool{}
	var last LearnMessage
	deadline := time.Now().Add(90 * time.Second)
	for !seen["anomaly"] {
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s the states were %v", phases)
		}
		time.Sleep(20 * time.Millisecond)
		col.mu.Lock()
		msgs := append([]string(nil), col.msgs["state"]...)
		col.mu.Unlock()
		phases = phases[:0]
		for _, m := range msgs {
			var lm LearnMessage
			if err := json.Unmarshal([]byte(m), &lm); err != nil {
				t.Fatalf("state payload %s: %v", m, err)
			}
			name := lm.State
			if lm.State == "learning" {
				name += "/" + lm.Phase
				last = lm
				if lm.Phase == "failed" {
					t.Fatalf("learning failed: %s", lm.Reason)
				}
			}
			if len(phases) == 0 || phases[len(phases)-1] != name {
				phases = append(phases, name)
			}
			seen[name] = true
		}
	}
	for _, want := range []string{"learning/recording", "learning/training", "normal", "anomaly"} {
		if !seen[want] {
			t.Errorf("no %s state; states: %v", want, phases)
		}
	}
	if last.Samples != 600 || last.Of != 600 || last.Epochs != 30 || last.Device != "pump-7" {
		t.Errorf("last learning message %+v: want 600 of 600 samples and 30 epochs", last)
	}
	// The normal state comes before the anomaly: the model knows the pump.
	if i, j := index(phases, "normal"), index(phases, "anomaly"); i < 0 || j < i {
		t.Errorf("states %v: want normal before anomaly", phases)
	}
	// The model file is there, signed by the gateway's key, and says
	// where it came from.
	k, err := firmware.ReadPublicKeyFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	l, err := firmware.ReadFile(model, firmware.LoadOptions{Trusted: []firmware.PublicKey{k}})
	if err != nil {
		t.Fatalf("the learnt model: %v", err)
	}
	tr := l.Model.Training
	if l.Signer != k.Name || l.Model.Name != "pump-7" || tr.Tool != "vigil-agent learn" || tr.Rows != 600 || len(tr.Sources) != 1 ||
		!strings.HasPrefix(tr.Sources[0], "learnt on the gateway from ") || len(tr.DatasetDigest) != 64 || len(l.Model.Channels) != 8 {
		t.Errorf("learnt model: signer %q name %q training %+v", l.Signer, l.Model.Name, tr)
	}
}

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestLearnConfig: learn mode's settings are checked with the key and
// line named.
func TestLearnConfig(t *testing.T) {
	base := "site: s\ndevice: d\nchannels: [Current]\nsource: {sim: {seed: 1}}\nmqtt: {broker: tcp://127.0.0.1:1}\noutbox: {path: /tmp/o.db}\n"
	tests := []struct{ model, want string }{
		{"{path: m.vgm, allow_unsigned: true, learn: {}}", "model.learn: want samples"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 10}}", "model.learn.samples: 10: want 100 to"},
		{"{path: m.vgm, allow_unsigned: true, learn: {duration: -1s}}", "model.learn.duration"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, window: -2}}", "model.learn.window"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, hidden: [0]}}", "model.learn.hidden"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, epochs: -1}}", "model.learn.epochs"},
		{"{path: m.vgm, learn: {samples: 500}}", "the learnt model must be signed"},
	}
	for _, tc := range tests {
		_, err := config.Parse([]byte(base + "model: " + tc.model + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "line 7") {
			t.Errorf("model %s: %v, want line 7 and %q", tc.model, err, tc.want)
		}
	}
	if _, err := config.Parse([]byte(base + "model: {path: m.vgm, allow_unsigned: true, learn: {duration: 30m, hidden: [32, 8, 32]}}\n")); err != nil {
		t.Errorf("a sound learn section: %v", err)
	}
	// A signing key whose public half is not trusted would write a model
	// the agent then refuses: --check says so first.
	dir := t.TempDir()
	pub, _ := keyFile(t, dir, "trusted")
	_, other := keyFile(t, dir, "other")
	text, _ := other.MarshalText()
	keyPath := filepath.Join(dir, "other.key")
	os.WriteFile(keyPath, text, 0o600)
	cfg, err := config.Parse([]byte(base + fmt.Sprintf("model: {path: %s, trusted_keys: [%s], learn: {samples: 500, sign_key: %s}}\n",
		filepath.Join(dir, "m.vgm"), pub, keyPath)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg); err == nil || !strings.Contains(err.Error(), "is not in model.trusted_keys") {
		t.Errorf("--check with an untrusted signing key: %v", err)
	}
}
