package firmware

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/tinylib/msgp/msgp"
)

// Structure limits checked by walk before msgp decodes anything.
const (
	// MaxChannels bounds a model's input channels.
	MaxChannels = 256
	// MaxLayers bounds a model's layers, and separately its decoder
	// layers.
	MaxLayers = 64
	// maxDepth bounds how deeply MessagePack containers may nest: a model
	// needs 4 levels (model, layers, layer, weights).
	maxDepth = 16
	// maxKeyPath bounds the key path walk keeps for messages.
	maxKeyPath = 256
)

// schemaLimits are the most entries each array of a Model may hold, by
// key path; they equal the //msgp:limit tags in schema.go (a test checks
// that), so an array over its limit is refused with its name rather than
// with msgp's "configured reader limit exceeded".
var schemaLimits = map[string]uint64{
	"requires":         64,
	"channels":         MaxChannels,
	"scaler.center":    MaxChannels,
	"scaler.scale":     MaxChannels,
	"features.stats":   16,
	"layers":           MaxLayers,
	"decoder":          MaxLayers,
	"training.sources": 1024,
	"training.widened": 256,
	// A multi-scale model's members (infer.MaxMembers).
	"members":                  4,
	"members[].scaler.center":  MaxChannels,
	"members[].scaler.scale":   MaxChannels,
	"members[].features.stats": 16,
	"members[].layers":         MaxLayers,
	"members[].decoder":        MaxLayers,
}

// walker checks the structure of one MessagePack object before msgp
// decodes it, without allocating: it refuses truncated data, containers
// nested deeper than maxDepth, and any array, map, string, binary or
// extension whose declared length exceeds the bytes left in the data
// (each element takes at least one byte), so that msgp — which allocates
// a slice as soon as it reads an array header — never allocates more than
// a small multiple of the data's size. It also checks the named array
// limits, and records the first map key whose path is not known.
type walker struct {
	what   string            // "envelope" or "model payload", for messages
	size   int               // len of the whole object, for offsets
	limits map[string]uint64 // most entries of the array at a key path
	known  map[string]bool   // key paths the schema has; nil: do not check
	record map[string]bool   // if non-nil, every key path seen is added
	path   []byte            // key path of the current object: "layers[].w"

	// unknown is the path of the first key not in known, if any.
	unknown string
}

// check walks the single object that must fill b.
func (w *walker) check(b []byte) error {
	w.size = len(b)
	if w.path == nil {
		var buf [maxKeyPath]byte
		w.path = buf[:0]
	}
	rest, err := w.walk(b, 0, 0)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d stray bytes after the %s", len(rest), w.what)
	}
	return nil
}

// walk checks the object at the start of b, of which reserve further
// objects must still follow in b, at nesting depth depth, and returns the
// bytes after it.
func (w *walker) walk(b []byte, reserve, depth int) ([]byte, error) {
	at := w.size - len(b)
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: containers nested deeper than %d levels at byte %d", w.what, maxDepth, at)
	}
	k, hdr, n, err := head(b)
	if err != nil {
		return nil, fmt.Errorf("%s: byte %d: %w", w.what, at, err)
	}
	rest := b[hdr:]
	room := uint64(len(rest) - min(reserve, len(rest)))
	switch k {
	case kindArray:
		if n > room {
			return nil, fmt.Errorf("%s: array at byte %d declares %d elements, but only %d bytes remain for them", w.what, at, n, room)
		}
		if lim, ok := w.limits[string(w.path)]; ok && n > lim {
			return nil, fmt.Errorf("model field %q: %d entries, at most %d", w.path, n, lim)
		}
		return w.elements(rest, n, reserve, depth)
	case kindMap:
		if 2*n > room {
			return nil, fmt.Errorf("%s: map at byte %d declares %d entries, but only %d bytes remain for them", w.what, at, n, room)
		}
		return w.entries(rest, n, reserve, depth)
	default:
		if n > room {
			return nil, fmt.Errorf("%s: %s at byte %d declares %d bytes, but only %d remain", w.what, k, at, n, room)
		}
		return rest[n:], nil
	}
}

// elements walks n array elements.
func (w *walker) elements(b []byte, n uint64, reserve, depth int) ([]byte, error) {
	mark := len(w.path)
	w.push("[]")
	var err error
	for i := n; i > 0 && err == nil; i-- {
		b, err = w.walk(b, reserve+int(i-1), depth+1)
	}
	w.path = w.path[:mark]
	return b, err
}

// entries walks n map entries, keeping the key path.
func (w *walker) entries(b []byte, n uint64, reserve, depth int) ([]byte, error) {
	mark := len(w.path)
	defer func() { w.path = w.path[:mark] }()
	for i := n; i > 0; i-- {
		at := w.size - len(b)
		start := b
		var err error
		if b, err = w.walk(b, reserve+2*int(i-1)+1, depth+1); err != nil {
			return nil, err
		}
		key, _, err := msgp.ReadMapKeyZC(start)
		if err != nil {
			return nil, fmt.Errorf("%s: map key at byte %d: %w", w.what, at, err)
		}
		w.path = w.path[:mark]
		if mark > 0 {
			w.push(".")
		}
		w.push(string(key))
		w.noteKey()
		if b, err = w.walk(b, reserve+2*int(i-1), depth+1); err != nil {
			return nil, err
		}
		w.path = w.path[:mark]
	}
	return b, nil
}

// push appends s to the key path, cut short at maxKeyPath bytes.
func (w *walker) push(s string) {
	w.path = append(w.path, s[:min(len(s), maxKeyPath-len(w.path))]...)
}

// noteKey records the current key path.
func (w *walker) noteKey() {
	if w.record != nil {
		w.record[string(w.path)] = true
	}
	if w.known != nil && w.unknown == "" && !w.known[string(w.path)] {
		w.unknown = string(w.path)
	}
}

// kind is what a MessagePack header introduces.
type kind uint8

const (
	kindScalar kind = iota // nil, bool, number: n is 0
	kindStr                // n bytes follow
	kindBin                // n bytes follow
	kindExt                // n bytes follow
	kindArray              // n objects follow
	kindMap                // 2n objects follow
)

// String names the kind in messages.
func (k kind) String() string {
	return [...]string{"value", "string", "binary", "extension", "array", "map"}[k]
}

// fixed gives the header length of the MessagePack types with one: for
// the lead bytes 0xc0 to 0xdf, the bytes before any data, the bytes of
// data of a fixed size, and the bytes of a length field.
var fixed = [32]struct {
	k          kind
	hdr, n, ln uint8
}{
	0x00: {kindScalar, 1, 0, 0}, // nil
	0x01: {kindScalar, 0, 0, 0}, // never used
	0x02: {kindScalar, 1, 0, 0}, // false
	0x03: {kindScalar, 1, 0, 0}, // true
	0x04: {kindBin, 2, 0, 1},    // bin 8
	0x05: {kindBin, 3, 0, 2},    // bin 16
	0x06: {kindBin, 5, 0, 4},    // bin 32
	0x07: {kindExt, 3, 0, 1},    // ext 8: length, type
	0x08: {kindExt, 4, 0, 2},    // ext 16
	0x09: {kindExt, 6, 0, 4},    // ext 32
	0x0a: {kindScalar, 5, 0, 0}, // float 32
	0x0b: {kindScalar, 9, 0, 0}, // float 64
	0x0c: {kindScalar, 2, 0, 0}, // uint 8
	0x0d: {kindScalar, 3, 0, 0}, // uint 16
	0x0e: {kindScalar, 5, 0, 0}, // uint 32
	0x0f: {kindScalar, 9, 0, 0}, // uint 64
	0x10: {kindScalar, 2, 0, 0}, // int 8
	0x11: {kindScalar, 3, 0, 0}, // int 16
	0x12: {kindScalar, 5, 0, 0}, // int 32
	0x13: {kindScalar, 9, 0, 0}, // int 64
	0x14: {kindExt, 2, 1, 0},    // fixext 1: type, then data
	0x15: {kindExt, 2, 2, 0},    // fixext 2
	0x16: {kindExt, 2, 4, 0},    // fixext 4
	0x17: {kindExt, 2, 8, 0},    // fixext 8
	0x18: {kindExt, 2, 16, 0},   // fixext 16
	0x19: {kindStr, 2, 0, 1},    // str 8
	0x1a: {kindStr, 3, 0, 2},    // str 16
	0x1b: {kindStr, 5, 0, 4},    // str 32
	0x1c: {kindArray, 3, 0, 2},  // array 16
	0x1d: {kindArray, 5, 0, 4},  // array 32
	0x1e: {kindMap, 3, 0, 2},    // map 16
	0x1f: {kindMap, 5, 0, 4},    // map 32
}

// head decodes the MessagePack header at the start of b: what it
// introduces, the header's length in bytes, and n — the bytes of data
// that follow for a string, binary or extension, the elements of an
// array, the entries of a map, 0 for a scalar (whose header is all of
// it).
func head(b []byte) (k kind, hdr int, n uint64, err error) {
	if len(b) == 0 {
		return 0, 0, 0, msgp.ErrShortBytes
	}
	lead := b[0]
	switch {
	case lead <= 0x7f || lead >= 0xe0:
		return kindScalar, 1, 0, nil
	case lead <= 0x8f:
		return kindMap, 1, uint64(lead & 0x0f), nil
	case lead <= 0x9f:
		return kindArray, 1, uint64(lead & 0x0f), nil
	case lead <= 0xbf:
		return kindStr, 1, uint64(lead & 0x1f), nil
	}
	f := fixed[lead-0xc0]
	if f.hdr == 0 {
		return 0, 0, 0, msgp.InvalidPrefixError(lead)
	}
	if len(b) < int(f.hdr) {
		return 0, 0, 0, msgp.ErrShortBytes
	}
	n = uint64(f.n)
	switch f.ln {
	case 1:
		n = uint64(b[1])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b[1:]))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b[1:]))
	}
	return f.k, int(f.hdr), n, nil
}

// knownModelPaths returns the key path of every field of a Model, found
// by walking the encoding of a Model with one element in each array.
var knownModelPaths = sync.OnceValue(func() map[string]bool {
	l := []Layer{{WeightsF16: []byte{0, 0}}} // every omitempty field set
	m := Model{Requires: []string{""}, Channels: []Channel{{}}, Layers: l, Decoder: l,
		Features: Features{Stats: []string{""}}, Training: Training{Sources: []string{""}, Widened: []string{""}},
		Members: []Member{{Layers: l, Decoder: l, Features: Features{Stats: []string{""}}}}, Norm: 1}
	b, err := m.MarshalMsg(nil)
	if err != nil {
		panic("firmware: encoding the model template: " + err.Error()) // cannot happen: a programming error
	}
	w := walker{what: "model template", record: map[string]bool{}}
	if err := w.check(b); err != nil {
		panic("firmware: walking the model template: " + err.Error())
	}
	return w.record
})
