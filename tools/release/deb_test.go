package release

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	pkgName  = "vigil-agent"
	unitPath = "/lib/systemd/system/vigil-agent.service"
	confPath = "/etc/vigil/agent.yaml"
	stateDir = "/var/lib/vigil"
)

// TestDebPackage builds the agent's package for this machine's
// architecture and checks it as dpkg sees it: control fields, conffiles,
// maintainer scripts, files and modes (dpkg-deb, no root needed). The
// shipped configuration must pass `vigil-agent --check` once a model
// exists. Then the unit's ExecStart runs against a model trained on the
// simulator, the shipped configuration (its sim source) and a real
// mosquitto, and must log "agent running" and publish.
//
// As root (CI) the package is really installed with dpkg -i: the vigil
// user and its groups, the state directory's owner, the conffile, the
// enabled unit, ExecStart run as the vigil user on the installed files,
// then dpkg -r and dpkg -P must clean up. The package is purged at the
// end even if the test fails. Without root the run uses the unpacked
// files (dpkg-deb -x) as the current user.
func TestDebPackage(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the package test needs Debian's dpkg", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	arch, ok := map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}[hostArch(t)]
	if !ok {
		t.Fatalf("no package for %s", runtime.GOARCH)
	}
	debArch, _ := DebArchNamed(arch)
	version, err := DebVersion(testVersion)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	deb, err := Deb(DebOptions{Arch: debArch, Version: version, Binary: agentFor(t, debArch.Target), OutDir: tmp,
		MTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("vigil-agent_%s_%s.deb", version, arch); filepath.Base(deb) != want {
		t.Errorf("package file %s, want %s", filepath.Base(deb), want)
	}

	// Control fields and the control archive.
	for field, want := range map[string]string{"Package": pkgName, "Version": version, "Architecture": arch, "Depends": "adduser"} {
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("control field %s: %q, want %q", field, got, want)
		}
	}
	control := filepath.Join(tmp, "control")
	run(t, "dpkg-deb", "-e", deb, control)
	if b, err := os.ReadFile(filepath.Join(control, "conffiles")); err != nil || strings.TrimSpace(string(b)) != confPath {
		t.Errorf("conffiles: %q, %v; want %s", b, err, confPath)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(control, s)
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v, want mode 0755", s, st.Mode(), err)
			continue
		}
		run(t, "sh", "-n", p)
	}

	// Files, modes and owners as dpkg will unpack them.
	listing := map[string]string{} // path → "mode owner"
	sc := bufio.NewScanner(strings.NewReader(run(t, "dpkg-deb", "-c", deb)))
	for sc.Scan() {
		f := strings.Fields(sc.Text()) // -rwxr-xr-x root/root 8388770 2026-01-02 03:04 ./usr/bin/vigil-agent
		if len(f) >= 6 {
			listing[strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")] = f[0] + " " + f[1]
		}
	}
	for p, want := range map[string]string{
		"/usr/bin/vigil-agent":                 "-rwxr-xr-x root/root",
		confPath:                               "-rw-r--r-- root/root",
		"/etc/vigil/keys":                      "drwxr-xr-x root/root",
		unitPath:                               "-rw-r--r-- root/root",
		stateDir:                               "drwxr-x--- root/root",
		"/usr/share/doc/vigil-agent/copyright": "-rw-r--r-- root/root",
	} {
		if got := listing[p]; got != want {
			t.Errorf("%s in the package: %q, want %q", p, got, want)
		}
	}
	root := filepath.Join(tmp, "root")
	run(t, "dpkg-deb", "-x", deb, root)
	for _, name := range []string{"agent.yaml", "vigil-agent.service"} {
		dst := map[string]string{"agent.yaml": confPath, "vigil-agent.service": unitPath}[name]
		if b, _ := os.ReadFile(filepath.Join(root, dst)); string(b) != packagingFile(t, name) {
			t.Errorf("%s in the package differs from packaging/%s", dst, name)
		}
	}
	unpacked := filepath.Join(root, "usr/bin/vigil-agent")
	if out := run(t, unpacked, "--version"); strings.TrimSpace(out) != "vigil-agent "+testVersion {
		t.Errorf("the packaged vigil-agent --version: %q", out)
	}
	u, err := parseUnit(packagingFile(t, "vigil-agent.service"))
	if err != nil {
		t.Fatal(err)
	}
	execStart := strings.Fields(u.get("Service", "ExecStart"))

	model, err := TrainModel(ctx, TrainOptions{Dir: tmp, Hours: 2, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	shipped := packagingFile(t, "agent.yaml")
	if strings.Count(shipped, "tcp://127.0.0.1:1883") != 1 {
		t.Fatal("agent.yaml: want exactly one broker tcp://127.0.0.1:1883 to point at the test's broker")
	}
	broker := mosquittoURL(t)
	withBroker := strings.Replace(shipped, "tcp://127.0.0.1:1883", broker, 1)
	// The shipped configuration publishes under vigil/site-1/pump-1/.
	prefix := "vigil/site-1/pump-1/"

	if os.Getuid() != 0 {
		t.Log("not root: dpkg -i, the vigil user and the installed files are not tested (CI runs this as root); running the unpacked files")
		// The shipped configuration with the state directory moved.
		state := filepath.Join(tmp, "state")
		os.Mkdir(state, 0o750)
		copyFile(t, model, filepath.Join(state, "model.vgm"))
		local := func(conf string) string {
			p := filepath.Join(tmp, "agent.yaml")
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(conf, stateDir, state)), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		checkConfig(t, unpacked, local(shipped), nil)
		argv := rewriteArgv(t, execStart, unpacked, local(withBroker))
		runExecStart(t, ctx, RunOptions{Argv: argv, Broker: broker, Prefix: prefix})
		return
	}
	installAndRun(t, ctx, deb, version, model, withBroker, execStart, broker, prefix)
}

// installAndRun is TestDebPackage's part as root: dpkg -i, checks, the
// agent as the vigil user, dpkg -r, dpkg -P.
func installAndRun(t *testing.T, ctx context.Context, deb, version, model, conf string, execStart []string, broker, prefix string) {
	if status := dpkgStatus(pkgName); status != "" {
		t.Fatalf("%s is already known to dpkg here (%s): the test installs and purges it; remove it first with dpkg -P %s", pkgName, status, pkgName)
	}
	_, err := user.Lookup("vigil")
	userExisted := err == nil
	t.Cleanup(func() {
		if dpkgStatus(pkgName) != "" {
			if out, err := exec.Command("dpkg", "--purge", pkgName).CombinedOutput(); err != nil {
				t.Errorf("cleanup: dpkg --purge %s: %v\n%s", pkgName, err, out)
			}
		}
		if !userExisted { // leave the machine as it was
			exec.Command("deluser", "--quiet", "--system", "vigil").Run()
			exec.Command("delgroup", "--quiet", "--system", "vigil").Run()
		}
	})
	t.Logf("dpkg -i:\n%s", run(t, "dpkg", "-i", deb))
	if st := dpkgStatus(pkgName); st != "install ok installed" {
		t.Fatalf("after dpkg -i: status %q", st)
	}
	if got := run(t, "dpkg-query", "-W", "-f", "${Version}", pkgName); got != version {
		t.Errorf("installed version %q, want %q", got, version)
	}

	// The user: a system account with its own group, home the state
	// directory, no login, in the device groups this system has.
	vigil, err := user.Lookup("vigil")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(vigil.Uid)
	gid, _ := strconv.Atoi(vigil.Gid)
	if uid == 0 || uid >= 1000 || vigil.HomeDir != stateDir {
		t.Errorf("user vigil: uid %d (want a system uid), home %s (want %s)", uid, vigil.HomeDir, stateDir)
	}
	if g, err := user.LookupGroupId(vigil.Gid); err != nil || g.Name != "vigil" {
		t.Errorf("user vigil's group: %v %v, want vigil", g, err)
	}
	if sh := passwdField(t, "vigil", 6); sh != "/usr/sbin/nologin" && sh != "/bin/false" {
		t.Errorf("user vigil's shell %q: want no login", sh)
	}
	gids, err := vigil.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dialout", "i2c", "spi", "gpio"} {
		g, err := user.LookupGroup(name)
		if err != nil {
			continue // postinst joins only the groups that exist
		}
		found := false
		for _, id := range gids {
			found = found || id == g.Gid
		}
		if !found {
			t.Errorf("user vigil is not in group %s", name)
		}
	}

	// Files, the state directory's owner, the conffile, the unit.
	var st syscall.Stat_t
	if err := syscall.Stat(stateDir, &st); err != nil || int(st.Uid) != uid || int(st.Gid) != gid || st.Mode&0o777 != 0o750 {
		t.Errorf("%s: uid %d gid %d mode %o, %v; want vigil:vigil 0750", stateDir, st.Uid, st.Gid, st.Mode&0o777, err)
	}
	if got := strings.Fields(run(t, "dpkg-statoverride", "--list", stateDir)); strings.Join(got, " ") != "vigil vigil 750 "+stateDir {
		t.Errorf("dpkg-statoverride --list %s: %q", stateDir, got)
	}
	if b, err := os.ReadFile(confPath); err != nil || string(b) != packagingFile(t, "agent.yaml") {
		t.Errorf("%s: not the shipped configuration (%v)", confPath, err)
	}
	if got := run(t, "dpkg-query", "-W", "-f", "${Conffiles}", pkgName); !strings.Contains(got, confPath+" ") {
		t.Errorf("dpkg-query conffiles: %q, want %s", got, confPath)
	}
	if b, err := os.ReadFile(unitPath); err != nil || string(b) != packagingFile(t, "vigil-agent.service") {
		t.Errorf("%s: not the packaged unit (%v)", unitPath, err)
	}
	wants := "/etc/systemd/system/multi-user.target.wants/vigil-agent.service"
	if _, err := exec.LookPath("deb-systemd-helper"); err == nil {
		if target, err := os.Readlink(wants); err != nil || !strings.HasSuffix(target, "/vigil-agent.service") {
			t.Errorf("the unit is not enabled: %s: %q %v", wants, target, err)
		}
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := exec.Command(analyze, "verify", unitPath).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
		}
	}

	// As systemd would run it: User=vigil with the user's groups
	// (initgroups), the environment User= sets, in /.
	groups := make([]uint32, 0, len(gids))
	for _, g := range gids {
		n, _ := strconv.Atoi(g)
		groups = append(groups, uint32(n))
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + stateDir, "USER=vigil", "LOGNAME=vigil", "SHELL=/usr/sbin/nologin"}

	// The shipped configuration passes --check once a model is in place.
	dst := filepath.Join(stateDir, "model.vgm")
	copyFile(t, model, dst)
	if err := os.Chown(dst, uid, gid); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dst, 0o640)
	checkConfig(t, execStart[0], confPath, cred)

	// The unit's ExecStart, against the test's broker.
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	runExecStart(t, ctx, RunOptions{Argv: execStart, Dir: "/", Env: env, Credential: cred, Broker: broker, Prefix: prefix})
	if err := syscall.Stat(filepath.Join(stateDir, "outbox.db"), &st); err != nil || int(st.Uid) != uid {
		t.Errorf("the outbox in %s: %v, owner %d: want it created by vigil", stateDir, err, st.Uid)
	}

	// dpkg -r keeps the configuration; dpkg -P removes everything.
	t.Logf("dpkg -r:\n%s", run(t, "dpkg", "-r", pkgName))
	if st := dpkgStatus(pkgName); st != "deinstall ok config-files" {
		t.Errorf("after dpkg -r: status %q, want deinstall ok config-files", st)
	}
	for p, want := range map[string]bool{"/usr/bin/vigil-agent": false, unitPath: false, confPath: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("after dpkg -r: %s exists: %v, want %v", p, err == nil, want)
		}
	}
	t.Logf("dpkg -P:\n%s", run(t, "dpkg", "-P", pkgName))
	if st := dpkgStatus(pkgName); st != "" {
		t.Errorf("after dpkg -P: status %q", st)
	}
	for _, p := range []string{confPath, "/etc/vigil", stateDir, wants} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after dpkg -P: %s remains", p)
		}
	}
	if out, err := exec.Command("dpkg-statoverride", "--list", stateDir).CombinedOutput(); err == nil {
		t.Errorf("after dpkg -P: the statoverride remains: %s", out)
	}
}

// runExecStart runs the agent as the unit would and checks that it comes
// up, publishes its state and scores, and stops cleanly on SIGTERM.
func runExecStart(t *testing.T, ctx context.Context, o RunOptions) {
	t.Helper()
	o.For = 20 * time.Second
	o.Until = func(r *RunResult) bool { return r.Running > 0 && r.Messages["state"] > 0 && r.Messages["score"] > 0 }
	res, err := RunAgent(ctx, o)
	if err != nil {
		log := ""
		if res != nil {
			log = res.Log
		}
		t.Fatalf("%s: %v\n%s", strings.Join(o.Argv, " "), err, log)
	}
	t.Logf("%s: %v", strings.Join(o.Argv, " "), res)
	if !o.Until(res) {
		t.Errorf("within %v the agent did not log \"agent running\" and publish its state and a score: %v\n%s", o.For, res, res.Log)
	}
	if res.Exit != nil || !strings.Contains(res.Log, "agent stopping") {
		t.Errorf("after SIGTERM: %v\n%s", res.Exit, res.Log)
	}
	if !strings.Contains(res.Status, `"offline"`) {
		t.Errorf("last status %q, want offline", res.Status)
	}
}

// checkConfig runs vigil-agent --check on a configuration (as cred's
// user if set) and expects it to pass.
func checkConfig(t *testing.T, bin, conf string, cred *syscall.Credential) {
	t.Helper()
	cmd := exec.Command(bin, "--check", "--config", conf)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK") {
		t.Errorf("vigil-agent --check on the shipped configuration: %v\n%s", err, out)
	}
}

// rewriteArgv is ExecStart with the binary and configuration paths
// replaced.
func rewriteArgv(t *testing.T, argv []string, bin, conf string) []string {
	t.Helper()
	if len(argv) != 3 || argv[1] != "--config" || argv[2] != confPath {
		t.Fatalf("ExecStart %q: want /usr/bin/vigil-agent --config %s", argv, confPath)
	}
	return []string{bin, argv[1], conf}
}

// dpkgStatus is dpkg's status of a package ("install ok installed"), or
// "" if dpkg does not know it.
func dpkgStatus(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", pkg).Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if s == "unknown ok not-installed" {
		return ""
	}
	return s
}

// passwdField is field i (0-based) of the user's passwd entry.
func passwdField(t *testing.T, name string, i int) string {
	t.Helper()
	f := strings.Split(strings.TrimSpace(run(t, "getent", "passwd", name)), ":")
	if len(f) <= i {
		t.Fatalf("getent passwd %s: %q", name, f)
	}
	return f[i]
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
