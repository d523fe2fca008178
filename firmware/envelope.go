package firmware

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tinylib/msgp/msgp"
)

// envelope is a parsed model file; its slices point into the file.
type envelope struct {
	magic, keyID         []byte
	format               uint16
	payload, digest, sig []byte
	seen                 uint8  // a bit per field of envelopeFields
	unknown              string // the first field this version does not know
}

// envelopeFields are the envelope's fields in the order Pack writes them
// (and format 2 requires); the indexes are the bits of envelope.seen.
var envelopeFields = [...]string{"magic", "format", "payload", "digest", "key_id", "sig"}

const (
	fieldPayload = 2
	fieldDigest  = 3
)

// parseEnvelope checks the structure of a whole file (walker) and reads
// its envelope. It refuses a field given twice; it records, but does not
// refuse, a field it does not know (format 1 skips them, format 2 does
// not).
func parseEnvelope(data []byte) (*envelope, error) {
	w := walker{what: "envelope"}
	if err := w.check(data); err != nil {
		return nil, fmt.Errorf("firmware: not a valid model file: %w", err)
	}
	n, b, err := msgp.ReadMapHeaderBytes(data)
	if err != nil {
		return nil, fmt.Errorf("firmware: not a valid model file: envelope: %w", err)
	}
	e := new(envelope)
	for ; n > 0; n-- {
		var key []byte
		if key, b, err = msgp.ReadMapKeyZC(b); err != nil {
			return nil, fmt.Errorf("firmware: not a valid model file: envelope: %w", err)
		}
		if b, err = e.field(string(key), b); err != nil {
			return nil, err
		}
	}
	if string(e.magic) != Magic {
		return nil, fmt.Errorf("firmware: not a vigil model file (magic %q, want %q)", truncate(string(e.magic)), Magic)
	}
	if e.seen&(1<<fieldPayload) == 0 {
		return nil, fmt.Errorf("firmware: envelope has no %q field", "payload")
	}
	return e, nil
}

// field reads the value of the envelope field name from b.
func (e *envelope) field(name string, b []byte) ([]byte, error) {
	i := 0
	for i < len(envelopeFields) && envelopeFields[i] != name {
		i++
	}
	if i == len(envelopeFields) {
		if e.unknown == "" {
			e.unknown = truncate(name)
		}
		return msgp.Skip(b)
	}
	if e.seen&(1<<i) != 0 {
		return nil, fmt.Errorf("firmware: envelope field %q appears twice", name)
	}
	e.seen |= 1 << i
	var err error
	switch name {
	case "magic":
		e.magic, b, err = msgp.ReadStringZC(b)
	case "format":
		e.format, b, err = msgp.ReadUint16Bytes(b)
	case "payload":
		e.payload, b, err = msgp.ReadBytesZC(b)
	case "digest":
		e.digest, b, err = msgp.ReadBytesZC(b)
	case "key_id":
		e.keyID, b, err = msgp.ReadStringZC(b)
	case "sig":
		e.sig, b, err = msgp.ReadBytesZC(b)
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: envelope field %q: %w", name, err)
	}
	return b, nil
}

// signed reports whether the envelope carries a key id or a signature.
func (e *envelope) signed() bool { return len(e.keyID) > 0 || len(e.sig) > 0 }

// verify applies o to the envelope's format, digest and signature, and
// records what it found in l.
func (e *envelope) verify(data []byte, o LoadOptions, l *Loaded) error {
	switch e.format {
	case FormatV1:
		return e.verifyV1(o, l)
	case FormatV2:
		return e.verifyV2(data, o, l)
	}
	return &CheckError{Check: CheckFormat, Msg: fmt.Sprintf("model format %d; this version reads formats %d and %d: upgrade the agent", e.format, FormatV1, FormatV2)}
}

// verifyV1 accepts a format 1 file, which has no digest and no signature,
// if o allows unsigned and format 1 files.
func (e *envelope) verifyV1(o LoadOptions, l *Loaded) error {
	switch {
	case o.RefuseV1:
		return &CheckError{Check: CheckFormat, Msg: "format 1 file: it has no checksum and cannot be signed; re-pack it with this version (vigil pack)"}
	case len(e.digest) > 0 || e.signed():
		return fmt.Errorf("firmware: a format 1 file has no digest, key id or signature, but this one has: its format field is damaged, or it was altered")
	case !o.AllowUnsigned:
		return fmt.Errorf("%w (format 1 files are never signed)", ErrUnsigned)
	}
	l.Warnings = append(l.Warnings, "format 1 file: no checksum; re-pack it")
	return nil
}

// verifyV2 checks a format 2 envelope: only known fields, in canonical
// form, the payload's digest, and the signature.
func (e *envelope) verifyV2(data []byte, o LoadOptions, l *Loaded) error {
	if e.unknown != "" {
		return fmt.Errorf("firmware: envelope field %q is not part of format 2", e.unknown)
	}
	if e.seen&(1<<fieldDigest) == 0 {
		return fmt.Errorf("firmware: envelope field %q: missing, want the %d-byte SHA-256 of the payload", "digest", sha256.Size)
	}
	if len(e.digest) != sha256.Size {
		return fmt.Errorf("firmware: envelope field %q: %d bytes, want %d", "digest", len(e.digest), sha256.Size)
	}
	if e.signed() {
		if err := e.checkSignatureFields(); err != nil {
			return err
		}
	}
	if !e.canonical(data) {
		return fmt.Errorf("firmware: envelope is not in format 2's canonical form (fields missing, out of order, or encoded otherwise than Pack writes them)")
	}
	if sum := sha256.Sum256(e.payload); !bytes.Equal(sum[:], e.digest) {
		return &damageError{want: e.digest, got: sum[:], signed: e.signed()}
	}
	if !e.signed() {
		if !o.AllowUnsigned {
			return ErrUnsigned
		}
		return nil
	}
	return e.checkSignature(o, l)
}

// checkSignatureFields checks the form of the key id and signature of a
// signed envelope.
func (e *envelope) checkSignatureFields() error {
	if !isKeyID(string(e.keyID)) {
		return fmt.Errorf("firmware: envelope field %q: %q, want %d lowercase hex digits", "key_id", truncate(string(e.keyID)), 2*keyIDBytes)
	}
	if len(e.sig) != ed25519.SignatureSize {
		return fmt.Errorf("firmware: envelope field %q: %d bytes, want %d", "sig", len(e.sig), ed25519.SignatureSize)
	}
	return nil
}

// checkSignature verifies the signature with the trusted keys that have
// its key id.
func (e *envelope) checkSignature(o LoadOptions, l *Loaded) error {
	id := string(e.keyID)
	l.KeyID = id
	var msg []byte
	var names []string
	for _, k := range o.Trusted {
		if k.ID() != id {
			continue
		}
		if msg == nil {
			msg = SignedMessage(e.format, e.payload)
		}
		if ed25519.Verify(k.Key, msg, e.sig) {
			l.Signer = k.Name
			return nil
		}
		names = append(names, fmt.Sprintf("%q", k.Name))
	}
	if names != nil {
		return fmt.Errorf("%w: the signature does not verify with the trusted key %s (%s): the file was changed after it was signed", ErrBadSignature, id, strings.Join(names, ", "))
	}
	if o.AllowUnsigned {
		l.Warnings = append(l.Warnings, fmt.Sprintf("signed by key %s, which is not trusted: the signature was not checked", id))
		return nil
	}
	return fmt.Errorf("%w: key %s is not among the %d trusted keys (LoadOptions.Trusted)", ErrUntrustedKey, id, len(o.Trusted))
}

// damageError reports a payload that does not match its digest. In a
// signed file it is also ErrBadSignature: the signature cannot hold.
type damageError struct {
	want, got []byte
	signed    bool
}

// Error says the file is damaged, with the start of both digests.
func (e *damageError) Error() string {
	return fmt.Sprintf("%v (want sha256 %x…, got %x…)", ErrDamaged, e.want[:8], e.got[:8])
}

// Is makes errors.Is(err, ErrDamaged) true, and ErrBadSignature too for a
// signed file.
func (e *damageError) Is(target error) bool {
	return target == ErrDamaged || e.signed && target == ErrBadSignature
}

// SignedMessage returns the bytes a format 2 signature covers: Magic, the
// format version as 2 bytes big endian, and the payload.
func SignedMessage(format uint16, payload []byte) []byte {
	b := make([]byte, 0, len(Magic)+2+len(payload))
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint16(b, format)
	return append(b, payload...)
}

// canonical reports whether data is exactly the format 2 envelope Pack
// or Sign would write for e's fields, without copying the payload.
func (e *envelope) canonical(data []byte) bool {
	var buf [256]byte
	head := appendEnvelopeHead(buf[:0], e.format, len(e.payload))
	tail := appendEnvelopeTail(buf[len(head):len(head)], e.digest, string(e.keyID), e.sig)
	n := len(head) + len(e.payload)
	return len(data) == n+len(tail) && bytes.Equal(data[:len(head)], head) &&
		bytes.Equal(data[len(head):n], e.payload) && bytes.Equal(data[n:], tail)
}

// appendEnvelope appends a format 2 envelope, in canonical form, to b.
func appendEnvelope(b []byte, format uint16, payload, digest []byte, keyID string, sig []byte) []byte {
	b = appendEnvelopeHead(b, format, len(payload))
	return appendEnvelopeTail(append(b, payload...), digest, keyID, sig)
}

// appendEnvelopeHead appends the canonical envelope up to the payload's
// bytes: the map header, magic, format, and the payload's bin header.
func appendEnvelopeHead(b []byte, format uint16, payloadLen int) []byte {
	b = msgp.AppendMapHeader(b, uint32(len(envelopeFields)))
	b = msgp.AppendString(msgp.AppendString(b, "magic"), Magic)
	b = msgp.AppendUint16(msgp.AppendString(b, "format"), format)
	return msgp.AppendBytesHeader(msgp.AppendString(b, "payload"), uint32(payloadLen))
}

// appendEnvelopeTail appends the canonical envelope after the payload.
func appendEnvelopeTail(b []byte, digest []byte, keyID string, sig []byte) []byte {
	b = msgp.AppendBytes(msgp.AppendString(b, "digest"), digest)
	b = msgp.AppendString(msgp.AppendString(b, "key_id"), keyID)
	return msgp.AppendBytes(msgp.AppendString(b, "sig"), sig)
}

// keyIDBytes is how many bytes of a public key's SHA-256 its id keeps.
const keyIDBytes = 8

// isKeyID reports whether s has the form of a key id: 16 lowercase hex
// digits.
func isKeyID(s string) bool {
	if len(s) != 2*keyIDBytes {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
