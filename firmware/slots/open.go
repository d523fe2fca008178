package slots

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Open opens the store in dir, creating the directory (mode 0750) and an
// empty state.json if they are missing, and repairs what an interrupted
// step left (see the package documentation): leftover temporary files are
// removed, a model on trial is rolled back, a damaged active slot is
// replaced by the other slot, a missing or damaged state.json is rebuilt
// from the slot files. Repairs are written back to state.json before Open
// returns and are described by Recovered. Open fails only when Options
// are invalid or the directory cannot be read or written.
func Open(dir string, o Options) (*Store, error) {
	if err := o.fill(); err != nil {
		return nil, fmt.Errorf("slots: open %s: %w", dir, err)
	}
	if err := makeDir(dir); err != nil {
		return nil, fmt.Errorf("slots: open %s: %w", dir, err)
	}
	s := &Store{dir: dir, o: o}
	notes, err := s.load()
	if err != nil {
		return nil, err
	}
	s.recovered = strings.Join(notes, "; ")
	for _, n := range notes {
		o.Logger.Warn("slots: repaired the model store", "dir", dir, "repair", n)
	}
	return s, nil
}

// load removes leftover temporary files, reads state.json and the slot
// files, repairs the state or rebuilds it, writes it back if it changed
// and adopts it. It returns one note per repair.
func (s *Store) load() ([]string, error) {
	var notes []string
	n, err := removeTemps(s.dir)
	if err != nil {
		return nil, fmt.Errorf("slots: open %s: %w", s.dir, err)
	}
	if n > 0 {
		notes = append(notes, fmt.Sprintf("removed %d temporary file(s) left by an interrupted write", n))
	}
	sc := map[Slot]scan{SlotA: s.scan(SlotA), SlotB: s.scan(SlotB)}
	st, hint, err := readState(s.dir)
	write := true
	switch {
	case errors.Is(err, errNoState) && !sc[SlotA].exists && !sc[SlotB].exists:
		// A new store.
	case errors.Is(err, errNoState) || errors.Is(err, errStateDamaged):
		var note string
		st, note = s.rebuild(sc, hint)
		notes = append(notes, fmt.Sprintf("%v: rebuilt from the slot files: %s", err, note))
	case err != nil:
		return nil, fmt.Errorf("slots: open %s: %w", s.dir, err)
	default:
		var fixed []string
		before := st
		st, fixed = s.repair(st, sc)
		notes = append(notes, fixed...)
		write = !sameState(&before, &st)
	}
	if write {
		if err := s.save(st, "open"); err != nil {
			return nil, err
		}
	}
	s.st = st
	return notes, nil
}

// fill checks o and sets defaults.
func (o *Options) fill() error {
	if o.Check == nil {
		return errors.New("Options.Check is required")
	}
	if o.MaxSize < 0 {
		return fmt.Errorf("Options.MaxSize %d is negative", o.MaxSize)
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = discardLogger
	}
	return nil
}

var discardLogger = slog.New(slog.DiscardHandler)

// sameState reports whether a and b would be written as the same bytes.
func sameState(a, b *state) bool {
	x, errX := encodeState(a)
	y, errY := encodeState(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}

// makeDir creates dir if it is missing and makes its entry durable.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// removeTemps removes the store's temporary files from dir and returns
// how many there were.
func removeTemps(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !isTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("removing a leftover temporary file: %w", err)
		}
		n++
	}
	return n, nil
}

// scan is what Open found in one slot file.
type scan struct {
	exists bool
	rec    slotRecord // the file's version, size and digest, when err is nil
	err    error      // why the file cannot be used
}

// scan reads slot sl's file and runs Check on it.
func (s *Store) scan(sl Slot) scan {
	data, v, err := s.readSlot(sl)
	if errors.Is(err, fs.ErrNotExist) {
		return scan{err: fmt.Errorf("%s is missing", s.path(sl))}
	}
	if err != nil {
		return scan{exists: true, err: err}
	}
	return scan{exists: true, rec: slotRecord{Version: v, Size: int64(len(data)), SHA256: digest(data)}}
}

// matches reports whether the file is usable and is the one r records.
func (c scan) matches(r slotRecord) bool {
	return c.err == nil && !r.empty() && c.rec.SHA256 == r.SHA256 && c.rec.Version == r.Version
}

// why says why the file is not the one r records.
func (c scan) why(r slotRecord) string {
	switch {
	case c.err != nil:
		return c.err.Error()
	case c.rec.SHA256 != r.SHA256:
		return fmt.Sprintf("SHA-256 %.12s, want %.12s as installed", c.rec.SHA256, r.SHA256)
	default:
		return fmt.Sprintf("Check says version %d, want %d as installed", c.rec.Version, r.Version)
	}
}

// repair resolves a trial interrupted by a restart, a damaged active slot
// and inactive slot files that differ from their records; it returns the
// repaired state and one note per repair.
func (s *Store) repair(st state, sc map[Slot]scan) (state, []string) {
	var notes []string
	good := func(sl Slot) bool { return sc[sl].matches(*st.rec(sl)) }
	now := s.now()
	switch a, c := st.Active, st.Committed; {
	case st.trial() && c != "" && good(c):
		st.LastRollback = event("agent restarted during probation", now, &st, a, c)
		st.Active, st.ActivatedAt = c, now
		notes = append(notes, fmt.Sprintf("rolled back: agent restarted during probation: slot %s (version %d) was on trial; slot %s (version %d) is active again", a, st.rec(a).Version, c, st.rec(c).Version))
	case st.trial() && good(a):
		if c != "" {
			notes = append(notes, fmt.Sprintf("the committed slot %s cannot be used: %s", c, sc[c].why(*st.rec(c))))
			*st.rec(c) = slotRecord{}
			st.Committed = ""
		}
		notes = append(notes, fmt.Sprintf("slot %s (version %d) was on trial when the agent stopped and there is no committed model to go back to: its probation starts again", a, st.rec(a).Version))
	case a != "" && !good(a):
		st, notes = s.fallBack(st, sc, now)
	}
	for _, sl := range []Slot{SlotA, SlotB} {
		if sl == st.Active || sl == st.Committed || good(sl) {
			continue
		}
		if n := adopt(&st, sl, sc[sl]); n != "" {
			notes = append(notes, n)
		}
	}
	return st, notes
}

// fallBack replaces the active slot, which does not match its record,
// with the other slot if its file passes Check, or else leaves the store
// without an active model.
func (s *Store) fallBack(st state, sc map[Slot]scan, now time.Time) (state, []string) {
	a, o := st.Active, st.Active.Other()
	why := fmt.Sprintf("slot %s damaged: %s", a, sc[a].why(*st.rec(a)))
	if c := sc[o]; c.err == nil {
		if c.rec.SHA256 != st.rec(o).SHA256 {
			*st.rec(o) = c.rec
		}
		st.LastRollback = event(why, now, &st, a, o)
		*st.rec(a) = slotRecord{}
		st.Active, st.Committed, st.Pending = o, o, ""
		st.ActivatedAt, st.CommittedAt = now, now
		return st, []string{fmt.Sprintf("%s; fell back to slot %s (version %d)", why, o, c.rec.Version)}
	}
	st.LastRollback = event(why, now, &st, a, "")
	st = state{LastRollback: st.LastRollback}
	return st, []string{fmt.Sprintf("%s; slot %s cannot be used either: %s; no active model", why, o, sc[o].err)}
}

// adopt brings the record of slot sl, neither active nor committed, in
// line with its file c: a good file that differs from the record (an
// install cut short after its rename) is recorded as installed and not
// activated; an unusable file is forgotten. It returns a note, or "" when
// the record was already right.
func adopt(st *state, sl Slot, c scan) string {
	r := st.rec(sl)
	if c.err == nil {
		*r = c.rec
		if st.Pending == "" {
			st.Pending = sl
		}
		return fmt.Sprintf("slot %s holds version %d, a file %s does not record (an install cut short after its rename): recorded as installed, not activated", sl, c.rec.Version, StateFile)
	}
	if r.empty() {
		return ""
	}
	*r = slotRecord{}
	if st.Pending == sl {
		st.Pending = ""
	}
	return fmt.Sprintf("slot %s forgotten: %s", sl, c.err)
}

// rebuild makes a state from the slot files alone, preferring slot hint
// when it passes Check; it returns a note saying what it chose.
func (s *Store) rebuild(sc map[Slot]scan, hint Slot) (state, string) {
	var st state
	var ok []Slot
	for _, sl := range []Slot{SlotA, SlotB} {
		if sc[sl].err == nil {
			*st.rec(sl) = sc[sl].rec
			ok = append(ok, sl)
		}
	}
	now := s.now()
	switch {
	case len(ok) == 0:
		return st, fmt.Sprintf("no slot file passes Check (%v; %v): no active model", sc[SlotA].err, sc[SlotB].err)
	case len(ok) == 1:
		st.Active, st.Committed, st.ActivatedAt = ok[0], ok[0], now
		return st, fmt.Sprintf("slot %s (version %d) is the committed model", ok[0], st.rec(ok[0]).Version)
	case hint != "":
		st.Active, st.Committed, st.ActivatedAt = hint, hint, now
		return st, fmt.Sprintf("slot %s (version %d), committed as far as the damaged %s says, is active", hint, st.rec(hint).Version, StateFile)
	}
	hi, lo := SlotA, SlotB
	if st.B.Version > st.A.Version {
		hi, lo = SlotB, SlotA
	}
	st.Active, st.ActivatedAt = hi, now
	if st.A.Version == st.B.Version {
		st.Committed = hi
		return st, fmt.Sprintf("both slots hold version %d: slot %s is the committed model", st.A.Version, hi)
	}
	st.Committed = lo
	return st, fmt.Sprintf("slot %s (version %d) goes on trial; slot %s (version %d) is the model to go back to", hi, st.rec(hi).Version, lo, st.rec(lo).Version)
}

// event records a switch from slot from to slot to ("" for none).
func event(reason string, at time.Time, st *state, from, to Slot) *RollbackEvent {
	ev := &RollbackEvent{Reason: reason, At: at, From: from, To: to}
	if from != "" {
		ev.FromVersion = st.rec(from).Version
	}
	if to != "" {
		ev.ToVersion = st.rec(to).Version
	}
	return ev
}
