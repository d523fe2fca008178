package slots

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUpdateFlow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "models") // Open creates it
	s := openT(t, dir)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&^0o750 != 0 {
		t.Fatalf("store directory: %v, mode %v, want at most 0750", err, fi.Mode())
	}
	if v := activeVersion(t, s); v != 0 {
		t.Fatalf("new store: active version %d, want none", v)
	}
	steps := []struct {
		name                string
		do                  func() error
		wantActive, wantOth uint64
		wantTrial, wantPend bool
	}{
		{"install v1", func() error { _, err := s.Install(testModel(1), InstallOptions{}); return err }, 0, 1, false, true},
		{"activate v1", func() error { _, err := s.Activate(); return err }, 1, 0, true, false},
		{"commit v1", s.Commit, 1, 0, false, false},
		{"install v2", func() error { _, err := s.Install(testModel(2), InstallOptions{}); return err }, 1, 2, false, true},
		{"activate v2", func() error { _, err := s.Activate(); return err }, 2, 1, true, false},
		{"commit v2", s.Commit, 2, 1, false, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := s.Status()
		if got.Active.Version != st.wantActive || got.Other.Version != st.wantOth || got.Trial != st.wantTrial || got.Pending != st.wantPend {
			t.Fatalf("after %s: Status = active v%d other v%d trial %v pending %v, want v%d v%d %v %v",
				st.name, got.Active.Version, got.Other.Version, got.Trial, got.Pending, st.wantActive, st.wantOth, st.wantTrial, st.wantPend)
		}
		if v := activeVersion(t, s); v != st.wantActive {
			t.Fatalf("after %s: Active version %d, want %d", st.name, v, st.wantActive)
		}
	}
	// Another process reads the same status without opening the store.
	if got, err := ReadStatus(dir); err != nil || !reflect.DeepEqual(got, s.Status()) {
		t.Fatalf("ReadStatus = %+v, %v; want %+v", got, err, s.Status())
	}
	// The same state after a restart, with nothing to repair.
	s2 := openT(t, dir)
	if r := s2.Recovered(); r != "" {
		t.Fatalf("reopen: Recovered() = %q, want nothing", r)
	}
	if a, b := s.Status(), s2.Status(); !reflect.DeepEqual(a, b) {
		t.Fatalf("reopen: Status = %+v, want %+v", b, a)
	}
}

// A refused Install leaves every file and the status as they were.
func TestInstallRefused(t *testing.T) {
	tests := []struct {
		name  string
		trial bool // a model is on trial
		data  []byte
		opt   InstallOptions
		want  any
	}{
		{"check refuses", false, []byte("not a model"), InstallOptions{}, "install refused: not a test model"},
		{"torn file", false, testModel(9)[:100], InstallOptions{}, "install refused: test model CRC mismatch"},
		{"empty file", false, nil, InstallOptions{}, "install refused"},
		{"older version", false, testModel(1), InstallOptions{}, ErrDowngrade},
		{"same version", false, testModel(2), InstallOptions{}, ErrDowngrade},
		{"too large", false, make([]byte, DefaultMaxSize+1), InstallOptions{AllowRollback: true}, "over the 16777216-byte limit"},
		{"on trial", true, testModel(4), InstallOptions{}, ErrOnTrial},
		{"on trial, rollback allowed", true, testModel(1), InstallOptions{AllowRollback: true}, ErrOnTrial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir)
			update(t, s, 1)
			update(t, s, 2)
			if tt.trial {
				s.Install(testModel(3), InstallOptions{})
				s.Activate()
			}
			files, status := dirSnapshot(t, dir), s.Status()
			_, err := s.Install(tt.data, tt.opt)
			wantErr(t, "Install", err, tt.want)
			if tt.want == ErrDowngrade && !strings.Contains(err.Error(), "is not greater than 2 (committed, slot b)") {
				t.Errorf("Install: %v, want both versions named", err)
			}
			if got := dirSnapshot(t, dir); !reflect.DeepEqual(got, files) {
				t.Errorf("Install changed the store's files")
			}
			if got := s.Status(); !reflect.DeepEqual(got, status) {
				t.Errorf("Install changed the status to %+v, want %+v", got, status)
			}
		})
	}
}

// ReadStatus changes nothing, not even a model on trial, and refuses a
// store without a readable state.json.
func TestReadStatus(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadStatus(dir)
	wantErr(t, "ReadStatus of an empty directory", err, "no state.json")
	committed(1)(t, dir)
	onTrial(t, dir, 2)
	files := dirSnapshot(t, dir)
	st, err := ReadStatus(dir)
	if err != nil || !st.Trial || st.Active.Version != 2 || st.Other.Version != 1 {
		t.Fatalf("ReadStatus = %+v, %v; want version 2 on trial", st, err)
	}
	if !reflect.DeepEqual(dirSnapshot(t, dir), files) {
		t.Fatal("ReadStatus changed the store's files")
	}
	write(t, dir, StateFile, "{")
	_, err = ReadStatus(dir)
	wantErr(t, "ReadStatus of a damaged state", err, "state.json damaged")
}

func TestDowngradeMessage(t *testing.T) {
	s := openT(t, t.TempDir())
	update(t, s, 5)
	_, err := s.Install(testModel(3), InstallOptions{})
	want := "version 3 is not greater than 5 (committed, slot a)"
	if !errors.Is(err, ErrDowngrade) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Install(v3) over v5: %v, want ErrDowngrade saying %q", err, want)
	}
}

func TestAllowRollback(t *testing.T) {
	s := openT(t, t.TempDir())
	update(t, s, 5)
	info, err := s.Install(testModel(3), InstallOptions{AllowRollback: true})
	if err != nil || info.Version != 3 || info.Slot != SlotB {
		t.Fatalf("Install(v3, AllowRollback) = %+v, %v; want slot b, version 3", info, err)
	}
	if _, err := s.Activate(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if v := activeVersion(t, s); v != 3 {
		t.Fatalf("active version %d, want 3", v)
	}
	// Version 4 is now newer than the committed model.
	if _, err := s.Install(testModel(4), InstallOptions{}); err != nil {
		t.Fatalf("Install(v4) over committed v3: %v", err)
	}
}

func TestRevert(t *testing.T) {
	s := openT(t, t.TempDir())
	wantErr(t, "Revert on an empty store", func() error { _, err := s.Revert("x"); return err }(), ErrNotOnTrial)
	s.Install(testModel(1), InstallOptions{})
	s.Activate()
	wantErr(t, "Revert of the first model", func() error { _, err := s.Revert("x"); return err }(), ErrNoFallback)
	s.Commit()
	wantErr(t, "Revert when committed", func() error { _, err := s.Revert("x"); return err }(), ErrNotOnTrial)
	wantErr(t, "Commit when committed", s.Commit(), ErrNotOnTrial)
	s.Install(testModel(2), InstallOptions{})
	wantErr(t, "Activate twice", func() error { s.Activate(); _, err := s.Activate(); return err }(), ErrOnTrial)
	info, err := s.Revert("score failed on 3 samples")
	if err != nil || info.Version != 1 {
		t.Fatalf("Revert = %+v, %v; want version 1", info, err)
	}
	st := s.Status()
	r := st.LastRollback
	if r.Reason != "score failed on 3 samples" || r.From != SlotB || r.FromVersion != 2 || r.To != SlotA || r.ToVersion != 1 || st.Trial {
		t.Fatalf("after Revert: Status = %+v", st)
	}
	if !strings.Contains(st.String(), "last rollback: 2025-03-01T12:00:") || !strings.Contains(st.String(), "slot b (version 2) to slot a (version 1): score failed on 3 samples") {
		t.Fatalf("Status().String() =\n%s", st)
	}
	wantErr(t, "Activate after Revert", func() error { _, err := s.Activate(); return err }(), ErrNothingToActivate)
	// The reason survives a restart.
	if got := openT(t, s.Dir()).Status().LastRollback.Reason; got != r.Reason {
		t.Fatalf("after reopen: last rollback %q, want %q", got, r.Reason)
	}
}

func TestRollback(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store)
		want  any    // error
		ver   uint64 // active version afterwards
	}{
		{"to the older model", func(t *testing.T, s *Store) { update(t, s, 1); update(t, s, 2) }, nil, 1},
		{"back again to the newer", func(t *testing.T, s *Store) { update(t, s, 1); update(t, s, 2); s.Rollback() }, nil, 2},
		{"during a trial", func(t *testing.T, s *Store) {
			update(t, s, 1)
			s.Install(testModel(2), InstallOptions{})
			s.Activate()
		}, nil, 1},
		{"empty store", func(t *testing.T, s *Store) {}, ErrNoModel, 0},
		{"other slot empty", func(t *testing.T, s *Store) { update(t, s, 1) }, ErrNoFallback, 1},
		{"other slot never activated", func(t *testing.T, s *Store) {
			update(t, s, 1)
			update(t, s, 2)
			s.Install(testModel(3), InstallOptions{})
		}, "installed but never activated", 2},
		{"other slot damaged", func(t *testing.T, s *Store) {
			update(t, s, 1)
			update(t, s, 2)
			flipBit(t, filepath.Join(s.Dir(), "a.vgm"))
		}, ErrDamaged, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, t.TempDir())
			tt.setup(t, s)
			_, err := s.Rollback()
			wantErr(t, "Rollback", err, tt.want)
			if v := activeVersion(t, s); v != tt.ver {
				t.Fatalf("active version %d, want %d", v, tt.ver)
			}
			if st := s.Status(); tt.want == nil && (st.Trial || st.LastRollback.Reason != "operator rollback") {
				t.Fatalf("Status after Rollback = %+v, want committed with reason %q", st, "operator rollback")
			}
		})
	}
}

// A slot file damaged after Open is refused by Active and Activate.
func TestDamagedAfterOpen(t *testing.T) {
	s := openT(t, t.TempDir())
	update(t, s, 1)
	s.Install(testModel(2), InstallOptions{})
	flipBit(t, filepath.Join(s.Dir(), "a.vgm"))
	flipBit(t, filepath.Join(s.Dir(), "b.vgm"))
	_, _, err := s.Active()
	wantErr(t, "Active", err, ErrDamaged)
	_, err = s.Activate()
	wantErr(t, "Activate", err, ErrDamaged)
}

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no check", Options{}, "Options.Check is required"},
		{"negative size", Options{Check: testCheck, MaxSize: -1}, "MaxSize -1 is negative"},
	}
	for _, tt := range tests {
		_, err := Open(t.TempDir(), tt.o)
		wantErr(t, "Open "+tt.name, err, tt.want)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o640)
	_, err := Open(file, testOptions())
	wantErr(t, "Open on a file", err, "slots: open "+file)
}

// Readers see a whole, checked model at every moment while updates,
// rollbacks and refused installs run in other goroutines.
func TestConcurrentUse(t *testing.T) {
	s := openT(t, t.TempDir())
	update(t, s, 1)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				info, data, err := s.Active()
				if err != nil {
					t.Errorf("Active: %v", err)
					return
				}
				if v, err := testCheck(data); err != nil || v != info.Version {
					t.Errorf("Active returned version %d, data says %d, %v", info.Version, v, err)
					return
				}
				_ = s.Status().String()
			}
		})
	}
	wg.Go(func() { // an operator who keeps rolling back
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.Rollback()
		}
	})
	for v := uint64(2); v <= 20; v++ {
		if _, err := s.Install(testModel(v), InstallOptions{}); err != nil && !errors.Is(err, ErrOnTrial) && !errors.Is(err, ErrDowngrade) {
			t.Errorf("Install(v%d): %v", v, err)
		}
		s.Activate()
		if v%3 == 0 {
			s.Revert("test")
		} else {
			s.Commit()
		}
	}
	close(stop)
	wg.Wait()
	want := s.Status()
	got := openT(t, s.Dir()).Status()
	if got.Active != want.Active || got.Trial != want.Trial {
		t.Fatalf("reopen: active %+v trial %v, want %+v %v", got.Active, got.Trial, want.Active, want.Trial)
	}
}

func TestStatusString(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sum := strings.Repeat("0123456789abcdef", 4)
	a1 := Info{Slot: SlotA, Version: 1, Size: 10, SHA256: sum}
	b2 := Info{Slot: SlotB, Version: 2, Size: 20, SHA256: sum, Installed: at}
	tests := []struct {
		name string
		st   Status
		want string
	}{
		{"empty", Status{Dir: "/m"}, `model store /m
active: none (no working model installed)
other:  empty
`},
		{"installed, not activated", Status{Dir: "/m", Other: b2, Pending: true}, `model store /m
active: none (no working model installed)
other:  slot b, version 2, 20 bytes, sha256 0123456789ab, installed 2025-03-01T12:00:00Z, not activated
`},
		{"on trial", Status{Dir: "/m", Active: b2, Trial: true, ActivatedAt: at, Other: a1}, `model store /m
active: slot b, version 2, 20 bytes, sha256 0123456789ab, on trial since 2025-03-01T12:00:00Z
other:  slot a, version 1, 10 bytes, sha256 0123456789ab, committed: Revert goes back to it
`},
		{"rolled back at start", Status{Dir: "/m", Active: a1, CommittedAt: at, Other: b2,
			LastRollback: RollbackEvent{Reason: "agent restarted during probation", At: at, From: SlotB, FromVersion: 2, To: SlotA, ToVersion: 1},
			Recovered:    "rolled back: agent restarted during probation: ..."}, `model store /m
active: slot a, version 1, 10 bytes, sha256 0123456789ab, committed 2025-03-01T12:00:00Z
other:  slot b, version 2, 20 bytes, sha256 0123456789ab
last rollback: 2025-03-01T12:00:00Z, slot b (version 2) to slot a (version 1): agent restarted during probation
repaired at start: rolled back: agent restarted during probation: ...
`},
		{"no model left", Status{Dir: "/m", LastRollback: RollbackEvent{Reason: "slot a damaged: x", At: at, From: SlotA, FromVersion: 1}}, `model store /m
active: none (no working model installed)
other:  empty
last rollback: 2025-03-01T12:00:00Z, slot a (version 1) to no model: slot a damaged: x
`},
	}
	for _, tt := range tests {
		if got := tt.st.String(); got != tt.want {
			t.Errorf("%s: String() =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
