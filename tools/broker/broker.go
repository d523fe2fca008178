// Package broker runs an embedded MQTT broker (mochi-mqtt) on a local
// address, for the demo, for tests and for a laptop with no broker of its
// own. It accepts every client: do not expose it beyond loopback.
//
// Production gateways publish to a real broker (mosquitto, EMQX, ...);
// this package is not part of the agent.
package broker

import (
	"fmt"
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is a running embedded broker.
type Broker struct {
	srv *mqtt.Server
	tcp *listeners.TCP
}

// Start listens on addr (host:port; port 0 picks a free one) and serves
// MQTT 3.1.1 and 5 clients until Close. logger may be nil.
func Start(addr string, logger *slog.Logger) (*Broker, error) {
	return StartWithAuth(addr, nil, logger)
}

// StartWithAuth is Start with password authentication: users maps user
// names to passwords, and clients with other credentials are refused
// ("bad user name or password"). A nil map accepts every client.
func StartWithAuth(addr string, users map[string]string, logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := mqtt.New(&mqtt.Options{Logger: logger, InlineClient: false})
	// mochi refuses every client until an auth hook allows them.
	var err error
	if users == nil {
		err = srv.AddHook(new(auth.AllowHook), nil)
	} else {
		var rules auth.AuthRules
		for u, p := range users {
			rules = append(rules, auth.AuthRule{Username: auth.RString(u), Password: auth.RString(p), Allow: true})
		}
		err = srv.AddHook(new(auth.Hook), &auth.Options{Ledger: &auth.Ledger{
			Auth: rules,
			ACL:  auth.ACLRules{{Filters: auth.Filters{"#": auth.ReadWrite}}},
		}})
	}
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("broker: listening on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	return &Broker{srv: srv, tcp: tcp}, nil
}

// Addr returns the address the broker listens on, e.g. 127.0.0.1:41234.
func (b *Broker) Addr() string { return b.tcp.Address() }

// URL returns the broker's address as a client URL, tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Close disconnects every client and stops listening.
func (b *Broker) Close() error { return b.srv.Close() }
