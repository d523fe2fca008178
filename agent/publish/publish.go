package publish

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/vigil-edge/vigil/agent/outbox"
)

// Topic names under the prefix.
const (
	TopicState  = "state"
	TopicAlert  = "alert"
	TopicScore  = "score"
	TopicStatus = "status"
)

// Options configure Start. Brokers, ClientID, Prefix and Outbox are
// required.
type Options struct {
	// Brokers are tried in order, one per connection attempt, e.g.
	// tcp://10.0.0.5:1883, ssl://broker.plant:8883. After a connection is
	// lost the sender starts again from the first.
	Brokers  []string
	ClientID string // fixed, so the broker keeps the session
	Prefix   string // topic prefix ending in "/"
	Username string
	Password string
	// TLS configures ssl://, tls://, mqtts:// and wss:// brokers; nil uses
	// the system's roots.
	TLS *tls.Config
	// KeepAlive is the MQTT keep-alive interval (default 30 s).
	KeepAlive time.Duration
	// ConnectTimeout bounds one connection attempt (default 10 s).
	ConnectTimeout time.Duration
	// AckTimeout is how long a queued message may wait for its PUBACK on
	// an open connection before the connection is judged broken and
	// re-established (default 30 s).
	AckTimeout time.Duration
	// RetryMin and RetryMax bound the wait between failed rounds of
	// connection attempts; it doubles from RetryMin (default 500 ms) up
	// to RetryMax (default 30 s).
	RetryMin, RetryMax time.Duration
	// Status builds the retained status payloads: online (published at
	// every connect) and the offline last will the broker publishes if
	// the agent vanishes; at is the connection's time. Optional.
	Status func(online bool, at time.Time) []byte
	// Stopped builds the retained offline status Close publishes at time
	// at (default Status(false, at)). Optional.
	Stopped func(at time.Time) []byte
	// Outbox holds the state and alert messages to deliver, in order.
	Outbox *outbox.Outbox
	// Subscribe maps topic suffixes under Prefix (such as "model/set") to
	// their handlers, subscribed at QoS 1 on every connection. A handler
	// runs on paho's goroutine and must return quickly; the payload is its
	// own. Optional.
	Subscribe map[string]func(payload []byte)
	Logger    *slog.Logger     // optional
	Now       func() time.Time // optional; default time.Now
}

// Stats describe the connection, for logs, metrics and health.
type Stats struct {
	Connected   bool
	Broker      string    // the broker connected to, or last tried
	Since       time.Time // when the current connection (or outage) began
	Connects    uint64    // successful connections
	Failures    uint64    // failed connection attempts
	LastError   string    // why the last attempt failed or the connection was lost
	Sent        uint64    // queued messages acknowledged by the broker
	Telemetry   uint64    // QoS 0 messages handed to the network
	Dropped     uint64    // QoS 0 messages dropped (queue full or no connection)
	Republished uint64    // retained states republished after a connect
}

// Sender is the one goroutine that owns the MQTT connection. It delivers
// the outbox's records in order, one at a time: a record leaves the
// outbox only after the broker's PUBACK, and the next is sent only then,
// so a reconnect can duplicate at most the record in flight and never
// reorders. QoS 0 telemetry goes through a small queue and is dropped
// rather than waited for. Nothing the sampling loop calls blocks on the
// network.
type Sender struct {
	o         Options
	telemetry chan telemetryMsg
	stop      chan struct{}
	done      chan struct{}
	closing   atomic.Bool
	drain     atomic.Int64 // nanoseconds Close allows for delivering what is queued

	mu    sync.Mutex
	stats Stats

	headSeq   uint64 // the record at the head of the queue, and
	headSends int    // how often it was offered (sender goroutine only)

	retained  map[string][]byte // topic suffix → newest payload (under mu)
	retainNew chan struct{}     // a retained payload changed
}

type telemetryMsg struct {
	topic   string
	payload []byte
}

// Start validates o and starts the sender goroutine, which connects in
// the background (logging each failure with its reason at once) and keeps
// reconnecting until Close.
func Start(o Options) (*Sender, error) {
	if len(o.Brokers) == 0 || o.ClientID == "" || o.Prefix == "" || o.Outbox == nil {
		return nil, errors.New("publish: brokers, client id, prefix and outbox are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.KeepAlive, 30*time.Second)
	def(&o.ConnectTimeout, 10*time.Second)
	def(&o.AckTimeout, 30*time.Second)
	def(&o.RetryMin, 500*time.Millisecond)
	def(&o.RetryMax, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sender{o: o, telemetry: make(chan telemetryMsg, 16), stop: make(chan struct{}), done: make(chan struct{}),
		retained: map[string][]byte{}, retainNew: make(chan struct{}, 1)}
	s.stats.Since = o.Now()
	go s.run()
	return s, nil
}

// Retain sets the newest retained payload of Prefix+topic, such as the
// model status: it is published at QoS 1 with the retain flag now if
// connected, and again after every connect, so the broker always holds
// the newest. Only the newest payload of a topic is kept (in memory, not
// in the outbox: the caller sets it again after a restart). payload
// belongs to the Sender afterwards.
func (s *Sender) Retain(topic string, payload []byte) {
	s.mu.Lock()
	s.retained[topic] = payload
	s.mu.Unlock()
	select {
	case s.retainNew <- struct{}{}:
	default:
	}
}

// publishRetained publishes every retained payload over c, not waiting
// for the acknowledgements (one connection keeps their order).
func (s *Sender) publishRetained(c mqtt.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic, b := range s.retained {
		c.Publish(s.o.Prefix+topic, 1, true, b)
	}
}

// route delivers a message on a subscribed topic to its handler.
func (s *Sender) route(_ mqtt.Client, m mqtt.Message) {
	if h, ok := s.o.Subscribe[strings.TrimPrefix(m.Topic(), s.o.Prefix)]; ok {
		h(bytes.Clone(m.Payload()))
		return
	}
	s.o.Logger.Warn("message on a topic the agent does not handle", "topic", m.Topic())
}

// subscribe subscribes c to Options.Subscribe, logging a failure (the
// next connection tries again).
func (s *Sender) subscribe(c mqtt.Client) {
	for suffix := range s.o.Subscribe {
		tok := c.Subscribe(s.o.Prefix+suffix, 1, s.route)
		if !tok.WaitTimeout(s.o.ConnectTimeout) || tok.Error() != nil {
			s.o.Logger.Warn("subscribe failed; retried on the next connection", "topic", s.o.Prefix+suffix, "err", tok.Error())
		}
	}
}

// Telemetry offers a QoS 0 message for Prefix+topic without waiting: it
// reports false, and counts the message dropped, when the queue is full.
// payload belongs to the Sender afterwards.
func (s *Sender) Telemetry(topic string, payload []byte) bool {
	select {
	case s.telemetry <- telemetryMsg{topic, payload}:
		return true
	default:
		s.mu.Lock()
		s.stats.Dropped++
		s.mu.Unlock()
		return false
	}
}

// Stats returns a snapshot of the connection's figures.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close stops the sender. If it is connected, or a connection attempt in
// progress succeeds within drain, it keeps delivering the outbox for up
// to drain, then publishes the offline status, waits up to a second for
// it and disconnects; it does not start new attempts. Undelivered records stay in the
// outbox for the next start. Close is safe to call more than once.
func (s *Sender) Close(drain time.Duration) error {
	if s.closing.CompareAndSwap(false, true) {
		s.drain.Store(int64(drain))
		close(s.stop)
	}
	<-s.done
	return nil
}

func (s *Sender) update(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func (s *Sender) run() {
	defer close(s.done)
	log := s.o.Logger
	wait := s.o.RetryMin
	var lastReason string
	var lastLogged time.Time
	for {
		for i, broker := range s.o.Brokers {
			c, lost, err := s.connect(broker)
			if err == nil {
				lastReason = ""
				log.Info("mqtt connected", "broker", broker, "client_id", s.o.ClientID)
				began := s.o.Now()
				err = s.serve(c, lost)
				c.Disconnect(250)
				if s.closing.Load() {
					return
				}
				log.Warn("mqtt connection lost; reconnecting", "broker", broker, "err", err, "after", s.o.Now().Sub(began).Round(time.Millisecond))
				s.update(func(st *Stats) {
					st.Connected, st.Since, st.LastError = false, s.o.Now(), err.Error()
				})
				// A connection that held is followed by a prompt retry; one
				// the broker keeps dropping (a second agent with this client
				// id, an access rule, a message it refuses) backs off like a
				// failed attempt instead of spinning.
				if s.o.Now().Sub(began) >= StableAfter {
					wait = s.o.RetryMin
					break // start again from the first broker
				}
				if !s.sleep(wait) {
					return
				}
				wait = min(2*wait, s.o.RetryMax)
				break
			}
			if s.closing.Load() {
				return
			}
			reason := Reason(err)
			s.update(func(st *Stats) { st.Failures++; st.Broker, st.LastError = broker, err.Error() })
			// Every new reason is logged at once; the same one again at
			// most once a minute, so an outage does not flood the log.
			if now := s.o.Now(); reason != lastReason || now.Sub(lastLogged) >= time.Minute {
				log.Error("mqtt connection failed", "broker", broker, "reason", reason, "err", err,
					"next", nextAttempt(i, len(s.o.Brokers), wait))
				lastReason, lastLogged = reason, now
			}
			if i+1 < len(s.o.Brokers) {
				continue // fail over to the next broker at once
			}
			if !s.sleep(wait) {
				return
			}
			wait = min(2*wait, s.o.RetryMax)
		}
	}
}

// StableAfter is how long a connection must last for the next reconnect
// to skip the back-off.
const StableAfter = 10 * time.Second

func nextAttempt(i, n int, wait time.Duration) string {
	if i+1 < n {
		return "next broker"
	}
	return "retry in " + wait.String()
}

// sleep waits for d, dropping telemetry meanwhile (there is no
// connection to send it on). It returns false if the sender is stopping.
func (s *Sender) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return false
		case <-t.C:
			return true
		case <-s.telemetry:
			s.update(func(st *Stats) { st.Dropped++ })
		}
	}
}

// connect makes one connection attempt to broker with a fresh paho
// client, whose last will carries this connection's time. lost receives
// why, when the connection drops.
func (s *Sender) connect(broker string) (mqtt.Client, <-chan error, error) {
	at := s.o.Now().UTC()
	lost := make(chan error, 1)
	opts := mqtt.NewClientOptions().
		AddBroker(broker).
		SetClientID(s.o.ClientID).
		SetUsername(s.o.Username).
		SetPassword(s.o.Password).
		SetCleanSession(false).
		// MQTT 3.1.1 only: paho would otherwise retry a refused connection
		// as MQTT 3.1 and report that attempt's error instead.
		SetProtocolVersion(4).
		SetKeepAlive(s.o.KeepAlive).
		SetConnectTimeout(s.o.ConnectTimeout).
		SetWriteTimeout(10 * time.Second).
		// The sender reconnects itself, with a new client each time: paho's
		// store then holds at most this connection's message in flight,
		// and the outbox decides what is sent again.
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetStore(mqtt.NewOrderedMemoryStore()).
		// Messages for the persistent session can arrive before Subscribe
		// registers its handler.
		SetDefaultPublishHandler(s.route).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	if s.o.TLS != nil {
		opts.SetTLSConfig(s.o.TLS)
	}
	if s.o.Status != nil {
		opts.SetBinaryWill(s.o.Prefix+TopicStatus, s.o.Status(false, at), 1, true)
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-s.stop:
		// Stopping during an attempt: it may still connect within the
		// drain time, and then what is queued is delivered.
		select {
		case <-tok.Done():
		case <-time.After(time.Duration(s.drain.Load())):
			c.Disconnect(0)
			return nil, nil, errors.New("stopping")
		}
	}
	if err := tok.Error(); err != nil {
		return nil, nil, err
	}
	s.update(func(st *Stats) { st.Connected, st.Broker, st.Since, st.LastError = true, broker, at, ""; st.Connects++ })
	if s.o.Status != nil {
		// Not waited for: the broker keeps the order of one connection's
		// publishes, so the online status precedes what follows.
		c.Publish(s.o.Prefix+TopicStatus, 1, true, s.o.Status(true, at))
	}
	s.publishRetained(c)
	s.subscribe(c)
	return c, lost, nil
}

// serve delivers the outbox over c until the connection is lost (the
// error says why) or the sender stops (nil).
func (s *Sender) serve(c mqtt.Client, lost <-chan error) error {
	ob := s.o.Outbox
	// The retained state on a broker may be missing (a broker restarted
	// without persistence) or old: republish the newest one, unless a
	// newer state record is still queued and will follow in order.
	if st := ob.LastState(); st != nil && !stateQueued(ob) {
		c.Publish(s.o.Prefix+TopicState, 1, true, st)
		s.update(func(st *Stats) { st.Republished++ })
	}
	ackTimer := time.NewTimer(time.Hour)
	ackTimer.Stop()
	defer ackTimer.Stop()
	var stopping <-chan struct{} = s.stop // nil once Close asked to stop
	var drainTimer <-chan time.Time
	var acked uint64 // highest seq acknowledged on this connection
	var inflight *outbox.Record
	var tok mqtt.Token
	for {
		if inflight == nil {
			r, ok := ob.Next(acked)
			if !ok && stopping == nil {
				return s.goOffline(c) // drained
			}
			if ok {
				inflight = &r
				s.sending(r)
				tok = c.Publish(s.o.Prefix+r.Topic, 1, r.Retained, r.Payload)
				ackTimer.Reset(s.o.AckTimeout)
			}
		}
		var done <-chan struct{}
		if tok != nil {
			done = tok.Done()
		}
		select {
		case <-stopping:
			stopping = nil
			drainTimer = time.After(time.Duration(s.drain.Load()))
		case <-drainTimer:
			return s.goOffline(c)
		case err := <-lost:
			return fmt.Errorf("connection lost: %w", err)
		case <-ob.Notify():
		case m := <-s.telemetry:
			c.Publish(s.o.Prefix+m.topic, 0, false, m.payload)
			s.update(func(st *Stats) { st.Telemetry++ })
		case <-s.retainNew:
			s.publishRetained(c)
		case <-ackTimer.C:
			return fmt.Errorf("no PUBACK for record %d within %v", inflight.Seq, s.o.AckTimeout)
		case <-done:
			ackTimer.Stop()
			if err := tok.Error(); err != nil {
				return fmt.Errorf("publishing record %d: %w", inflight.Seq, err)
			}
			if err := ob.Ack(inflight.Seq); err != nil {
				s.o.Logger.Warn("outbox ack", "seq", inflight.Seq, "err", err)
			}
			acked = inflight.Seq
			inflight, tok = nil, nil
			s.update(func(st *Stats) { st.Sent++ })
		}
	}
}

// sending notes that r is offered to the broker and logs an error when
// the same record is offered again and again: a broker that drops the
// connection on it (too large, refused by an access rule) would hold
// back every later message.
func (s *Sender) sending(r outbox.Record) {
	if r.Seq != s.headSeq {
		s.headSeq, s.headSends = r.Seq, 0
	}
	s.headSends++
	if n := s.headSends; n == 3 || n == 10 || n%100 == 0 {
		s.o.Logger.Error("mqtt: the broker has not acknowledged this message after repeated sends; later messages wait behind it",
			"seq", r.Seq, "topic", s.o.Prefix+r.Topic, "bytes", len(r.Payload), "sends", n)
	}
}

// goOffline publishes the offline status and waits up to a second for it.
func (s *Sender) goOffline(c mqtt.Client) error {
	if s.o.Stopped == nil && s.o.Status != nil {
		s.o.Stopped = func(at time.Time) []byte { return s.o.Status(false, at) }
	}
	if s.o.Stopped == nil {
		return nil
	}
	tok := c.Publish(s.o.Prefix+TopicStatus, 1, true, s.o.Stopped(s.o.Now().UTC()))
	if !tok.WaitTimeout(time.Second) {
		s.o.Logger.Warn("mqtt: offline status not acknowledged within 1s")
	} else if err := tok.Error(); err != nil {
		s.o.Logger.Warn("mqtt: offline status", "err", err)
	}
	return nil
}

// stateQueued reports whether a state record is still waiting in ob.
func stateQueued(ob *outbox.Outbox) bool {
	st := ob.Stats()
	return st.Pending > st.PendingAlerts
}

// Reason classifies a connection error for logs and metrics: "dns",
// "refused", "timeout", "tls", "credentials", "protocol" or "network".
func Reason(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		// Brokers answer a wrong password with either code (mosquitto
		// and mochi send "not authorized").
		return "credentials"
	case errors.Is(err, packets.ErrorRefusedBadProtocolVersion), errors.Is(err, packets.ErrorRefusedIDRejected),
		errors.Is(err, packets.ErrorRefusedServerUnavailable):
		return "protocol"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &certErr), errors.As(err, &recErr), strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		return "tls"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "refused"
	}
	return "network"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "timed out")
}
