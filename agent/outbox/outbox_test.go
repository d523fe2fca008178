package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestReopenKeepsOrderAndFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	clock := newClock()
	ob := openT(t, path, Options{Now: clock.Now})
	want := []Record{state(1), alert(1), state(2), alert(2), {Kind: KindAlert, Topic: "x/y", AlertSeq: 9}}
	appendT(t, ob, want[0])
	batch := append([]Record{}, want[1:4]...)
	appendT(t, ob, batch...)
	appendT(t, ob, want[4])
	for i, r := range batch {
		if r.Seq != uint64(i+2) || r.Time.IsZero() {
			t.Errorf("Append assigned seq %d time %v to record %d, want seq %d and a time", r.Seq, r.Time, i+2, i+2)
		}
	}
	before := drain(t, ob)
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	ob = openT(t, path, Options{Now: clock.Now})
	after := drain(t, ob)
	if len(after) != len(want) || len(before) != len(want) {
		t.Fatalf("before reopen %d records, after %d, want %d", len(before), len(after), len(want))
	}
	for i, r := range after {
		w, b := want[i], before[i]
		if r.Seq != uint64(i+1) || r.Kind != w.Kind || r.Topic != w.Topic || r.Retained != w.Retained ||
			r.AlertSeq != w.AlertSeq || !bytes.Equal(r.Payload, w.Payload) || !r.Time.Equal(b.Time) || r.Seq != b.Seq {
			t.Errorf("record %d after reopen = %+v, want %+v (before reopen %+v)", i, r, w, b)
		}
	}
	// Bytes: payloads s1 a1 s2 a2 (8), topics 4 × 5 + "x/y" (23).
	if s := ob.Stats(); s.Pending != 5 || s.PendingAlerts != 3 || s.PendingBytes != 31 ||
		!s.Oldest.Equal(before[0].Time) || s.Recovered {
		t.Errorf("Stats after reopen = %+v", s)
	}
}

func TestSeqNeverReused(t *testing.T) {
	tests := []struct {
		name  string
		ack   bool // acknowledge everything before closing
		close bool // close cleanly; otherwise the file is copied while open (a power cut)
	}{
		{"acked, closed", true, true},
		{"pending, closed", false, true},
		{"acked, power cut", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "outbox.db")
			ob := openT(t, path, Options{AckDelay: time.Hour})
			for i := range 5 {
				appendT(t, ob, alert(uint64(i+1)))
			}
			if tt.ack {
				if err := ob.Ack(5); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.close {
				// Acks are batched: copy the file as a power cut would
				// leave it, before the removal is committed.
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(dir, "copy.db")
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ob.Close()
			ob = openT(t, path, Options{})
			r := alert(6)
			recs := []Record{r}
			appendT(t, ob, recs...)
			if recs[0].Seq != 6 {
				t.Errorf("first seq after reopen = %d, want 6", recs[0].Seq)
			}
			got := drain(t, ob)
			switch {
			case tt.ack && tt.close && len(got) != 1,
				!tt.ack && len(got) != 6,
				// Acknowledged but not yet removed when the power went:
				// sent again, never lost.
				!tt.close && len(got) != 6:
				t.Errorf("pending after reopen: %s", names(got))
			}
		})
	}
}

func TestAckBatching(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{AckBatch: 4, AckDelay: time.Hour})
	for i := range 10 {
		appendT(t, ob, alert(uint64(i+1)))
	}
	steps := []struct {
		ack      uint64
		pending  int // as Stats reports
		inFile   int // keys still in the file
		wantNext uint64
	}{
		{1, 9, 10, 2},
		{3, 7, 10, 4}, // 3 acknowledged: below the batch of 4
		{3, 7, 10, 4}, // acking again changes nothing
		{4, 6, 6, 5},  // 4: committed
		{5, 5, 6, 6},
	}
	for _, s := range steps {
		if err := ob.Ack(s.ack); err != nil {
			t.Fatalf("Ack(%d) = %v", s.ack, err)
		}
		r, _ := ob.Next(0)
		if st := ob.Stats(); st.Pending != s.pending || fileKeys(t, ob) != s.inFile || r.Seq != s.wantNext || st.Acked != uint64(10-s.pending) {
			t.Errorf("after Ack(%d): pending %d, %d keys in the file, Next(0) = %d, Acked %d; want %d, %d, %d", s.ack, st.Pending, fileKeys(t, ob), r.Seq, st.Acked, s.pending, s.inFile, s.wantNext)
		}
	}
	// An Append commits the pending removal with it.
	appendT(t, ob, alert(11))
	if n := fileKeys(t, ob); n != 6 {
		t.Errorf("after an Append: %d keys in the file, want 6 (6..11)", n)
	}
	if err := ob.Ack(7); err != nil {
		t.Fatal(err)
	}
	// Close commits the rest.
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ob.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	ob = openT(t, path, Options{})
	if got := names(drain(t, ob)); got != "a8 a9 a10 a11" {
		t.Errorf("after Close and reopen: %s, want a8 a9 a10 a11", got)
	}

	// The delay: one acknowledgement is committed after AckDelay.
	if err := ob.Ack(8); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); fileKeys(t, ob) != 3; {
		if time.Now().After(deadline) {
			t.Fatalf("the acknowledgement was not committed within 5 s (AckDelay 200 ms)")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAckErrors(t *testing.T) {
	ob := openT(t, filepath.Join(t.TempDir(), "outbox.db"), Options{})
	appendT(t, ob, alert(1), alert(2))
	if err := ob.Ack(7); err == nil || !strings.Contains(err.Error(), "ack 7: no record with that seq") {
		t.Errorf("Ack(7) with seqs up to 2 = %v", err)
	}
	if s := ob.Stats(); s.Pending != 0 || s.Acked != 2 {
		t.Errorf("Ack(7) did not acknowledge up to 2: %+v", s)
	}
	appendT(t, ob, alert(3))
	if r, ok := ob.Next(0); !ok || r.Seq != 3 {
		t.Errorf("Next(0) after acking 2 = %d %v, want 3", r.Seq, ok)
	}
	ob.Close()
	if err := ob.Ack(3); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close = %v, want ErrClosed", err)
	}
	if err := ob.Append(alert(4)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, ok := ob.Next(0); ok {
		t.Errorf("Next after Close returned a record")
	}
}

// step is one Append in a bounds scenario.
type step struct {
	recs []Record
	err  error
}

func TestBounds(t *testing.T) {
	s, a := state, alert
	big := func(r Record, n int) Record {
		r.Payload = append(r.Payload, make([]byte, n)...)
		r.Payload[len(r.Payload)-1] = '!'
		return r
	}
	tests := []struct {
		name        string
		opt         Options
		steps       []step
		want        string // payloads pending afterwards
		dropped     uint64
		full        uint64
		overBoundOK bool
	}{
		{
			name:  "superseded states dropped oldest first",
			opt:   Options{MaxRecords: 5},
			steps: []step{{recs: []Record{s(1), a(1), s(2), a(2), s(3)}}, {recs: []Record{a(3)}}, {recs: []Record{a(4)}}},
			want:  "a1 a2 s3 a3 a4", dropped: 2,
		},
		{
			name:  "the newest state is never dropped for an alert",
			opt:   Options{MaxRecords: 3},
			steps: []step{{recs: []Record{a(1), a(2), s(1)}}, {recs: []Record{a(3)}, err: ErrFull}},
			want:  "a1 a2 s1", full: 1,
		},
		{
			name:  "a new state supersedes every pending state",
			opt:   Options{MaxRecords: 4},
			steps: []step{{recs: []Record{a(1), s(1), a(2), s(2)}}, {recs: []Record{s(3), a(3)}}},
			want:  "a1 a2 s3 a3", dropped: 2,
		},
		{
			name:  "a refused Append drops and stores nothing",
			opt:   Options{MaxRecords: 4},
			steps: []step{{recs: []Record{s(1), a(1), s(2), a(2)}}, {recs: []Record{a(3), a(4)}, err: ErrFull}},
			want:  "s1 a1 s2 a2", full: 2,
		},
		{
			name:  "a lone state always fits",
			opt:   Options{MaxRecords: 2},
			steps: []step{{recs: []Record{a(1), a(2)}}, {recs: []Record{s(1)}}, {recs: []Record{s(2)}}, {recs: []Record{a(3)}, err: ErrFull}},
			want:  "a1 a2 s2", dropped: 1, full: 1, overBoundOK: true,
		},
		{
			name: "bytes: states dropped for a big alert",
			opt:  Options{MaxBytes: 100},
			steps: []step{
				{recs: []Record{big(s(1), 30), a(1), big(s(2), 30)}},
				{recs: []Record{big(a(2), 30)}},
			},
			want: "a1 s2 a2", dropped: 1,
		},
		{
			name: "bytes: an alert larger than everything is refused",
			opt:  Options{MaxBytes: 100},
			steps: []step{
				{recs: []Record{s(1), a(1)}},
				{recs: []Record{big(a(2), 200)}, err: ErrFull},
			},
			want: "s1 a1", full: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ob := openT(t, filepath.Join(t.TempDir(), "outbox.db"), tt.opt)
			for i, st := range tt.steps {
				err := ob.Append(st.recs...)
				if !errors.Is(err, st.err) || (st.err == nil) != (err == nil) {
					t.Fatalf("step %d: Append(%s) = %v, want %v", i, names(st.recs), err, st.err)
				}
			}
			got := drain(t, ob)
			// Strip the padding of big records.
			if g := strings.ReplaceAll(strings.ReplaceAll(names(got), "\x00", ""), "!", ""); g != tt.want {
				t.Errorf("pending = %q, want %q", g, tt.want)
			}
			st := ob.Stats()
			if st.Dropped != tt.dropped || st.Full != tt.full || st.Pending != len(got) {
				t.Errorf("Stats = %+v, want Dropped %d Full %d Pending %d", st, tt.dropped, tt.full, len(got))
			}
			if !tt.overBoundOK && (st.Pending > ob.opt.MaxRecords || st.PendingBytes > ob.opt.MaxBytes) {
				t.Errorf("bounds exceeded: %+v", st)
			}
			// What was kept is what a reopen finds.
			path := ob.Path()
			ob.Close()
			ob = openT(t, path, tt.opt)
			if g := names(drain(t, ob)); g != names(got) {
				t.Errorf("after reopen pending = %q, want %q", g, names(got))
			}
		})
	}
}

func TestInvalidRecords(t *testing.T) {
	ob := openT(t, filepath.Join(t.TempDir(), "outbox.db"), Options{})
	tests := []struct {
		recs []Record
		msg  string
	}{
		{[]Record{alert(1), {Kind: 7, Topic: "x"}}, "record 2 of 2 (kind(7)): kind 7"},
		{[]Record{{Kind: KindAlert, Topic: strings.Repeat("t", MaxTopic+1)}}, "topic is 1025 bytes, limit 1024"},
		{[]Record{{Kind: KindState, Topic: "state", Payload: make([]byte, MaxPayload+1)}}, "payload is 262145 bytes, limit 262144"},
		{[]Record{{Kind: KindAlert, Topic: "a/#"}}, "wildcard"},
	}
	for _, tt := range tests {
		err := ob.Append(tt.recs...)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), ob.Path()) {
			t.Errorf("Append(%.40s) = %v, want ErrInvalid saying %q and the path", names(tt.recs), err, tt.msg)
		}
	}
	if s := ob.Stats(); s.Pending != 0 || s.Appended != 0 {
		t.Errorf("refused records were stored: %+v", s)
	}
	if err := ob.Append(); err != nil {
		t.Errorf("Append() = %v", err)
	}
}

func TestLastStateAndAlertSeqPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{})
	if ob.LastState() != nil || ob.LastAlertSeq() != 0 {
		t.Fatalf("new outbox: LastState %q, LastAlertSeq %d", ob.LastState(), ob.LastAlertSeq())
	}
	appendT(t, ob, state(1), alert(41))
	appendT(t, ob, alert(42), state(2), alert(40)) // highest, not last
	ls := ob.LastState()
	ls[0] = 'X' // a copy
	if got := string(ob.LastState()); got != "s2" || ob.LastAlertSeq() != 42 {
		t.Errorf("LastState %q LastAlertSeq %d, want s2 42", got, ob.LastAlertSeq())
	}
	if err := ob.Ack(5); err != nil {
		t.Fatal(err)
	}
	ob.Close()
	ob = openT(t, path, Options{})
	if got := string(ob.LastState()); got != "s2" || ob.LastAlertSeq() != 42 || ob.Stats().Pending != 0 {
		t.Errorf("after acking all and reopening: LastState %q LastAlertSeq %d pending %d, want s2 42 0", got, ob.LastAlertSeq(), ob.Stats().Pending)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	openT(t, path, Options{})
	start := time.Now()
	ob, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		ob.Close()
		t.Fatal("second Open of the same path succeeded")
	}
	if el := time.Since(start); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) || el > 2*time.Second {
		t.Errorf("second Open = %v after %v, want ErrLocked naming %s within 2 s", err, el, path)
	}
	// Default timeout: a second, not forever.
	start = time.Now()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) || time.Since(start) > 3*time.Second {
		t.Errorf("second Open with the default timeout = %v after %v", err, time.Since(start))
	}
}

func TestOpenOptions(t *testing.T) {
	for _, o := range []Options{{MaxRecords: -1}, {MaxBytes: -1}, {MaxMemoryRecords: -1}, {AckBatch: -1}, {AckDelay: -1}, {LockTimeout: -1}} {
		path := filepath.Join(t.TempDir(), "outbox.db")
		if ob, err := Open(path, o); err == nil || !strings.Contains(err.Error(), "negative") || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%+v) = %v, want an error naming the path and the negative option", o, err)
			if ob != nil {
				ob.Close()
			}
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "outbox.db"), Options{}); err == nil || !strings.Contains(err.Error(), "missing/outbox.db") {
		t.Errorf("Open in a missing directory = %v", err)
	}
}

func TestQuarantineAndUnreadable(t *testing.T) {
	var logs logBuf
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{})
	appendT(t, ob, alert(1), alert(2), alert(3))
	// Damage record 2's value, and put a malformed key in.
	err := ob.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		v := clone(b.Get(seqKey(2)))
		v[len(v)-6] ^= 0x40
		if err := b.Put(seqKey(2), v); err != nil {
			return err
		}
		return b.Put([]byte("junk"), []byte("x"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	ob = openT(t, path, Options{Logger: logs.Logger()})
	if got := names(drain(t, ob)); got != "a1 a3" {
		t.Errorf("after quarantine: %s, want a1 a3", got)
	}
	if s := ob.Stats(); s.Corrupt != 2 {
		t.Errorf("Stats.Corrupt = %d, want 2", s.Corrupt)
	}
	if l := logs.String(); !strings.Contains(l, "seq=2") || !strings.Contains(l, "checksum") || !strings.Contains(l, "key=6a756e6b") {
		t.Errorf("log does not name seq 2, the checksum and the junk key:\n%s", l)
	}
	var kept int
	ob.db.View(func(tx *bolt.Tx) error { kept = tx.Bucket(bucketCorrupt).Stats().KeyN; return nil })
	if kept != 2 {
		t.Errorf("corrupt bucket holds %d values, want 2", kept)
	}

	// A value with a good checksum that this build cannot read: Open
	// refuses, naming the seq.
	err = ob.db.Update(func(tx *bolt.Tx) error {
		v := appendRecord(nil, &Record{Kind: KindAlert, Topic: "alert"})
		v[0] = 2
		return tx.Bucket(bucketRecords).Put(seqKey(3), withCRC(v[:len(v)-4]))
	})
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "record 3: unreadable: format version 2") || !strings.Contains(err.Error(), "mv "+path) {
		t.Errorf("Open with a newer-format record = %v", err)
	}
	// The failed Open released the file.
	if ob, err := Open(path, Options{LockTimeout: 10 * time.Millisecond}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("second Open = %v, want ErrCorrupt again (not ErrLocked)", err)
		if ob != nil {
			ob.Close()
		}
	}
}

func TestConcurrent(t *testing.T) {
	const pairs = 300
	ob := openT(t, filepath.Join(t.TempDir(), "outbox.db"), Options{AckBatch: 8})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // the pipeline
		defer wg.Done()
		for i := range pairs {
			if err := ob.Append(state(i), alert(uint64(i+1))); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // the sender
		defer wg.Done()
		var after, alerts uint64
		timeout := time.After(60 * time.Second)
		for alerts < pairs {
			r, ok := ob.Next(after)
			if !ok {
				select {
				case <-ob.Notify():
				case <-time.After(50 * time.Millisecond):
				case <-timeout:
					errs <- fmt.Errorf("sender: only %d alerts after 60 s", alerts)
					return
				}
				continue
			}
			if r.Seq <= after {
				errs <- fmt.Errorf("Next(%d) = seq %d", after, r.Seq)
				return
			}
			if r.Kind == KindAlert {
				alerts++
				if r.AlertSeq != alerts || string(r.Payload) != fmt.Sprintf("a%d", alerts) {
					errs <- fmt.Errorf("alert %d out of order: %+v", alerts, r)
					return
				}
			}
			if err := ob.Ack(r.Seq); err != nil {
				errs <- err
				return
			}
			after = r.Seq
		}
	}()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // health checks
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
				_ = ob.Stats()
				_ = ob.LastState()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-stopped
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The last state may still be pending: the sender stops at the last alert.
	if s := ob.Stats(); s.Appended != 2*pairs || s.PendingAlerts != 0 || s.Pending > 1 {
		t.Errorf("final Stats = %+v", s)
	}
}
