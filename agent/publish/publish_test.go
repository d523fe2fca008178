package publish

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/vigil-edge/vigil/agent/outbox"
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

func last(got func() []string) string {
	g := got()
	if len(g) == 0 {
		return ""
	}
	return g[len(g)-1]
}

// openOutbox opens a fresh outbox in the test's directory.
func openOutbox(t *testing.T) *outbox.Outbox {
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	return ob
}

func appendAlert(t *testing.T, ob *outbox.Outbox, n uint64) {
	t.Helper()
	err := ob.Append(outbox.Record{Kind: outbox.KindAlert, Topic: TopicAlert, AlertSeq: n, Payload: []byte(fmt.Sprintf("alert-%d", n))})
	if err != nil {
		t.Fatal(err)
	}
}

func statusFunc(online bool, _ time.Time) []byte {
	if online {
		return []byte("online")
	}
	return []byte("offline")
}

// An alert queued while the broker cannot be reached is delivered once it
// can; a record leaves the outbox only after its PUBACK.
func TestQueuedUntilBrokerReachable(t *testing.T) {
	b := startBroker(t)
	got, stop := subscribe(t, b.URL(), "v/s/d/#")
	defer stop()
	px := newProxy(t, b.Addr())
	ob := openOutbox(t)
	s, err := Start(Options{Brokers: []string{"tcp://" + px.addr}, ClientID: "q", Prefix: "v/s/d/",
		Status: statusFunc, Outbox: ob, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		appendAlert(t, ob, i)
	}
	time.Sleep(300 * time.Millisecond)
	if st := s.Stats(); st.Connected || st.Failures == 0 || ob.Stats().Pending != 3 {
		t.Fatalf("with the broker unreachable: %+v, outbox %+v", st, ob.Stats())
	}
	px.start()
	waitFor(t, "queued alerts delivered", func() bool { return ob.Stats().Pending == 0 })
	if err := s.Close(5 * time.Second); err != nil {
		t.Error(err)
	}
	waitFor(t, "offline status", func() bool { return last(got) == "v/s/d/status offline" })
	var alerts []string
	for _, m := range got() {
		if strings.HasPrefix(m, "v/s/d/alert ") {
			alerts = append(alerts, strings.TrimPrefix(m, "v/s/d/alert "))
		}
	}
	if strings.Join(alerts, " ") != "alert-1 alert-2 alert-3" {
		t.Errorf("alerts %q, want alert-1..3 in order", alerts)
	}
}

// The broker publishes the retained offline will when the agent's
// connection dies without a goodbye.
func TestLastWill(t *testing.T) {
	b := startBroker(t)
	got, stop := subscribe(t, b.URL(), "v/s/d/status")
	defer stop()
	px := newProxy(t, b.Addr())
	px.start()
	s, err := Start(Options{Brokers: []string{"tcp://" + px.addr}, ClientID: "will", Prefix: "v/s/d/",
		Status: statusFunc, Outbox: openOutbox(t), KeepAlive: time.Second, RetryMin: time.Hour, RetryMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(time.Second)
	waitFor(t, "online status", func() bool { return last(got) == "v/s/d/status online" })
	px.cut()
	waitFor(t, "offline will", func() bool { return last(got) == "v/s/d/status offline" })
}

// With the first broker down the sender fails over to the next, logging
// why the first failed.
func TestFailover(t *testing.T) {
	b := startBroker(t)
	got, stop := subscribe(t, b.URL(), "v/s/d/alert")
	defer stop()
	var logs syncBuffer
	ob := openOutbox(t)
	appendAlert(t, ob, 1)
	s, err := Start(Options{Brokers: []string{"tcp://" + freeAddr(t), b.URL()}, ClientID: "fo", Prefix: "v/s/d/",
		Outbox: ob, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(time.Second)
	waitFor(t, "alert via the second broker", func() bool { return len(got()) == 1 })
	if st := s.Stats(); !st.Connected || st.Broker != b.URL() || st.Failures != 1 {
		t.Errorf("stats %+v: want connected to %s after one failure", st, b.URL())
	}
	if l := logs.String(); !strings.Contains(l, "reason=refused") || !strings.Contains(l, "next broker") {
		t.Errorf("log does not say the first broker refused and the next is tried:\n%s", l)
	}
}

// Connection failures are logged at once with a reason an operator can
// act on.
func TestConnectFailureReasons(t *testing.T) {
	b := startBroker(t, map[string]string{"vigil": "right"})
	tests := []struct {
		name, url, user, pass, want string
	}{
		{"refused", "tcp://" + freeAddr(t), "", "", "reason=refused"},
		{"dns", "tcp://no-such-host.invalid:1883", "", "", "reason=dns"},
		{"credentials", b.URL(), "vigil", "wrong", "reason=credentials"},
	}
	for _, tc := range tests {
		var logs syncBuffer
		s, err := Start(Options{Brokers: []string{tc.url}, ClientID: "r-" + tc.name, Prefix: "v/", Username: tc.user, Password: tc.pass,
			Outbox: openOutbox(t), Logger: slog.New(slog.NewTextHandler(&logs, nil)), RetryMin: time.Hour, RetryMax: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, tc.name+" failure logged", func() bool { return strings.Contains(logs.String(), "mqtt connection failed") })
		s.Close(time.Second)
		if l := logs.String(); !strings.Contains(l, tc.want) {
			t.Errorf("%s: log %q does not say %s", tc.name, l, tc.want)
		}
	}
	// The right password connects.
	ob := openOutbox(t)
	s, _ := Start(Options{Brokers: []string{b.URL()}, ClientID: "r-ok", Prefix: "v/", Username: "vigil", Password: "right", Outbox: ob})
	waitFor(t, "connected with the right password", func() bool { return s.Stats().Connected })
	s.Close(time.Second)
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&net.DNSError{Err: "no such host", Name: "x"}, "dns"},
		{fmt.Errorf("network Error : %w", &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}), "refused"},
		{fmt.Errorf("network Error : %w", &tls.CertificateVerificationError{Err: errors.New("x509: certificate signed by unknown authority")}), "tls"},
		{packets.ErrorRefusedBadUsernameOrPassword, "credentials"},
		{packets.ErrorRefusedNotAuthorised, "credentials"},
		{errors.New("i/o timeout"), "timeout"},
		{errors.New("EOF"), "network"},
	}
	for _, tc := range tests {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Two agents with one client id take the connection from each other;
// each backs off instead of reconnecting in a tight loop.
func TestDroppedConnectionsBackOff(t *testing.T) {
	b := startBroker(t)
	var senders []*Sender
	for range 2 {
		s, err := Start(Options{Brokers: []string{b.URL()}, ClientID: "twin", Prefix: "v/", Outbox: openOutbox(t),
			RetryMin: 100 * time.Millisecond, RetryMax: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		senders = append(senders, s)
	}
	time.Sleep(3 * time.Second)
	for i, s := range senders {
		s.Close(0)
		// Without the back-off each connected about 26 times a second.
		if n := s.Stats().Connects; n > 12 {
			t.Errorf("sender %d connected %d times in 3 s: no back-off after dropped connections", i, n)
		}
	}
}
