package firmware

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// Pack's envelope is exactly what the generated Envelope.MarshalMsg
// writes for the same fields, so tools using the schema type write valid
// format 2 files.
func TestEnvelopeCanonical(t *testing.T) {
	good, _ := Pack(testModel())
	var e Envelope
	if rest, err := e.UnmarshalMsg(good); err != nil || len(rest) != 0 {
		t.Fatalf("UnmarshalMsg: %v, %d bytes left", err, len(rest))
	}
	again, _ := e.MarshalMsg(nil)
	if !bytes.Equal(again, good) {
		t.Errorf("Envelope.MarshalMsg differs from Pack's envelope:\n%q\n%q", again, good)
	}
}

// hand builds an envelope map from key, value pairs (values already
// encoded).
func hand(kv ...any) []byte {
	b := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for i := 0; i < len(kv); i += 2 {
		b = msgp.AppendString(b, kv[i].(string))
		b = append(b, kv[i+1].([]byte)...)
	}
	return b
}

func TestEnvelopeFields(t *testing.T) {
	payload := payloadOf(t, testModel())
	good := v2File(payload)
	var e Envelope
	e.UnmarshalMsg(good)
	str := func(s string) []byte { return msgp.AppendString(nil, s) }
	bin := func(b []byte) []byte { return msgp.AppendBytes(nil, b) }
	u := func(v uint16) []byte { return msgp.AppendUint16(nil, v) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"no digest", hand("magic", str(Magic), "format", u(2), "payload", bin(payload), "key_id", str(""), "sig", bin(nil)),
			`envelope field "digest": missing`},
		{"unknown field", hand("magic", str(Magic), "format", u(2), "payload", bin(payload), "digest", bin(e.Digest), "key_id", str(""), "sig", bin(nil), "comment", str("hi")),
			`envelope field "comment" is not part of format 2`},
		{"repeated field", hand("magic", str(Magic), "format", u(2), "payload", bin(payload), "payload", bin(payload)),
			`envelope field "payload" appears twice`},
		{"out of order", hand("format", u(2), "magic", str(Magic), "payload", bin(payload), "digest", bin(e.Digest), "key_id", str(""), "sig", bin(nil)),
			"canonical form"},
		{"format in 3 bytes", hand("magic", str(Magic), "format", []byte{0xcd, 0, 2}, "payload", bin(payload), "digest", bin(e.Digest), "key_id", str(""), "sig", bin(nil)),
			"canonical form"},
		{"no payload", hand("magic", str(Magic), "format", u(2)), `no "payload" field`},
		{"payload as string", hand("magic", str(Magic), "format", u(2), "payload", str(string(payload))), `envelope field "payload"`},
		{"no magic", hand("format", u(2)), `magic ""`},
		{"v1 with a digest", hand("magic", str(Magic), "format", u(1), "payload", bin(payload), "digest", bin(e.Digest)),
			"a format 1 file has no digest"},
		{"v1 signed", hand("magic", str(Magic), "format", u(1), "payload", bin(payload), "key_id", str("0123456789abcdef"), "sig", bin(make([]byte, 64))),
			"a format 1 file has no digest, key id or signature"},
	}
	for _, tc := range tests {
		_, err := Decode(tc.data, LoadOptions{AllowUnsigned: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// Format 1 files still load, with a warning, unless refused.
func TestFormatV1(t *testing.T) {
	m := testModel()
	payload, _ := m.MarshalMsg(nil)
	old := v1File(payload)
	l, err := Decode(old, LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.Format != FormatV1 || len(l.Warnings) != 1 || l.Warnings[0] != "format 1 file: no checksum; re-pack it" {
		t.Errorf("format %d, warnings %q", l.Format, l.Warnings)
	}
	if _, err := Decode(old, LoadOptions{}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("format 1 without AllowUnsigned: %v, want ErrUnsigned", err)
	}
	var ce *CheckError
	_, err = Decode(old, LoadOptions{AllowUnsigned: true, RefuseV1: true})
	if !errors.As(err, &ce) || ce.Check != CheckFormat || !strings.Contains(err.Error(), "format 1 file") {
		t.Errorf("RefuseV1: %v, want a format CheckError", err)
	}
	// An Envelope written with the schema type and format 1 (an empty
	// digest) is format 1 too.
	typed, _ := (&Envelope{Magic: Magic, Format: FormatV1, Payload: payload}).MarshalMsg(nil)
	if _, err := Decode(typed, LoadOptions{AllowUnsigned: true}); err != nil {
		t.Errorf("format 1 from Envelope.MarshalMsg: %v", err)
	}
	// Format 1 skips unknown fields, in the envelope and the payload.
	extra := msgp.AppendMapHeader(nil, 2)
	extra = msgp.AppendString(msgp.AppendString(extra, "note"), "x")
	extra = msgp.AppendInt(msgp.AppendString(extra, "n"), 3)
	p := append(msgp.AppendMapHeader(nil, uint32(countKeys(t, payload)+1)), payload[1:]...)
	p = append(msgp.AppendString(p, "future"), extra...)
	env := append(msgp.AppendMapHeader(nil, 6), v1File(p)[1:]...)
	env = msgp.AppendFloat64(msgp.AppendString(env, "comment"), 1.5)
	if _, err := Decode(env, LoadOptions{AllowUnsigned: true}); err != nil {
		t.Errorf("format 1 with unknown fields: %v", err)
	}
}

// countKeys returns the number of entries of the map at the start of b.
func countKeys(t testing.TB, b []byte) int {
	n, _, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var exhaustive = flag.Bool("exhaustive", false, "TestSingleByteChanges: try all 255 other values of every byte, not only its bit flips and complement")

// flipResult counts the single-byte changes of a file that Decode
// accepted: each single-bit flip and the complement of every byte, or
// with -exhaustive every other value of every byte.
func flipResult(t *testing.T, file []byte, o LoadOptions) (tried, accepted int, first string) {
	b := bytes.Clone(file)
	for i := range b {
		orig := b[i]
		for v := range 256 {
			if d := byte(v) ^ orig; d == 0 || !*exhaustive && bitCount(d) != 1 && d != 0xff {
				continue
			}
			b[i] = byte(v)
			tried++
			if _, err := Decode(b, o); err == nil {
				accepted++
				if first == "" {
					first = fmt.Sprintf("byte %d set to %#02x", i, v)
				}
			}
		}
		b[i] = orig
	}
	return tried, accepted, first
}

func bitCount(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// Every change of a single byte of a signed or unsigned format 2 file is
// refused: by the structure checks, the digest or the signature. (A
// format 1 file, which has no digest, accepts many.) Each byte has each
// bit flipped and is complemented; with -exhaustive it takes all its
// other values.
func TestSingleByteChanges(t *testing.T) {
	release := testKey(t, "release")
	unsigned, err := Pack(testModel())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(unsigned, release)
	if err != nil {
		t.Fatal(err)
	}
	payload := payloadOf(t, testModel())
	trusted := LoadOptions{Trusted: []PublicKey{release.Public()}}
	tried, accepted, first := flipResult(t, signed, trusted)
	t.Logf("signed format 2 file of %d bytes: %d of %d single-byte changes refused", len(signed), tried-accepted, tried)
	if accepted != 0 {
		t.Errorf("signed file: %d of %d single-byte changes loaded, the first %s", accepted, tried, first)
	}
	tried, accepted, first = flipResult(t, unsigned, LoadOptions{AllowUnsigned: true})
	t.Logf("unsigned format 2 file of %d bytes: %d of %d single-byte changes refused", len(unsigned), tried-accepted, tried)
	if accepted != 0 {
		t.Errorf("unsigned file: %d of %d single-byte changes loaded, the first %s", accepted, tried, first)
	}
	old := v1File(payload)
	tried, accepted, _ = flipResult(t, old, LoadOptions{AllowUnsigned: true})
	t.Logf("format 1 file of %d bytes (no digest): %d of %d single-byte changes loaded", len(old), accepted, tried)
}
