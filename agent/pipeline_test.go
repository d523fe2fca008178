package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent/decision"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/serial"
	"github.com/vigil-edge/vigil/tools/broker"
)

// zscoreModel outputs zero for every input, so a sample's score is the
// mean squared z-score of its channels: easy to reason about in tests.
func zscoreModel(t testing.TB, channels int) *infer.Autoencoder {
	sc := infer.Scaler{Center: make([]float32, channels), Scale: make([]float32, channels)}
	for i := range sc.Scale {
		sc.Scale[i] = 1
	}
	ae, err := infer.NewAutoencoder(infer.Config{Scaler: sc, Layers: infer.DenseLayers([]infer.Dense{{In: channels, Out: channels, W: make([]float32, channels*channels), B: make([]float32, channels)}})})
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

// lines renders CSV rows "a;b" for the pipeline's replay source.
func lines(rows ...string) string {
	var b strings.Builder
	b.WriteString("datetime;a;b\n")
	for i, r := range rows {
		fmt.Fprintf(&b, "2024-01-01 00:00:%02d;%s\n", i%60, r)
	}
	return b.String()
}

func repeat(row string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = row
	}
	return out
}

// collector subscribes to the agent's topics on a real broker.
type collector struct {
	mu   sync.Mutex
	msgs map[string][]string
	c    paho.Client
}

func collect(t *testing.T, url, filter string) *collector {
	col := &collector{msgs: map[string][]string{}}
	col.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("collector-" + t.Name()))
	if tok := col.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("collector connect: %v", tok.Error())
	}
	tok := col.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		col.mu.Lock()
		defer col.mu.Unlock()
		topic := m.Topic()[strings.LastIndexByte(m.Topic(), '/')+1:]
		col.msgs[topic] = append(col.msgs[topic], string(m.Payload()))
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("collector subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { col.c.Disconnect(0) })
	return col
}

// wait returns the messages on topic once there are at least n.
func (c *collector) wait(t *testing.T, topic string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c.mu.Lock()
		got := append([]string(nil), c.msgs[topic]...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s messages after 15 s, want %d: %q", len(got), topic, n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startBroker runs an embedded broker for the test and returns it with a
// publisher connected to it under prefix, online/offline status included.
func startBroker(t *testing.T, prefix string) (*broker.Broker, *publish.Client) {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	pub, err := publish.Connect(publish.Options{Broker: b.URL(), ClientID: "agent-" + t.Name(), Prefix: prefix,
		Online: []byte(`{"status":"online"}`), Offline: []byte(`{"status":"offline"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !pub.WaitConnected(10 * time.Second) {
		t.Fatal("publisher did not connect")
	}
	return b, pub
}

func TestPipelinePublishesStateChanges(t *testing.T) {
	b, pub := startBroker(t, "vigil/test/pump/")
	col := collect(t, b.URL(), "vigil/test/pump/#")
	// The broker sends a new subscription its retained messages after
	// the SUBACK; a state published meanwhile could then arrive twice (once
	// live, once retained). Receiving the retained status first rules
	// that out.
	col.wait(t, "status", 1)
	// 5 normal rows, 5 far out on channel b, 5 normal, then a missing value
	// on channel a and 5 normal rows.
	rows := append(repeat("0.1;-0.2", 5), repeat("0.5;9", 5)...)
	rows = append(rows, repeat("0;0", 5)...)
	rows = append(rows, ";0.3")
	rows = append(rows, repeat("0;0", 5)...)
	src, err := serial.NewReader(io.NopCloser(strings.NewReader(lines(rows...))), serial.Opts{Device: "replay", Channels: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := NewPipeline(PipelineOptions{
		Source: src, Model: zscoreModel(t, 2), Channels: []string{"a", "b"}, Threshold: 4, ModelID: "m1",
		K: 3, N: 5, Top: 2, Publisher: pub, AlertPrefix: "agent-test-1",
		Now: func() time.Time { now = now.Add(time.Second); return now }, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if samples, faults := p.Counts(); samples != 21 || faults != 1 || p.State() != decision.Normal {
		t.Errorf("samples %d faults %d state %v; want 21, 1, normal", samples, faults, p.State())
	}
	if err := pub.Close(5 * time.Second); err != nil {
		t.Error(err)
	}

	states := col.wait(t, "state", 5)
	var got []string
	for _, s := range states {
		var m StateMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("state payload %s: %v", s, err)
		}
		got = append(got, m.State)
		if m.Model != "m1" || m.Threshold != 4 {
			t.Errorf("state %s: model %q threshold %v", s, m.Model, m.Threshold)
		}
		switch m.State {
		case "anomaly":
			if m.Score == nil || *m.Score < 4 || len(m.Top) != 2 || m.Top[0].Channel != "b" || m.Top[0].Share < 0.99 {
				t.Errorf("anomaly state %s: want score >= 4 and b first with ~100%%", s)
			}
		case "sensor-fault":
			if len(m.Fault) != 1 || m.Fault[0] != "a" || m.Score != nil {
				t.Errorf("sensor-fault state %s: want fault [a] and no score", s)
			}
		}
	}
	if want := "normal anomaly normal sensor-fault normal"; strings.Join(got, " ") != want {
		t.Errorf("states %q, want %q", got, want)
	}
	alerts := col.wait(t, "alert", 4)
	ids := map[string]bool{}
	var trans []string
	for _, a := range alerts {
		var m AlertMessage
		if err := json.Unmarshal([]byte(a), &m); err != nil {
			t.Fatal(err)
		}
		ids[m.ID] = true
		trans = append(trans, m.From+">"+m.State)
	}
	if want := "normal>anomaly anomaly>normal normal>sensor-fault sensor-fault>normal"; strings.Join(trans, " ") != want || len(ids) != 4 {
		t.Errorf("alerts %q with %d distinct ids; want %q with 4", trans, len(ids), want)
	}
	status := col.wait(t, "status", 2)
	if status[0] != `{"status":"online"}` || status[len(status)-1] != `{"status":"offline"}` {
		t.Errorf("status messages %q: want online first and offline last", status)
	}
}

func TestStepAllocs(t *testing.T) {
	_, pub := startBroker(t, "p/")
	defer pub.Close(time.Second)
	src, _ := serial.NewReader(io.NopCloser(strings.NewReader(lines())), serial.Opts{Device: "x", Channels: []string{"a", "b"}})
	p, err := NewPipeline(PipelineOptions{Source: src, Model: zscoreModel(t, 2), Channels: []string{"a", "b"},
		Threshold: 4, K: 3, N: 5, Top: 2, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	s := &sensors.Sample{Values: []float32{0.5, -0.5}}
	for range 5 { // past start-up: the state is decided
		p.Step(s)
	}
	if a := testing.AllocsPerRun(200, func() { p.Step(s) }); a != 0 {
		t.Errorf("Step allocates %v times per sample in a steady state, want 0", a)
	}
}

func TestCheckChannels(t *testing.T) {
	tests := []struct {
		model, conf []string
		want        []string // substrings; nil = no error
	}{
		{[]string{"a", "b"}, []string{"b", "a"}, nil},
		{[]string{"a", "b"}, []string{"a"}, []string{`needs ["b"]`}},
		{[]string{"a"}, []string{"a", "c"}, []string{`lists ["c"]`}},
		{[]string{"a", "x"}, []string{"a", "y"}, []string{`needs ["x"]`, `lists ["y"]`}},
	}
	for _, tc := range tests {
		err := CheckChannels(tc.model, tc.conf)
		if (err == nil) != (tc.want == nil) {
			t.Errorf("CheckChannels(%q, %q) = %v", tc.model, tc.conf, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckChannels(%q, %q) = %v, want mention of %s", tc.model, tc.conf, err, w)
			}
		}
	}
}

func TestScoreTelemetryRateLimit(t *testing.T) {
	b, pub := startBroker(t, "rate/")
	col := collect(t, b.URL(), "rate/#")
	src, _ := serial.NewReader(io.NopCloser(strings.NewReader(lines())), serial.Opts{Device: "x", Channels: []string{"a", "b"}})
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := NewPipeline(PipelineOptions{Source: src, Model: zscoreModel(t, 2), Channels: []string{"a", "b"},
		Threshold: 4, K: 1, N: 1, Top: 1, ScoreInterval: time.Second, Publisher: pub,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s := &sensors.Sample{Values: []float32{0.1, 0.1}}
	for i := 0; i < 30; i++ { // 3 s at 10 Hz
		p.Step(s)
		now = now.Add(100 * time.Millisecond)
	}
	p.Step(&sensors.Sample{Values: []float32{0, 9}}) // at 3 s: an anomaly
	col.wait(t, "alert", 1)
	scores := col.wait(t, "score", 4)
	if len(scores) != 4 || !strings.Contains(scores[3], `"state":"anomaly"`) {
		t.Errorf("%d score messages in 3 s at one a second, want 4 (at 0, 1, 2, 3 s), the last an anomaly: %q", len(scores), scores)
	}
	var m ScoreMessage
	if err := json.Unmarshal([]byte(scores[1]), &m); err != nil || m.State != "normal" || m.Threshold != 4 || !m.Time.Equal(now.Add(-2*time.Second)) {
		t.Errorf("score message %s: %+v, %v", scores[1], m, err)
	}
	pub.Close(5 * time.Second)
}

// Overflowing and NaN scores still change the state and are published
// with finite numbers: no alert is lost to JSON's lack of Inf and NaN.
func TestNonFiniteScoresPublished(t *testing.T) {
	b, pub := startBroker(t, "inf/")
	col := collect(t, b.URL(), "inf/#")
	col.wait(t, "status", 1)
	// Weights 2, −2 into one channel: a huge input makes Inf − Inf = NaN.
	nan := infer.Dense{In: 2, Out: 2, W: []float32{2, -2, 0, 0}, B: []float32{0, 0}}
	sc := infer.Scaler{Center: []float32{0, 0}, Scale: []float32{1, 1}}
	src, _ := serial.NewReader(io.NopCloser(strings.NewReader(lines())), serial.Opts{Device: "x", Channels: []string{"a", "b"}})
	for _, tc := range []struct {
		name   string
		layers []infer.Layer
		x      []float32
	}{
		{"inf", zscoreModel(t, 2).Layers(), []float32{2e19, 0}},
		{"nan", []infer.Layer{&nan}, []float32{3e38, 3e38}},
	} {
		ae, err := infer.NewAutoencoder(infer.Config{Scaler: sc, Layers: tc.layers})
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPipeline(PipelineOptions{Source: src, Model: ae, Channels: []string{"a", "b"}, Threshold: 4,
			K: 1, N: 1, Top: 2, ScoreInterval: time.Nanosecond, Publisher: pub, AlertPrefix: tc.name})
		if err != nil {
			t.Fatal(err)
		}
		p.Step(&sensors.Sample{Values: []float32{0, 0}})
		p.Step(&sensors.Sample{Values: tc.x})
		if p.State() != decision.Anomaly {
			t.Errorf("%s: state %v, want anomaly", tc.name, p.State())
		}
	}
	alerts := col.wait(t, "alert", 2)
	for _, a := range alerts {
		var m AlertMessage
		if err := json.Unmarshal([]byte(a), &m); err != nil || m.State != "anomaly" {
			t.Errorf("alert %s: %v", a, err)
		}
	}
	var m AlertMessage
	json.Unmarshal([]byte(alerts[0]), &m)
	if m.Score == nil || *m.Score < 1e38 || len(m.Top) == 0 || m.Top[0].Channel != "a" || m.Top[0].Share != 1 {
		t.Errorf("overflow alert %s: want a huge finite score and channel a at 100%%", alerts[0])
	}
	pub.Close(5 * time.Second)
}
