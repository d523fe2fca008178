package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/vigil-edge/vigil/firmware"
)

// modelStatus is an agent's answer on model/status, decoded from the
// JSON contract in the README.
type modelStatus struct {
	Result  string    `json:"result"`
	Model   string    `json:"model"`
	Version uint64    `json:"version"`
	Reason  string    `json:"reason"`
	From    string    `json:"from"`
	Active  string    `json:"active"`
	Time    time.Time `json:"time"`
}

func runPush(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "push", "--broker URL (--device SITE/DEVICE | --prefix P) [--wait 10m] MODEL.vgm")
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "MQTT broker URL (tcp://, ssl://)")
	device := fs.String("device", "", "the gateway, as SITE/DEVICE (its topics are vigil/SITE/DEVICE/...)")
	prefix := fs.String("prefix", "", "the gateway's topic prefix, if not vigil/SITE/DEVICE/")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for the agent's answer (probation included)")
	user := fs.String("username", "", "MQTT user name")
	passFile := fs.String("password-file", "", "file holding the MQTT password")
	caFile := fs.String("ca-file", "", "CA certificate(s) for an ssl:// broker (default: the system's)")
	var keys keyFiles
	fs.Var(&keys, "key", "check the signature against this public key before pushing (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (*device == "") == (*prefix == "") {
		return usagef("want --device SITE/DEVICE or --prefix, and exactly one model file")
	}
	topic := *prefix
	if *device != "" {
		site, dev, ok := strings.Cut(*device, "/")
		if !ok || site == "" || dev == "" || strings.ContainsAny(*device, "+# ") || strings.Count(*device, "/") != 1 {
			return usagef("--device %q: want SITE/DEVICE, e.g. plant-1/pump-3", *device)
		}
		topic = "vigil/" + site + "/" + dev + "/"
	}
	if !strings.HasSuffix(topic, "/") {
		topic += "/"
	}
	// Check the file as the agent will, so a bad push fails here: size,
	// integrity and (with --key) the signature.
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	trusted, err := keys.read()
	if err != nil {
		return err
	}
	o := firmware.LoadOptions{AllowUnsigned: len(keys) == 0, Trusted: trusted}
	l, err := firmware.Decode(data, o)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if l.KeyID == "" {
		fmt.Fprintf(env.Stderr, "warning: %s is unsigned: an agent with trusted keys will refuse it (vigil sign)\n", fs.Arg(0))
	}
	c, err := pushClient(*brokerURL, *user, *passFile, *caFile)
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	answers := make(chan modelStatus, 16)
	tok := c.Subscribe(topic+"model/status", 1, func(_ paho.Client, m paho.Message) {
		var s modelStatus
		// A retained answer is about an earlier request.
		if m.Retained() || json.Unmarshal(m.Payload(), &s) != nil {
			return
		}
		select {
		case answers <- s:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscribing to %smodel/status: %v", topic, tok.Error())
	}
	tok = c.Publish(topic+"model/set", 1, false, data)
	if !tok.WaitTimeout(time.Minute) || tok.Error() != nil {
		return fmt.Errorf("publishing to %smodel/set: %v", topic, tok.Error())
	}
	fmt.Fprintf(env.Stdout, "pushed model %s (version %d, %d bytes) to %smodel/set; waiting for the agent\n", l.ID, l.Model.Version, len(data), topic)
	timeout := time.After(*wait)
	for {
		select {
		case s := <-answers:
			if s.From != "mqtt" || (s.Model != "" && s.Model != l.ID) {
				continue // an answer to someone else's request
			}
			fmt.Fprintf(env.Stdout, "%s: %s %s\n", s.Result, s.Model, s.Reason)
			switch s.Result {
			case "probation":
				continue
			case "installed", "current":
				return nil
			}
			return fmt.Errorf("the agent answered %s: %s", s.Result, s.Reason)
		case <-timeout:
			return fmt.Errorf("no answer within %v: the agent may be offline (its session keeps the model until it connects) or take no MQTT updates (model.store, model.mqtt_updates)", *wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pushClient connects to the broker as a one-off client.
func pushClient(url, user, passFile, caFile string) (paho.Client, error) {
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("vigil-push-%d", time.Now().UnixNano())).
		SetUsername(user).SetProtocolVersion(4).SetConnectTimeout(10 * time.Second).SetAutoReconnect(false)
	if passFile != "" {
		b, err := os.ReadFile(passFile)
		if err != nil {
			return nil, err
		}
		opts.SetPassword(strings.TrimRight(string(b), "\r\n"))
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New(caFile + ": no PEM certificate")
		}
		opts.SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	}
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connecting to %s: %v", url, tok.Error())
	}
	return c, nil
}
