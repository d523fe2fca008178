package slots

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Disk states Open must repair, and what it must make of them.
var openTests = []struct {
	name  string
	setup func(t *testing.T, dir string)
	ver   uint64 // active version after Open; 0: no model
	trial bool
	// recovered is a substring of Recovered(); "" wants it empty.
	recovered string
	// reason is a substring of the last rollback's reason; "" for any.
	reason string
	// again: the second Open reports a repair too.
	again bool
	// rev, when not 0, is the version the second Open rolls back to: it
	// finds the model the first Open put on trial.
	rev uint64
}{
	{name: "in order", setup: committed(1, 2), ver: 2},
	{name: "new directory", setup: func(t *testing.T, dir string) {}, ver: 0},
	{
		name: "leftover temporary files",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			for _, n := range []string{".a.vgm.123.tmp", ".b.vgm.9.tmp", ".state.json.77.tmp", "notes.txt", "a.vgm.tmp"} {
				write(t, dir, n, "x")
			}
		},
		ver: 1, recovered: "removed 3 temporary file(s) left by an interrupted write",
	},
	{
		name:  "model on trial at start",
		setup: func(t *testing.T, dir string) { committed(1)(t, dir); onTrial(t, dir, 2) },
		ver:   1, recovered: "rolled back: agent restarted during probation: slot b (version 2) was on trial; slot a (version 1) is active again",
		reason: "agent restarted during probation",
	},
	{
		name:  "first model on trial at start",
		setup: func(t *testing.T, dir string) { onTrial(t, dir, 1) },
		ver:   1, trial: true, recovered: "its probation starts again", again: true,
	},
	{
		name: "model on trial, committed slot damaged",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			onTrial(t, dir, 2)
			flipBit(t, filepath.Join(dir, "a.vgm"))
		},
		ver: 2, trial: true, recovered: "the committed slot a cannot be used: " + "", again: true,
	},
	{
		name: "model on trial, both slots damaged",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			onTrial(t, dir, 2)
			flipBit(t, filepath.Join(dir, "a.vgm"))
			flipBit(t, filepath.Join(dir, "b.vgm"))
		},
		ver: 0, recovered: "no active model", reason: "slot b damaged",
	},
	{
		name:      "active slot damaged",
		setup:     func(t *testing.T, dir string) { committed(1, 2)(t, dir); flipBit(t, filepath.Join(dir, "b.vgm")) },
		ver:       1,
		recovered: "slot b damaged: ", reason: "test model CRC mismatch",
	},
	{
		name: "active slot damaged, Check still passes",
		setup: func(t *testing.T, dir string) {
			committed(1, 2)(t, dir)
			write(t, dir, "b.vgm", string(testModel(7))) // a good file, not the one installed
		},
		ver: 1, recovered: "slot b damaged: SHA-256 13a86976b13a, want 804cb06cd0b4 as installed; fell back to slot a (version 1); " +
			"slot b holds version 7, a file state.json does not record (an install cut short after its rename): recorded as installed, not activated",
		reason: "slot b damaged: SHA-256",
	},
	{
		name:      "active slot missing",
		setup:     func(t *testing.T, dir string) { committed(1, 2)(t, dir); remove(t, dir, "b.vgm") },
		ver:       1,
		recovered: "b.vgm is missing; fell back to slot a (version 1)",
	},
	{
		name: "active slot damaged, other installed only",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			installed(t, dir, 2)
			flipBit(t, filepath.Join(dir, "a.vgm"))
		},
		ver: 2, recovered: "fell back to slot b (version 2)",
	},
	{
		name:      "active slot damaged, no other",
		setup:     func(t *testing.T, dir string) { committed(1)(t, dir); flipBit(t, filepath.Join(dir, "a.vgm")) },
		ver:       0,
		recovered: "slot a damaged", reason: "slot a damaged",
	},
	{
		name:      "inactive slot damaged",
		setup:     func(t *testing.T, dir string) { committed(1, 2)(t, dir); flipBit(t, filepath.Join(dir, "a.vgm")) },
		ver:       2,
		recovered: "slot a forgotten: ",
	},
	{
		name: "install cut short after its rename",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			write(t, dir, "b.vgm", string(testModel(2)))
		},
		ver: 1, recovered: "slot b holds version 2, a file state.json does not record (an install cut short after its rename): recorded as installed, not activated",
	},
	{
		name: "state.json damaged, its committed slot readable",
		setup: func(t *testing.T, dir string) {
			committed(1, 2)(t, dir)
			edit(t, dir, StateFile, `"size":`, `"sizf":`)
		},
		ver: 2, recovered: "state.json damaged: CRC-32C",
	},
	{
		name: "state.json garbage",
		setup: func(t *testing.T, dir string) {
			committed(1, 2)(t, dir)
			write(t, dir, StateFile, "{{{")
		},
		ver: 2, trial: true,
		recovered: "rebuilt from the slot files: slot b (version 2) goes on trial; slot a (version 1) is the model to go back to",
		rev:       1,
	},
	{
		name:  "state.json empty",
		setup: func(t *testing.T, dir string) { committed(1, 2)(t, dir); write(t, dir, StateFile, "") },
		ver:   2, trial: true,
		recovered: "state.json damaged: not a state file",
		rev:       1,
	},
	{
		name: "state.json over the size limit",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			write(t, dir, StateFile, strings.Repeat(" ", maxStateSize+1))
		},
		ver:       1,
		recovered: "over the limit of 65536 bytes",
	},
	{
		name: "state.json from a newer format",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			edit(t, dir, StateFile, `"format": 1`, `"format": 2`)
		},
		ver:       1,
		recovered: "format 2, this build reads format 1: rebuilt from the slot files: slot a (version 1) is the committed model",
	},
	{
		name: "state.json names no slot",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			st, _, _ := readState(dir)
			st.Active = "c"
			b, _ := encodeState(&st)
			write(t, dir, StateFile, string(b))
		},
		ver: 1, recovered: `active slot "c" is neither "a" nor "b"`,
	},
	{
		name:      "state.json missing, one slot",
		setup:     func(t *testing.T, dir string) { committed(1)(t, dir); remove(t, dir, StateFile) },
		ver:       1,
		recovered: "no state.json: rebuilt from the slot files: slot a (version 1) is the committed model",
	},
	{
		name:  "state.json missing, two slots",
		setup: func(t *testing.T, dir string) { committed(1, 2)(t, dir); remove(t, dir, StateFile) },
		ver:   2, trial: true,
		recovered: "slot b (version 2) goes on trial",
		rev:       1,
	},
	{
		name: "state.json missing, two slots of one version",
		setup: func(t *testing.T, dir string) {
			write(t, dir, "a.vgm", string(testModel(4)))
			write(t, dir, "b.vgm", string(testModel(4)))
		},
		ver: 4, recovered: "both slots hold version 4: slot a is the committed model",
	},
	{
		name: "state.json missing, slot files damaged",
		setup: func(t *testing.T, dir string) {
			committed(1)(t, dir)
			flipBit(t, filepath.Join(dir, "a.vgm"))
			remove(t, dir, StateFile)
		},
		ver: 0, recovered: "no slot file passes Check",
	},
}

func TestOpenRepairs(t *testing.T) {
	for _, tt := range openTests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			var logs bytes.Buffer
			o := testOptions()
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			s, err := Open(dir, o)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			checkOpened(t, s, tt.ver, tt.trial)
			rec := s.Recovered()
			if tt.recovered == "" && rec != "" || !strings.Contains(rec, tt.recovered) {
				t.Fatalf("Recovered() = %q, want it to contain %q", rec, tt.recovered)
			}
			if rec != "" && !strings.Contains(logs.String(), "repaired the model store") {
				t.Errorf("nothing logged for %q; log:\n%s", rec, logs.String())
			}
			if r := s.Status().LastRollback.Reason; !strings.Contains(r, tt.reason) {
				t.Errorf("last rollback %q, want it to contain %q", r, tt.reason)
			}
			if names := tempFiles(t, dir); len(names) > 0 {
				t.Errorf("temporary files left: %v", names)
			}
			// The repair was written: a second Open finds the same store,
			// or, if there was a model on trial to go back from, goes back.
			s2 := openT(t, dir)
			switch {
			case tt.rev != 0:
				checkOpened(t, s2, tt.rev, false)
				if r := s2.Status().LastRollback.Reason; r != "agent restarted during probation" {
					t.Errorf("second Open: last rollback %q, want the restart", r)
				}
			default:
				checkOpened(t, s2, tt.ver, tt.trial)
				if r := s2.Recovered(); (r != "") != tt.again {
					t.Errorf("second Open: Recovered() = %q, want a report: %v", r, tt.again)
				}
			}
			stillWorks(t, s2)
		})
	}
}

// checkOpened checks the active version and trial of a store just opened.
func checkOpened(t *testing.T, s *Store, ver uint64, trial bool) {
	t.Helper()
	if v := activeVersion(t, s); v != ver {
		t.Fatalf("active version %d, want %d\n%s", v, ver, s.Status())
	}
	if st := s.Status(); st.Trial != trial {
		t.Fatalf("on trial %v, want %v\n%s", st.Trial, trial, st)
	}
}

// stillWorks checks that an update goes through on s: whatever was on
// trial is committed, then version 100 is installed and committed.
func stillWorks(t *testing.T, s *Store) {
	t.Helper()
	if s.Status().Trial {
		if err := s.Commit(); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	update(t, s, 100)
	if v := activeVersion(t, s); v != 100 {
		t.Fatalf("after an update to version 100: active version %d", v)
	}
}

// committed returns a setup that installs, activates and commits each
// version in turn.
func committed(versions ...uint64) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		s := openT(t, dir)
		for _, v := range versions {
			update(t, s, v)
		}
	}
}

// installed installs version v in the store in dir.
func installed(t *testing.T, dir string, v uint64) {
	t.Helper()
	if _, err := openT(t, dir).Install(testModel(v), InstallOptions{}); err != nil {
		t.Fatal(err)
	}
}

// onTrial installs and activates version v in the store in dir.
func onTrial(t *testing.T, dir string, v uint64) {
	t.Helper()
	s := openT(t, dir)
	if _, err := s.Install(testModel(v), InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activate(); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// edit replaces the first old with new in dir/name.
func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q:\n%s", name, old, b)
	}
	write(t, dir, name, strings.Replace(string(b), old, new, 1))
}

// The trial that Open found without a committed slot to go back to stays
// without one: Revert has nowhere to go.
func TestOpenTrialWithoutFallback(t *testing.T) {
	dir := t.TempDir()
	committed(1)(t, dir)
	onTrial(t, dir, 2)
	flipBit(t, filepath.Join(dir, "a.vgm"))
	s := openT(t, dir)
	_, err := s.Revert("probe failed")
	if !errors.Is(err, ErrNoFallback) {
		t.Fatalf("Revert: %v, want ErrNoFallback", err)
	}
}
