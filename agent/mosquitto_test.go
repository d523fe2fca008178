package agent

import (
	"os"
	"os/exec"
	"testing"
)

// mosquittoPath finds the Debian mosquitto binary. A missing broker fails
// the test: it is a dependency of the suite (make deps installs it).
func mosquittoPath(t testing.TB) string {
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	t.Fatal("mosquitto not found: install it with `apt-get install -y mosquitto` (make deps does, as root)")
	return ""
}

// startMosquitto runs a real mosquitto on a free loopback port with a
// configuration of its own and returns its URL.
func startMosquitto(t *testing.T) string { return newMosquitto(t, false).url() }
