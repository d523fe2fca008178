// Command vigil-agent is vigil's gateway daemon: it reads machine sensors,
// scores every sample with an autoencoder and publishes anomaly states over
// MQTT. See package agent and the README's configuration reference.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-edge/vigil/agent"
	"github.com/vigil-edge/vigil/agent/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	fs := flag.NewFlagSet("vigil-agent", flag.ContinueOnError)
	path := fs.String("config", "/etc/vigil/agent.yaml", "configuration file")
	check := fs.Bool("check", false, "check the configuration and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println("vigil-agent", version)
		return
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil-agent:", err)
		os.Exit(1)
	}
	if *check {
		fmt.Printf("%s: configuration OK\n", *path)
		return
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level)) // checked by config
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, cfg, agent.Options{Version: version, Logger: logger}); err != nil {
		logger.Error("agent failed", "err", err)
		stop()
		os.Exit(1)
	}
}
