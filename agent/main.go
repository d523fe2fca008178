package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/vigil-edge/vigil/agent/config"
)

// Main is the vigil-agent command: it parses args (without the program
// name), loads the configuration, and runs the agent until SIGINT or
// SIGTERM; SIGHUP reloads the configuration if it checks (vigil-agent
// --check), else keeps the running one. "vigil-agent model ..." manages
// the model store instead. Main returns the process's exit code: 0 after
// a clean stop, 1 on a configuration or run error, 2 on bad flags.
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
	logger := newLogger(cfg.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- Run(runCtx, cfg, Options{Version: version, Logger: logger}) }()
		next, err := awaitReload(ctx, *path, cfg, hup, done, logger)
		cancel()
		if next == nil {
			if err != nil {
				logger.Error("agent failed", "err", err)
				return 1
			}
			return 0
		}
		if err := <-done; err != nil {
			logger.Error("agent failed while reloading", "err", err)
			return 1
		}
		cfg = next
		logger = newLogger(cfg.Log, stderr)
		logger.Info("configuration reloaded", "config", *path)
	}
}

// awaitReload waits for the running agent to end (returning nil and its
// error) or for SIGHUP with a configuration at path that loads and checks
// (returning it, for the caller to stop the agent and start it again).
// An invalid configuration is refused with the reason logged, and the
// running one kept.
func awaitReload(ctx context.Context, path string, cur *config.Config, hup <-chan os.Signal, done <-chan error, log *slog.Logger) (*config.Config, error) {
	for {
		select {
		case err := <-done:
			return nil, err
		case <-hup:
			notify(log, daemon.SdNotifyReloading)
			next, err := config.Load(path)
			if err == nil {
				_, err = Check(next)
			}
			if err != nil {
				log.Error("reload refused: the running configuration is kept", "config", path, "err", err)
				notify(log, daemon.SdNotifyReady)
				continue
			}
			log.Info("reloading", "config", path)
			return next, nil
		case <-ctx.Done():
			return nil, <-done
		}
	}
}

// newLogger makes the agent's logger: JSON lines under systemd (when
// JOURNAL_STREAM is set) or when asked, text otherwise.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // checked by config
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "json" || (c.Format == "auto" && os.Getenv("JOURNAL_STREAM") != "") {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}
