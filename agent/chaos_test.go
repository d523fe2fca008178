package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"golang.org/x/sys/unix"

	"github.com/vigil-edge/vigil/agent/outbox"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// The chaos tests run the real agent (this test binary re-executed as
// vigil-agent, see TestMain) reading a real pseudo-terminal and
// publishing to a real mosquitto, and break things: the broker, the
// agent, the disk. A persistent-session subscriber plays the crew.

// mosquitto is a broker process a test can SIGKILL and restart on the
// same port. With persistence its subscribers' sessions survive.
type mosquitto struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	logf *os.File
}

func newMosquitto(t testing.TB, persistent bool, extra ...string) *mosquitto {
	m := &mosquitto{t: t, bin: mosquittoPath(t), dir: t.TempDir(), port: freePort(t)}
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nmax_queued_messages 0\n", m.port)
	for _, e := range extra {
		body += e + "\n"
	}
	if os.Getuid() == 0 {
		// As root, mosquitto drops to its own user, which cannot write
		// the test's directory.
		body += "user root\n"
	}
	if persistent {
		// Saved after every change, so a SIGKILL loses as little as a
		// broker can.
		body += fmt.Sprintf("persistence true\npersistence_location %s/\nautosave_interval 1\nautosave_on_changes true\n", m.dir)
	} else {
		body += "persistence false\n"
	}
	if err := os.WriteFile(filepath.Join(m.dir, "mosquitto.conf"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(m.dir, "mosquitto.log"))
	if err != nil {
		t.Fatal(err)
	}
	m.logf = logf
	t.Cleanup(func() {
		m.kill()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("mosquitto log (last 4 KiB):\n%s", tail(b, 4096))
		}
	})
	m.start()
	return m
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (m *mosquitto) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }
func (m *mosquitto) url() string  { return "tcp://" + m.addr() }

func (m *mosquitto) start() {
	m.cmd = exec.Command(m.bin, "-c", filepath.Join(m.dir, "mosquitto.conf"))
	m.cmd.Stdout, m.cmd.Stderr = m.logf, m.logf
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("starting %s: %v", m.bin, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", m.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto did not listen on %s within 10 s: %v", m.addr(), err)
		}
	}
}

// kill ends the broker with SIGKILL: no goodbye, no final save.
func (m *mosquitto) kill() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
		m.cmd = nil
	}
}

// crew is a persistent-session subscriber to an agent's alerts and
// states, as a maintenance crew's client would be.
type crew struct {
	c      paho.Client
	mu     sync.Mutex
	alerts []AlertMessage
	// dup[i] tells whether alerts[i] came with the DUP flag: the broker's
	// own retry of what it had in flight to the crew when it died. The
	// agent's re-sends arrive without the flag.
	dup    []bool
	states []string
}

func newCrew(t *testing.T, url, prefix string) *crew {
	cr := &crew{}
	handler := func(_ paho.Client, m paho.Message) {
		cr.mu.Lock()
		defer cr.mu.Unlock()
		switch {
		case strings.HasSuffix(m.Topic(), "/alert"):
			var a AlertMessage
			if err := json.Unmarshal(m.Payload(), &a); err != nil {
				t.Errorf("alert payload %q: %v", m.Payload(), err)
				return
			}
			cr.alerts = append(cr.alerts, a)
			cr.dup = append(cr.dup, m.Duplicate())
		case strings.HasSuffix(m.Topic(), "/state"):
			var s StateMessage
			json.Unmarshal(m.Payload(), &s)
			cr.states = append(cr.states, s.State)
		}
	}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID("crew-" + strings.ReplaceAll(t.Name(), "/", "-")).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(50 * time.Millisecond).SetMaxReconnectInterval(100 * time.Millisecond).
		SetOnConnectHandler(func(c paho.Client) {
			// Subscribing again is harmless and covers a broker that
			// lost the session.
			c.Subscribe(prefix+"alert", 1, handler)
			c.Subscribe(prefix+"state", 1, handler)
		})
	cr.c = paho.NewClient(opts)
	if tok := cr.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("crew connect: %v", tok.Error())
	}
	t.Cleanup(func() { cr.c.Disconnect(100) })
	return cr
}

func (cr *crew) connected() bool { return cr.c.IsConnectionOpen() }

func (cr *crew) got() []AlertMessage {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return slices.Clone(cr.alerts)
}

// check de-duplicates the alerts received on id and checks they are
// exactly the agent's alerts 1..want, in order, each leaving the state
// the previous one entered. It returns the number of duplicates the
// agent sent, and how many the broker redelivered.
func (cr *crew) check(t *testing.T, want uint64) (dups, redelivered int) {
	t.Helper()
	seen := map[string]bool{}
	var uniq []AlertMessage
	outOfOrder := 0
	got, dupFlag := cr.got(), cr.dupFlags()
	for i, a := range got {
		if seen[a.ID] {
			if dupFlag[i] {
				redelivered++
			} else {
				dups++
			}
			continue
		}
		seen[a.ID] = true
		if len(uniq) > 0 && a.Seq <= uniq[len(uniq)-1].Seq {
			outOfOrder++
		}
		uniq = append(uniq, a)
	}
	if outOfOrder > 0 {
		t.Errorf("%d alerts arrived out of order", outOfOrder)
	}
	if uint64(len(uniq)) != want {
		t.Errorf("received %d distinct alerts, the agent raised %d", len(uniq), want)
	}
	for i, a := range uniq {
		if a.Seq != uint64(i+1) {
			t.Errorf("alert %d has seq %d: an alert is missing or out of place", i+1, a.Seq)
			break
		}
		if i > 0 && a.From != uniq[i-1].State {
			t.Errorf("alert %d goes from %q but alert %d entered %q", a.Seq, a.From, uniq[i-1].Seq, uniq[i-1].State)
			break
		}
	}
	return dups, redelivered
}

func (cr *crew) dupFlags() []bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return slices.Clone(cr.dup)
}

// feeder writes CSV lines into a pseudo-terminal, alternating normal
// rows and far-out rows every period lines, so a 1-of-1 agent changes
// state every period samples.
type feeder struct {
	ptmx, tty *os.File
	lines     atomic.Int64
}

func newFeeder(t *testing.T) *feeder {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tm.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tm.Oflag &^= unix.OPOST
	tm.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, tm); err != nil {
		t.Fatal(err)
	}
	f := &feeder{ptmx: ptmx, tty: tty}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return f
}

// run writes lines at rate per second until ctx ends or limit lines
// (0: no limit) are written.
func (f *feeder) run(ctx context.Context, rate float64, period int, limit int64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n := f.lines.Load()
		if limit > 0 && n >= limit {
			return
		}
		v := "0;0"
		if (n/int64(period))%2 == 1 {
			v = "0;9"
		}
		if _, err := fmt.Fprintf(f.ptmx, "%s;%s\n", time.Now().UTC().Format("2006-01-02 15:04:05.000"), v); err != nil {
			return
		}
		f.lines.Add(1)
	}
}

// agentProc is vigil-agent running as a child process.
type agentProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	logf *os.File
}

// writeChaosConfig writes an agent configuration for channels a and b
// read from tty, a 1-of-1 decision and the outbox in dir, with the status
// server on a free port; it returns the file and the server's /metrics
// URL.
func writeChaosConfig(t *testing.T, dir, tty string, brokers []string, scoreInterval string) (string, string) {
	model := writeModel(t, dir, "a", "b")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var bl []string
	for _, b := range brokers {
		bl = append(bl, strconv.Quote(b))
	}
	conf := fmt.Sprintf(`site: chaos
device: pump
channels: [a, b]
model: {path: %s, allow_unsigned: true}
source:
  serial: {device: %s}
mqtt:
  brokers: [%s]
  keepalive: 2s
  score_interval: %s
outbox: {path: %s}
decision: {k: 1, n: 1}
log: {level: debug}
http: {listen: %s}
`, model, tty, strings.Join(bl, ", "), scoreInterval, filepath.Join(dir, "outbox.db"), addr)
	p := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, "http://" + addr + "/metrics"
}

var samplesTotalRe = regexp.MustCompile(`(?m)^vigil_samples_total (\d+)$`)

// waitScored waits until the running agent has scored n samples, as its
// /metrics says: on a loaded machine (-race on two cores) it can lag
// seconds behind its source, and stopping it earlier leaves lines unread.
func (sc *scene) waitScored(t *testing.T, n int64) {
	t.Helper()
	var got int64
	client := &http.Client{Timeout: 5 * time.Second}
	waitUntil(t, fmt.Sprintf("%d samples scored", n), 60*time.Second, func() bool {
		resp, err := client.Get(sc.metrics)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := samplesTotalRe.FindSubmatch(b); m != nil {
			got, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
		return got >= n
	})
}

func startAgent(t *testing.T, conf string) *agentProc {
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(conf), "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentChildEnv+"=--config\n"+conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agentProc{t: t, cmd: cmd, logf: logf}
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("agent log (last 6 KiB):\n%s", tail(b, 6144))
		}
	})
	return a
}

func (a *agentProc) kill() {
	if a.cmd != nil {
		a.cmd.Process.Kill()
		a.cmd.Wait()
		a.cmd = nil
		a.logf.Close()
	}
}

// stop sends SIGTERM and waits up to 30 s for a clean exit.
func (a *agentProc) stop() {
	a.t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			a.t.Errorf("agent exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		a.t.Error("agent did not stop within 30 s of SIGTERM")
		a.cmd.Process.Kill()
		<-done
	}
	a.cmd = nil
	a.logf.Close()
}

var samplesRe = regexp.MustCompile(`agent stopping"? samples=(\d+)`)

// samples sums the samples every run of the agent in dir reported.
func samples(t *testing.T, dir string) int64 {
	b, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
	var n int64
	for _, m := range samplesRe.FindAllSubmatch(b, -1) {
		v, _ := strconv.ParseInt(string(m[1]), 10, 64)
		n += v
	}
	return n
}

// raised opens the agent's outbox after it stopped and returns how many
// alerts it raised, its last state and what is still pending.
func raised(t *testing.T, dir string) (uint64, string, int) {
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	var m StateMessage
	json.Unmarshal(ob.LastState(), &m)
	return ob.LastAlertSeq(), m.State, ob.Stats().Pending
}

// retained reads the broker's retained state for prefix.
func retained(t *testing.T, url, prefix string) string {
	got := make(chan string, 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("retained-reader"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	c.Subscribe(prefix+"state", 1, func(_ paho.Client, m paho.Message) {
		var s StateMessage
		json.Unmarshal(m.Payload(), &s)
		select {
		case got <- s.State:
		default:
		}
	})
	select {
	case s := <-got:
		return s
	case <-time.After(5 * time.Second):
		return "(none)"
	}
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// scene is one chaos test's world: a mosquitto, a terminal fed with
// lines, the agent reading it (started, and running once newScene
// returns) and the crew subscribed to its alerts.
type scene struct {
	m       *mosquitto
	dir     string
	f       *feeder
	conf    string
	metrics string // the agent's /metrics URL
	cr      *crew
	a       *agentProc
}

func newScene(t *testing.T, persistent bool, scoreInterval string) *scene {
	sc := &scene{m: newMosquitto(t, persistent), dir: t.TempDir(), f: newFeeder(t)}
	sc.conf, sc.metrics = writeChaosConfig(t, sc.dir, sc.f.tty.Name(), []string{sc.m.url()}, scoreInterval)
	sc.cr = newCrew(t, sc.m.url(), "vigil/chaos/pump/")
	sc.a = startAgent(t, sc.conf)
	// The serial port is open before this line: nothing fed is flushed.
	waitLog(t, sc.dir, "agent running", 20*time.Second)
	return sc
}

// chaos runs the common scenario: an agent fed at 100 Hz changing state
// every 10 samples, while breakOnce is applied rounds times; then a clean
// stop and the crew's checks. It returns the duplicates counted.
func chaos(t *testing.T, persistent bool, rounds int, breakOnce func(r *rand.Rand, sc *scene)) (alerts uint64, dups int) {
	t.Helper()
	sc := newScene(t, persistent, "0s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sc.f.run(ctx, 100, 10, 0)
	rng := rand.New(rand.NewPCG(1, uint64(rounds)))
	waitUntil(t, "first alert", 20*time.Second, func() bool { return len(sc.cr.got()) > 0 })
	for range rounds {
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		breakOnce(rng, sc)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	// Everything raised must arrive: stop the agent cleanly once the
	// broker has had it all.
	waitUntil(t, "crew connected", 20*time.Second, sc.cr.connected)
	time.Sleep(time.Second)
	sc.a.stop()
	alerts, last, pending := raised(t, sc.dir)
	if pending != 0 {
		// The stop's drain ran out: start once more to deliver the rest.
		sc.a = startAgent(t, sc.conf)
		waitUntil(t, "rest delivered", 60*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
		sc.a.stop()
		alerts, last, _ = raised(t, sc.dir)
	}
	waitUntil(t, "every alert at the crew", 60*time.Second, func() bool {
		seen := map[string]bool{}
		for _, x := range sc.cr.got() {
			seen[x.ID] = true
		}
		return uint64(len(seen)) >= alerts
	})
	dups, redelivered := sc.cr.check(t, alerts)
	t.Logf("%d alerts raised, %d received, %d duplicates sent by the agent, %d redelivered by the broker (DUP flag)",
		alerts, len(sc.cr.got()), dups, redelivered)
	if got := retained(t, sc.m.url(), "vigil/chaos/pump/"); got != last {
		t.Errorf("retained state %q, the agent's last state %q", got, last)
	}
	return alerts, dups
}

// 20 broker SIGKILLs and restarts during a burst of state changes: the
// crew gets every alert, in order, with at most one duplicate per
// restart, and the retained state ends as the agent's.
func TestChaosBrokerKills(t *testing.T) {
	const rounds = 20
	alerts, dups := chaos(t, true, rounds, func(rng *rand.Rand, sc *scene) {
		sc.m.kill()
		time.Sleep(time.Duration(100+rng.IntN(700)) * time.Millisecond)
		sc.m.start()
	})
	if dups > rounds {
		t.Errorf("the agent sent %d duplicates over %d broker restarts, want at most one per restart", dups, rounds)
	}
	if alerts < 20 {
		t.Errorf("only %d alerts raised: the scenario did not exercise the agent", alerts)
	}
}

// 20 agent SIGKILLs mid-burst, each followed by a restart: nothing lost,
// nothing reordered.
func TestChaosAgentKills(t *testing.T) {
	const rounds = 20
	alerts, _ := chaos(t, true, rounds, func(_ *rand.Rand, sc *scene) {
		sc.a.kill()
		sc.a = startAgent(t, sc.conf)
	})
	if alerts < 20 {
		t.Errorf("only %d alerts raised: the scenario did not exercise the agent", alerts)
	}
}

// waitLog waits until the agent's log in dir holds s.
func waitLog(t *testing.T, dir, s string, d time.Duration) {
	t.Helper()
	waitUntil(t, "agent log: "+s, d, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
		return strings.Contains(string(b), s)
	})
}

// outageFor is the long outage's length: 10 minutes, 15 s under -short,
// or VIGIL_OUTAGE.
func outageFor(t *testing.T) time.Duration {
	if v := os.Getenv("VIGIL_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("VIGIL_OUTAGE=%q: %v", v, err)
		}
		return d
	}
	if testing.Short() {
		return 15 * time.Second
	}
	return 10 * time.Minute
}

// A long broker outage: every alert raised during it arrives, in order,
// once the broker is back, and sampling never slowed (the agent scored
// every line written at 100 Hz, and the writer never waited on it).
func TestChaosLongOutage(t *testing.T) {
	t.Parallel() // mostly waiting: let the other tests run meanwhile
	outage := outageFor(t)
	sc := newScene(t, true, "0s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const rate = 100
	fed := make(chan struct{})
	begin := time.Now()
	go func() { sc.f.run(ctx, rate, 50, 0); close(fed) }()
	waitUntil(t, "first alert", 20*time.Second, func() bool { return len(sc.cr.got()) > 0 })
	sc.m.kill()
	before := len(sc.cr.got())
	time.Sleep(outage)
	sc.m.start()
	time.Sleep(2 * time.Second)
	cancel()
	<-fed
	written := sc.f.lines.Load()
	elapsed := time.Since(begin)
	time.Sleep(500 * time.Millisecond) // the agent reads the last lines
	sc.a.stop()
	alerts, _, pending := raised(t, sc.dir)
	if pending != 0 {
		t.Errorf("%d messages still pending after the broker came back", pending)
	}
	waitUntil(t, "every alert at the crew", 60*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
	dups, redelivered := sc.cr.check(t, alerts)
	got := samples(t, sc.dir)
	t.Logf("outage %v: %d alerts raised (%d during the outage), %d duplicates, %d redelivered; %d lines written in %v, %d scored",
		outage, alerts, alerts-uint64(before), dups, redelivered, written, elapsed.Round(time.Millisecond), got)
	if got != written {
		t.Errorf("the agent scored %d samples, %d were written", got, written)
	}
	// The writer paces itself at 100 Hz; had the agent stopped reading,
	// the terminal's buffer would have filled and the writer stalled.
	if want := int64(elapsed.Seconds() * rate * 0.9); written < want {
		t.Errorf("%d lines written in %v at %d Hz, want at least %d: the agent slowed the source", written, elapsed, rate, want)
	}
	if alerts-uint64(before) < uint64(outage.Seconds()) {
		t.Errorf("only %d alerts during a %v outage", alerts-uint64(before), outage)
	}
}

// A full disk (the agent's file size capped, so every write of the
// outbox fails): the agent says so, keeps sampling and publishing from
// memory, and moves the queue back to disk once space returns.
func TestChaosDiskFull(t *testing.T) {
	sc := newScene(t, false, "0s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fed := make(chan struct{})
	go func() { sc.f.run(ctx, 100, 10, 0); close(fed) }()
	waitUntil(t, "first alert", 20*time.Second, func() bool { return len(sc.cr.got()) > 0 })

	pid := sc.a.cmd.Process.Pid
	inf := uint64(unix.RLIM_INFINITY)
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 4096, Max: inf}, nil); err != nil {
		t.Fatalf("capping the agent's file size: %v", err)
	}
	full := len(sc.cr.got())
	waitLog(t, sc.dir, "held in memory only", 10*time.Second)
	waitUntil(t, "alerts still published with the disk full", 10*time.Second, func() bool { return len(sc.cr.got()) >= full+10 })
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: inf, Max: inf}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cancel()
	<-fed
	written := sc.f.lines.Load()
	sc.waitScored(t, written)
	sc.a.stop()
	alerts, _, pending := raised(t, sc.dir)
	if pending != 0 {
		t.Errorf("%d messages pending after a clean stop", pending)
	}
	waitUntil(t, "every alert at the crew", 30*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
	dups, _ := sc.cr.check(t, alerts)
	if got := samples(t, sc.dir); got != written {
		t.Errorf("the agent scored %d samples, %d were written", got, written)
	}
	t.Logf("disk full: %d alerts, %d of them after the disk filled, %d duplicates", alerts, alerts-uint64(full), dups)
}

// A subscriber that connects, subscribes to everything and never reads
// its socket does not slow the agent: every line is scored and every
// alert reaches the crew.
func TestChaosStuckSubscriber(t *testing.T) {
	// Score telemetry at every sample, to fill the stuck client's socket.
	sc := newScene(t, false, "1ns")
	stuck := stuckSubscriber(t, sc.m.addr(), "#")
	defer stuck.Close()
	ctx, cancel := context.WithCancel(context.Background())
	const rate, secs = 200, 8
	fed := make(chan struct{})
	go func() { sc.f.run(ctx, rate, 20, rate*secs); close(fed) }()
	<-fed
	cancel()
	written := sc.f.lines.Load()
	sc.waitScored(t, written)
	sc.a.stop()
	alerts, _, _ := raised(t, sc.dir)
	waitUntil(t, "every alert at the crew", 30*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
	sc.cr.check(t, alerts)
	if got := samples(t, sc.dir); got != written || written != rate*secs {
		t.Errorf("the agent scored %d samples, %d were written (of %d)", got, written, rate*secs)
	}
}

// stuckSubscriber connects to addr over raw TCP, subscribes to filter at
// QoS 1 and never reads again.
func stuckSubscriber(t *testing.T, addr, filter string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	conn.ProtocolName, conn.ProtocolVersion, conn.ClientIdentifier, conn.Keepalive, conn.CleanSession = "MQTT", 4, "stuck", 0, true
	sub := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sub.MessageID, sub.Topics, sub.Qoss = 1, []string{filter}, []byte{1}
	if err := conn.Write(c); err != nil {
		t.Fatal(err)
	}
	if err := sub.Write(c); err != nil {
		t.Fatal(err)
	}
	// Read the CONNACK and SUBACK only, to be sure the subscription holds.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 2 {
		if _, err := packets.ReadPacket(c); err != nil {
			t.Fatalf("stuck subscriber: %v", err)
		}
	}
	return c
}

// SIGTERM while the broker is unreachable: the agent stops within its
// drain time and keeps what it could not deliver; the next start
// delivers it, in order.
func TestStopWithBrokerDown(t *testing.T) {
	sc := newScene(t, true, "0s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sc.f.run(ctx, 100, 10, 300)
	waitUntil(t, "first alert", 20*time.Second, func() bool { return len(sc.cr.got()) > 0 })
	sc.m.kill()
	waitUntil(t, "all lines written", 20*time.Second, func() bool { return sc.f.lines.Load() == 300 })
	sc.waitScored(t, 300)
	begin := time.Now()
	sc.a.stop()
	stopped := time.Since(begin)
	alerts, _, pending := raised(t, sc.dir)
	if pending == 0 {
		t.Fatal("nothing pending after a stop with the broker down: the scenario did not test the outbox")
	}
	sc.m.start()
	waitUntil(t, "crew back", 20*time.Second, sc.cr.connected)
	sc.a = startAgent(t, sc.conf)
	waitUntil(t, "queued alerts delivered", 30*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
	sc.a.stop()
	// The second agent raises an alert of its own if it runs long enough
	// to find the source stale (5 s without a line): count them all.
	alerts, _, _ = raised(t, sc.dir)
	waitUntil(t, "every alert at the crew", 30*time.Second, func() bool { return uint64(len(sc.cr.got())) >= alerts })
	dups, _ := sc.cr.check(t, alerts)
	if got := samples(t, sc.dir); got != 300 {
		t.Errorf("the agent scored %d samples, 300 were written", got)
	}
	t.Logf("stopped in %v with %d messages pending; %d alerts in all, %d duplicates", stopped.Round(time.Millisecond), pending, alerts, dups)
}

// Unplugging the serial adapter does not stop the agent: the state turns
// sensor-fault for every channel, naming the device, and returns to
// normal once the adapter is back under its udev name.
func TestUnplugSerial(t *testing.T) {
	r := startRig(t, "unplug/", "")
	col := collect(t, r.url, "unplug/#")
	col.wait(t, "status", 1)
	link := filepath.Join(t.TempDir(), "ttyUSB0")
	f1 := newFeeder(t)
	if err := os.Symlink(f1.tty.Name(), link); err != nil {
		t.Fatal(err)
	}
	src, err := serial.Open(serial.Opts{Device: link, Channels: []string{"a", "b"}, Columns: []string{"datetime", "a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	o := r.options(t, src, "a", "b")
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	feed := func(f *feeder) {
		fctx, stop := context.WithCancel(ctx)
		go f.run(fctx, 100, 1<<30, 0) // normal rows only
		t.Cleanup(stop)
	}
	feed(f1)
	col.wait(t, "state", 1) // normal
	f1.ptmx.Close()         // unplugged
	os.Remove(link)
	alerts := decodeAlerts(t, col.wait(t, "alert", 1))
	if a := alerts[0]; a.State != "sensor-fault" || len(a.Fault) != 2 || !strings.Contains(a.Reason, link) {
		t.Fatalf("alert after the unplug %+v: want sensor-fault for a and b, the reason naming %s", a, link)
	}
	f2 := newFeeder(t)
	if err := os.Symlink(f2.tty.Name(), link); err != nil {
		t.Fatal(err)
	}
	feed(f2)
	alerts = decodeAlerts(t, col.wait(t, "alert", 2))
	if transitions(alerts) != "normal>sensor-fault sensor-fault>normal" {
		t.Errorf("alerts %q, want normal>sensor-fault sensor-fault>normal", transitions(alerts))
	}
	select {
	case err := <-done:
		t.Fatalf("the agent stopped: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
