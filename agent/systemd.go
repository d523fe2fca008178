package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// notify tells systemd the agent's state (READY=1, RELOADING=1,
// STOPPING=1) when it runs the agent as a Type=notify service; elsewhere
// it does nothing.
func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("systemd notify", "state", state, "err", err)
	}
}

// watchdog pings systemd's watchdog (WatchdogSec in the unit) every half
// period for as long as alive answers (Pipeline.Ping: the sampling loop
// answers within the time given): a loop that hangs stops the pings, and
// systemd restarts the agent. Without a watchdog it returns at once.
func watchdog(ctx context.Context, alive func(time.Duration) bool, log *slog.Logger) {
	period, err := daemon.SdWatchdogEnabled(false)
	if err != nil || period <= 0 {
		return
	}
	t := time.NewTicker(period / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if alive(period / 4) {
				notify(log, daemon.SdNotifyWatchdog)
			} else {
				log.Error("the sampling loop did not answer; withholding the watchdog ping so systemd restarts the agent")
			}
		}
	}
}
