package publish_test

import (
	"time"

	"github.com/vigil-edge/vigil/agent/publish"
)

// Connect keeps a persistent session and a retained last-will status; it
// returns at once and connects in the background.
func ExampleConnect() {
	c, err := publish.Connect(publish.Options{
		Broker:   "tcp://127.0.0.1:1883",
		ClientID: "vigil-plant-1-pump-3",
		Prefix:   "vigil/plant-1/pump-3/",
		Online:   []byte(`{"status":"online"}`),
		Offline:  []byte(`{"status":"offline"}`),
	})
	if err != nil {
		panic(err)
	}
	defer c.Close(5 * time.Second)
	c.Publish(publish.TopicAlert, 1, false, []byte(`{"id":"a-1","state":"anomaly"}`))
}
