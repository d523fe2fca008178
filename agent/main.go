package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/vigil-edge/vigil/agent/config"
)

// Main is the vigil-agent command: it parses args (without the program
// name), loads the configuration, and runs the agent until SIGINT or
// SIGTERM; "vigil-agent model ..." manages the model store instead. It returns the process's exit code: 0 after a clean stop, 1 on
// a configuration or run error, 2 on bad flags.
func Main(args []string, stdout, stderr io.Writer, version string) int {
	if len(args) > 0 && args[0] == "model" {
		return modelMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("vigil-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/vigil/agent.yaml", "configuration file")
	check := fs.Bool("check", false, "check the configuration, the model and the files it names, then exit (does not connect)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "vigil-agent", version)
		return 0
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "vigil-agent:", err)
		return 1
	}
	if *check {
		summary, err := Check(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "vigil-agent: %s: %v\n", *path, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: configuration OK: %s\n", *path, summary)
		return 0
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level)) // checked by config
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, Options{Version: version, Logger: logger}); err != nil {
		logger.Error("agent failed", "err", err)
		return 1
	}
	return 0
}
