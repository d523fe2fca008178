package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// SIGHUP reloads the configuration: an invalid one is refused (the
// reason logged, the agent keeps running as it was), a valid one replaces
// the running one — here a new device name, so the agent comes online
// under new topics, and JSON logs.
func TestReload(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	model := writeModel(t, dir, sensors.SKABChannels...)
	conf := func(device, extra string) string {
		return fmt.Sprintf("site: r\ndevice: %s\nchannels: [%s]\nmodel: {path: %s, allow_unsigned: true}\nsource: {sim: {seed: 1, rate: 20}}\n"+
			"mqtt: {broker: %q}\noutbox: {path: %s}\n%s", device, strings.Join(sensors.SKABChannels, ", "), model, url, filepath.Join(dir, "outbox.db"), extra)
	}
	path := filepath.Join(dir, "agent.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(conf("one", ""))
	col := collect(t, url, "vigil/r/+/status")
	a := startAgent(t, path)
	waitLog := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			b, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
			if strings.Contains(string(b), what) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent log has no %q within 15 s:\n%s", what, tail(b, 2048))
			}
		}
	}
	waitLog("agent running")
	col.wait(t, "status", 1)

	write(conf("one", "decision: {k: 9, n: 2}\n"))
	a.cmd.Process.Signal(syscall.SIGHUP)
	waitLog("reload refused")
	waitLog("decision.k")

	write(conf("two", "log: {format: json}\n"))
	a.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(`"msg":"configuration reloaded"`)
	waitLog(`"msg":"agent running"`)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(strings.Join(col.all("status"), "\n"), `"device":"two","agent":"test"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no online status from device two: %q", col.all("status"))
		}
	}
	a.stop()
}
