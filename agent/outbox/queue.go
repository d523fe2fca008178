package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Append queues recs, in order, and assigns recs[i].Seq and recs[i].Time
// (visible to the caller when it passes a slice with recs...).
//
// It stores them atomically, in one bbolt transaction (data pages synced,
// then the meta page synced), and returns nil only once they are durable.
// If the write fails (ENOSPC, EFBIG, an I/O error) the records are kept in
// an in-memory tail, after every durable record, and are still offered by
// Next; the error wraps ErrNotDurable and the cause. While a tail exists
// every Append first tries again to write the whole tail, with its own
// records, in one transaction; Next and Ack try at most once a second,
// and so does a timer while nothing calls.
//
// Bounds: when Options.MaxRecords or MaxBytes would be exceeded, pending
// KindState records superseded by a newer one (pending or in recs) are
// dropped, oldest first. If an alert still does not fit, Append stores
// nothing and returns an error wrapping ErrFull. recs without an alert are
// never refused for lack of room: they replace the older pending states
// and may exceed the bounds by themselves. While the disk fails, at most
// Options.MaxMemoryRecords records are held in memory (superseded states
// are dropped first); beyond that Append returns ErrFull whatever the kind.
//
// A record Append refuses (kind, topic, size: see Record) makes it store
// nothing and return an error wrapping ErrInvalid. Payloads are copied;
// the caller may reuse them once Append returns.
func (o *Outbox) Append(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	var (
		n           = len(recs)
		nb          int64
		alerts      int
		newestState = -1
		lastAlert   uint64
	)
	for i := range recs {
		if why := checkRecord(&recs[i]); why != "" {
			return fmt.Errorf("%w: %s: record %d of %d (%s): %s", ErrInvalid, o.path, i+1, n, recs[i].Kind, why)
		}
		nb += int64(len(recs[i].Topic) + len(recs[i].Payload))
		lastAlert = max(lastAlert, recs[i].AlertSeq)
		if recs[i].Kind == KindAlert {
			alerts++
		} else {
			newestState = i
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("%w: append to %s", ErrClosed, o.path)
	}

	// Make room: drop superseded states, oldest first.
	var (
		drops  []entry
		cutoff uint64 // pending states with a lower seq are superseded
	)
	if newestState >= 0 {
		cutoff = math.MaxUint64
	} else {
		cutoff = o.newestStateSeq()
	}
	pending := len(o.idx) + len(o.tail)
	needN := pending + n - o.opt.MaxRecords
	needB := o.pendingBytes + nb - o.opt.MaxBytes
	if needN > 0 || needB > 0 {
		drops = pickDrops(drops, len(o.idx), func(i int) entry { return o.idx[i] }, cutoff, &needN, &needB)
		drops = pickDrops(drops, len(o.tail), func(i int) entry { return o.tail[i].entry }, cutoff, &needN, &needB)
		if (needN > 0 || needB > 0) && alerts > 0 {
			o.st.Full += uint64(alerts)
			return fmt.Errorf("%w: %s: %d alert(s) refused: %d records and %d bytes pending, limits %d and %d, and no superseded state left to drop",
				ErrFull, o.path, alerts, pending, o.pendingBytes, o.opt.MaxRecords, o.opt.MaxBytes)
		}
	}

	// Assign seqs and encode.
	now := o.opt.Now()
	batch := make([]memRec, n)
	for i := range recs {
		r := &recs[i]
		r.Seq, r.Time = o.nextSeq+uint64(i), now
		batch[i] = memRec{
			entry: entry{seq: r.Seq, at: now.UnixNano(), size: int32(len(r.Topic) + len(r.Payload)), kind: r.Kind},
			val:   appendRecord(make([]byte, 0, recOverhead+len(r.Topic)+len(r.Payload)), r),
		}
	}
	m := metaVals{next: o.nextSeq + uint64(n), state: o.lastState, alertSeq: max(o.lastAlertSeq, lastAlert)}
	if newestState >= 0 {
		m.state = clone(recs[newestState].Payload)
	}
	write := append(filterOut(o.tail, func(r memRec) uint64 { return r.seq }, drops), batch...)
	// Deleting a key that is not in the file is a no-op, so memory-only
	// drops go in too: a commit reported as failed may still have
	// reached the disk.
	delKeys := append([]uint64{}, o.drops...)
	for _, d := range drops {
		delKeys = append(delKeys, d.seq)
	}

	err := o.commitLocked(write, delKeys, &m)
	if err != nil {
		// Hold the records in memory, within MaxMemoryRecords.
		if over := len(write) - o.opt.MaxMemoryRecords; over > 0 {
			var more []entry
			noBytes := int64(0)
			more = pickDrops(more, len(write)-n, func(i int) entry { return write[i].entry }, cutoff, &over, &noBytes)
			if over > 0 {
				clearSeqs(recs)
				o.st.Full += uint64(alerts)
				return fmt.Errorf("%w: %s: %d record(s) refused: %d records are already held in memory only (limit %d) because the disk fails: %w",
					ErrFull, o.path, n, len(write)-n, o.opt.MaxMemoryRecords, err)
			}
			write = filterOut(write, func(r memRec) uint64 { return r.seq }, more)
			drops = mergeEntries(drops, more)
			for _, d := range more {
				delKeys = append(delKeys, d.seq)
			}
		}
	}

	// Apply.
	o.applyDrops(drops)
	o.nextSeq, o.lastState, o.lastAlertSeq = m.next, m.state, m.alertSeq
	o.pendingBytes += nb
	o.pendingStates += n - alerts
	o.st.Appended += uint64(n)
	select {
	case o.notify <- struct{}{}:
	default:
	}
	if err != nil {
		o.tail = write
		o.drops = delKeys
		o.metaDirty = true
		o.failedLocked(err)
		return fmt.Errorf("%w: %s: %d record(s) held in memory until the disk accepts writes again: %w", ErrNotDurable, o.path, len(o.tail), err)
	}
	o.tail = nil
	for i := range write {
		o.idx = append(o.idx, write[i].entry)
	}
	o.committedLocked(len(write) - n)
	return nil
}

// clearSeqs undoes what Append assigned to refused records.
func clearSeqs(recs []Record) {
	for i := range recs {
		recs[i].Seq, recs[i].Time = 0, time.Time{}
	}
}

// Next returns the oldest pending record with Seq > after (records on disk
// first, then the memory tail), or false. The Record is the caller's:
// Topic and Payload are copies it may keep. A record that can no longer be
// read from the file is logged, moved to the corrupt bucket and skipped.
func (o *Outbox) Next(after uint64) (Record, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Record{}, false
	}
	_ = o.retryLocked()
	for {
		i := sort.Search(len(o.idx), func(i int) bool { return o.idx[i].seq > after })
		if i == len(o.idx) {
			break
		}
		e := o.idx[i]
		r, err := o.readLocked(e.seq)
		if err == nil {
			return r, true
		}
		o.log.Error("outbox: a stored record cannot be read; moving it to the corrupt bucket", "path", o.path, "seq", e.seq, "err", err)
		o.forget(e)
		o.idx = append(o.idx[:i], o.idx[i+1:]...)
		o.quarantine = append(o.quarantine, seqKey(e.seq))
		o.st.Corrupt++
		o.armLocked(o.opt.AckDelay)
	}
	j := sort.Search(len(o.tail), func(j int) bool { return o.tail[j].seq > after })
	if j == len(o.tail) {
		return Record{}, false
	}
	v, err := decodeRecord(o.tail[j].val)
	if err != nil {
		panic(fmt.Sprintf("outbox: decoding a record this process encoded: %v", err))
	}
	return v.record(o.tail[j].seq), true
}

// readLocked reads one durable record.
func (o *Outbox) readLocked(seq uint64) (r Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bbolt panicked: %v", p)
		}
	}()
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	err = o.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(k[:])
		if v == nil {
			return errNoRecord
		}
		view, err := decodeRecord(v)
		if err != nil {
			return err
		}
		r = view.record(seq)
		return nil
	})
	return r, err
}

// Ack removes every pending record with Seq <= seq. The removal is
// committed to the file in batches: once Options.AckBatch (64) records
// are acknowledged, AckDelay (200 ms) after the first of them, with the
// next Append, or at Close, whichever comes first. After a power cut an
// acknowledged record whose removal was not yet committed is sent again
// (a duplicate, which consumers de-duplicate by AlertSeq); none is lost.
//
// Ack returns an error wrapping ErrNotDurable if it tried to commit and
// the disk refused (the removal stays pending), and an error if seq was
// never assigned (everything up to the last assigned seq is still
// acknowledged).
func (o *Outbox) Ack(seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("%w: ack %d on %s", ErrClosed, seq, o.path)
	}
	var errSeq error
	if seq >= o.nextSeq {
		errSeq = fmt.Errorf("outbox: %s: ack %d: no record with that seq was appended (the last is %d)", o.path, seq, o.nextSeq-1)
		seq = o.nextSeq - 1
	}
	if seq > o.acked {
		k := sort.Search(len(o.idx), func(i int) bool { return o.idx[i].seq > seq })
		for _, e := range o.idx[:k] {
			o.forget(e)
		}
		if k == len(o.idx) {
			o.idx = o.idx[:0]
		} else {
			o.idx = o.idx[k:]
		}
		t := sort.Search(len(o.tail), func(j int) bool { return o.tail[j].seq > seq })
		for _, r := range o.tail[:t] {
			o.forget(r.entry)
		}
		o.tail = o.tail[t:]
		o.st.Acked += uint64(k + t)
		o.unflushed += k
		o.acked = seq
	}
	var err error
	switch {
	case o.diskErr != nil:
		err = o.retryLocked()
	case o.unflushed >= o.opt.AckBatch:
		err = o.flushLocked()
	case o.dirtyLocked():
		o.armLocked(o.opt.AckDelay)
	}
	if err != nil {
		err = fmt.Errorf("%w: %s: committing acknowledgements (those records may be sent again after a restart): %w", ErrNotDurable, o.path, err)
	}
	return errors.Join(errSeq, err)
}

// metaVals are the meta bucket's values as of a commit.
type metaVals struct {
	next     uint64
	state    []byte
	alertSeq uint64
}

// commitLocked writes, in one transaction: the removal of acknowledged
// records, of the durable records in drops and of quarantined ones, the
// records in write, and m unless nil.
func (o *Outbox) commitLocked(write []memRec, drops []uint64, m *metaVals) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bbolt panicked: %v", p)
		}
	}()
	return o.db.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRecords)
		if o.acked > o.ackDone {
			var keys [][]byte
			c := rb.Cursor()
			for k, _ := c.Seek(seqKey(o.ackDone + 1)); k != nil; k, _ = c.Next() {
				if len(k) != 8 {
					continue
				}
				if binary.BigEndian.Uint64(k) > o.acked {
					break
				}
				keys = append(keys, clone(k))
			}
			for _, k := range keys {
				if err := rb.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, s := range drops {
			if err := rb.Delete(seqKey(s)); err != nil {
				return err
			}
		}
		if err := quarantine(tx, rb, o.quarantine); err != nil {
			return err
		}
		for i := range write {
			if err := rb.Put(seqKey(write[i].seq), write[i].val); err != nil {
				return err
			}
		}
		if m != nil {
			mb := tx.Bucket(bucketMeta)
			if err := mb.Put(keyNext, seqKey(m.next)); err != nil {
				return err
			}
			if err := mb.Put(keyAlertSeq, seqKey(m.alertSeq)); err != nil {
				return err
			}
			if m.state != nil {
				if err := mb.Put(keyState, m.state); err != nil {
					return err
				}
			}
		}
		if o.failCommit != nil {
			return o.failCommit()
		}
		return nil
	})
}

// flushLocked commits everything pending: the memory tail, removals and
// the meta values.
func (o *Outbox) flushLocked() error {
	var m *metaVals
	if o.metaDirty {
		m = &metaVals{next: o.nextSeq, state: o.lastState, alertSeq: o.lastAlertSeq}
	}
	if err := o.commitLocked(o.tail, o.drops, m); err != nil {
		o.failedLocked(err)
		return err
	}
	moved := len(o.tail)
	for i := range o.tail {
		o.idx = append(o.idx, o.tail[i].entry)
	}
	o.tail = nil
	o.committedLocked(moved)
	return nil
}

// committedLocked records a successful commit that moved `moved` records
// from the memory tail to disk.
func (o *Outbox) committedLocked(moved int) {
	if o.diskErr != nil {
		o.log.Info("outbox: the disk accepts writes again", "path", o.path, "records_written_from_memory", moved)
	}
	o.drops, o.quarantine = nil, nil
	o.ackDone, o.unflushed = o.acked, 0
	o.metaDirty, o.diskErr = false, nil
}

// failedLocked records a failed commit and schedules a retry.
func (o *Outbox) failedLocked(err error) {
	if o.diskErr == nil {
		o.log.Error("outbox: writing to the file failed; holding records in memory until it succeeds", "path", o.path, "err", err)
	}
	o.diskErr = err
	o.nextRetry = o.opt.Now().Add(o.retryEvery)
	o.armLocked(o.retryEvery)
}

// retryLocked retries a failed write if a second has passed since the last
// attempt. It returns the error of an attempt that failed.
func (o *Outbox) retryLocked() error {
	if o.diskErr == nil || o.opt.Now().Before(o.nextRetry) {
		return nil
	}
	return o.flushLocked()
}

// dirtyLocked reports whether something awaits a commit.
func (o *Outbox) dirtyLocked() bool {
	return o.acked > o.ackDone || len(o.drops) > 0 || len(o.quarantine) > 0 || len(o.tail) > 0 || o.metaDirty
}

// armLocked makes tick run after d unless it is already due.
func (o *Outbox) armLocked(d time.Duration) {
	if o.timerArmed || o.closed {
		return
	}
	o.timerArmed = true
	if o.timer == nil {
		o.timer = time.AfterFunc(d, o.tick)
	} else {
		o.timer.Reset(d)
	}
}

// tick commits what is pending: batched acknowledgements, or a retry of a
// failed write.
func (o *Outbox) tick() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timerArmed = false
	if o.closed || !o.dirtyLocked() {
		return
	}
	_ = o.flushLocked() // a failure is logged and re-armed by failedLocked
}

// newestStateSeq returns the seq of the newest pending KindState record, 0
// if none.
func (o *Outbox) newestStateSeq() uint64 {
	for i := len(o.tail) - 1; i >= 0; i-- {
		if o.tail[i].kind == KindState {
			return o.tail[i].seq
		}
	}
	for i := len(o.idx) - 1; i >= 0; i-- {
		if o.idx[i].kind == KindState {
			return o.idx[i].seq
		}
	}
	return 0
}

// forget updates the counters for a pending record that leaves the queue.
func (o *Outbox) forget(e entry) {
	o.pendingBytes -= int64(e.size)
	if e.kind == KindState {
		o.pendingStates--
	}
}

// applyDrops removes dropped states from the index and the counters. The
// memory tail is replaced by the caller.
func (o *Outbox) applyDrops(drops []entry) {
	if len(drops) == 0 {
		return
	}
	for _, d := range drops {
		o.forget(d)
	}
	o.st.Dropped += uint64(len(drops))
	o.idx = filterOut(o.idx, func(e entry) uint64 { return e.seq }, drops)
}

// pickDrops appends to drops, oldest first, the KindState entries among
// the n given by at with a seq below cutoff, until needN and needB are
// no longer positive.
func pickDrops(drops []entry, n int, at func(int) entry, cutoff uint64, needN *int, needB *int64) []entry {
	for i := 0; i < n && (*needN > 0 || *needB > 0); i++ {
		e := at(i)
		if e.kind != KindState || e.seq >= cutoff {
			continue
		}
		drops = append(drops, e)
		*needN--
		*needB -= int64(e.size)
	}
	return drops
}

// filterOut returns the elements of s whose seq is not in drops (both
// sorted by seq), in a new slice unless drops is empty.
func filterOut[T any](s []T, seqOf func(T) uint64, drops []entry) []T {
	if len(drops) == 0 {
		return s
	}
	out := make([]T, 0, len(s))
	d := 0
	for _, x := range s {
		q := seqOf(x)
		for d < len(drops) && drops[d].seq < q {
			d++
		}
		if d < len(drops) && drops[d].seq == q {
			continue
		}
		out = append(out, x)
	}
	return out
}

// mergeEntries merges two lists sorted by seq.
func mergeEntries(a, b []entry) []entry {
	out := make([]entry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
