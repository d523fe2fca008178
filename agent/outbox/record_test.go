package outbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"time"
)

var roundTripTests = []Record{
	{Kind: KindAlert, Topic: "alert", AlertSeq: 1, Time: time.Unix(1700000000, 123456789), Payload: []byte(`{"seq":1}`)},
	{Kind: KindState, Topic: "state", Retained: true, Time: time.Unix(0, 0), Payload: []byte(`{"state":"ANOMALY"}`)},
	{Kind: KindState, Topic: "", Retained: true, Time: time.Unix(-5, 0)},
	{Kind: KindAlert, Topic: strings.Repeat("t", MaxTopic), AlertSeq: ^uint64(0), Time: time.Unix(0, 1), Payload: bytes.Repeat([]byte{0xff}, MaxPayload)},
	{Kind: KindAlert, Topic: "grüße/ü", Time: time.Unix(1<<33, 999999999), Payload: []byte{0}},
}

func TestRecordRoundTrip(t *testing.T) {
	for i, r := range roundTripTests {
		b := appendRecord([]byte("prefix"), &r)
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("#%d: appendRecord overwrote dst", i)
		}
		b = b[len("prefix"):]
		if len(b) != recOverhead+len(r.Topic)+len(r.Payload) {
			t.Errorf("#%d: encoded %d bytes, want %d", i, len(b), recOverhead+len(r.Topic)+len(r.Payload))
		}
		v, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("#%d: decodeRecord = %v", i, err)
		}
		got := v.record(42)
		if got.Seq != 42 || got.Kind != r.Kind || got.Topic != r.Topic || got.Retained != r.Retained ||
			got.AlertSeq != r.AlertSeq || !got.Time.Equal(r.Time) || !bytes.Equal(got.Payload, r.Payload) {
			t.Errorf("#%d: round trip = %+v, want %+v", i, got, r)
		}
		if !bytes.Equal(encodeView(&v), b) {
			t.Errorf("#%d: re-encoding the decoded view differs", i)
		}
	}
}

// withCRC appends the CRC-32C of body, making a value that passes the
// checksum so that the field checks behind it are reached.
func withCRC(body []byte) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{}, body...), crc32.Checksum(body, castagnoli))
}

func TestDecodeRecordErrors(t *testing.T) {
	good := appendRecord(nil, &Record{Kind: KindAlert, Topic: "alert", AlertSeq: 3, Payload: []byte("xyz")})
	body := good[:len(good)-4]
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, body...)) }
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, errGarbage, "too short"},
		{"four bytes", []byte{1, 2, 3, 4}, errGarbage, "too short"},
		{"flipped bit", func() []byte { b := append([]byte{}, good...); b[22] ^= 1; return b }(), errGarbage, "checksum"},
		{"truncated", good[:len(good)-1], errGarbage, "checksum"},
		{"zeros", make([]byte, 40), errGarbage, "checksum"},
		{"newer version", withCRC(mut(func(b []byte) []byte { b[0] = 2; return b })), errMalformed, "format version 2"},
		{"version 0", withCRC([]byte{0}), errMalformed, "format version 0"},
		{"short v1", withCRC(body[:20]), errMalformed, "at least"},
		{"kind 0", withCRC(mut(func(b []byte) []byte { b[1] = 0; return b })), errMalformed, "unknown kind 0"},
		{"kind 3", withCRC(mut(func(b []byte) []byte { b[1] = 3; return b })), errMalformed, "unknown kind 3"},
		{"flags", withCRC(mut(func(b []byte) []byte { b[2] = 0x82; return b })), errMalformed, "unknown flags"},
		{"topic too long", withCRC(mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[19:], MaxTopic+1); return b })), errMalformed, "exceeds"},
		{"topic past end", withCRC(mut(func(b []byte) []byte { binary.BigEndian.PutUint16(b[19:], 200); return b })), errMalformed, "past the end"},
		{"payload too long", withCRC(mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[26:], MaxPayload+1); return b })), errMalformed, "exceeds"},
		{"payload length short", withCRC(mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[26:], 2); return b })), errMalformed, "but 3 bytes follow"},
		{"payload length long", withCRC(mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[26:], 4); return b })), errMalformed, "but 3 bytes follow"},
		{"wildcard topic", withCRC(mut(func(b []byte) []byte { b[21] = '#'; return b })), errMalformed, "wildcard"},
	}
	for _, tt := range tests {
		_, err := decodeRecord(tt.in)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: decodeRecord(%x) = %v, want %v containing %q", tt.name, tt.in, err, tt.want, tt.msg)
		}
	}
}

func TestCheckRecord(t *testing.T) {
	tests := []struct {
		r    Record
		want string // substring of the reason; "" for accepted
	}{
		{Record{Kind: KindAlert, Topic: "alert"}, ""},
		{Record{Kind: KindState, Topic: strings.Repeat("x", MaxTopic), Payload: make([]byte, MaxPayload)}, ""},
		{Record{Kind: 0, Topic: "alert"}, "kind 0"},
		{Record{Kind: 9, Topic: "alert"}, "kind 9"},
		{Record{Kind: KindAlert, Topic: strings.Repeat("x", MaxTopic+1)}, "topic is 1025 bytes"},
		{Record{Kind: KindAlert, Topic: "a", Payload: make([]byte, MaxPayload+1)}, "payload is 262145 bytes"},
		{Record{Kind: KindAlert, Topic: "a/+/b"}, "wildcard"},
		{Record{Kind: KindAlert, Topic: "a/#"}, "wildcard"},
		{Record{Kind: KindAlert, Topic: "a\x00"}, "NUL"},
		{Record{Kind: KindAlert, Topic: "a\xff"}, "UTF-8"},
	}
	for _, tt := range tests {
		got := checkRecord(&tt.r)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("checkRecord(kind %d, topic %.20q, %d-byte payload) = %q, want %q", tt.r.Kind, tt.r.Topic, len(tt.r.Payload), got, tt.want)
		}
	}
}

func TestRecordEncodingAllocs(t *testing.T) {
	r := roundTripTests[0]
	buf := make([]byte, 0, 256)
	b := appendRecord(buf, &r)
	if n := testing.AllocsPerRun(100, func() { b = appendRecord(buf[:0], &r) }); n != 0 {
		t.Errorf("appendRecord into a large enough buffer: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeRecord(b) }); n != 0 {
		t.Errorf("decodeRecord: %v allocations, want 0", n)
	}
}

// FuzzDecodeRecord checks that decodeRecord never panics on hostile bytes,
// that whatever it accepts re-encodes to exactly the same bytes, and
// (through the bytes given a valid checksum) that the field checks behind
// the checksum hold too.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range roundTripTests[:3] {
		f.Add(appendRecord(nil, &r))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5})
	f.Add(make([]byte, 29))
	good := appendRecord(nil, &roundTripTests[0])
	f.Add(good[:len(good)-4]) // a body: valid once withCRC is applied
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, withCRC(b)} {
			v, err := decodeRecord(in)
			if err != nil {
				if !errors.Is(err, errGarbage) && !errors.Is(err, errMalformed) {
					t.Fatalf("decodeRecord(%x) = %v, which wraps neither errGarbage nor errMalformed", in, err)
				}
				continue
			}
			if v.size() > MaxTopic+MaxPayload {
				t.Fatalf("decodeRecord(%x) accepted %d bytes of topic and payload", in, v.size())
			}
			if re := encodeView(&v); !bytes.Equal(re, in) {
				t.Fatalf("decodeRecord(%x) then encode = %x", in, re)
			}
			r := v.record(1)
			if why := checkRecord(&r); why != "" {
				t.Fatalf("decodeRecord(%x) accepted a record Append refuses: %s", in, why)
			}
		}
	})
}
