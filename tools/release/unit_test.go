package release

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func packagingFile(t testing.TB, name string) string {
	t.Helper()
	b, err := PackagingFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUnit checks the systemd unit's keys: a notify service with a
// watchdog, run as vigil, hardened but with the sensor devices reachable,
// consistent with the package's paths and default configuration.
func TestUnit(t *testing.T) {
	u, err := parseUnit(packagingFile(t, "vigil-agent.service"))
	if err != nil {
		t.Fatalf("vigil-agent.service: %v", err)
	}
	want := map[string]string{
		"Type":            "notify",
		"ExecStart":       "/usr/bin/vigil-agent --config /etc/vigil/agent.yaml",
		"ExecReload":      "/bin/kill -HUP $MAINPID",
		"WatchdogSec":     "30s",
		"Restart":         "on-failure",
		"RestartSec":      "5s",
		"User":            "vigil",
		"Group":           "vigil",
		"NoNewPrivileges": "yes",
		"ProtectSystem":   "strict",
		"ProtectHome":     "yes",
		"PrivateTmp":      "yes",
		"ReadWritePaths":  "/var/lib/vigil",
		"StateDirectory":  "vigil",
		"DevicePolicy":    "closed",
	}
	for k, v := range want {
		if got := u.get("Service", k); got != v {
			t.Errorf("[Service] %s=%q, want %q", k, got, v)
		}
	}
	if got := u.get("Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("[Install] WantedBy=%q, want multi-user.target", got)
	}
	if u.get("Unit", "Description") == "" {
		t.Error("[Unit] Description missing")
	}
	// PrivateDevices would hide the serial, I2C and GPIO devices; a
	// SupplementaryGroups= naming a group the system lacks (i2c, gpio off
	// a Pi) fails every start: the groups come from the user's
	// memberships, which postinst sets.
	for _, k := range []string{"PrivateDevices", "SupplementaryGroups", "DynamicUser"} {
		if vs := u["Service"][k]; len(vs) > 0 && u.get("Service", k) != "no" && u.get("Service", k) != "" {
			t.Errorf("[Service] %s=%q: see the unit's comments", k, vs)
		}
	}
	for _, dev := range []string{"char-ttyUSB rw", "char-ttyACM rw", "char-ttyAMA rw", "char-i2c rw", "char-gpiochip rw", "char-spi rw"} {
		if !slices.Contains(u["Service"]["DeviceAllow"], dev) {
			t.Errorf("[Service] DeviceAllow lacks %q (has %q)", dev, u["Service"]["DeviceAllow"])
		}
	}

	// The paths agree with the package and its default configuration.
	postinst := packagingFile(t, "postinst")
	for _, g := range []string{"dialout", "i2c", "gpio"} {
		if !strings.Contains(postinst, " "+g) {
			t.Errorf("postinst does not add vigil to %s", g)
		}
	}
	nf := packagingFile(t, "nfpm.yaml")
	for _, dst := range []string{"dst: /usr/bin/vigil-agent", "dst: /etc/vigil/agent.yaml", "dst: /lib/systemd/system/vigil-agent.service", "dst: /var/lib/vigil"} {
		if !strings.Contains(nf, dst) {
			t.Errorf("nfpm.yaml has no %q", dst)
		}
	}
	var conf struct {
		Model  struct{ Path string }
		Outbox struct{ Path string }
	}
	if err := yaml.Unmarshal([]byte(packagingFile(t, "agent.yaml")), &conf); err != nil {
		t.Fatalf("agent.yaml: %v", err)
	}
	for _, p := range []string{conf.Model.Path, conf.Outbox.Path} {
		if path.Dir(p) != "/var/lib/vigil" {
			t.Errorf("agent.yaml names %q, outside the state directory /var/lib/vigil the service may write", p)
		}
	}
}

// TestUnitVerify runs systemd-analyze verify on the unit, with ExecStart
// pointing at a freshly built agent (verify wants the binary to exist),
// and on a broken copy to show that the check catches mistakes.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not found: the unit is checked by TestUnit's parsing only")
		return
	}
	bin := agentFor(t, Target{OS: "linux", Arch: hostArch(t)})
	unit := strings.Replace(packagingFile(t, "vigil-agent.service"), "ExecStart=/usr/bin/vigil-agent ", "ExecStart="+bin+" ", 1)
	dir := t.TempDir()
	verify := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", p).CombinedOutput()
		if err != nil {
			return string(out) + err.Error()
		}
		return string(out)
	}
	if out := verify("vigil-agent.service", unit); out != "" {
		t.Errorf("systemd-analyze verify vigil-agent.service:\n%s", out)
	}
	broken := strings.Replace(unit, "Type=notify", "Type=notfy", 1)
	if out := verify("vigil-agent-broken.service", broken); !strings.Contains(out, "notfy") {
		t.Errorf("systemd-analyze verify did not report Type=notfy: %q", out)
	}
}
