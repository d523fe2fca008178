package outbox

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fakeClock is an injectable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_750_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuf collects log output for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func openT(t testing.TB, path string, o Options) *Outbox {
	t.Helper()
	ob, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { ob.Close() })
	return ob
}

func alert(n uint64) Record {
	return Record{Kind: KindAlert, Topic: "alert", AlertSeq: n, Payload: fmt.Appendf(nil, "a%d", n)}
}

func state(n int) Record {
	return Record{Kind: KindState, Topic: "state", Retained: true, Payload: fmt.Appendf(nil, "s%d", n)}
}

func appendT(t testing.TB, ob *Outbox, recs ...Record) {
	t.Helper()
	if err := ob.Append(recs...); err != nil {
		t.Fatalf("Append(%s) = %v", names(recs), err)
	}
}

// drain returns every pending record, oldest first, without acknowledging.
func drain(t testing.TB, ob *Outbox) []Record {
	t.Helper()
	var out []Record
	var after uint64
	for {
		r, ok := ob.Next(after)
		if !ok {
			return out
		}
		if r.Seq <= after {
			t.Fatalf("Next(%d) returned seq %d", after, r.Seq)
		}
		out, after = append(out, r), r.Seq
	}
}

// names lists the payloads of recs, which the tests make unique.
func names(recs []Record) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = string(r.Payload)
	}
	return strings.Join(s, " ")
}

// fileKeys counts the records bucket's keys, acknowledged or not.
func fileKeys(t *testing.T, ob *Outbox) int {
	t.Helper()
	var n int
	if err := ob.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketRecords).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
