package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func hostArch(t testing.TB) string {
	if runtime.GOOS != "linux" {
		t.Fatalf("the release tests run on Linux, not %s", runtime.GOOS)
	}
	return runtime.GOARCH
}

func TestDebVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-dirty", "1.2.3+dirty"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+git4.gabc1234.dirty"},
		{"v1.2.0-rc.1", "1.2.0~rc.1"},
		{"v1.2.0-rc1-2-gabc1234", "1.2.0~rc1+git2.gabc1234"},
		{"95b3564", "0.0.0+g95b3564"},
		{"1234567", "0.0.0+g1234567"}, // a commit whose hash is all digits
		{"1.2", "1.2"},
		{"95b3564-dirty", "0.0.0+g95b3564.dirty"},
		{"dev", "0.0.0+dev"},
	} {
		got, err := DebVersion(c.in)
		if err != nil || got != c.want {
			t.Errorf("DebVersion(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	at := time.Date(2026, 12, 3, 10, 7, 25, 0, time.UTC)
	for _, c := range []struct{ in, want string }{
		{"95b3564-dirty", "0.0.0+git20261203100725.g95b3564.dirty"},
		{"v1.2.3-4-gabc1234", "1.2.3+git4.gabc1234"}, // tagged: the count orders them
	} {
		if got, err := DebVersion(c.in, at); err != nil || got != c.want {
			t.Errorf("DebVersion(%q, %v) = %q, %v; want %q", c.in, at, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "release one", "v1.2.3_4", "-1"} {
		if got, err := DebVersion(bad); err == nil {
			t.Errorf("DebVersion(%q) = %q, want an error", bad, got)
		}
	}
	// dpkg agrees on the order: rc < release < snapshots after it < next.
	if dpkg, err := exec.LookPath("dpkg"); err == nil {
		a1, _ := DebVersion("fffffff", at)
		a2, _ := DebVersion("0000000", at.Add(time.Second))
		order := []string{"0.0.0+dev", a1, a2, "v0.1.0-rc.1", "v0.1.0", "v0.1.0-3-gabc1234", "v0.1.0-3-gabc1234-dirty", "v0.1.1"}
		for i := 1; i < len(order); i++ {
			conv := func(s string) string {
				if strings.HasPrefix(s, "0.0.0+") { // already Debian's
					return s
				}
				d, err := DebVersion(s)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			a, b := conv(order[i-1]), conv(order[i])
			if err := exec.Command(dpkg, "--compare-versions", a, "lt", b).Run(); err != nil {
				t.Errorf("dpkg --compare-versions %s lt %s: %v", a, b, err)
			}
		}
	}
}

func TestArtifacts(t *testing.T) {
	var names []string
	for _, a := range Artifacts() {
		names = append(names, a.FileName("v1.0.0"))
	}
	want := []string{
		"vigil-agent_v1.0.0_linux_armv6", "vigil-agent_v1.0.0_linux_armv7", "vigil-agent_v1.0.0_linux_arm64", "vigil-agent_v1.0.0_linux_amd64",
		"vigil_v1.0.0_linux_armv6", "vigil_v1.0.0_linux_armv7", "vigil_v1.0.0_linux_arm64", "vigil_v1.0.0_linux_amd64",
		"vigil_v1.0.0_darwin_arm64", "vigil_v1.0.0_windows_amd64.exe",
	}
	if !slices.Equal(names, want) {
		t.Errorf("artifacts %q\nwant %q", names, want)
	}
	if a, _ := DebArchNamed("armhf"); a.Target != LinuxARMv6 {
		t.Errorf("the armhf package holds the %s build, want linux_armv6 (Raspberry Pi OS armhf is ARMv6)", a.Target)
	}
}

func TestWriteSums(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"vigil_v1_linux_amd64": "a", "vigil-agent_1+g1_amd64.deb": "b", "vigil_v0_linux_amd64": "old"} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	names, err := WriteSums(dir, "v1", "1+g1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"vigil-agent_1+g1_amd64.deb", "vigil_v1_linux_amd64"}; !slices.Equal(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, SumsFile))
	if !strings.HasPrefix(string(b), "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  vigil-agent_1+g1_amd64.deb\n") {
		t.Errorf("SHA256SUMS:\n%s", b)
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "-c", SumsFile)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
}

// TestVersionVars: -X main.version only stamps a main package that
// declares the variable.
func TestVersionVars(t *testing.T) {
	root := moduleRoot(t)
	for _, p := range []Program{Agent, CLI} {
		ok, err := HasVersionVar(root, p)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case p == Agent && !ok:
			t.Errorf("%s declares no `var version`: vigil-agent --version would not show the release", p.Pkg)
		case !ok:
			t.Logf("%s declares no `var version`: -X main.version does not stamp %s", p.Pkg, p.Name)
		}
	}
	out := run(t, agentFor(t, Target{OS: "linux", Arch: hostArch(t)}), "--version")
	if strings.TrimSpace(out) != "vigil-agent "+testVersion {
		t.Errorf("vigil-agent --version printed %q, want %q", out, "vigil-agent "+testVersion)
	}
	// The release agent is built with its own tags (no HTTP/2).
	info := run(t, GoCommand(), "version", "-m", agentFor(t, Target{OS: "linux", Arch: hostArch(t)}))
	if !strings.Contains(info, "-tags="+AgentTags) {
		t.Errorf("go version -m of the release agent shows no -tags=%s:\n%s", AgentTags, info)
	}
}

// TestAgentDoesNotLinkRelease keeps nfpm (and this package) out of the
// gateway binary: the release tooling is a desktop-side dependency.
func TestAgentDoesNotLinkRelease(t *testing.T) {
	cmd := exec.Command(GoCommand(), "list", "-deps", Agent.Pkg)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), LinuxARMv6.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/goreleaser/") || strings.HasPrefix(dep, "github.com/vigil-edge/vigil/tools") {
			t.Errorf("vigil-agent depends on %s", dep)
		}
	}
}
