package outbox

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Kind says what a record is, and so whether it may be dropped.
type Kind uint8

// Record kinds.
const (
	KindState Kind = 1 // the retained current-state message; only the newest matters
	KindAlert Kind = 2 // one per state change; never dropped
)

// String returns "state", "alert" or "kind(N)".
func (k Kind) String() string {
	switch k {
	case KindState:
		return "state"
	case KindAlert:
		return "alert"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Record is one queued MQTT message.
type Record struct {
	Seq      uint64 // assigned by Append: strictly increasing, persistent across restarts, never reused for a stored record
	Kind     Kind   // KindState or KindAlert
	Topic    string // topic suffix under the agent's prefix, e.g. "alert"; at most MaxTopic bytes, no NUL, '+' or '#'
	Retained bool   // publish with the MQTT retain flag
	// AlertSeq is the per-device alert number carried in the payload of a
	// KindAlert record, set by the caller. A KindState record may carry the
	// highest number used so far (for an alert that could not be stored),
	// so that LastAlertSeq never hands it out again.
	AlertSeq uint64
	Time     time.Time // when it was queued (set by Append from Options.Now; read back with nanosecond precision, no monotonic reading)
	Payload  []byte    // at most MaxPayload bytes
}

// Options configure Open. The zero value of a field means its default.
type Options struct {
	// MaxRecords bounds the pending records, durable and memory-only
	// (default 100000).
	MaxRecords int
	// MaxBytes bounds the pending records' topic plus payload bytes
	// (default 32 MiB).
	MaxBytes int64
	// Now gives the queue time of appended records and paces disk retries
	// (default time.Now).
	Now func() time.Time
	// Logger receives warnings (a recovered torn write, quarantined
	// values) and errors (failed background commits). Default: discard.
	Logger *slog.Logger

	// MaxMemoryRecords bounds the records held in memory only while the
	// disk refuses writes (default 10000); beyond it Append returns
	// ErrFull.
	MaxMemoryRecords int
	// AckBatch and AckDelay bound how long acknowledged records stay in
	// the file: their removal is committed once AckBatch records (default
	// 64) are acknowledged, or AckDelay (default 200 ms) after the first
	// of them, or with the next Append, or at Close, whichever is first.
	AckBatch int
	AckDelay time.Duration
	// LockTimeout is how long Open waits for another process to release
	// the file (default 1 s) before it fails with ErrLocked.
	LockTimeout time.Duration
}

// Defaults for Options.
const (
	DefaultMaxRecords       = 100000
	DefaultMaxBytes         = 32 << 20
	DefaultMaxMemoryRecords = 10000
	DefaultAckBatch         = 64
	DefaultAckDelay         = 200 * time.Millisecond
	DefaultLockTimeout      = time.Second
)

const (
	// retryInterval paces attempts to move the memory tail to disk
	// outside Append.
	retryInterval = time.Second
	// initialMmapSize is bbolt's first mapping (address space, not RAM;
	// on Linux the file grows to it once the first commit needs room).
	// 1 MiB holds a few thousand alerts without a remap and costs
	// nothing on a 512 MiB Pi Zero; bbolt doubles it as the file grows.
	initialMmapSize = 1 << 20
	// fileFormat is the layout version in the meta bucket.
	fileFormat = 1
)

// Errors. Errors returned by this package wrap one of these, and carry
// the file's path and the cause.
var (
	// ErrFull: an alert did not fit even after dropping superseded state
	// records, or the memory tail is full while the disk is failing.
	// Nothing of the Append was stored.
	ErrFull = errors.New("outbox: full")
	// ErrNotDurable: stored in memory only (disk error); will still be
	// sent, but is lost if the process dies before the disk accepts it.
	ErrNotDurable = errors.New("outbox: not durable")
	// ErrInvalid: Append refused a record (kind, topic or payload size).
	ErrInvalid = errors.New("outbox: invalid record")
	// ErrLocked: another process (or another Open in this one) holds the
	// file.
	ErrLocked = errors.New("outbox: file in use")
	// ErrCorrupt: Open found the file damaged beyond what it may repair
	// by itself.
	ErrCorrupt = errors.New("outbox: file damaged")
	// ErrClosed: the Outbox was closed.
	ErrClosed = errors.New("outbox: closed")
)

var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	bucketCorrupt = []byte("corrupt")

	keyNext     = []byte("next")      // u64: the next seq Append assigns
	keyState    = []byte("state")     // payload of the newest KindState record
	keyAlertSeq = []byte("alert-seq") // u64: highest AlertSeq appended
	keyFormat   = []byte("format")    // u8: fileFormat
	errNoRecord = errors.New("record missing from the file")
)

// entry is the in-memory index of one pending record.
type entry struct {
	seq  uint64
	at   int64 // queue time, Unix nanoseconds
	size int32 // topic + payload bytes
	kind Kind
}

// memRec is a record not yet on disk, with its encoded value.
type memRec struct {
	entry
	val []byte
}

// Outbox is the durable, ordered queue. Its methods are safe for
// concurrent use; one producer (Append) and one consumer (Next, Ack) is
// the intended pattern, Stats may be called from anywhere.
type Outbox struct {
	path      string
	opt       Options
	log       *slog.Logger
	db        *bolt.DB
	notify    chan struct{}
	recovered bool

	mu            sync.Mutex
	closed        bool
	idx           []entry  // durable pending records, ascending seq
	tail          []memRec // memory-only pending records, ascending seq, after idx
	pendingStates int      // KindState records in idx and tail
	pendingBytes  int64
	nextSeq       uint64 // the seq the next appended record gets
	lastState     []byte
	lastAlertSeq  uint64
	metaDirty     bool     // nextSeq, lastState, lastAlertSeq not yet committed
	acked         uint64   // every seq ≤ acked is acknowledged
	ackDone       uint64   // every seq ≤ ackDone is removed from the file
	unflushed     int      // durable records acknowledged since the last commit
	drops         []uint64 // durable superseded states dropped, still in the file
	quarantine    [][]byte // keys of undecodable values to move to the corrupt bucket
	timer         *time.Timer
	timerArmed    bool
	diskErr       error // the last commit's error; nil after a success
	nextRetry     time.Time
	st            Stats // counters only

	// retryEvery paces retries of a failed write (retryInterval; tests
	// lengthen it to keep the timer out of the way).
	retryEvery time.Duration
	// failCommit, when set (tests), makes commits fail with its error.
	failCommit func() error
}

// Notify returns a channel that receives (without blocking Append; it has
// capacity 1) after every Append that queued records.
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// LastState returns a copy of the payload of the newest KindState record
// ever appended, or nil. It is committed in the same transaction as that
// record and kept after the record is acknowledged.
func (o *Outbox) LastState() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lastState == nil {
		return nil
	}
	return clone(o.lastState)
}

// LastAlertSeq returns the highest AlertSeq of a record ever
// appended (committed with it), 0 if none. While records are held in
// memory only it includes theirs; if the process then dies, the value
// after the restart is the last durable one.
func (o *Outbox) LastAlertSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastAlertSeq
}

// Recovered reports whether Open found the file's last write torn and
// opened it at the last complete transaction.
func (o *Outbox) Recovered() bool { return o.recovered }

// Path returns the file's path.
func (o *Outbox) Path() string { return o.path }

// Stats is a snapshot for metrics and health checks. Counters count since
// Open.
type Stats struct {
	Pending       int       // records not yet acknowledged, on disk or in memory
	PendingAlerts int       // of which KindAlert
	PendingBytes  int64     // their topic plus payload bytes
	Oldest        time.Time // queue time of the oldest pending record; zero if none
	MemoryOnly    int       // pending records held in memory only (the disk failing)
	Dropped       uint64    // superseded state records dropped to make room
	Full          uint64    // alert records refused with ErrFull
	Corrupt       uint64    // undecodable values moved to the file's corrupt bucket
	Recovered     bool      // as Recovered
	Appended      uint64    // records queued by Append (durable or in memory)
	Acked         uint64    // pending records removed by Ack
	DiskErr       error     // why the last write failed; nil once a write succeeds
}

// Stats returns current figures.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.st
	s.Pending = len(o.idx) + len(o.tail)
	s.PendingAlerts = s.Pending - o.pendingStates
	s.PendingBytes = o.pendingBytes
	s.MemoryOnly = len(o.tail)
	s.DiskErr = o.diskErr
	switch {
	case len(o.idx) > 0:
		s.Oldest = time.Unix(0, o.idx[0].at)
	case len(o.tail) > 0:
		s.Oldest = time.Unix(0, o.tail[0].at)
	}
	return s
}

// Close commits pending acknowledgements and closes the file. Records still
// held in memory only are written if the disk now accepts them; if not,
// they are lost and the error (wrapping ErrNotDurable) says how many.
// Close is safe to call twice; the second call returns nil.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	var err error
	if o.dirtyLocked() {
		if ferr := o.flushLocked(); ferr != nil {
			if n := len(o.tail); n > 0 {
				err = fmt.Errorf("%w: close %s: %d records held in memory only are lost: %w", ErrNotDurable, o.path, n, ferr)
			} else {
				err = fmt.Errorf("%w: close %s: committing acknowledgements (those records will be sent again): %w", ErrNotDurable, o.path, ferr)
			}
		}
	}
	if cerr := o.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("outbox: close %s: %w", o.path, cerr)
	}
	return err
}
