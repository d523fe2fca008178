// Package demo holds the test of examples/demo/demo.sh, what make demo
// runs.
package demo

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build builds the two binaries the demo runs into a directory of their
// own, so that their processes can be told from any others.
func build(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	for _, pkg := range []string{"../../tools/cmd/vigil", "../../agent/cmd/vigil-agent"} {
		cmd := exec.Command("go", "build", "-o", bin+"/", pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return bin
}

// running lists the processes whose command line mentions dir.
func running(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, dir) {
			found = append(found, filepath.Base(filepath.Dir(p))+": "+cmd)
		}
	}
	return found
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestDemoStopsOnSignal: SIGTERM or SIGINT to the demo script, in any
// phase (simulating the training data, training, everything running),
// stops every process it started, and the script exits at once.
func TestDemoStopsOnSignal(t *testing.T) {
	bin := build(t)
	phases := []struct {
		name, after string
		delay       time.Duration
		trainFor    string
		sig         syscall.Signal
	}{
		{"simulating", "demo: training", 0, "10h", syscall.SIGTERM},
		{"training", "demo: training", 2 * time.Second, "10h", syscall.SIGTERM},
		{"running", "demo: faults scheduled", 2 * time.Second, "20m", syscall.SIGTERM},
		{"running, Ctrl-C", "demo: faults scheduled", 2 * time.Second, "20m", syscall.SIGINT},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "demo.sh")
			cmd.Env = append(os.Environ(), "BIN="+bin, "DEMO_DIR="+dir, fmt.Sprintf("DEMO_PORT=%d", freePort(t)),
				"DEMO_TRAIN_FOR="+ph.trainFor, fmt.Sprintf("DEMO_MODBUS_PORT=%d", freePort(t)))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var lines []string
			sc := bufio.NewScanner(out)
			signalled := false
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if !signalled && strings.HasPrefix(sc.Text(), ph.after) {
					time.Sleep(ph.delay)
					if err := cmd.Process.Signal(ph.sig); err != nil {
						t.Fatal(err)
					}
					signalled = true
				}
			}
			sent := time.Now()
			err = cmd.Wait()
			text := strings.Join(lines, "\n")
			if !signalled {
				t.Fatalf("never saw %q; exit %v\n%s", ph.after, err, text)
			}
			want := map[syscall.Signal]int{syscall.SIGTERM: 143, syscall.SIGINT: 130}[ph.sig]
			if code := cmd.ProcessState.ExitCode(); code != want || !strings.Contains(text, "demo: stopping") {
				t.Errorf("exit %d (want %d)\n%s", code, want, text)
			}
			if ph.name != "running" && ph.name != "running, Ctrl-C" && strings.Contains(text, "faults scheduled") {
				t.Errorf("stopped while %s, but it went on:\n%s", ph.name, text)
			}
			if d := time.Since(sent); d > 20*time.Second {
				t.Errorf("the demo took %v to stop", d)
			}
			// Nothing it started is left.
			var left []string
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if left = running(bin); len(left) == 0 || time.Now().After(deadline) {
					break
				}
			}
			if len(left) > 0 {
				t.Errorf("left running after the demo stopped:\n%s", strings.Join(left, "\n"))
				for _, l := range left {
					var pid int
					fmt.Sscan(strings.SplitN(l, ":", 2)[0], &pid)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}
