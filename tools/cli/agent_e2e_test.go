package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent"
	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/tools/broker"
)

// The desktop tool and the agent together, as a field engineer uses
// them: these tests live here, not under agent/, so that the agent's own
// tests build only gateway code.

// startBroker runs the embedded broker (mochi-mqtt) on a free loopback
// port and returns its URL.
func startBroker(t *testing.T) string {
	t.Helper()
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.URL()
}

// vigil runs the desktop CLI in-process, as a user would from the shell.
func vigil(t *testing.T, ctx context.Context, stdout io.Writer, args ...string) {
	t.Helper()
	var stderr strings.Builder
	if code := Main(ctx, Env{Stdout: stdout, Stderr: &stderr}, args); code != 0 {
		t.Fatalf("vigil %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
}

// subscription collects the payloads published under a filter, by the
// topic's last element.
type subscription struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func subscribe(t *testing.T, url, filter string) *subscription {
	t.Helper()
	s := &subscription{msgs: map[string][]string{}}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("sub-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		topic := m.Topic()[strings.LastIndexByte(m.Topic(), '/')+1:]
		s.msgs[topic] = append(s.msgs[topic], string(m.Payload()))
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return s
}

// wait returns the messages on topic once there are at least n.
func (s *subscription) wait(t *testing.T, topic string, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		got := append([]string(nil), s.msgs[topic]...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s messages after 15 s, want %d: %q", len(got), topic, n, got)
		}
	}
}

// statuses follows the retained model/status answers.
type statuses struct {
	t   *testing.T
	sub *subscription
}

func followStatus(t *testing.T, url, topic string) *statuses {
	return &statuses{t: t, sub: subscribe(t, url, topic)}
}

// next waits for an answer with result.
func (s *statuses) next(result string) {
	s.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s.sub.mu.Lock()
		got := append([]string(nil), s.sub.msgs["status"]...)
		s.sub.mu.Unlock()
		for _, g := range got {
			var st update.Status
			if json.Unmarshal([]byte(g), &st) == nil && st.Result == result {
				return
			}
		}
	}
	s.t.Fatalf("no %s answer within 20 s", result)
}

// TestEndToEnd trains a model on simulated data, runs the simulator on a
// real pseudo-terminal and the agent reading it through the serial driver,
// publishing to a real mosquitto, injects a valve fault and waits for the
// alerts from the broker.
func TestEndToEnd(t *testing.T) {
	url := startBroker(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	normal, err := os.Create(filepath.Join(dir, "normal.csv"))
	if err != nil {
		t.Fatal(err)
	}
	vigil(t, ctx, normal, "sim", "--fast", "--for", "6h", "--rate", "1", "--seed", "7")
	normal.Close()
	model := filepath.Join(dir, "pump.vgm")
	vigil(t, ctx, io.Discard, "train", "-q", "--epochs", "10", "--data", normal.Name(), "--out", model)

	tty := filepath.Join(dir, "tty")
	simDone := make(chan struct{})
	go func() {
		defer close(simDone)
		// 50 samples/s: the fault starts 4 s in and lasts 6 s.
		Main(ctx, Env{Stdout: io.Discard, Stderr: io.Discard},
			[]string{"sim", "--pty", "--link", tty, "--rate", "50", "--seed", "42", "--fault", "valve-closed@4s+6s"})
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(tty); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the simulator made no terminal within 10 s")
		}
	}

	confPath := filepath.Join(dir, "agent.yaml")
	conf := fmt.Sprintf(`site: it
device: pump
channels: [Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage, Volume Flow RateRMS]
model: {path: %s, allow_unsigned: true}
source:
  serial: {device: %s}
mqtt: {broker: "%s", score_interval: 0s}
outbox: {path: %s}
`, model, tty, url, filepath.Join(dir, "outbox.db"))
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(confPath)
	if err != nil {
		t.Fatal(err)
	}
	col := subscribe(t, url, "vigil/it/pump/#")
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- agent.Run(ctx, cfg, agent.Options{Version: "test", Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	}()

	// Bounded wait (collector.wait fails after 15 s per message) for the
	// fault to be raised, then cleared.
	var trans []string
	for len(trans) < 2 {
		alerts := col.wait(t, "alert", len(trans)+1)
		var m agent.AlertMessage
		if err := json.Unmarshal([]byte(alerts[len(trans)]), &m); err != nil {
			t.Fatal(err)
		}
		trans = append(trans, m.From+">"+m.State)
		if m.State == "anomaly" && (len(m.Top) == 0 || (m.Top[0].Channel != "Volume Flow RateRMS" && m.Top[0].Channel != "Pressure")) {
			t.Errorf("valve fault alert names %+v first, want flow or pressure", m.Top)
		}
	}
	if want := "normal>anomaly anomaly>normal"; strings.Join(trans, " ") != want {
		t.Errorf("alerts %q, want %q", trans, want)
	}
	cancel()
	select {
	case err := <-agentDone:
		if err != nil {
			t.Errorf("agent: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop within 10 s of cancellation")
	}
	<-simDone
	status := col.wait(t, "status", 2)
	if !strings.Contains(status[0], `"online"`) || !strings.Contains(status[len(status)-1], `"offline"`) {
		t.Errorf("status %q: want online, then offline", status)
	}
}

// testWriter sends the agent's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestPushTrainedModel is the field engineer's update from end to end: a
// model trained with vigil train and signed with vigil sign runs on an
// agent (sampling the simulated pump, on a real mosquitto); a newer one,
// repacked and signed, is sent with vigil push and replaces it while the
// agent keeps sampling; one signed with a key the agent does not trust is
// refused, and vigil push says so.
func TestPushTrainedModel(t *testing.T) {
	url := startBroker(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := func(name string) string { return filepath.Join(dir, name) }

	normal, err := os.Create(at("normal.csv"))
	if err != nil {
		t.Fatal(err)
	}
	vigil(t, ctx, normal, "sim", "--fast", "--for", "6h", "--rate", "1", "--seed", "7")
	normal.Close()
	vigil(t, ctx, io.Discard, "train", "-q", "--epochs", "5", "--data", normal.Name(), "--out", at("v1.vgm"))
	vigil(t, ctx, io.Discard, "keygen", "--name", "release", "--out", dir)
	vigil(t, ctx, io.Discard, "keygen", "--name", "intruder", "--out", dir)
	vigil(t, ctx, io.Discard, "sign", "--key", at("release.key"), at("v1.vgm"))
	vigil(t, ctx, io.Discard, "pack", "--in", at("v1.vgm"), "--version", "2", "--out", at("v2.vgm"))
	vigil(t, ctx, io.Discard, "sign", "--key", at("release.key"), at("v2.vgm"))
	vigil(t, ctx, io.Discard, "pack", "--in", at("v1.vgm"), "--version", "3", "--out", at("forged.vgm"))
	vigil(t, ctx, io.Discard, "sign", "--key", at("intruder.key"), at("forged.vgm"))

	conf := fmt.Sprintf(`site: it
device: pump
channels: [Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage, Volume Flow RateRMS]
model:
  path: %s
  trusted_keys: [%s]
  store: %s
  probation: {samples: 40}
source:
  sim: {seed: 11, rate: 50}
mqtt: {broker: "%s", score_interval: 0s}
outbox: {path: %s}
`, at("v1.vgm"), at("release.pub"), at("models"), url, at("outbox.db"))
	cfg, err := config.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	st := followStatus(t, url, "vigil/it/pump/model/status")
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- agent.Run(ctx, cfg, agent.Options{Version: "test", Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	}()
	st.next(update.Current)

	var out strings.Builder
	vigil(t, ctx, &out, "push", "--broker", url, "--device", "it/pump", "--key", at("release.pub"), "--wait", "60s", at("v2.vgm"))
	if !strings.Contains(out.String(), "probation") || !strings.Contains(out.String(), "installed") {
		t.Errorf("vigil push printed %q, want probation then installed", out.String())
	}
	var errOut strings.Builder
	code := Main(ctx, Env{Stdout: io.Discard, Stderr: &errOut},
		[]string{"push", "--broker", url, "--device", "it/pump", "--wait", "60s", at("forged.vgm")})
	if code != 1 || !strings.Contains(errOut.String(), "rejected") || !strings.Contains(errOut.String(), "trusted keys") {
		t.Errorf("pushing a forged model: exit %d, %q", code, errOut.String())
	}
	cancel()
	if err := <-agentDone; err != nil {
		t.Fatal(err)
	}
	// The store keeps version 2 for the next start.
	var status bytes.Buffer
	os.WriteFile(at("agent.yaml"), []byte(conf), 0o600)
	if code := agent.Main([]string{"model", "--config", at("agent.yaml"), "status"}, &status, io.Discard, "test"); code != 0 || !strings.Contains(status.String(), "version 2") {
		t.Errorf("model status after the push: exit %d\n%s", code, status.String())
	}
}
