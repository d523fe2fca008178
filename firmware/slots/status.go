package slots

import (
	"fmt"
	"strings"
	"time"
)

// Status is what an operator needs to know about a store, as printed by
// `vigil-agent model status` (see String).
type Status struct {
	// Dir is the store's directory.
	Dir string
	// Active is the active model; Active.Slot is empty when there is none.
	Active Info
	// Trial reports that Active is on probation: Commit or Revert ends it.
	Trial bool
	// ActivatedAt and CommittedAt are when the active model was activated
	// and committed (zero when unknown, or not committed yet).
	ActivatedAt, CommittedAt time.Time
	// Other is the other slot's model: during a trial the one Revert goes
	// back to. Other.Slot is empty when the slot holds nothing known.
	Other Info
	// Pending reports that Other was installed and waits for Activate.
	Pending bool
	// LastRollback is the last switch away from a model; its Reason is
	// empty when there has been none.
	LastRollback RollbackEvent
	// Recovered is what Open repaired, or "" (see Store.Recovered).
	Recovered string
}

// Status returns the store's status.
func (s *Store) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Dir: s.dir, Trial: s.st.trial(), Recovered: s.recovered}
	if a := s.st.Active; a != "" {
		st.Active = s.info(a)
		st.Other = s.info(a.Other())
		st.ActivatedAt, st.CommittedAt = s.st.ActivatedAt, s.st.CommittedAt
		if st.Trial {
			st.CommittedAt = time.Time{}
		}
	} else if p := s.st.Pending; p != "" {
		st.Other = s.info(p)
	}
	st.Pending = st.Other.Slot != "" && st.Other.Slot == s.st.Pending
	if r := s.st.LastRollback; r != nil {
		st.LastRollback = *r
	}
	return st
}

// ReadStatus reads the status of the store in dir from its state file
// alone, changing nothing: it is for another process, such as an operator
// command, while the agent has the store open. (Open repairs, and would
// roll back a model the running agent has on trial.) It does not read the
// slot files, and fails when state.json is missing or damaged.
func ReadStatus(dir string) (Status, error) {
	st, _, err := readState(dir)
	if err != nil {
		return Status{}, fmt.Errorf("slots: status of %s: %w", dir, err)
	}
	s := &Store{dir: dir, st: st}
	return s.Status(), nil
}

// String formats the status for people, one fact a line.
func (st Status) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model store %s\n", st.Dir)
	switch {
	case st.Active.Slot == "":
		b.WriteString("active: none (no working model installed)\n")
	case st.Trial:
		fmt.Fprintf(&b, "active: %s, on trial since %s\n", describe(st.Active), stamp(st.ActivatedAt))
	default:
		fmt.Fprintf(&b, "active: %s, committed %s\n", describe(st.Active), stamp(st.CommittedAt))
	}
	switch {
	case st.Other.Slot == "":
		b.WriteString("other:  empty\n")
	case st.Pending:
		fmt.Fprintf(&b, "other:  %s, installed %s, not activated\n", describe(st.Other), stamp(st.Other.Installed))
	case st.Trial:
		fmt.Fprintf(&b, "other:  %s, committed: Revert goes back to it\n", describe(st.Other))
	default:
		fmt.Fprintf(&b, "other:  %s\n", describe(st.Other))
	}
	if r := st.LastRollback; r.Reason != "" {
		fmt.Fprintf(&b, "last rollback: %s, %s to %s: %s\n", stamp(r.At), side(r.From, r.FromVersion), side(r.To, r.ToVersion), r.Reason)
	}
	if st.Recovered != "" {
		fmt.Fprintf(&b, "repaired at start: %s\n", st.Recovered)
	}
	return b.String()
}

func describe(i Info) string {
	return fmt.Sprintf("slot %s, version %d, %d bytes, sha256 %.12s", i.Slot, i.Version, i.Size, i.SHA256)
}

func side(s Slot, v uint64) string {
	if s == "" {
		return "no model"
	}
	return fmt.Sprintf("slot %s (version %d)", s, v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(time unknown)"
	}
	return t.UTC().Format(time.RFC3339)
}
