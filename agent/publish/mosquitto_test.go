package publish

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// testBroker is a real mosquitto on a loopback port of its own.
type testBroker struct{ addr string }

func (b testBroker) URL() string  { return "tcp://" + b.addr }
func (b testBroker) Addr() string { return b.addr }

// startBroker runs mosquitto for the test (stopped at its end), open to
// anyone, or only to users (name → password) if given. A missing
// mosquitto fails the test: it is a dependency of the suite.
func startBroker(t *testing.T, users ...map[string]string) testBroker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("mosquitto not found: install it with `apt-get install -y mosquitto` (make deps does, as root)")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := fmt.Sprintf("listener %d 127.0.0.1\npersistence false\nlog_dest stderr\n", port)
	if os.Getuid() == 0 {
		conf += "user root\n" // as root it would drop to a user that cannot read dir
	}
	if len(users) > 0 {
		pw := filepath.Join(dir, "passwd")
		for name, pass := range users[0] {
			args := []string{"-b", pw, name, pass}
			if _, err := os.Stat(pw); err != nil {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
			}
		}
		conf += "allow_anonymous false\npassword_file " + pw + "\n"
	} else {
		conf += "allow_anonymous true\n"
	}
	cf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return testBroker{addr}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen on %s within 10 s", addr)
		}
	}
}
