package slots

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// DefaultMaxSize is Options.MaxSize when it is zero: 16 MiB, the same
// limit as firmware.MaxFileSize.
const DefaultMaxSize = 16 << 20

// Errors for expected refusals; returned errors wrap them with details.
var (
	// ErrDowngrade refuses to install a version not greater than the
	// committed one without InstallOptions.AllowRollback.
	ErrDowngrade = errors.New("slots: downgrade refused")
	// ErrOnTrial refuses Install and Activate while a model is on trial:
	// Commit or Revert first.
	ErrOnTrial = errors.New("slots: a model is on trial")
	// ErrNotOnTrial refuses Commit and Revert when no model is on trial.
	ErrNotOnTrial = errors.New("slots: no model is on trial")
	// ErrNothingToActivate refuses Activate when no model has been
	// installed since the last activation.
	ErrNothingToActivate = errors.New("slots: no installed model waits for activation")
	// ErrNoFallback refuses Revert and Rollback when the slot to go back
	// to holds no model that may be made active.
	ErrNoFallback = errors.New("slots: no model to go back to")
	// ErrNoModel is returned by Active when no slot holds a working model.
	ErrNoModel = errors.New("slots: no active model")
	// ErrDamaged reports a slot file that no longer matches the digest
	// recorded at install, or that Check now refuses.
	ErrDamaged = errors.New("slots: slot file damaged")
)

// Options configure a Store.
type Options struct {
	// Check decodes and verifies a model file and returns its version,
	// which must grow with every release. Required. Check must not keep
	// data after it returns. An error is a refusal.
	Check func(data []byte) (version uint64, err error)
	// MaxSize bounds a model file in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// Now gives the time recorded in state.json; nil means time.Now.
	Now func() time.Time
	// Logger, when set, receives a warning for each repair Open makes.
	Logger *slog.Logger

	// afterStep, for crash tests, is called after every step of a disk
	// write (see writeFile and Store.step).
	afterStep func(step string)
}

// InstallOptions modify Install.
type InstallOptions struct {
	// AllowRollback installs a version not greater than the committed one.
	AllowRollback bool
}

// Info describes the model file in one slot.
type Info struct {
	// Slot is the slot; empty when the Info describes no model.
	Slot Slot
	// Path is the slot file's path.
	Path string
	// Version is the version Check returned.
	Version uint64
	// Size is the file's length in bytes.
	Size int64
	// SHA256 is the file's digest in hex.
	SHA256 string
	// Installed is when Install wrote the file (zero if Open found it).
	Installed time.Time
}

// Store is an A/B model store in one directory. Its methods are safe for
// concurrent use; each holds the store's mutex for its whole duration,
// disk writes included.
type Store struct {
	mu        sync.Mutex
	dir       string
	o         Options
	st        state
	recovered string
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Recovered says what Open repaired, one sentence per repair, or "" when
// the store was in order.
func (s *Store) Recovered() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// Install checks data and writes it into the inactive slot; it does not
// activate it. A refusal by Check is returned wrapped, and a version not
// greater than the committed one is refused with ErrDowngrade unless
// o.AllowRollback is set; a refused install leaves the store untouched.
// Install is refused with ErrOnTrial while a model is on trial, since the
// inactive slot then holds the model to go back to.
func (s *Store) Install(data []byte, o InstallOptions) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.trial() {
		return Info{}, fmt.Errorf("%w (slot %s, version %d): commit or revert it before installing another", ErrOnTrial, s.st.Active, s.st.rec(s.st.Active).Version)
	}
	if int64(len(data)) > s.o.MaxSize {
		return Info{}, fmt.Errorf("slots: install refused: the model file is %d bytes, over the %d-byte limit", len(data), s.o.MaxSize)
	}
	v, err := s.o.Check(data)
	if err != nil {
		return Info{}, fmt.Errorf("slots: install refused: %w", err)
	}
	if c := s.st.Committed; c != "" && v <= s.st.rec(c).Version && !o.AllowRollback {
		return Info{}, fmt.Errorf("%w: version %d is not greater than %d (committed, slot %s); install with AllowRollback to go back", ErrDowngrade, v, s.st.rec(c).Version, c)
	}
	target := s.st.installTarget()
	if err := writeFile(s.dir, target.File(), data, "slot", s.stepper("install")); err != nil {
		s.forget(target)
		return Info{}, fmt.Errorf("slots: install into %s: %w", s.path(target), err)
	}
	next := s.st
	*next.rec(target) = slotRecord{Version: v, Size: int64(len(data)), SHA256: digest(data), Installed: s.now()}
	next.Pending = target
	if err := s.save(next, "install"); err != nil {
		s.forget(target)
		return Info{}, err
	}
	return s.info(target), nil
}

// forget drops, in memory, what the state knows of the inactive slot sl
// after a failed install may have replaced its file.
func (s *Store) forget(sl Slot) {
	*s.st.rec(sl) = slotRecord{}
	if s.st.Pending == sl {
		s.st.Pending = ""
	}
}

// Activate puts the installed model on trial: it becomes the active model
// and the committed one stays in the other slot for Revert. The slot file
// is read back and checked first.
func (s *Store) Activate() (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.trial() {
		return Info{}, fmt.Errorf("%w (slot %s): commit or revert it first", ErrOnTrial, s.st.Active)
	}
	target := s.st.Pending
	if target == "" {
		return Info{}, ErrNothingToActivate
	}
	if _, err := s.verify(target); err != nil {
		return Info{}, fmt.Errorf("slots: activate: %w", err)
	}
	s.step("activate:verified")
	next := s.st
	next.Active, next.Pending = target, ""
	next.ActivatedAt = s.now()
	if err := s.save(next, "activate"); err != nil {
		return Info{}, err
	}
	return s.info(target), nil
}

// Commit ends the active model's probation successfully: it becomes the
// committed model, the one later Reverts and version checks refer to.
func (s *Store) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.trial() {
		return ErrNotOnTrial
	}
	next := s.st
	next.Committed = next.Active
	next.CommittedAt = s.now()
	return s.save(next, "commit")
}

// Revert ends the active model's probation as failed: the committed model,
// read back and checked, becomes active again, and reason is kept as the
// last rollback (see Status). It returns the model now active.
func (s *Store) Revert(reason string) (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.trial() {
		return Info{}, ErrNotOnTrial
	}
	to := s.st.Committed
	if to == "" {
		return Info{}, fmt.Errorf("%w: slot %s is the first model this store has run", ErrNoFallback, s.st.Active)
	}
	return s.switchTo(to, reason, "revert")
}

// Rollback is an operator's switch to the other slot, whatever the
// version it holds: its file must still match its record and pass Check,
// and it must not be a model waiting for Activate. The model becomes active and committed at once (no probation);
// the switch is recorded as the last rollback with the reason "operator
// rollback". During a trial it is the same as Revert("operator rollback").
func (s *Store) Rollback() (Info, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Active == "" {
		return Info{}, ErrNoModel
	}
	to := s.st.Active.Other()
	if s.st.rec(to).empty() {
		return Info{}, fmt.Errorf("%w: slot %s is empty", ErrNoFallback, to)
	}
	if to == s.st.Pending {
		return Info{}, fmt.Errorf("%w: slot %s holds version %d, installed but never activated: use Activate", ErrNoFallback, to, s.st.rec(to).Version)
	}
	return s.switchTo(to, "operator rollback", "rollback")
}

// switchTo makes slot to active and committed after checking its file,
// and records the switch with reason.
func (s *Store) switchTo(to Slot, reason, op string) (Info, error) {
	if _, err := s.verify(to); err != nil {
		return Info{}, fmt.Errorf("slots: %s to slot %s: %w", op, to, err)
	}
	s.step(op + ":verified")
	next := s.st
	from := next.Active
	next.LastRollback = &RollbackEvent{Reason: reason, At: s.now(), From: from, FromVersion: next.rec(from).Version, To: to, ToVersion: next.rec(to).Version}
	if to != next.Committed {
		next.Committed, next.CommittedAt = to, next.LastRollback.At
	}
	next.Active, next.Pending = to, ""
	next.ActivatedAt = next.LastRollback.At
	if err := s.save(next, op); err != nil {
		return Info{}, err
	}
	return s.info(to), nil
}

// Active reads the active slot file, checks it against its recorded digest
// and with Check, and returns it. The returned data is the caller's. It
// returns ErrNoModel when no slot is active and an error wrapping
// ErrDamaged when the file no longer passes (Rollback, or Open again, to
// fall back to the other slot).
func (s *Store) Active() (Info, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Active == "" {
		return Info{}, nil, ErrNoModel
	}
	data, err := s.verify(s.st.Active)
	if err != nil {
		return Info{}, nil, err
	}
	return s.info(s.st.Active), data, nil
}

// verify reads slot sl's file and checks it against its record and Check.
func (s *Store) verify(sl Slot) ([]byte, error) {
	rec := s.st.rec(sl)
	if rec.empty() {
		return nil, fmt.Errorf("slot %s is empty", sl)
	}
	data, v, err := s.readSlot(sl)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	path := s.path(sl)
	if d := digest(data); d != rec.SHA256 {
		return nil, fmt.Errorf("%w: %s: SHA-256 %s, want %s as installed", ErrDamaged, path, d[:12], rec.SHA256[:12])
	}
	if v != rec.Version {
		return nil, fmt.Errorf("%w: %s: Check says version %d, want %d as installed", ErrDamaged, path, v, rec.Version)
	}
	return data, nil
}

// readSlot reads slot sl's file and runs Check on it.
func (s *Store) readSlot(sl Slot) ([]byte, uint64, error) {
	path := s.path(sl)
	data, err := readCapped(path, s.o.MaxSize)
	if err != nil {
		return nil, 0, err
	}
	v, err := s.o.Check(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: Check refused it: %w", path, err)
	}
	return data, v, nil
}

// save writes next as state.json and, once it is durable, adopts it.
func (s *Store) save(next state, op string) error {
	data, err := encodeState(&next)
	if err != nil {
		return fmt.Errorf("slots: %s: encoding %s: %w", op, StateFile, err)
	}
	if err := writeFile(s.dir, StateFile, data, "state", s.stepper(op)); err != nil {
		return fmt.Errorf("slots: %s: writing %s: %w", op, filepath.Join(s.dir, StateFile), err)
	}
	s.st = next
	return nil
}

// info describes slot sl from its record.
func (s *Store) info(sl Slot) Info {
	r := s.st.rec(sl)
	if r.empty() {
		return Info{}
	}
	return Info{Slot: sl, Path: s.path(sl), Version: r.Version, Size: r.Size, SHA256: r.SHA256, Installed: r.Installed}
}

func (s *Store) path(sl Slot) string { return filepath.Join(s.dir, sl.File()) }

func (s *Store) now() time.Time { return s.o.Now().UTC() }

// step reports a finished step to the crash-test hook.
func (s *Store) step(name string) {
	if s.o.afterStep != nil {
		s.o.afterStep(name)
	}
}

// stepper returns a step function that prefixes names with op.
func (s *Store) stepper(op string) func(string) {
	return func(name string) { s.step(op + ":" + name) }
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
