package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Open opens or creates the outbox file at path. It fails with ErrLocked
// if another process holds the file, and with ErrCorrupt (the message says
// how to move the file aside) if the file cannot be opened without losing
// data silently. A zero-length file, or one whose creation was cut short,
// is started anew. If the last write before a power cut was torn, Open
// discards it, logs a warning and reports Recovered.
func Open(path string, o Options) (*Outbox, error) {
	if err := o.fill(); err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// The new file's directory entry must be durable too: bbolt
		// syncs only the file.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("outbox: creating %s: %w", path, err)
		}
	}
	if err := lockFile(f, o.LockTimeout); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v (is another vigil-agent using the same outbox path?)", ErrLocked, path, err)
	}
	ob, err := open(f, path, o)
	if err != nil {
		return nil, err
	}
	return ob, nil
}

// open continues Open with f locked; it closes f on failure.
func open(f *os.File, path string, o Options) (ob *Outbox, err error) {
	var db *bolt.DB
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s: bbolt panicked reading it: %v; %s", ErrCorrupt, path, p, moveAside(path))
		}
		if err != nil {
			if db != nil {
				db.Close()
			} else {
				f.Close()
			}
			ob = nil
		}
	}()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	chk, err := checkFile(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w; %s", path, err, moveAside(path))
	}
	switch {
	case chk.fresh && info.Size() > 0:
		o.Logger.Warn("outbox: the file's creation was cut short; starting with an empty outbox", "path", path, "reason", chk.why)
		if err := f.Truncate(0); err != nil {
			return nil, fmt.Errorf("outbox: %s: emptying a file whose creation was cut short: %w", path, err)
		}
	case chk.recovered:
		o.Logger.Warn("outbox: the last write before the power was lost was interrupted and has been discarded; every record whose Append had returned nil is intact",
			"path", path, "meta_page", chk.bad, "meta_error", chk.badErr.Error(), "txid", chk.txid)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.LockTimeout,
		InitialMmapSize: initialMmapSize,
		// The queue stays small (tens of MiB at most), so the array
		// freelist's linear allocation costs little, and it is written
		// with every commit: reopening never has to rebuild it by
		// walking the file, which with NoFreelistSync happens in a
		// bbolt goroutine that panics unrecoverably on a damaged page.
		FreelistType: bolt.FreelistArrayType,
		OpenFile:     func(string, int, os.FileMode) (*os.File, error) { return f, nil },
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: bbolt: %w; %s", path, err, moveAside(path))
	}
	ob = &Outbox{
		path:       path,
		opt:        o,
		log:        o.Logger,
		db:         db,
		notify:     make(chan struct{}, 1),
		recovered:  chk.recovered,
		nextSeq:    1,
		retryEvery: retryInterval,
	}
	ob.st.Recovered = chk.recovered
	if err := ob.load(); err != nil {
		return nil, err
	}
	if chk.recovered {
		// Rewrite the damaged meta page now (bbolt's next commit writes
		// page txid%2, the damaged one), so that a restart before the
		// next Append does not report the same torn write again.
		if err := db.Update(func(*bolt.Tx) error { return nil }); err != nil {
			o.Logger.Warn("outbox: could not rewrite the damaged meta page yet", "path", path, "err", err)
		}
	}
	return ob, nil
}

func moveAside(path string) string {
	return fmt.Sprintf("to start with an empty outbox, stop the agent and move the file aside (mv %s %s.damaged); the records in it are then not sent", path, path)
}

// fill applies defaults and validates o.
func (o *Options) fill() error {
	switch {
	case o.MaxRecords < 0:
		return fmt.Errorf("MaxRecords %d is negative", o.MaxRecords)
	case o.MaxBytes < 0:
		return fmt.Errorf("MaxBytes %d is negative", o.MaxBytes)
	case o.MaxMemoryRecords < 0:
		return fmt.Errorf("MaxMemoryRecords %d is negative", o.MaxMemoryRecords)
	case o.AckBatch < 0:
		return fmt.Errorf("AckBatch %d is negative", o.AckBatch)
	case o.AckDelay < 0:
		return fmt.Errorf("AckDelay %v is negative", o.AckDelay)
	case o.LockTimeout < 0:
		return fmt.Errorf("LockTimeout %v is negative", o.LockTimeout)
	}
	if o.MaxRecords == 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxMemoryRecords == 0 {
		o.MaxMemoryRecords = DefaultMaxMemoryRecords
	}
	if o.AckBatch == 0 {
		o.AckBatch = DefaultAckBatch
	}
	if o.AckDelay == 0 {
		o.AckDelay = DefaultAckDelay
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// syncDir fsyncs a directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// lockFile takes an exclusive flock on f, retrying until timeout. bbolt
// then locks the same open file description, which succeeds at once.
func lockFile(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if err != unix.EWOULDBLOCK {
			return fmt.Errorf("flock: %w", err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("still locked after %v", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// load reads the meta bucket and indexes the pending records, creating the
// buckets in a new file and quarantining garbage values.
func (o *Outbox) load() error {
	var (
		create  bool
		garbage [][]byte
	)
	err := o.db.View(func(tx *bolt.Tx) error {
		mb, rb := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
		create = mb == nil || rb == nil
		if mb != nil {
			if err := o.loadMeta(mb); err != nil {
				return err
			}
		}
		if rb == nil {
			return nil
		}
		c := rb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				return fmt.Errorf("%w: %s: records bucket holds a nested bucket %q", ErrCorrupt, o.path, k)
			}
			if len(k) != 8 {
				o.log.Error("outbox: quarantining a record with a malformed key", "path", o.path, "key", fmt.Sprintf("%x", k))
				garbage = append(garbage, clone(k))
				continue
			}
			seq := binary.BigEndian.Uint64(k)
			view, err := decodeRecord(v)
			if errors.Is(err, errGarbage) {
				o.log.Error("outbox: quarantining a record that does not decode", "path", o.path, "seq", seq, "err", err)
				garbage = append(garbage, clone(k))
				continue
			}
			if err != nil {
				return fmt.Errorf("%w: %s: record %d: %v", ErrCorrupt, o.path, seq, err)
			}
			o.idx = append(o.idx, entry{seq: seq, at: view.nanos, size: int32(view.size()), kind: view.kind})
			o.pendingBytes += int64(view.size())
			if view.kind == KindState {
				o.pendingStates++
			}
			if seq >= o.nextSeq {
				o.nextSeq = seq + 1
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return fmt.Errorf("outbox: open: %w; %s", err, moveAside(o.path))
		}
		return fmt.Errorf("outbox: open %s: reading: %w", o.path, err)
	}
	o.st.Corrupt = uint64(len(garbage))
	if len(o.idx) > 0 {
		o.acked, o.ackDone = o.idx[0].seq-1, o.idx[0].seq-1
	} else {
		o.acked, o.ackDone = o.nextSeq-1, o.nextSeq-1
	}
	if !create && len(garbage) == 0 {
		return nil
	}
	err = o.db.Update(func(tx *bolt.Tx) error {
		rb, err := tx.CreateBucketIfNotExists(bucketRecords)
		if err != nil {
			return err
		}
		mb, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if mb.Get(keyFormat) == nil {
			if err := mb.Put(keyFormat, []byte{fileFormat}); err != nil {
				return err
			}
		}
		return quarantine(tx, rb, garbage)
	})
	switch {
	case err != nil && create:
		return fmt.Errorf("outbox: open %s: creating buckets: %w", o.path, err)
	case err != nil:
		o.log.Error("outbox: could not quarantine undecodable records now; will retry with the next write", "path", o.path, "err", err)
		o.quarantine = garbage
	}
	return nil
}

// loadMeta reads the meta bucket.
func (o *Outbox) loadMeta(mb *bolt.Bucket) error {
	if v := mb.Get(keyFormat); v != nil && (len(v) != 1 || v[0] != fileFormat) {
		return fmt.Errorf("%w: %s: file layout %x, this build reads %d (written by a newer vigil?)", ErrCorrupt, o.path, v, fileFormat)
	}
	if v := mb.Get(keyNext); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("%w: %s: meta %q is %d bytes, want 8", ErrCorrupt, o.path, keyNext, len(v))
		}
		o.nextSeq = max(binary.BigEndian.Uint64(v), 1)
	}
	if v := mb.Get(keyAlertSeq); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("%w: %s: meta %q is %d bytes, want 8", ErrCorrupt, o.path, keyAlertSeq, len(v))
		}
		o.lastAlertSeq = binary.BigEndian.Uint64(v)
	}
	if v := mb.Get(keyState); v != nil {
		if len(v) > MaxPayload {
			return fmt.Errorf("%w: %s: meta %q is %d bytes, limit %d", ErrCorrupt, o.path, keyState, len(v), MaxPayload)
		}
		o.lastState = clone(v)
	}
	return nil
}

// quarantine moves the values at keys from rb to the corrupt bucket.
func quarantine(tx *bolt.Tx, rb *bolt.Bucket, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	cb, err := tx.CreateBucketIfNotExists(bucketCorrupt)
	if err != nil {
		return err
	}
	for _, k := range keys {
		v := rb.Get(k)
		if v == nil {
			continue
		}
		if err := cb.Put(k, clone(v)); err != nil {
			return err
		}
		if err := rb.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }
