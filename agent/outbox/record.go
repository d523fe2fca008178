package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
	"unicode/utf8"
)

// Limits on one record, checked by Append and again when a stored value is
// decoded.
const (
	MaxTopic   = 1 << 10   // bytes in Record.Topic
	MaxPayload = 256 << 10 // bytes in Record.Payload
)

// A stored record value, format version 1. Integers are big-endian.
//
//	offset    size  field
//	0         1     format version (1)
//	1         1     kind (1 state, 2 alert)
//	2         1     flags: bit 0 retained; the other bits must be 0
//	3         8     alert seq
//	11        8     queue time, Unix nanoseconds (signed)
//	19        2     topic length T (≤ MaxTopic)
//	21        T     topic (UTF-8)
//	21+T      4     payload length P (≤ MaxPayload)
//	25+T      P     payload
//	25+T+P    4     CRC-32C (Castagnoli) of every byte before it
//
// Every later format version must keep the trailing CRC-32C over the rest
// of the value. That is what lets Open tell garbage (the checksum fails:
// these are not bytes any vigil wrote) from a value written by a newer
// vigil (the checksum holds, the version is unknown).
const (
	recVersion   = 1
	recHeader    = 21
	recOverhead  = recHeader + 4 + 4
	flagRetained = 1 << 0
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Decoding errors. errGarbage marks a value whose checksum fails; Open
// quarantines those. errMalformed marks a value with a good checksum that
// this build cannot read; Open refuses to start rather than lose it.
var (
	errGarbage   = errors.New("garbage")
	errMalformed = errors.New("unreadable")
)

// recView is a decoded record; topic and payload alias the decoded value.
type recView struct {
	kind     Kind
	retained bool
	alertSeq uint64
	nanos    int64
	topic    []byte
	payload  []byte
}

// size is what the record counts against Options.MaxBytes.
func (v *recView) size() int { return len(v.topic) + len(v.payload) }

// record converts v into a Record with its own copies of topic and payload.
func (v *recView) record(seq uint64) Record {
	r := Record{
		Seq:      seq,
		Kind:     v.kind,
		Topic:    string(v.topic),
		Retained: v.retained,
		AlertSeq: v.alertSeq,
		Time:     time.Unix(0, v.nanos),
	}
	if len(v.payload) > 0 {
		r.Payload = append(make([]byte, 0, len(v.payload)), v.payload...)
	}
	return r
}

// checkRecord reports why Append must refuse r, or "".
func checkRecord(r *Record) string {
	switch {
	case r.Kind != KindState && r.Kind != KindAlert:
		return fmt.Sprintf("kind %d is neither KindState (1) nor KindAlert (2)", r.Kind)
	case len(r.Topic) > MaxTopic:
		return fmt.Sprintf("topic is %d bytes, limit %d", len(r.Topic), MaxTopic)
	case len(r.Payload) > MaxPayload:
		return fmt.Sprintf("payload is %d bytes, limit %d", len(r.Payload), MaxPayload)
	}
	if why := checkTopic(r.Topic); why != "" {
		return why
	}
	return ""
}

// checkTopic rejects topic suffixes an MQTT broker would refuse on
// PUBLISH: such a record would block the queue head forever.
func checkTopic(t string) string {
	if !utf8.ValidString(t) {
		return fmt.Sprintf("topic %q is not valid UTF-8", t)
	}
	for i := 0; i < len(t); i++ {
		if why := topicByte(t[i]); why != "" {
			return fmt.Sprintf("topic %q contains %s", t, why)
		}
	}
	return ""
}

// checkTopicBytes is checkTopic for a decoded topic, without allocating
// unless it fails.
func checkTopicBytes(t []byte) string {
	if !utf8.Valid(t) {
		return checkTopic(string(t))
	}
	for _, c := range t {
		if topicByte(c) != "" {
			return checkTopic(string(t))
		}
	}
	return ""
}

// topicByte says why c may not appear in a topic, or "".
func topicByte(c byte) string {
	switch c {
	case 0:
		return "a NUL byte"
	case '+', '#':
		return "the MQTT wildcard " + string(rune(c))
	}
	return ""
}

// appendRecord appends the encoding of r (kind, retained, alert seq, time,
// topic, payload; not the seq, which is the key) to dst. r must have passed
// checkRecord.
func appendRecord(dst []byte, r *Record) []byte {
	start := len(dst)
	var flags byte
	if r.Retained {
		flags |= flagRetained
	}
	dst = append(dst, recVersion, byte(r.Kind), flags)
	dst = binary.BigEndian.AppendUint64(dst, r.AlertSeq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Time.UnixNano()))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(r.Topic)))
	dst = append(dst, r.Topic...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(r.Payload)))
	dst = append(dst, r.Payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// encodeView re-encodes a decoded view; used by tests to check that decoding
// is exact.
func encodeView(v *recView) []byte {
	r := Record{Kind: v.kind, Retained: v.retained, AlertSeq: v.alertSeq,
		Time: time.Unix(0, v.nanos), Topic: string(v.topic), Payload: v.payload}
	return appendRecord(nil, &r)
}

// decodeRecord decodes a stored value. The view aliases b. Errors wrap
// errGarbage or errMalformed.
func decodeRecord(b []byte) (recView, error) {
	var v recView
	if len(b) < 5 {
		return v, fmt.Errorf("%w: value is %d bytes, too short to hold a version and a checksum", errGarbage, len(b))
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return v, fmt.Errorf("%w: checksum %08x, stored %08x", errGarbage, got, sum)
	}
	if body[0] != recVersion {
		return v, fmt.Errorf("%w: format version %d (this build reads version %d; written by a newer vigil?)", errMalformed, body[0], recVersion)
	}
	if len(b) < recOverhead {
		return v, fmt.Errorf("%w: value is %d bytes, a version %d record has at least %d", errMalformed, len(b), recVersion, recOverhead)
	}
	v.kind = Kind(body[1])
	if v.kind != KindState && v.kind != KindAlert {
		return v, fmt.Errorf("%w: unknown kind %d", errMalformed, body[1])
	}
	if body[2]&^flagRetained != 0 {
		return v, fmt.Errorf("%w: unknown flags %#02x", errMalformed, body[2])
	}
	v.retained = body[2]&flagRetained != 0
	v.alertSeq = binary.BigEndian.Uint64(body[3:])
	v.nanos = int64(binary.BigEndian.Uint64(body[11:]))
	tl := int(binary.BigEndian.Uint16(body[19:]))
	if tl > MaxTopic {
		return v, fmt.Errorf("%w: topic length %d exceeds %d", errMalformed, tl, MaxTopic)
	}
	if recHeader+tl+4 > len(body) {
		return v, fmt.Errorf("%w: topic length %d runs past the end of the %d-byte value", errMalformed, tl, len(b))
	}
	v.topic = body[recHeader : recHeader+tl : recHeader+tl]
	rest := body[recHeader+tl:]
	pl := binary.BigEndian.Uint32(rest)
	if pl > MaxPayload {
		return v, fmt.Errorf("%w: payload length %d exceeds %d", errMalformed, pl, MaxPayload)
	}
	if int(pl) != len(rest)-4 {
		return v, fmt.Errorf("%w: payload length %d, but %d bytes follow it", errMalformed, pl, len(rest)-4)
	}
	v.payload = rest[4:len(rest):len(rest)]
	if why := checkTopicBytes(v.topic); why != "" {
		return v, fmt.Errorf("%w: %s", errMalformed, why)
	}
	return v, nil
}
