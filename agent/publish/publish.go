// Package publish is the agent's MQTT connection: a persistent session
// (fixed client id, clean session off), a retained last-will status, and
// publishing under the agent's topic prefix.
//
// It wraps eclipse/paho.mqtt.golang. It does not yet keep an fsync'd
// outbox in front of paho (paho's memory store does not survive a power
// cut); that is the durable-outbox work. Payloads passed to Publish are
// owned by the client until the broker acknowledges them: callers must
// pass a fresh slice each time.
package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Topic names under the prefix.
const (
	TopicState  = "state"
	TopicAlert  = "alert"
	TopicScore  = "score"
	TopicStatus = "status"
)

// Options configure Connect.
type Options struct {
	Broker   string // e.g. tcp://127.0.0.1:1883
	ClientID string // fixed, so the broker keeps the session
	Prefix   string // topic prefix ending in "/"
	Username string
	Password string
	// KeepAlive is the MQTT keep-alive interval (default 30 s).
	KeepAlive time.Duration
	// Online is published retained (QoS 0) on Prefix+status at every
	// connect; Offline is the last will (QoS 1, retained) the broker
	// publishes there when the agent vanishes, and what Close publishes.
	// Either may be empty: then it is not published.
	Online, Offline []byte
	// AckTimeout bounds how long a QoS 1 publish waits for its ack
	// before a warning is logged (default 30 s).
	AckTimeout time.Duration
	Logger     *slog.Logger
}

// Client publishes the agent's messages. It is safe for concurrent use.
type Client struct {
	c        mqtt.Client
	o        Options
	mu       sync.Mutex // guards closing, and inflight.Add against Wait
	closing  bool
	inflight sync.WaitGroup
}

// Connect validates o and starts connecting in the background: the agent
// runs while the broker is down, and QoS 1 messages published meanwhile
// are sent once the connection is up. Reconnection is automatic.
func Connect(o Options) (*Client, error) {
	if o.Broker == "" || o.ClientID == "" || o.Prefix == "" {
		return nil, errors.New("publish: broker, client id and prefix are required")
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 30 * time.Second
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Client{o: o}
	status := o.Prefix + TopicStatus
	opts := mqtt.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(false).
		SetKeepAlive(o.KeepAlive).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(2 * time.Second).
		SetMaxReconnectInterval(30 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetOnConnectHandler(func(c mqtt.Client) {
			o.Logger.Info("mqtt connected", "broker", o.Broker, "client_id", o.ClientID)
			if len(o.Online) == 0 {
				return
			}
			// QoS 0, because paho v1.5.1 races (issue #703) when a QoS 1
			// message stored during OnConnect is resent by its resume of
			// the session. The status is re-sent at every connect anyway.
			c.Publish(status, 0, true, o.Online)
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			o.Logger.Warn("mqtt connection lost; reconnecting", "broker", o.Broker, "err", err)
		})
	if len(o.Offline) > 0 {
		opts.SetBinaryWill(status, o.Offline, 1, true)
	}
	p.c = mqtt.NewClient(opts)
	p.c.Connect() // with ConnectRetry the token completes only once connected
	return p, nil
}

// Connected reports whether the connection to the broker is up.
func (p *Client) Connected() bool { return p.c.IsConnectionOpen() }

// WaitConnected waits up to timeout for the connection to come up.
func (p *Client) WaitConnected(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !p.c.IsConnectionOpen() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Publish sends payload to Prefix+topic. It does not wait for the
// broker: a QoS 1 message that is not acknowledged within AckTimeout, or
// fails, is logged. payload must not be modified afterwards.
func (p *Client) Publish(topic string, qos byte, retained bool, payload []byte) {
	p.publish(p.c, p.o.Prefix+topic, qos, retained, payload)
}

func (p *Client) publish(c mqtt.Client, topic string, qos byte, retained bool, payload []byte) {
	tok := c.Publish(topic, qos, retained, payload)
	if qos == 0 {
		return
	}
	p.mu.Lock()
	if p.closing { // Close is already waiting: nobody will read the outcome
		p.mu.Unlock()
		return
	}
	p.inflight.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.inflight.Done()
		switch {
		case !tok.WaitTimeout(p.o.AckTimeout):
			p.o.Logger.Warn("mqtt publish not acknowledged yet", "topic", topic, "after", p.o.AckTimeout)
		case tok.Error() != nil:
			p.o.Logger.Error("mqtt publish failed", "topic", topic, "err", tok.Error())
		}
	}()
}

// Close publishes the Offline status, waits up to timeout for
// outstanding QoS 1 messages to be acknowledged, and disconnects.
func (p *Client) Close(timeout time.Duration) error {
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	var err error
	if p.c.IsConnectionOpen() && len(p.o.Offline) > 0 {
		tok := p.c.Publish(p.o.Prefix+TopicStatus, 1, true, p.o.Offline)
		if !tok.WaitTimeout(timeout) {
			err = fmt.Errorf("publish: offline status not acknowledged within %v", timeout)
		} else if tok.Error() != nil {
			err = fmt.Errorf("publish: offline status: %w", tok.Error())
		}
	}
	done := make(chan struct{})
	go func() { p.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		if err == nil {
			err = fmt.Errorf("publish: messages still unacknowledged after %v", timeout)
		}
	}
	p.c.Disconnect(250)
	return err
}
