package agent

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// Under systemd (Type=notify, WatchdogSec) the agent says READY=1 once it
// samples, pings the watchdog while its sampling loop answers, and says
// STOPPING=1 on SIGTERM: checked on a real notify socket, as systemd
// would read it.
func TestSystemdNotify(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	model := writeModel(t, dir, sensors.SKABChannels...)
	path := filepath.Join(dir, "agent.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf("site: s\ndevice: d\nchannels: [%s]\nmodel: {path: %s, allow_unsigned: true}\nsource: {sim: {seed: 1, rate: 20}}\n"+
		"mqtt: {broker: %q}\noutbox: {path: %s}\n", strings.Join(sensors.SKABChannels, ", "), model, url, filepath.Join(dir, "outbox.db"))), 0o600)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentChildEnv+"=--config\n"+path, "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	logf, _ := os.Create(filepath.Join(dir, "agent.log"))
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	got := map[string]int{}
	// read reads notifications until want has come n times.
	read := func(want string, n int) {
		t.Helper()
		buf := make([]byte, 256)
		for deadline := time.Now().Add(15 * time.Second); got[want] < n; {
			conn.SetReadDeadline(deadline)
			m, err := conn.Read(buf)
			if err != nil {
				b, _ := os.ReadFile(logf.Name())
				t.Fatalf("%s not %d times on the notify socket (got %v): %v\n%s", want, n, got, err, tail(b, 2048))
			}
			got[string(buf[:m])]++
		}
	}
	read("READY=1", 1)
	read("WATCHDOG=1", 3) // every 100 ms with WatchdogSec 200 ms
	cmd.Process.Signal(syscall.SIGTERM)
	read("STOPPING=1", 1)
	if err := cmd.Wait(); err != nil {
		t.Errorf("agent exit: %v", err)
	}
}
