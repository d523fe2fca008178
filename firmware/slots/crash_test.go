package slots

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// A power cut at any step must leave a working model. Each scenario below
// runs an operation on a prepared store and lists every step it goes
// through; the tests cut it short after each one and Open the store
// again. Every file is written in the same five steps (writeSteps); the
// state.json rename is the step at which an operation takes effect.
//
// Each step is durable (fsync'd) before the next starts, so whatever a
// power cut loses, the disk holds the state of one of these step
// boundaries: losing an un-fsync'd write or rename gives the state of the
// step before it, and a partly written temporary file is the
// "temp-half-written" state. So cutting the process short after each step
// covers the disk states a power cut can leave on a filesystem that keeps
// fsync'd data and atomic renames (ext4, the Pi's default).

// writeSteps lists the steps of writing one file (see writeFile) during
// operation op; what is "slot" or "state".
func writeSteps(op, what string) []string {
	var s []string
	for _, part := range []string{"temp-half-written", "temp-written", "temp-synced", "renamed", "dir-synced"} {
		s = append(s, op+":"+what+"-"+part)
	}
	return s
}

var (
	installSteps  = slices.Concat(writeSteps("install", "slot"), writeSteps("install", "state"))
	activateSteps = slices.Concat([]string{"activate:verified"}, writeSteps("activate", "state"))
	commitSteps   = writeSteps("commit", "state")
	revertSteps   = slices.Concat([]string{"revert:verified"}, writeSteps("revert", "state"))
	rollbackSteps = slices.Concat([]string{"rollback:verified"}, writeSteps("rollback", "state"))
	openSteps     = writeSteps("open", "state")
)

// crashScenario is an operation cut short by the crash tests.
type crashScenario struct {
	name string
	// seed prepares the store in dir (which need not exist yet).
	seed func(t *testing.T, dir string)
	// run opens the store with o and runs the operation.
	run func(dir string, o Options) error
	// steps lists every step run goes through, in order.
	steps []string
	// old is the active version after a cut before the step switchAt, new
	// after a cut at or after it; 0 means no model.
	old, new uint64
	switchAt string
}

var crashScenarios = []crashScenario{
	{
		name: "first model", seed: func(*testing.T, string) {}, run: openUpdate(1),
		steps: slices.Concat(openSteps, installSteps, activateSteps, commitSteps),
		// A first model on trial at start stays on trial: nothing else.
		old: 0, new: 1, switchAt: "activate:state-renamed",
	},
	{
		name: "update", seed: committed(1), run: openUpdate(2),
		steps: slices.Concat(installSteps, activateSteps, commitSteps),
		// Before the commit, a restart rolls the trial back.
		old: 1, new: 2, switchAt: "commit:state-renamed",
	},
	{
		name: "revert", seed: committed(1),
		run: func(dir string, o Options) error {
			s, err := Open(dir, o)
			if err != nil {
				return err
			}
			if _, err := s.Install(testModel(2), InstallOptions{}); err != nil {
				return err
			}
			if _, err := s.Activate(); err != nil {
				return err
			}
			_, err = s.Revert("probation failed")
			return err
		},
		steps: slices.Concat(installSteps, activateSteps, revertSteps),
		old:   1, new: 1,
	},
	{
		name: "operator rollback", seed: committed(1, 2),
		run: func(dir string, o Options) error {
			s, err := Open(dir, o)
			if err == nil {
				_, err = s.Rollback()
			}
			return err
		},
		steps: rollbackSteps,
		old:   2, new: 1, switchAt: "rollback:state-renamed",
	},
	{
		name: "restart during probation",
		seed: func(t *testing.T, dir string) { committed(1)(t, dir); onTrial(t, dir, 2) },
		run:  openOnly, steps: openSteps,
		old: 1, new: 1,
	},
	{
		name: "damaged active slot",
		seed: func(t *testing.T, dir string) { committed(1, 2)(t, dir); flipBit(t, filepath.Join(dir, "b.vgm")) },
		run:  openOnly, steps: openSteps,
		old: 1, new: 1,
	},
	{
		name: "state.json rebuilt",
		seed: func(t *testing.T, dir string) { committed(1, 2)(t, dir); remove(t, dir, StateFile) },
		run:  openOnly, steps: openSteps,
		// The rebuild puts version 2 on trial; once that is written, the
		// next Open is a restart during probation.
		old: 2, new: 1, switchAt: "open:state-renamed",
	},
}

// openUpdate returns a run that installs, activates and commits version v.
func openUpdate(v uint64) func(string, Options) error {
	return func(dir string, o Options) error {
		s, err := Open(dir, o)
		if err != nil {
			return err
		}
		if _, err := s.Install(testModel(v), InstallOptions{}); err != nil {
			return err
		}
		if _, err := s.Activate(); err != nil {
			return err
		}
		return s.Commit()
	}
}

func openOnly(dir string, o Options) error {
	_, err := Open(dir, o)
	return err
}

// want returns the active version expected after a cut at step.
func (sc *crashScenario) want(step string) uint64 {
	i, sw := slices.Index(sc.steps, step), slices.Index(sc.steps, sc.switchAt)
	if sw >= 0 && i >= sw {
		return sc.new
	}
	return sc.old
}

// checkAfterCrash opens the store a cut at step left in dir and checks
// that it holds the expected model, whole, and still takes updates.
func checkAfterCrash(t *testing.T, dir string, sc *crashScenario, step string) {
	t.Helper()
	s, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("cut after %s: Open: %v", step, err)
	}
	if names := tempFiles(t, dir); len(names) > 0 {
		t.Fatalf("cut after %s: Open left temporary files %v", step, names)
	}
	if v, want := activeVersion(t, s), sc.want(step); v != want {
		t.Fatalf("cut after %s: active version %d, want %d\n%s", step, v, want, s.Status())
	}
	stillWorks(t, s)
}

// The environment of TestHelperProcess.
const (
	envDir      = "VIGIL_SLOTS_CRASH_DIR"
	envScenario = "VIGIL_SLOTS_CRASH_SCENARIO"
	envStep     = "VIGIL_SLOTS_CRASH_STEP"
	crashExit   = 3
)

// TestHelperProcess is the child of TestCrash: it runs the scenario named
// in its environment and exits with status 3 right after the named step,
// as if the power had been cut.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(envDir)
	if dir == "" {
		t.Skip("the child process of TestCrash")
	}
	name, step := os.Getenv(envScenario), os.Getenv(envStep)
	i := slices.IndexFunc(crashScenarios, func(sc crashScenario) bool { return sc.name == name })
	if i < 0 {
		fmt.Fprintf(os.Stderr, "no scenario %q\n", name)
		os.Exit(5)
	}
	o := testOptions()
	o.afterStep = func(s string) {
		if s == step {
			os.Exit(crashExit)
		}
	}
	if err := crashScenarios[i].run(dir, o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(5)
	}
	fmt.Fprintf(os.Stderr, "step %q never reached\n", step)
	os.Exit(4)
}

// TestCrash kills a child process after every step of every scenario and
// checks what it left.
func TestCrash(t *testing.T) {
	if os.Getenv(envDir) != "" {
		t.Skip("running as the child")
	}
	if err := selfCommand("-test.run=^$").Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("cannot run the test binary again (%v): under qemu user emulation set VIGIL_TEST_EXEC to the emulator (make test-arm does)", err)
		}
	}
	for i := range crashScenarios {
		sc := &crashScenarios[i]
		t.Run(sc.name, func(t *testing.T) {
			for _, step := range sc.steps {
				t.Run(step, func(t *testing.T) {
					t.Parallel()
					dir := filepath.Join(t.TempDir(), "models")
					sc.seed(t, dir)
					cmd := selfCommand("-test.run=^TestHelperProcess$")
					cmd.Env = append(os.Environ(), envDir+"="+dir, envScenario+"="+sc.name, envStep+"="+step)
					out, err := cmd.CombinedOutput()
					var exit *exec.ExitError
					if !errors.As(err, &exit) || exit.ExitCode() != crashExit {
						t.Fatalf("child: %v, want exit status %d; output:\n%s", err, crashExit, out)
					}
					checkAfterCrash(t, dir, sc, step)
				})
			}
		})
	}
}

// TestCrashSnapshots runs each scenario in this process, copies the store
// directory after every step, and checks each copy as TestCrash checks
// what a killed child left. It also checks that each scenario's list of
// steps is the one the code goes through.
func TestCrashSnapshots(t *testing.T) {
	for i := range crashScenarios {
		sc := &crashScenarios[i]
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "models")
			sc.seed(t, dir)
			snaps := t.TempDir()
			var seen []string
			o := testOptions()
			o.afterStep = func(step string) {
				copyDir(t, dir, filepath.Join(snaps, fmt.Sprint(len(seen))))
				seen = append(seen, step)
			}
			if err := sc.run(dir, o); err != nil {
				t.Fatalf("run: %v", err)
			}
			if !slices.Equal(seen, sc.steps) {
				t.Fatalf("steps run:\n%q\nwant (the scenario's list):\n%q", seen, sc.steps)
			}
			for j, step := range seen {
				checkAfterCrash(t, filepath.Join(snaps, fmt.Sprint(j)), sc, step)
			}
		})
	}
}

// selfCommand runs this test binary again with args: through the
// emulator VIGIL_TEST_EXEC names (qemu-arm-static under make test-arm,
// where the kernel cannot run an ARM binary by itself), else directly.
func selfCommand(args ...string) *exec.Cmd {
	if emu := os.Getenv("VIGIL_TEST_EXEC"); emu != "" {
		return exec.Command(emu, append([]string{os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}
