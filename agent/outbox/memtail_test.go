package outbox

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNextAfterGap(t *testing.T) {
	ob := openT(t, filepath.Join(t.TempDir(), "outbox.db"), Options{MaxRecords: 4})
	// Seqs 1 s1, 2 a1, 3 s2, 4 a2; then s3 (5) drops s1 and a3 (6) drops
	// s2: pending 2 4 5 6; acknowledging 2 leaves 4 5 6; a4 (7) is held in
	// memory.
	appendT(t, ob, state(1), alert(1), state(2), alert(2))
	appendT(t, ob, state(3))
	appendT(t, ob, alert(3))
	if err := ob.Ack(2); err != nil {
		t.Fatal(err)
	}
	setFail(ob, func() error { return errors.New("disk on fire") })
	if err := ob.Append(alert(4)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("Append with a failing disk = %v", err)
	}
	tests := []struct {
		after uint64
		want  uint64 // 0: none
	}{{0, 4}, {1, 4}, {2, 4}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 0}, {100, 0}}
	for _, tt := range tests {
		r, ok := ob.Next(tt.after)
		if ok != (tt.want != 0) || r.Seq != tt.want {
			t.Errorf("Next(%d) = %d %v, want %d", tt.after, r.Seq, ok, tt.want)
		}
	}
	setFail(ob, nil)
}

// setFail makes ob's commits fail with f's error (nil: stop failing).
func setFail(ob *Outbox, f func() error) {
	ob.mu.Lock()
	ob.failCommit = f
	ob.mu.Unlock()
}

func TestMemoryTail(t *testing.T) {
	clock := newClock()
	var logs logBuf
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{Now: clock.Now, MaxMemoryRecords: 4, Logger: logs.Logger()})
	ob.retryEvery = time.Hour // of the fake clock; keeps the real-time timer away
	appendT(t, ob, state(1), alert(1))
	fail := errors.New("no space left on device (injected)")
	var failing atomic.Bool
	failing.Store(true)
	setFail(ob, func() error {
		if failing.Load() {
			return fail
		}
		return nil
	})
	err := ob.Append(state(2), alert(2))
	if !errors.Is(err, ErrNotDurable) || !errors.Is(err, fail) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Append with a failing disk = %v, want ErrNotDurable wrapping the cause and naming the path", err)
	}
	if err := ob.Append(alert(3)); !errors.Is(err, ErrNotDurable) {
		t.Fatalf("second Append with a failing disk = %v", err)
	}
	if got := names(drain(t, ob)); got != "s1 a1 s2 a2 a3" {
		t.Errorf("Next while failing offers %s, want s1 a1 s2 a2 a3", got)
	}
	if s := ob.Stats(); s.MemoryOnly != 3 || s.Pending != 5 || !errors.Is(s.DiskErr, fail) || string(ob.LastState()) != "s2" || ob.LastAlertSeq() != 3 {
		t.Errorf("Stats while failing = %+v, LastState %q, LastAlertSeq %d", s, ob.LastState(), ob.LastAlertSeq())
	}
	// Acknowledging a durable and a memory-only record while failing.
	if err := ob.Ack(3); err != nil {
		t.Errorf("Ack within a second of the failure = %v, want nil (no retry yet)", err)
	}
	// The memory tail bound: 2 held (a2 a3), 4 allowed; a state pair
	// fits, the next alert only after dropping the superseded s3.
	appendT2 := func(want error, recs ...Record) {
		t.Helper()
		if err := ob.Append(recs...); !errors.Is(err, want) {
			t.Fatalf("Append(%s) = %v, want %v", names(recs), err, want)
		}
	}
	appendT2(ErrNotDurable, state(3), alert(4))
	appendT2(ErrNotDurable, state(4))
	if s := ob.Stats(); s.MemoryOnly != 4 || s.Dropped != 1 {
		t.Errorf("after filling the memory tail: %+v, want 4 in memory, 1 dropped", s)
	}
	appendT2(ErrFull, alert(5), alert(6))
	if s := ob.Stats(); s.MemoryOnly != 4 || s.Full != 2 {
		t.Errorf("after a refused Append: %+v, want 4 in memory, 2 refused", s)
	}
	if !strings.Contains(logs.String(), "holding records in memory") || strings.Count(logs.String(), "level=ERROR") != 1 {
		t.Errorf("want one error logged for the failure, got:\n%s", logs.String())
	}
	// Next and Ack retry only once the retry interval has passed.
	failing.Store(false)
	ob.Next(0)
	ob.Ack(0)
	if ob.Stats().MemoryOnly != 4 {
		t.Errorf("Next retried before the retry interval passed")
	}
	clock.Advance(2 * time.Hour)
	ob.Next(0)
	if s := ob.Stats(); s.MemoryOnly != 0 || s.DiskErr != nil || s.Pending != 4 {
		t.Errorf("after the disk recovered and the interval passed: %+v", s)
	}
	// s3 was dropped from the memory tail to make room for s4.
	got := names(drain(t, ob))
	ob.Close()
	ob = openT(t, path, Options{})
	if g := names(drain(t, ob)); g != got || g != "a2 a3 a4 s4" {
		t.Errorf("after reopen %q, before %q, want a2 a3 a4 s4", g, got)
	}
	if string(ob.LastState()) != "s4" || ob.LastAlertSeq() != 4 {
		t.Errorf("after reopen LastState %q LastAlertSeq %d, want s4 4", ob.LastState(), ob.LastAlertSeq())
	}
}

func TestMemoryTailTimerRetryAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{})
	var failing atomic.Bool
	failing.Store(true)
	setFail(ob, func() error {
		if failing.Load() {
			return errors.New("I/O error (injected)")
		}
		return nil
	})
	if err := ob.Append(alert(1)); !errors.Is(err, ErrNotDurable) {
		t.Fatal(err)
	}
	// Nothing calls: the timer retries about once a second.
	failing.Store(false)
	for deadline := time.Now().Add(5 * time.Second); ob.Stats().MemoryOnly != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the memory tail was not written within 5 s of the disk recovering")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Close with a failing disk loses the tail and says so.
	failing.Store(true)
	if err := ob.Append(alert(2), alert(3)); !errors.Is(err, ErrNotDurable) {
		t.Fatal(err)
	}
	err := ob.Close()
	if !errors.Is(err, ErrNotDurable) || !strings.Contains(err.Error(), "2 records held in memory only are lost") {
		t.Errorf("Close with a failing disk = %v", err)
	}
	ob = openT(t, path, Options{})
	if got := names(drain(t, ob)); got != "a1" {
		t.Errorf("after reopen: %s, want a1", got)
	}
	r := []Record{alert(9)}
	appendT(t, ob, r...)
	if r[0].Seq != 2 {
		// Seqs 2 and 3 were never on disk; reusing them is allowed
		// (see doc.go) and what happens.
		t.Logf("first seq after losing the memory tail: %d", r[0].Seq)
	}
}
