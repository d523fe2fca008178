package release

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// work is a directory the package's tests share: binaries built once.
var work string

func TestMain(m *testing.M) {
	var err error
	if work, err = os.MkdirTemp("", "vigil-release-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(work)
	os.Exit(code)
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// testVersion is stamped into the binaries the tests build.
const testVersion = "v0.0.0-test"

var builds sync.Map // Target → *builtBinary

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// agentFor builds the stripped agent for t once per test binary.
func agentFor(tb testing.TB, t Target) string {
	tb.Helper()
	v, _ := builds.LoadOrStore(t, new(builtBinary))
	b := v.(*builtBinary)
	b.once.Do(func() {
		b.path = filepath.Join(work, Artifact{Agent, t}.FileName(testVersion))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b.err = Build(ctx, BuildOptions{Root: moduleRoot(tb), Program: Agent, Target: t, Version: testVersion, Out: b.path})
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

// run runs a command and returns its standard output; failing, it fails
// the test with the command's output.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// mosquittoURL runs a real mosquitto (Debian package) on a free loopback
// port for the test and returns its URL. A missing broker fails the test:
// make deps installs it.
func mosquittoURL(t *testing.T) string {
	t.Helper()
	bin := ""
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("mosquitto"); err != nil {
			t.Fatal("mosquitto not found: install it with `apt-get install -y mosquitto` (make deps does, as root)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n", port)
	if os.Getuid() == 0 {
		// As root, mosquitto would drop to its own user.
		conf += "user root\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "tcp://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen on %s within 10 s", addr)
		}
	}
}

// unitFile is a parsed systemd unit: section → key → values, in order.
type unitFile map[string]map[string][]string

// parseUnit reads a unit file's sections and key=value lines (comments,
// blank lines and backslash continuations as systemd reads them) and
// refuses anything else.
func parseUnit(text string) (unitFile, error) {
	u := unitFile{}
	var section string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		n := i + 1
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: %q: a section header needs ]", n, line)
			}
			section = line[1 : len(line)-1]
			if u[section] != nil {
				return nil, fmt.Errorf("line %d: section [%s] again", n, section)
			}
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				return nil, fmt.Errorf("line %d: %q: want Key=value", n, line)
			}
			if section == "" {
				return nil, fmt.Errorf("line %d: %q before any section", n, line)
			}
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u, nil
}

// get is a key's last value ("" if unset), as systemd reads single-valued
// keys.
func (u unitFile) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}
