package agent

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestAgentStaysLean keeps desktop-only modules (plots, BLAS, progress
// bars, the demo broker, pty helpers) out of the gateway binary.
func TestAgentStaysLean(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "./cmd/vigil-agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"gonum.org/", "github.com/schollz/", "github.com/mochi-mqtt/", "github.com/creack/pty", "github.com/vigil-edge/vigil/tools"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("vigil-agent depends on %s", dep)
			}
		}
	}
}

// TestAgentTestsStayLean: the agent's own tests build no desktop code
// either: they publish to a real mosquitto, and the end-to-end tests that
// need vigil train live in tools/cli.
func TestAgentTestsStayLean(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range []string{"gonum.org/", "github.com/schollz/", "github.com/mochi-mqtt/", "github.com/vigil-edge/vigil/tools"} {
			if strings.HasPrefix(dep, f) {
				t.Errorf("the agent's tests depend on %s", dep)
			}
		}
	}
}
