package publish

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Commands reach the agent on its subscribed topics, also when they were
// published while it was disconnected (its session keeps them); a
// retained payload set with Retain is on the broker, and is published
// again after a new broker without it takes over.
func TestSubscribeAndRetain(t *testing.T) {
	b := startBroker(t)
	px := newProxy(t, b.Addr())
	px.start()
	got := make(chan string, 4)
	s, err := Start(Options{Brokers: []string{"tcp://" + px.addr}, ClientID: "cmd", Prefix: "v/s/d/", Outbox: openOutbox(t),
		RetryMin: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Subscribe: map[string]func([]byte){"model/set": func(b []byte) { got <- string(b) }}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(time.Second)
	waitFor(t, "connected", func() bool { return s.Stats().Connected })
	s.Retain("model/status", []byte("installed v1"))
	status, stop := subscribe(t, b.URL(), "v/s/d/model/status")
	defer stop()
	waitFor(t, "retained status", func() bool { return last(status) == "v/s/d/model/status installed v1" })

	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("pusher"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(0)
	send := func(p string) {
		if tok := pub.Publish("v/s/d/model/set", 1, false, p); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	send("one")
	// QoS 1 is at least once: a message whose PUBACK was lost with the
	// connection comes again, so handlers must be idempotent.
	expect := func(want string, dup ...string) {
		t.Helper()
		for {
			select {
			case m := <-got:
				if m == want {
					return
				}
				if len(dup) == 0 || m != dup[0] {
					t.Errorf("handler got %q, want %q", m, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%q not handled within 10 s", want)
			}
		}
	}
	expect("one")
	// Published while the agent is cut off: the broker holds it for the
	// persistent session and delivers it on the next connection.
	px.cut()
	waitFor(t, "disconnected", func() bool { return !s.Stats().Connected })
	send("two")
	px.start()
	expect("two", "one")
}
