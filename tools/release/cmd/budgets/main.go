// Command budgets measures vigil-agent against its budgets and prints a
// table; it exits 1 if one is missed. make budgets runs it.
//
//   - size: the stripped release binary for linux armv6, armv7 and arm64,
//     at most 6 MB each;
//   - memory: peak RSS (VmHWM) of the native (amd64) agent scoring the
//     simulated pump at 100 Hz with the demo model (make demo's: ten
//     simulated hours, the trainer's defaults) for 10 s, publishing to an
//     embedded broker: at most 10 MB;
//   - start-up: from the process's start to its first score message at the
//     broker (and, shown too, to its first state change in the log): under
//     1 s;
//   - ARMv6: the armv6 build must run (--version) under qemu-arm-static as
//     an ARM1176, the Pi Zero's core; an armv7 build run the same way must
//     die (SIGILL), showing that the emulated CPU is really an ARMv6.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/tools/broker"
	"github.com/vigil-edge/vigil/tools/release"
)

func main() { os.Exit(run()) }

func run() (code int) {
	model := flag.String("model", "", "model file to run (default: train the demo's model)")
	rate := flag.Float64("rate", 100, "samples per second for the memory run")
	dur := flag.Duration("for", 10*time.Second, "length of the memory run")
	keep := flag.Bool("keep", false, "keep the work directory")
	tags := flag.String("tags", "", "build tags added to the agent's own (release.AgentTags), to try size options")
	gcflags := flag.String("gcflags", "", "compiler flags for the agent, to try size options (e.g. all=-l)")
	flag.Parse()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			fmt.Fprintln(os.Stderr, "budgets:", f.err)
			code = 1
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := release.ModuleRoot()
	if err != nil {
		fail(err)
	}
	work, err := os.MkdirTemp("", "vigil-budgets-")
	if err != nil {
		fail(err)
	}
	if *keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	version := release.GitVersion(root)
	build := func(t release.Target) string {
		out := filepath.Join(work, release.Artifact{Program: release.Agent, Target: t}.FileName(version))
		if err := release.Build(ctx, release.BuildOptions{Root: root, Program: release.Agent, Target: t, Version: version, Out: out,
			Tags: *tags, GCFlags: *gcflags}); err != nil {
			fail(err)
		}
		return out
	}

	var bs []release.Budget
	bins := map[release.Target]string{}
	for _, t := range []release.Target{release.LinuxARMv6, release.LinuxARMv7, release.LinuxARM64} {
		bins[t] = build(t)
		st, err := os.Stat(bins[t])
		if err != nil {
			fail(err)
		}
		bs = append(bs, release.Budget{What: "agent size, " + t.Name() + " (stripped)", Measured: release.MB(st.Size()),
			Limit: release.MB(release.SizeBudget), OK: st.Size() <= release.SizeBudget, Note: fmt.Sprintf("%d bytes", st.Size())})
	}

	run, err := measureRun(ctx, work, build, *model, *rate, *dur)
	if err != nil {
		fail(err)
	}
	arch := runtime.GOOS + "/" + runtime.GOARCH
	samples := stoppingField(run.Log, "samples")
	bs = append(bs,
		release.Budget{What: fmt.Sprintf("peak RSS (VmHWM), %g Hz for %v, %s", *rate, *dur, arch), Measured: release.MB(run.VmHWM),
			Limit: release.MB(release.RSSBudget), OK: run.VmHWM > 0 && run.VmHWM <= release.RSSBudget,
			Note: fmt.Sprintf("at the end VmRSS %s = RssAnon %s + RssFile %s (+shmem); %s samples", release.MB(run.VmRSS), release.MB(run.RssAnon), release.MB(run.RssFile), samples)},
		release.Budget{What: "start to first score message", Measured: seconds(run.FirstScore),
			Limit: fmt.Sprintf("%g s", release.FirstScoreBudget), OK: run.FirstScore > 0 && run.FirstScore.Seconds() < release.FirstScoreBudget,
			Note: fmt.Sprintf("\"agent running\" at %s, first \"state changed\" at %s", seconds(run.Running), seconds(run.FirstState))},
	)

	v6, err := release.RunOnCPU(ctx, release.ARM1176, bins[release.LinuxARMv6], "--version")
	if err != nil {
		fail(err)
	}
	bs = append(bs, release.Budget{What: "armv6 build on qemu -cpu arm1176", Measured: v6.String(), Limit: "exit 0",
		OK: v6.Err == nil && strings.Contains(v6.Output, version), Note: release.OneLine(v6.Output)})
	v7, err := release.RunOnCPU(ctx, release.ARM1176, bins[release.LinuxARMv7], "--version")
	if err != nil {
		fail(err)
	}
	bs = append(bs, release.Budget{What: "control: armv7 build on qemu -cpu arm1176", Measured: v7.String(), Limit: "must fail",
		OK: v7.Err != nil, Note: "the emulated CPU rejects ARMv7 code"})

	fmt.Println()
	release.PrintBudgets(os.Stdout, bs)
	if !release.Met(bs) {
		fmt.Fprintln(os.Stderr, "budgets: missed")
		return 1
	}
	return 0
}

// measureRun runs the native agent on the simulated pump at rate with a
// model, publishing to an embedded broker.
func measureRun(ctx context.Context, work string, build func(release.Target) string, model string, rate float64, dur time.Duration) (*release.RunResult, error) {
	native := release.Target{OS: runtime.GOOS, Arch: runtime.GOARCH}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("the memory and start-up budgets are measured on Linux (/proc), not %s", runtime.GOOS)
	}
	bin := build(native)
	if model == "" {
		fmt.Println("training the demo model (ten simulated hours, as make demo)...")
		o := release.DemoModel
		o.Dir = work
		var err error
		if model, err = release.TrainModel(ctx, o); err != nil {
			return nil, err
		}
	}
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	conf := filepath.Join(work, "agent.yaml")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`site: budgets
device: pump
channels: [Accelerometer1RMS, Accelerometer2RMS, Current, Pressure, Temperature, Thermocouple, Voltage, Volume Flow RateRMS]
model: {path: %q, allow_unsigned: true}
source:
  sim: {seed: 42, rate: %g}
mqtt: {broker: %q, score_interval: 1s}
outbox: {path: %q}
log: {level: info, format: text}
`, model, rate, b.URL(), filepath.Join(work, "outbox.db"))), 0o600)
	if err != nil {
		return nil, err
	}
	fmt.Printf("running the agent at %g Hz for %v...\n", rate, dur)
	run, err := release.RunAgent(ctx, release.RunOptions{Argv: []string{bin, "--config", conf}, Broker: b.URL(), Prefix: "vigil/budgets/pump/", For: dur})
	if err != nil {
		if run != nil {
			err = fmt.Errorf("%w\n%s", err, run.Log)
		}
		return nil, err
	}
	if run.Exit != nil {
		return nil, fmt.Errorf("the agent did not stop cleanly: %v\n%s", run.Exit, run.Log)
	}
	return run, nil
}

// stoppingField is a field of the agent's "agent stopping" log line.
func stoppingField(log, key string) string {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "agent stopping") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
	}
	return "?"
}

func seconds(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// failure ends run through its deferred cleanup (see run's recover).
type failure struct{ err error }

func fail(err error) { panic(failure{err}) }
