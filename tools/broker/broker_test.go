package broker

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestPublishSubscribe(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("t"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", b.URL(), tok.Error())
	}
	defer c.Disconnect(0)
	got := make(chan string, 1)
	if tok := c.Subscribe("a/b", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	c.Publish("a/b", 1, false, []byte("hello")).WaitTimeout(5 * time.Second)
	select {
	case m := <-got:
		if m != "hello" {
			t.Errorf("got %q, want hello", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("message not delivered within 10 s")
	}
	if _, err := Start(b.Addr(), nil); err == nil {
		t.Error("a second broker on the same address started")
	}
}
