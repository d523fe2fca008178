package outbox_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vigil-edge/vigil/agent/outbox"
)

// The pipeline appends a state change (the retained state and its alert)
// in one durable write; the sender takes records in order and
// acknowledges each once the broker has.
func Example() {
	dir, err := os.MkdirTemp("", "outbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "outbox.db")

	ob, err := outbox.Open(path, outbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// Producer: returns nil once both records are on disk.
	recs := []outbox.Record{
		{Kind: outbox.KindState, Topic: "state", Retained: true, Payload: []byte(`{"state":"ANOMALY"}`)},
		{Kind: outbox.KindAlert, Topic: "alert", AlertSeq: 1, Payload: []byte(`{"seq":1}`)},
	}
	if err := ob.Append(recs...); err != nil {
		log.Fatal(err) // ErrNotDurable: still queued, in memory; ErrFull: not queued
	}
	fmt.Println("queued seqs", recs[0].Seq, recs[1].Seq)

	// Sender: publish the oldest record, Ack it after the PUBACK.
	r, _ := ob.Next(0)
	fmt.Printf("publish %s retained=%v %s\n", r.Topic, r.Retained, r.Payload)
	if err := ob.Ack(r.Seq); err != nil {
		log.Print(err)
	}
	ob.Close()

	// After a restart the unacknowledged alert is still there, and so is
	// the last state, to republish as retained on reconnect.
	ob, err = outbox.Open(path, outbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ob.Close()
	r, _ = ob.Next(0)
	fmt.Printf("after restart: seq %d %s %s; last state %s; last alert seq %d\n",
		r.Seq, r.Topic, r.Payload, ob.LastState(), ob.LastAlertSeq())
	// Output:
	// queued seqs 1 2
	// publish state retained=true {"state":"ANOMALY"}
	// after restart: seq 2 alert {"seq":1}; last state {"state":"ANOMALY"}; last alert seq 1
}
