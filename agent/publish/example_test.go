package publish_test

import (
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/agent/publish"
)

// Start connects in the background and delivers the outbox in order; the
// pipeline only appends to the outbox and never waits for the network.
func ExampleStart() {
	dir, _ := os.MkdirTemp("", "vigil")
	defer os.RemoveAll(dir)
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ob.Close()
	s, err := publish.Start(publish.Options{
		Brokers:  []string{"tcp://127.0.0.1:1883", "tcp://10.0.0.2:1883"}, // failover in order
		ClientID: "vigil-plant-1-pump-3",
		Prefix:   "vigil/plant-1/pump-3/",
		Outbox:   ob,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close(time.Second)
	ob.Append(outbox.Record{Kind: outbox.KindAlert, Topic: publish.TopicAlert, AlertSeq: 1,
		Payload: []byte(`{"id":"a-1","seq":1,"state":"anomaly"}`)})
}
