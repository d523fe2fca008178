package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
	"github.com/vigil-edge/vigil/sensors"
)

// TestLearnMode: an agent with no model learns one from the simulated
// pump, reporting its progress on the state topic, writes it signed to
// model.path, and then monitors with it: normal at first, anomaly when
// the valve closes. With members it learns a multi-scale model, network
// after network.
func TestLearnMode(t *testing.T) {
	for _, tc := range []struct {
		name, learn     string
		members, epochs int
	}{
		{"dense", "", 0, 30},
		{"multi-scale", ", members: [{window: 20, epochs: 10}, {window: 30, conv: [8, 4], epochs: 10, threshold_factor: 1.5}]", 2, 10},
	} {
		t.Run(tc.name, func(t *testing.T) { testLearnMode(t, tc.learn, tc.members, tc.epochs) })
	}
}

// testLearnMode runs one TestLearnMode: learn adds to the learn section;
// the model must have members members and the last network epochs epochs.
func testLearnMode(t *testing.T, learn string, members, epochs int) {
	url := startMosquitto(t)
	dir := t.TempDir()
	pub, keyPath := signingKeyFiles(t, dir, "gateway")
	model := filepath.Join(dir, "models", "learnt.vgm")
	// 600 samples at 50 Hz: 12 s of the pump. The fault starts 14 s after
	// a start, so the recording never sees it, and monitoring does.
	conf := fmt.Sprintf("site: s\ndevice: pump-7\nchannels: [%s]\n"+
		"model: {path: %s, trusted_keys: [%s], learn: {samples: 600, epochs: 30, sign_key: %s%s}}\n"+
		"source: {sim: {seed: 3, rate: 50, faults: [valve-closed@14s+30s]}}\nmqtt: {broker: %q, prefix: learn/}\noutbox: {path: %s}\n",
		strings.Join(sensors.SKABChannels, ", "), model, pub, keyPath, learn, url, filepath.Join(dir, "outbox.db"))
	cfg, err := config.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Check(cfg); err != nil || !strings.Contains(s, "no model yet: the agent learns one (8 channels)") {
		t.Errorf("--check: %q, %v", s, err)
	}
	col := collect(t, url, "learn/#")
	runAgent(t, cfg, Options{Version: "v-test"})

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
	if last.Samples != 600 || last.Of != 600 || last.Epochs != epochs || last.Device != "pump-7" {
		t.Errorf("last learning message %+v: want 600 of 600 samples and %d epochs", last, epochs)
	}
	if networks := members + 1; networks > 1 && (last.Network != networks || last.Networks != networks || last.Progress != 1) {
		t.Errorf("last learning message %+v: want network %d of %d, progress 1", last, networks, networks)
	}
	// Learning, then monitoring, the agent stays online: the learning
	// connection's close publishes no offline status.
	col.mu.Lock()
	statuses := append([]string(nil), col.msgs["status"]...)
	col.mu.Unlock()
	if len(statuses) < 2 {
		t.Errorf("status messages %q: want one per connection", statuses)
	}
	for _, st := range statuses {
		if !strings.Contains(st, `"status":"online"`) {
			t.Errorf("status %s while learning and monitoring: want online only", st)
		}
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
	if len(l.Model.Members) != members || (members > 0) != slices.Contains(l.Model.Requires, firmware.FeatureMultiScale) {
		t.Errorf("learnt model: %d members, requires %q; want %d members", len(l.Model.Members), l.Model.Requires, members)
	}
}

// signingKeyFiles makes a key pair named name and writes both halves,
// dir/name.pub and dir/name.key (what model.learn.sign_key names).
func signingKeyFiles(t *testing.T, dir, name string) (pub, key string) {
	t.Helper()
	pub, priv := keyFile(t, dir, name)
	text, err := priv.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	key = filepath.Join(dir, name+".key")
	if err := os.WriteFile(key, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, key
}

// runAgent runs the agent in-process until the test ends, then stops it
// and fails the test if it returned an error. The context is the
// agent's.
func runAgent(t *testing.T, cfg *config.Config, o Options) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ctx
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
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, members: [{}, {}, {}, {}]}}", "model.learn.members: 4 members: want at most 3"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, members: [{window: 60, conv: [8], hidden: [8]}]}}", "model.learn.members[0]: conv and hidden both set"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, members: [{conv: [8]}]}}", "model.learn.members[0]: conv needs a window of 2 or more"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, members: [{window: 20, threshold_factor: -1}]}}", "model.learn.members[0]: threshold_factor -1"},
		{"{path: m.vgm, allow_unsigned: true, learn: {samples: 500, members: [{window: 2000}]}}", "model.learn.members[0]: window 2000"},
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
	_, keyPath := signingKeyFiles(t, dir, "other")
	cfg, err := config.Parse([]byte(base + fmt.Sprintf("model: {path: %s, trusted_keys: [%s], learn: {samples: 500, sign_key: %s}}\n",
		filepath.Join(dir, "m.vgm"), pub, keyPath)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg); err == nil || !strings.Contains(err.Error(), "is not in model.trusted_keys") {
		t.Errorf("--check with an untrusted signing key: %v", err)
	}
}

// TestRelearn: a running agent asked to re-baseline records the samples
// that follow while its model keeps deciding, learns from them, and puts
// the new model (version 2, signed by the gateway's key) through
// probation; a request that does not say who asks is refused.
func TestRelearn(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	pub, keyPath := signingKeyFiles(t, dir, "gateway")
	conf := fmt.Sprintf("site: s\ndevice: d\nchannels: [%s]\n"+
		"model: {path: %s, store: %s, trusted_keys: [%s], probation: {samples: 40}, learn: {samples: 300, epochs: 10, sign_key: %s}}\n"+
		"source: {sim: {seed: 5, rate: 50}}\nmqtt: {broker: %q}\noutbox: {path: %s}\n",
		strings.Join(sensors.SKABChannels, ", "), filepath.Join(dir, "m.vgm"), filepath.Join(dir, "store"), pub, keyPath, url, filepath.Join(dir, "outbox.db"))
	cfg, err := config.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	st := followStatus(t, url, "vigil/s/d/model/status")
	ctx := runAgent(t, cfg, Options{Version: "v-test"})
	// Learnt at start (6 s of the pump), then running it.
	first := st.next(update.Current, "")
	crew := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("crew"))
	if tok := crew.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer crew.Disconnect(0)
	ask := func(payload string) {
		t.Helper()
		if tok := crew.Publish("vigil/s/d/model/relearn", 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	// The agent subscribes as it connects, perhaps just after its first
	// answer: ask until the malformed request is answered.
	for answered := false; !answered; {
		ask(`{"reason": "anonymous"}`)
		select {
		case a := <-st.got:
			if a.Result == update.Current {
				continue // the retained answer again
			}
			if a.Result != update.Rejected || !strings.Contains(a.Reason, "by is required") {
				t.Fatalf("answer %+v to a request without by", a)
			}
			answered = true
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
	// A malformed request sent again while the first was on its way is
	// answered late: not an answer to the request that follows.
	st.late = "by is required"
	ask(`{"by": "night shift", "reason": "pump replaced"}`)
	learning := st.next(Learning, "asked by night shift (pump replaced)")
	probation := st.next(update.Probation, "")
	installed := st.next(update.Installed, "")
	if learning.From != "relearn" || probation.Version != 2 || installed.Model == first.Model || installed.Model != probation.Model {
		t.Errorf("first %+v, learning %+v, probation %+v, installed %+v: want version 2, a new model, from relearn", first, learning, probation, installed)
	}
	_, data, err := func() (slots.Info, []byte, error) {
		s, err := slots.Open(filepath.Join(dir, "store"), slots.Options{Check: func(b []byte) (uint64, error) {
			l, err := firmware.Decode(b, firmware.LoadOptions{AllowUnsigned: true})
			if err != nil {
				return 0, err
			}
			return l.Model.Version, nil
		}})
		if err != nil {
			return slots.Info{}, nil, err
		}
		return s.Active()
	}()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := firmware.ReadPublicKeyFile(pub)
	l, err := firmware.Decode(data, firmware.LoadOptions{Trusted: []firmware.PublicKey{k}})
	if err != nil || l.Model.Version != 2 || !strings.Contains(l.Model.Training.Sources[0], "re-baselined on the gateway, asked by night shift") {
		t.Errorf("the store's active model: %v, %+v", err, l)
	}
}

// Recording a known number of samples from the sampling loop (the
// re-baselining tap) allocates once, not per sample.
func TestRecorderAllocs(t *testing.T) {
	r := &recorder{lc: &config.Learn{Samples: 500}, progress: func(int, int, float64) {}}
	v := []float32{1, 2, 3}
	at := time.Unix(0, 0)
	r.add(at, v)
	allocs := testing.AllocsPerRun(400, func() {
		at = at.Add(10 * time.Millisecond)
		v[0]++
		r.add(at, v)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per sample, want 0", allocs)
	}
	// Each row is its own copy.
	if got := r.rows[1][0]; got != 2 || len(r.rows) != 402 || r.rows[401][0] != 402 {
		t.Errorf("rows %v … %v (%d)", r.rows[:2], r.rows[len(r.rows)-1], len(r.rows))
	}
}
