package release

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// RunOptions say how to run an agent process and what to watch.
type RunOptions struct {
	// Argv runs the agent: its binary and arguments.
	Argv []string
	Dir  string   // working directory (default: the current one)
	Env  []string // environment (default: this process's)
	// Credential runs it as another user (root only).
	Credential *syscall.Credential
	// Broker (tcp://host:port) and Prefix (vigil/<site>/<device>/) are
	// watched for the agent's messages.
	Broker, Prefix string
	// For is how long the agent runs; Until, if set, ends the run early
	// once it reports true (checked as messages and log lines arrive).
	For   time.Duration
	Until func(*RunResult) bool
}

// RunResult is what a run showed. Times count from just before the
// process started.
type RunResult struct {
	Log string // the agent's stderr
	// Running is when it logged "agent running", FirstState its first
	// "state changed", FirstScore when its first score message reached
	// the broker; 0: never.
	Running, FirstState, FirstScore time.Duration
	// Messages counts the messages received per topic, without the
	// prefix: state, score, status, alert.
	Messages map[string]int
	// Status is the last status payload.
	Status string
	// Memory is the process's memory use read from /proc/PID/status
	// just before it was asked to stop.
	Memory
	// Exit is how the process ended after SIGTERM (nil: status 0).
	Exit error
}

func (r *RunResult) String() string {
	return fmt.Sprintf("running after %v, first state %v, first score %v, messages %v, VmHWM %d kB", r.Running, r.FirstState, r.FirstScore, r.Messages, r.VmHWM>>10)
}

// Memory is a process's resident memory in bytes (/proc/PID/status).
type Memory struct {
	VmHWM int64 // peak resident set
	VmRSS int64 // resident set now
	// RssAnon (heap, stacks, runtime) and RssFile (pages of the
	// executable) make up VmRSS.
	RssAnon, RssFile int64
}

// RunAgent subscribes to the agent's topics, starts the agent, lets it
// run, reads its memory use, stops it with SIGTERM (as systemd does) and
// waits for it to end.
func RunAgent(ctx context.Context, o RunOptions) (*RunResult, error) {
	res := &RunResult{Messages: map[string]int{}}
	var mu sync.Mutex
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	var start time.Time

	opts := paho.NewClientOptions().AddBroker(o.Broker).SetClientID(fmt.Sprintf("vigil-release-%d", os.Getpid())).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	client := paho.NewClient(opts)
	if tok := client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("release: connecting to %s: %v", o.Broker, tok.Error())
	}
	defer client.Disconnect(100)
	tok := client.Subscribe(o.Prefix+"#", 1, func(_ paho.Client, m paho.Message) {
		now := time.Now()
		topic := strings.TrimPrefix(m.Topic(), o.Prefix)
		mu.Lock()
		res.Messages[topic]++
		if topic == "score" && res.FirstScore == 0 && !start.IsZero() {
			res.FirstScore = now.Sub(start)
		}
		if topic == "status" {
			res.Status = string(m.Payload())
		}
		mu.Unlock()
		poke()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("release: subscribing to %s#: %v", o.Prefix, tok.Error())
	}

	cmd := exec.Command(o.Argv[0], o.Argv[1:]...)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	if o.Credential != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.Credential}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	var logBuf bytes.Buffer
	mu.Lock()
	start = time.Now()
	err = cmd.Start()
	mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("release: starting %s: %w", o.Argv[0], err)
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			now := time.Now()
			line := sc.Text()
			mu.Lock()
			logBuf.WriteString(line + "\n")
			if res.Running == 0 && strings.Contains(line, "agent running") {
				res.Running = now.Sub(start)
			}
			if res.FirstState == 0 && strings.Contains(line, "state changed") {
				res.FirstState = now.Sub(start)
			}
			mu.Unlock()
			poke()
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-logDone // Wait closes the pipe: read it to the end first
		exited <- cmd.Wait()
	}()

	deadline := time.NewTimer(o.For)
	defer deadline.Stop()
	var early error
wait:
	for {
		select {
		case <-ctx.Done():
			early = ctx.Err()
			break wait
		case <-deadline.C:
			break wait
		case err := <-exited:
			mu.Lock()
			res.Log, res.Exit = logBuf.String(), err
			mu.Unlock()
			return res, fmt.Errorf("release: the agent ended after %v: %v", time.Since(start).Round(time.Millisecond), err)
		case <-changed:
			if o.Until != nil {
				mu.Lock()
				done := o.Until(res)
				mu.Unlock()
				if done {
					break wait
				}
			}
		}
	}
	mem, memErr := ProcMemory(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err = <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		err = errors.Join(errors.New("no exit within 15 s of SIGTERM: killed"), <-exited)
	}
	// The offline status follows the agent's goodbye.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	res.Log, res.Exit, res.Memory = logBuf.String(), err, mem
	return res, errors.Join(early, memErr)
}

// ProcMemory reads a live process's memory use.
func ProcMemory(pid int) (Memory, error) {
	var m Memory
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	fields := map[string]*int64{"VmHWM": &m.VmHWM, "VmRSS": &m.VmRSS, "RssAnon": &m.RssAnon, "RssFile": &m.RssFile}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		p := fields[k]
		if !ok || p == nil {
			continue
		}
		f := strings.Fields(v) // "1234 kB"
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("release: /proc/%d/status: %q", pid, line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, err
		}
		*p = n << 10
	}
	if m.VmHWM == 0 {
		return m, fmt.Errorf("release: /proc/%d/status has no VmHWM", pid)
	}
	return m, nil
}
