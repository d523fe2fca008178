// Package outbox is the agent's durable, ordered queue of MQTT messages:
// alerts and retained state changes wait here, on disk, between the
// pipeline that produces them and the one sender goroutine that owns the
// MQTT client.
//
// The pipeline calls Append; the sender loops over Next, publishes with
// QoS 1 and calls Ack once the broker's PUBACK arrives; Notify wakes the
// sender when something was appended. Records come out strictly in the
// order they were appended, across restarts.
//
// # What survives a power cut
//
// Every record whose Append returned nil. Append returns only after one
// bbolt transaction has been committed: the data pages written and
// fdatasync'd, then the meta page written and fdatasync'd. Also kept: the
// newest state payload (LastState) and the highest alert sequence number
// (LastAlertSeq) of those records, and the Seq counter, so a Seq given to
// a stored record is never given again.
//
// An acknowledged record whose removal had not been committed yet is sent
// again after the restart: a duplicate, never a loss. Removals are
// committed once 64 records are acknowledged, 200 ms after the first
// acknowledgement, with the next Append, or at Close, whichever comes
// first (Options.AckBatch, Options.AckDelay).
//
// If the power is cut during a commit, bbolt opens the file at the previous
// transaction: its two meta pages carry checksums and a commit writes the
// new one only after the data it points to is on disk. Open reads both
// meta pages itself first; when exactly one is damaged it logs that the
// interrupted write was discarded and reports Recovered. Only the records
// of the interrupted Append, which had not returned, are gone.
//
// # What does not survive
//
// Records held in memory while the disk refuses writes: when a commit
// fails (disk full, file size limit, I/O error) Append keeps the records in
// a memory tail, returns an error wrapping ErrNotDurable and keeps offering
// them to the sender in order. They reach the disk when a later write
// succeeds (tried at every Append, and about once a second otherwise). If
// the process dies or the power is cut first, they are lost, whether or
// not they were already published; their Seq values, and their AlertSeq
// values (LastAlertSeq reverts to the last durable one), may then be
// used again after the restart. Stats.MemoryOnly counts them.
//
// # Bounds
//
// The queue holds at most Options.MaxRecords records and MaxBytes of topic
// plus payload. When full, superseded state records (an older state, when
// a newer one is queued) are dropped oldest first; an alert that still
// does not fit is refused with ErrFull. A state alone is never refused for
// lack of room. The memory tail holds at most MaxMemoryRecords.
//
// # Damaged files
//
// Each stored value carries a format version and a CRC-32C. At Open a
// value whose checksum fails (bytes no vigil wrote) is moved to the file's
// "corrupt" bucket, logged with its seq, counted in Stats.Corrupt and not
// sent. A value with a good checksum that this build cannot read (written
// by a newer vigil) makes Open fail, naming the seq: it is never dropped
// silently. A file bbolt cannot open makes Open fail with ErrCorrupt and
// an error that says how to move it aside. A zero-length file, or one whose
// creation was cut short before any record was written, is started anew.
//
// The outbox is not a general message store: one process, one producer,
// one consumer, records of at most MaxPayload bytes, no querying.
package outbox
