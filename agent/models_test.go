package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/sensors"
)

// simModel packs a model over the simulator's channels that scores every
// sample far above threshold×1e-12 and far below threshold×1e12: with a
// threshold of 1e12 it never alerts, with 1e-12 always.
func simModel(t *testing.T, version uint64, threshold float32, key *firmware.PrivateKey) []byte {
	t.Helper()
	b := zeroModel(t, version, threshold, sensors.SKABChannels...)
	var err error
	if key != nil {
		if b, err = firmware.Sign(b, *key); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// statuses follows model/status answers on a real broker.
type statuses struct {
	t   *testing.T
	got chan update.Status
	// late, if set, marks rejections next passes over: late answers to
	// requests the test repeated until one was answered.
	late string
}

func followStatus(t *testing.T, url, topic string) *statuses {
	s := &statuses{t: t, got: make(chan update.Status, 64)}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("status-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var st update.Status
		if err := json.Unmarshal(m.Payload(), &st); err != nil {
			t.Errorf("model/status payload %q: %v", m.Payload(), err)
		}
		s.got <- st
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	return s
}

// next skips answers until one with result, and checks its reason.
func (s *statuses) next(result, reason string) update.Status {
	s.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case st := <-s.got:
			if st.Result != result {
				if st.Result == update.Rejected && s.late != "" && strings.Contains(st.Reason, s.late) {
					continue
				}
				if st.Result == update.Rejected || st.Result == update.Reverted {
					s.t.Fatalf("answer %+v while waiting for %s", st, result)
				}
				continue
			}
			if !strings.Contains(st.Reason, reason) {
				s.t.Fatalf("answer %+v: want a reason containing %q", st, reason)
			}
			return st
		case <-timeout:
			s.t.Fatalf("no %s answer within 20 s", result)
		}
	}
}

// A running agent takes new models while it samples: a signed model
// pushed over MQTT goes on probation and is committed; a forged one (an
// untrusted key) is refused; one that fails probation (it alerts on a
// healthy pump) is rolled back; and vigil-agent model install and status
// work through the drop directory. The running model is checked in each
// answer and in the store.
func TestModelUpdates(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	releasePub, release := keyFile(t, dir, "release")
	_, other := keyFile(t, dir, "other")
	first := filepath.Join(dir, "first.vgm")
	os.WriteFile(first, simModel(t, 1, 1e12, &release), 0o600)
	cfgPath := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`site: s
device: d
channels: [%s]
model:
  path: %s
  trusted_keys: [%s]
  store: %s
  drop_dir: %s
  probation: {samples: 30, max_alerts: 0}
source:
  sim: {seed: 3, rate: 200}
mqtt: {broker: %q}
outbox: {path: %s}
decision: {k: 1, n: 1}
`, strings.Join(sensors.SKABChannels, ", "), first, releasePub, filepath.Join(dir, "models"), filepath.Join(dir, "drop"), url,
		filepath.Join(dir, "outbox.db"))), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st := followStatus(t, url, "vigil/s/d/model/status")
	runAgent(t, cfg, Options{})
	start := st.next(update.Current, "")
	pusher := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("pusher"))
	if tok := pusher.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pusher.Disconnect(0)
	push := func(b []byte) string {
		t.Helper()
		if tok := pusher.Publish("vigil/s/d/model/set", 1, false, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		l, err := firmware.Decode(b, firmware.LoadOptions{AllowUnsigned: true})
		if err != nil {
			t.Fatal(err)
		}
		return l.ID
	}

	v2 := push(simModel(t, 2, 1e12, &release))
	if s := st.next(update.Probation, "scoring 30 samples"); s.Model != v2 || s.Active != v2 {
		t.Errorf("probation answer %+v, want model and active %s", s, v2)
	}
	if s := st.next(update.Installed, ""); s.Model != v2 {
		t.Errorf("installed %+v, want %s", s, v2)
	}

	push(simModel(t, 3, 1e12, &other))
	if s := st.next(update.Rejected, "not among the 1 trusted keys"); s.Active != v2 {
		t.Errorf("after a forged model: active %s, want %s", s.Active, v2)
	}

	v3 := push(simModel(t, 3, 1e-12, &release))
	st.next(update.Probation, "")
	if s := st.next(update.Reverted, "failed probation: alert"); s.Model != v3 || s.Active != v2 {
		t.Errorf("rolled back: %+v, want model %s and active %s again", s, v3, v2)
	}

	// Locally, through the drop directory, as a field engineer would.
	v4file := filepath.Join(dir, "v4.vgm")
	os.WriteFile(v4file, simModel(t, 4, 1e12, &release), 0o600)
	var out, errOut bytes.Buffer
	if code := Main([]string{"model", "--config", cfgPath, "install", "--wait", "30s", v4file}, &out, &errOut, "test"); code != 0 {
		t.Fatalf("vigil-agent model install: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "installed") {
		t.Errorf("model install printed %q", out.String())
	}
	out.Reset()
	if code := Main([]string{"model", "--config", cfgPath, "status"}, &out, &errOut, "test"); code != 0 || !strings.Contains(out.String(), "version 4") {
		t.Errorf("vigil-agent model status: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	// Copied in place by scp, in two parts almost a poll interval apart:
	// a poll may well see the half, but the watcher takes a file only once
	// it is unchanged between two polls, so the half is never taken.
	v5 := simModel(t, 5, 1e12, &release)
	partial := filepath.Join(dir, "drop", "v5.vgm")
	os.WriteFile(partial, v5[:len(v5)/2], 0o640)
	time.Sleep(dropEvery * 9 / 10)
	f, err := os.OpenFile(partial, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(v5[len(v5)/2:])
	f.Close()
	st.next(update.Probation, "")
	st.next(update.Installed, "")
	if start.Active == v2 {
		t.Errorf("the start answer names %s, pushed later", v2)
	}
}
