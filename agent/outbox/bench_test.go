package outbox

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends on the disk of the test's
// TempDir: one state and one alert per Append, as the pipeline queues
// them at a state change. Each op is one bbolt commit (two fdatasyncs).
// The sender's acknowledgements are simulated every 500 Appends, so their
// removals ride along with the Appends' commits.
func BenchmarkAppend(b *testing.B) {
	ob := openT(b, filepath.Join(b.TempDir(), "outbox.db"), Options{})
	st := Record{Kind: KindState, Topic: "state", Retained: true, Payload: []byte(`{"state":"ANOMALY","score":2.96,"threshold":0.536,"top":[{"channel":"Volume Flow RateRMS","share":0.71}]}`)}
	al := Record{Kind: KindAlert, Topic: "alert", Payload: []byte(`{"id":"pump-3-17","seq":17,"from":"NORMAL","state":"ANOMALY","score":2.96,"threshold":0.536,"top":[{"channel":"Volume Flow RateRMS","share":0.71}]}`)}
	b.SetBytes(int64(len(st.Payload) + len(al.Payload)))
	b.ReportAllocs()
	start := time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		al.AlertSeq = uint64(i + 1)
		if err := ob.Append(st, al); err != nil {
			b.Fatal(err)
		}
		if i%500 == 499 {
			if err := ob.Ack(ob.nextSeq - 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}

// BenchmarkNextAck measures the sender's side: Next reads a record from
// the file (a bbolt read transaction and a payload copy), Ack removes it;
// removals are committed every 64 acknowledgements.
func BenchmarkNextAck(b *testing.B) {
	ob := openT(b, filepath.Join(b.TempDir(), "outbox.db"), Options{AckDelay: time.Hour})
	const batch = 1000
	recs := make([]Record, batch)
	for i := range recs {
		recs[i] = Record{Kind: KindAlert, Topic: "alert", AlertSeq: uint64(i), Payload: make([]byte, 200)}
	}
	b.ReportAllocs()
	b.SetBytes(200)
	var after uint64
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			b.StopTimer()
			if err := ob.Append(recs...); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		r, ok := ob.Next(after)
		if !ok {
			b.Fatalf("Next(%d) found nothing", after)
		}
		if err := ob.Ack(r.Seq); err != nil {
			b.Fatal(err)
		}
		after = r.Seq
	}
}
