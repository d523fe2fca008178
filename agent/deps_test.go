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
