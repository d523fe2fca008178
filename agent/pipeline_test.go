package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/health"
	"github.com/vigil-edge/vigil/sensors/serial"
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

var collectors atomic.Int64 // makes collectors' client ids unique

func collect(t *testing.T, url, filter string) *collector {
	col := &collector{msgs: map[string][]string{}}
	col.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("collector-%s-%d", t.Name(), collectors.Add(1))))
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

// rig is a pipeline's surroundings: a real mosquitto, an outbox and the
// sender delivering it.
type rig struct {
	url    string
	ob     *outbox.Outbox
	sender *publish.Sender
	path   string
}

// startRig runs mosquitto and a sender under prefix, with the outbox at
// path (a new one in a temporary directory if empty).
func startRig(t *testing.T, prefix, path string) *rig {
	r := &rig{url: startMosquitto(t), path: path}
	if r.path == "" {
		r.path = filepath.Join(t.TempDir(), "outbox.db")
	}
	r.open(t, prefix)
	return r
}

func (r *rig) open(t *testing.T, prefix string) {
	ob, err := outbox.Open(r.path, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	status := func(online bool, _ time.Time) []byte {
		if online {
			return []byte(`{"status":"online"}`)
		}
		return []byte(`{"status":"offline"}`)
	}
	s, err := publish.Start(publish.Options{Brokers: []string{r.url}, ClientID: "agent-" + t.Name(), Prefix: prefix,
		Status: status, Outbox: ob})
	if err != nil {
		t.Fatal(err)
	}
	r.ob, r.sender = ob, s
	t.Cleanup(r.close)
}

// close delivers what is queued, publishes offline and closes the outbox.
func (r *rig) close() {
	r.sender.Close(5 * time.Second)
	r.ob.Close()
}

func (r *rig) options(t *testing.T, src sensors.Source, channels ...string) PipelineOptions {
	return PipelineOptions{Source: src, Model: zscoreModel(t, len(channels)), Channels: channels, Threshold: 4, ModelID: "m1",
		Decision: decide.Params{K: 3, N: 5}, Top: len(channels), Outbox: r.ob, Telemetry: r.sender.Telemetry,
		Site: "test", Device: "pump", AlertPrefix: "agent-test-1", Logger: slog.New(slog.DiscardHandler)}
}

func replaySource(t testing.TB, rows ...string) sensors.Source {
	src, err := serial.NewReader(io.NopCloser(strings.NewReader(lines(rows...))), serial.Opts{Device: "replay", Channels: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func decodeAlerts(t *testing.T, alerts []string) []AlertMessage {
	var out []AlertMessage
	for _, a := range alerts {
		var m AlertMessage
		if err := json.Unmarshal([]byte(a), &m); err != nil {
			t.Fatalf("alert %s: %v", a, err)
		}
		out = append(out, m)
	}
	return out
}

func transitions(ms []AlertMessage) string {
	var tr []string
	for _, m := range ms {
		tr = append(tr, m.From+">"+m.State)
	}
	return strings.Join(tr, " ")
}

func TestPipelinePublishesStateChanges(t *testing.T) {
	r := startRig(t, "vigil/test/pump/", "")
	col := collect(t, r.url, "vigil/test/pump/#")
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
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	o := r.options(t, replaySource(t, rows...), "a", "b")
	o.Top = 2
	o.Now = func() time.Time { now = now.Add(time.Second); return now }
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if samples, faults := p.Counts(); samples != 21 || faults != 1 || p.State() != decide.Normal {
		t.Errorf("samples %d faults %d state %v; want 21, 1, normal", samples, faults, p.State())
	}
	r.close()

	states := col.wait(t, "state", 5)
	var got []string
	for _, s := range states {
		var m StateMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("state payload %s: %v", s, err)
		}
		got = append(got, m.State)
		if m.Model != "m1" || m.Threshold != 4 || m.Site != "test" || m.Device != "pump" || m.AlarmAbove != 0 || m.NormalAt != 0 || strings.Contains(s, "alarm_above") {
			t.Errorf("state %s: model %q threshold %v (levels %v, %v: none without hysteresis) site %q device %q", s, m.Model, m.Threshold, m.AlarmAbove, m.NormalAt, m.Site, m.Device)
		}
		switch m.State {
		case "anomaly":
			if m.Score == nil || *m.Score < 4 || len(m.Top) != 2 || m.Top[0].Channel != "b" || m.Top[0].Share < 0.99 {
				t.Errorf("anomaly state %s: want score >= 4 and b first with ~100%%", s)
			}
		case "sensor-fault":
			if len(m.Fault) != 1 || m.Fault[0] != "a" || m.Score != nil || !strings.Contains(s, `"score":null`) || !strings.Contains(s, `"top":[]`) {
				t.Errorf("sensor-fault state %s: want fault [a], score null and top []", s)
			}
		}
	}
	if want := "normal anomaly normal sensor-fault normal"; strings.Join(got, " ") != want {
		t.Errorf("states %q, want %q", got, want)
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 4))
	ids := map[string]bool{}
	for i, m := range alerts {
		ids[m.ID] = true
		if m.Seq != uint64(i+1) {
			t.Errorf("alert %d has seq %d, want %d", i, m.Seq, i+1)
		}
	}
	if want := "normal>anomaly anomaly>normal normal>sensor-fault sensor-fault>normal"; transitions(alerts) != want || len(ids) != 4 {
		t.Errorf("alerts %q with %d distinct ids; want %q with 4", transitions(alerts), len(ids), want)
	}
	status := col.wait(t, "status", 2)
	if status[0] != `{"status":"online"}` || status[len(status)-1] != `{"status":"offline"}` {
		t.Errorf("status messages %q: want online first and offline last", status)
	}
}

// A restarted agent remembers the state it published: finding the
// machine normal again raises the clearing alert, and alert numbers go
// on from where they stopped.
func TestRestartClearsStoredState(t *testing.T) {
	r := startRig(t, "rs/", "")
	col := collect(t, r.url, "rs/#")
	col.wait(t, "status", 1)
	o := r.options(t, replaySource(t, repeat("0;9", 5)...), "a", "b")
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	p.Run(context.Background())
	if p.State() != decide.Anomaly {
		t.Fatalf("state %v after five far-out rows, want anomaly", p.State())
	}
	r.close()
	col.wait(t, "alert", 1)

	r.open(t, "rs/") // the restart: same outbox file
	o = r.options(t, replaySource(t, repeat("0;0", 5)...), "a", "b")
	o.AlertPrefix = "agent-test-2"
	p, err = NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.State() != decide.Anomaly {
		t.Errorf("restored state %v, want anomaly", p.State())
	}
	p.Run(context.Background())
	r.close()
	alerts := decodeAlerts(t, col.wait(t, "alert", 2))
	if transitions(alerts) != "unknown>anomaly anomaly>normal" || alerts[1].Seq != 2 {
		t.Errorf("alerts %q seq %d, want the clearing anomaly>normal as alert 2", transitions(alerts), alerts[len(alerts)-1].Seq)
	}
}

// A source that goes quiet turns the state stale, with an alert, and the
// state returns once samples do.
func TestStale(t *testing.T) {
	r := startRig(t, "st/", "")
	col := collect(t, r.url, "st/#")
	col.wait(t, "status", 1)
	pr, pw := io.Pipe()
	src, err := serial.NewReader(pr, serial.Opts{Device: "pipe", Channels: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	o := r.options(t, src, "a", "b")
	o.StaleAfter = 300 * time.Millisecond
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	write := func(n int) {
		for range n {
			fmt.Fprintf(pw, "2024-01-01 00:00:00;0;0\n")
		}
	}
	fmt.Fprintf(pw, "datetime;a;b\n")
	write(5)
	col.wait(t, "state", 1)
	alerts := decodeAlerts(t, col.wait(t, "alert", 1)) // quiet now: stale
	write(5)
	alerts = decodeAlerts(t, col.wait(t, "alert", 2))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if transitions(alerts) != "normal>stale stale>normal" {
		t.Errorf("alerts %q, want normal>stale stale>normal", transitions(alerts))
	}
	if alerts[0].Score != nil || alerts[0].SampleTime.IsZero() {
		t.Errorf("stale alert %+v: want no score and the last sample's time", alerts[0])
	}
}

func TestStepAllocs(t *testing.T) {
	r := startRig(t, "p/", "")
	p, err := NewPipeline(r.options(t, replaySource(t), "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	s := &sensors.Sample{Values: []float32{0.5, -0.5}, Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	for range 5 { // past start-up: the state is decided
		p.Step(s)
	}
	if a := testing.AllocsPerRun(200, func() {
		s.Time = s.Time.Add(time.Second)
		p.Step(s)
	}); a != 0 {
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
	r := startRig(t, "rate/", "")
	col := collect(t, r.url, "rate/#")
	col.wait(t, "status", 1)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	o := r.options(t, replaySource(t), "a", "b")
	o.Decision, o.ScoreInterval = decide.Params{K: 1, N: 1}, time.Second
	o.Now = func() time.Time { return now }
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	s := &sensors.Sample{Values: []float32{0.1, 0.1}}
	for i := 0; i < 30; i++ { // 3 s at 10 Hz
		p.Step(s)
		now = now.Add(100 * time.Millisecond)
		time.Sleep(time.Millisecond) // the telemetry queue holds 16
	}
	p.Step(&sensors.Sample{Values: []float32{0, 9}}) // at 3 s: an anomaly
	col.wait(t, "alert", 1)
	scores := col.wait(t, "score", 4)
	if len(scores) != 4 || !strings.Contains(scores[3], `"state":"anomaly"`) {
		t.Errorf("%d score messages in 3 s at one a second, want 4 (at 0, 1, 2, 3 s), the last an anomaly: %q", len(scores), scores)
	}
	var m ScoreMessage
	if err := json.Unmarshal([]byte(scores[1]), &m); err != nil || m.State != "normal" || m.Threshold != 4 || !m.Time.Equal(now.Add(-2*time.Second)) || m.Device != "pump" {
		t.Errorf("score message %s: %+v, %v", scores[1], m, err)
	}
}

// Overflowing and NaN scores still change the state and are published
// with finite numbers: no alert is lost to JSON's lack of Inf and NaN.
func TestNonFiniteScoresPublished(t *testing.T) {
	// Weights 2, −2 into one channel: a huge input makes Inf − Inf = NaN.
	nan := infer.Dense{In: 2, Out: 2, W: []float32{2, -2, 0, 0}, B: []float32{0, 0}}
	sc := infer.Scaler{Center: []float32{0, 0}, Scale: []float32{1, 1}}
	for _, tc := range []struct {
		name   string
		layers []infer.Layer
		x      []float32
	}{
		{"inf", zscoreModel(t, 2).Layers(), []float32{2e19, 0}},
		{"nan", []infer.Layer{&nan}, []float32{3e38, 3e38}},
	} {
		r := startRig(t, tc.name+"/", "")
		col := collect(t, r.url, tc.name+"/#")
		col.wait(t, "status", 1)
		ae, err := infer.NewAutoencoder(infer.Config{Scaler: sc, Layers: tc.layers})
		if err != nil {
			t.Fatal(err)
		}
		o := r.options(t, replaySource(t), "a", "b")
		o.Model, o.Decision, o.ScoreInterval, o.AlertPrefix = ae, decide.Params{K: 1, N: 1}, time.Nanosecond, tc.name
		p, err := NewPipeline(o)
		if err != nil {
			t.Fatal(err)
		}
		p.Step(&sensors.Sample{Values: []float32{0, 0}})
		p.Step(&sensors.Sample{Values: tc.x})
		if p.State() != decide.Anomaly {
			t.Errorf("%s: state %v, want anomaly", tc.name, p.State())
		}
		alerts := col.wait(t, "alert", 1)
		var m AlertMessage
		if err := json.Unmarshal([]byte(alerts[0]), &m); err != nil || m.State != "anomaly" {
			t.Errorf("%s: alert %s: %v", tc.name, alerts[0], err)
		}
		if tc.name == "inf" && (m.Score == nil || *m.Score < 1e38 || len(m.Top) == 0 || m.Top[0].Channel != "a" || m.Top[0].Share != 1) {
			t.Errorf("overflow alert %s: want a huge finite score and channel a at 100%%", alerts[0])
		}
	}
}

// With the outbox full of undelivered alerts, a further alert is lost —
// counted and logged — but the state still reaches the outbox, so the
// retained state stays true once the broker is back.
func TestAlertsLostWhenFull(t *testing.T) {
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{MaxRecords: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var logs syncBuffer
	p, err := NewPipeline(PipelineOptions{Source: replaySource(t), Model: zscoreModel(t, 2), Channels: []string{"a", "b"},
		Threshold: 4, Decision: decide.Params{K: 1, N: 1}, Top: 1, Outbox: ob, Site: "s", Device: "d", AlertPrefix: "full",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	values := [][]float32{{0, 0}, {0, 9}}
	for i := range 30 {
		p.Step(&sensors.Sample{Values: values[i%2]})
	}
	st := p.Stats()
	if st.AlertsLost == 0 || !strings.Contains(logs.String(), "alert could not be stored") {
		t.Fatalf("stats %+v: want lost alerts counted and logged", st)
	}
	var m StateMessage
	if err := json.Unmarshal(ob.LastState(), &m); err != nil || m.State != p.State().String() {
		t.Errorf("last state in the outbox %q (%v), the pipeline's %v", m.State, err, p.State())
	}
	if ob.LastAlertSeq() != p.alertSeq {
		t.Errorf("outbox remembers alert %d, the pipeline used %d: a lost alert's number would be reused", ob.LastAlertSeq(), p.alertSeq)
	}
	if ob.Stats().PendingAlerts > 10 {
		t.Errorf("outbox holds %d alerts, bound 10", ob.Stats().PendingAlerts)
	}
}

// Inf and numbers beyond float32 on the wire are sensor faults, not
// skipped lines and not scores.
func TestInfOnTheWire(t *testing.T) {
	r := startRig(t, "inf-wire/", "")
	col := collect(t, r.url, "inf-wire/#")
	col.wait(t, "status", 1)
	rows := append(repeat("0;0", 5), "0;+Inf")
	rows = append(rows, repeat("0;0", 5)...)
	rows = append(rows, "1e39;0")
	p, err := NewPipeline(r.options(t, replaySource(t, rows...), "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 3))
	if transitions(alerts) != "normal>sensor-fault sensor-fault>normal normal>sensor-fault" {
		t.Fatalf("alerts %q", transitions(alerts))
	}
	if f := alerts[0].Fault; len(f) != 1 || f[0] != "b" || alerts[2].Fault[0] != "a" || alerts[0].Reason == "" {
		t.Errorf("faults %v and %v, reason %q: want b, then a, with a reason", f, alerts[2].Fault, alerts[0].Reason)
	}
}

// A reading out of its sensor's range, or stuck, is a sensor fault naming
// the channel and why — never scored, so never an anomaly of the machine.
func TestHealthFaults(t *testing.T) {
	r := startRig(t, "health/", "")
	col := collect(t, r.url, "health/#")
	col.wait(t, "status", 1)
	var rows []string
	for i := range 5 {
		rows = append(rows, fmt.Sprintf("0;0.%d", i))
	}
	rows = append(rows, "50;0.5") // a far out of its 0..10 range: the score would be huge
	for i := range 5 {
		rows = append(rows, fmt.Sprintf("0;0.%d", i+6))
	}
	rows = append(rows, repeat("0;0.9", 5)...) // b frozen for 4 s
	checker, err := health.New([]string{"a", "b"}, map[string]health.Limits{
		"a": {Min: 0, Max: 10}, "b": {Min: math.NaN(), Max: math.NaN(), Stuck: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	o := r.options(t, replaySource(t, rows...), "a", "b")
	o.Health = checker
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	alerts := decodeAlerts(t, col.wait(t, "alert", 3))
	if transitions(alerts) != "normal>sensor-fault sensor-fault>normal normal>sensor-fault" {
		t.Fatalf("alerts %q: want sensor faults, never an anomaly", transitions(alerts))
	}
	if a := alerts[0]; len(a.Fault) != 1 || a.Fault[0] != "a" || a.Reason != "a above range (50 > 10)" {
		t.Errorf("range fault %+v", a)
	}
	if a := alerts[2]; len(a.Fault) != 1 || a.Fault[0] != "b" || a.Reason != "b stuck at 0.9 for 3s" {
		t.Errorf("stuck fault %+v", a)
	}
}

// all returns the messages on topic so far.
func (c *collector) all(topic string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs[topic]...)
}

// With hysteresis, a score between the threshold and the entry level
// starts nothing, one between the exit level and the threshold ends
// nothing, and every state message names both levels.
func TestPipelineHysteresis(t *testing.T) {
	r := startRig(t, "vigil/test/pump/", "")
	col := collect(t, r.url, "vigil/test/pump/#")
	col.wait(t, "status", 1)
	// Scores (the mean of the squared values): 0 for rows 0–4, then 4.5
	// (over the threshold 4, under the entry level 6) for rows 5–9, 40.5
	// for rows 10–12, 3.125 (under the threshold, over the exit level 2)
	// for rows 13–17, and 0 from row 18.
	rows := append(repeat("0;0", 5), repeat("0;3", 5)...)
	rows = append(rows, repeat("0;9", 3)...)
	rows = append(rows, repeat("0;2.5", 5)...)
	rows = append(rows, repeat("0;0", 3)...)
	o := r.options(t, replaySource(t, rows...), "a", "b")
	o.Decision = decide.Params{K: 1, N: 1, Enter: 1.5, Exit: 0.5}
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.close()
	// The status page's copy has the levels too.
	if l := p.Live(); l.Threshold != 4 || l.AlarmAbove != 6 || l.NormalAt != 2 {
		t.Errorf("live threshold %v, alarm above %v, normal at %v; want 4, 6, 2", l.Threshold, l.AlarmAbove, l.NormalAt)
	}
	var got []string
	for _, s := range col.wait(t, "state", 3) {
		var m StateMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("state payload %s: %v", s, err)
		}
		got = append(got, fmt.Sprintf("%s@%d", m.State, m.SampleTime.Second()))
		if m.Threshold != 4 || m.AlarmAbove != 6 || m.NormalAt != 2 {
			t.Errorf("state %s: threshold %v, alarm above %v, normal at %v; want 4, 6, 2", s, m.Threshold, m.AlarmAbove, m.NormalAt)
		}
	}
	if want := "normal@0 anomaly@10 normal@18"; strings.Join(got, " ") != want {
		t.Errorf("states at rows %q, want %q (without hysteresis: anomaly@5, normal@13)", got, want)
	}
}
