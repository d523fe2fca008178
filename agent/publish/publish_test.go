package publish

import (
	"net"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/tools/broker"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func subscribe(t *testing.T, url, filter string) (func() []string, func()) {
	var mu sync.Mutex
	var got []string
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("sub-" + t.Name()))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		got = append(got, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}, func() { c.Disconnect(0) }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
	}
}

// proxy forwards TCP connections to target once started, so a test can
// decide when the agent reaches the broker and cut it off again.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, addr: freeAddr(t), target: target}
	t.Cleanup(p.cut)
	return p
}

// start begins accepting and forwarding connections.
func (p *proxy) start() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go copyConn(out, in)
			go copyConn(in, out)
		}
	}()
}

// cut stops accepting and drops every connection, as a network failure
// would: no DISCONNECT reaches the broker.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
	}
	for _, c := range p.conns {
		c.Close()
	}
}

func copyConn(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func startBroker(t *testing.T) *broker.Broker {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func last(got func() []string) string {
	g := got()
	if len(g) == 0 {
		return ""
	}
	return g[len(g)-1]
}

// An alert published while the broker cannot be reached is delivered once
// it can.
func TestQueuedUntilBrokerReachable(t *testing.T) {
	b := startBroker(t)
	got, stop := subscribe(t, b.URL(), "v/s/d/#")
	defer stop()
	px := newProxy(t, b.Addr())
	p, err := Connect(Options{Broker: "tcp://" + px.addr, ClientID: "q", Prefix: "v/s/d/",
		Online: []byte("online"), Offline: []byte("offline")})
	if err != nil {
		t.Fatal(err)
	}
	p.Publish(TopicAlert, 1, false, []byte("alert-1"))
	if p.Connected() {
		t.Fatal("connected with the broker unreachable")
	}
	px.start()
	waitFor(t, "queued alert delivered", func() bool {
		for _, m := range got() {
			if m == "v/s/d/alert alert-1" {
				return true
			}
		}
		return false
	})
	if err := p.Close(5 * time.Second); err != nil {
		t.Error(err)
	}
	waitFor(t, "offline status", func() bool { return last(got) == "v/s/d/status offline" })
}

// The broker publishes the retained offline will when the agent's
// connection dies without a goodbye.
func TestLastWill(t *testing.T) {
	b := startBroker(t)
	got, stop := subscribe(t, b.URL(), "v/s/d/status")
	defer stop()
	px := newProxy(t, b.Addr())
	px.start()
	p, err := Connect(Options{Broker: "tcp://" + px.addr, ClientID: "will", Prefix: "v/s/d/",
		Online: []byte("online"), Offline: []byte("offline"), KeepAlive: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(time.Second)
	waitFor(t, "online status", func() bool { return last(got) == "v/s/d/status online" })
	px.cut()
	waitFor(t, "offline will", func() bool { return last(got) == "v/s/d/status offline" })
}
