package agent

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
	"github.com/vigil-edge/vigil/infer/decide"
	"github.com/vigil-edge/vigil/sensors"
)

// BenchmarkLatency measures how long a message takes from the sample
// that caused it (Step) to a subscriber on loopback, through a real
// mosquitto, with samples paced at 100 Hz and 1 kHz: alerts (one state
// change every 10 samples, each fsync'd to the outbox first) and score
// telemetry (one per sample, QoS 0). It reports p50 and p99 in µs; the
// allocations per op are those of one sample, messages included.
func BenchmarkLatency(b *testing.B) {
	for _, kind := range []string{"alert", "score"} {
		for _, rate := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/%dHz", kind, rate), func(b *testing.B) { benchLatency(b, kind, rate) })
		}
	}
}

func benchLatency(b *testing.B, kind string, rate int) {
	m := newMosquitto(b, false)
	ob, err := outbox.Open(filepath.Join(b.TempDir(), "outbox.db"), outbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	s, err := publish.Start(publish.Options{Brokers: []string{m.url()}, ClientID: "bench", Prefix: "b/", Outbox: ob})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(time.Second)

	var mu sync.Mutex
	var lat []time.Duration
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(m.url()).SetClientID("bench-sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer sub.Disconnect(0)
	tok := sub.Subscribe("b/"+kind, 1, func(_ paho.Client, msg paho.Message) {
		now := time.Now()
		var v struct{ Time time.Time }
		json.Unmarshal(msg.Payload(), &v)
		mu.Lock()
		lat = append(lat, now.Sub(v.Time))
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	for !s.Stats().Connected {
		time.Sleep(time.Millisecond)
	}
	o := PipelineOptions{Source: replaySource(b), Model: zscoreModel(b, 2), Channels: []string{"a", "b"}, Threshold: 4,
		Decision: decide.Params{K: 1, N: 1}, Top: 2, Outbox: ob, Telemetry: s.Telemetry, Site: "s", Device: "d", AlertPrefix: "bench"}
	if kind == "score" {
		o.ScoreInterval = time.Nanosecond
	}
	p, err := NewPipeline(o)
	if err != nil {
		b.Fatal(err)
	}
	normal, far := []float32{0, 0}, []float32{0, 9}
	sample := sensors.Sample{Values: make([]float32, 2)}
	period := time.Second / time.Duration(rate)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if next := start.Add(time.Duration(i) * period); time.Until(next) > 0 {
			time.Sleep(time.Until(next))
		}
		sample.Time = time.Now()
		if (i/10)%2 == 0 {
			copy(sample.Values, normal)
		} else {
			copy(sample.Values, far)
		}
		p.Step(&sample)
	}
	b.StopTimer()
	want := b.N / 10
	if kind == "score" {
		want = b.N - int(s.Stats().Dropped)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= want {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(s.Stats().Dropped)/float64(b.N), "dropped/op")
}
