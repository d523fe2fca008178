package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// stateMsg is the part of an agent's state payload watch shows. It is
// decoded as any consumer (Node-RED, Telegraf) would, from the JSON
// contract in the README, not from the agent's Go types.
type stateMsg struct {
	State     string   `json:"state"`
	Score     *float64 `json:"score"`
	Threshold float64  `json:"threshold"`
	// The hysteresis' levels, when there is one.
	AlarmAbove float64 `json:"alarm_above"`
	NormalAt   float64 `json:"normal_at"`
	Top        []struct {
		Channel string  `json:"channel"`
		Share   float64 `json:"share"`
	} `json:"top"`
	Fault []string  `json:"fault"`
	Model string    `json:"model"`
	Time  time.Time `json:"time"`
	ID    string    `json:"id"`   // alerts only
	From  string    `json:"from"` // alerts only
}

func runWatch(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "watch", "[--broker tcp://127.0.0.1:1883] [--prefix vigil/]")
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "MQTT broker URL")
	prefix := fs.String("prefix", "vigil/", "topic prefix above <site>/<device>/")
	alerts := fs.Bool("alerts", false, "print alert messages (with their ids) instead of state changes")
	raw := fs.Bool("json", false, "print payloads as received")
	if err := parse(fs, args); err != nil {
		return err
	}
	topic := "state"
	if *alerts {
		topic = "alert"
	}
	filter := *prefix + "+/+/" + topic
	var mu sync.Mutex // paho may call handlers concurrently
	handler := func(_ paho.Client, m paho.Message) {
		mu.Lock()
		defer mu.Unlock()
		printMessage(env.Stdout, env.Stderr, m.Topic(), m.Payload(), *raw)
	}
	opts := paho.NewClientOptions().AddBroker(*brokerURL).
		SetClientID(fmt.Sprintf("vigil-watch-%d", time.Now().UnixNano())).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetOnConnectHandler(func(c paho.Client) {
			// Subscribing here renews the subscription after a reconnect.
			c.Subscribe(filter, 1, handler)
			fmt.Fprintf(env.Stderr, "watching %s on %s\n", filter, *brokerURL)
		})
	c := paho.NewClient(opts)
	c.Connect()
	<-ctx.Done()
	c.Disconnect(250)
	return nil
}

// printMessage renders one state or alert payload as a line.
func printMessage(out, errw io.Writer, topic string, payload []byte, raw bool) {
	if raw {
		fmt.Fprintf(out, "%s %s\n", topic, payload)
		return
	}
	var m stateMsg
	if err := json.Unmarshal(payload, &m); err != nil {
		fmt.Fprintf(errw, "topic %s: payload is not a vigil state message: %v\n", topic, err)
		return
	}
	device := topic
	if i := strings.LastIndexByte(topic, '/'); i >= 0 {
		device = topic[:i]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  ", m.Time.Local().Format("15:04:05"), device)
	if m.From != "" {
		fmt.Fprintf(&b, "%s → ", m.From)
	}
	fmt.Fprintf(&b, "%-12s", strings.ToUpper(m.State))
	if m.Score != nil {
		fmt.Fprintf(&b, "  score %.3g (threshold %.3g", *m.Score, m.Threshold)
		// The hysteresis' levels, where the state and the threshold alone
		// would seem to disagree.
		switch {
		case m.AlarmAbove > 0 && m.State == "normal" && *m.Score > m.Threshold:
			fmt.Fprintf(&b, "; an alarm starts above %.3g", m.AlarmAbove)
		case m.NormalAt > 0 && m.State == "anomaly" && *m.Score <= m.Threshold:
			fmt.Fprintf(&b, "; it ends at or below %.3g", m.NormalAt)
		}
		b.WriteString(")")
	}
	if m.State == "anomaly" && len(m.Top) > 0 {
		b.WriteString("  ")
		for i, t := range m.Top {
			pct := fmt.Sprintf("%.0f", 100*t.Share)
			if pct == "0" { // negligible, and sorted: the rest are too
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s%%", t.Channel, pct)
		}
	}
	if len(m.Fault) > 0 {
		fmt.Fprintf(&b, "  missing/invalid: %s", strings.Join(m.Fault, ", "))
	}
	if m.ID != "" {
		fmt.Fprintf(&b, "  [%s]", m.ID)
	}
	fmt.Fprintln(out, b.String())
}
