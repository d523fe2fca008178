package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vigil-edge/vigil/tools/broker"
)

func runBroker(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "broker", "[--addr 127.0.0.1:1883]")
	addr := fs.String("addr", "127.0.0.1:1883", "address to listen on (loopback: the broker lets every client in)")
	verbose := fs.Bool("v", false, "log the broker's own messages")
	if err := parse(fs, args); err != nil {
		return err
	}
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	b, err := broker.Start(*addr, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "broker listening on %s\n", b.URL())
	<-ctx.Done()
	return b.Close()
}
