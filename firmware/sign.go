package firmware

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Key file formats: one line each, the first word saying what it holds,
// then the key in standard base64, then the key's name.
const (
	// PublicKeyPrefix starts a public key file:
	// "vigil-ed25519-public <base64 of the 32-byte key> <name>\n".
	PublicKeyPrefix = "vigil-ed25519-public"
	// PrivateKeyPrefix starts a private key file:
	// "vigil-ed25519-private <base64 of the 32-byte seed> <name>\n".
	PrivateKeyPrefix = "vigil-ed25519-private"
	// MaxKeyName bounds a key's name in bytes.
	MaxKeyName = 64
	// maxKeyFile bounds how much of a key file is read.
	maxKeyFile = 4 << 10
)

// PublicKey is an ed25519 key that verifies model files, with a name for
// people ("release-2026", "lab"). Its id (ID) is what a signed file names.
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

// PrivateKey is an ed25519 key that signs model files, with a name. Its
// String method does not show the key.
type PrivateKey struct {
	Name string
	Key  ed25519.PrivateKey
}

// KeyID returns the id of an ed25519 public key: the first 8 bytes of the
// SHA-256 of its 32 raw bytes, as 16 lowercase hex digits.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDBytes])
}

// GenerateKey makes a new key pair named name from the randomness of r
// (crypto/rand if nil).
func GenerateKey(name string, r io.Reader) (PublicKey, PrivateKey, error) {
	if err := checkKeyName(name); err != nil {
		return PublicKey{}, PrivateKey{}, err
	}
	if r == nil {
		r = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return PublicKey{}, PrivateKey{}, fmt.Errorf("firmware: generating a key: %w", err)
	}
	return PublicKey{Name: name, Key: pub}, PrivateKey{Name: name, Key: priv}, nil
}

// ID returns the key's id (KeyID).
func (k PublicKey) ID() string { return KeyID(k.Key) }

// String returns the key's name and id.
func (k PublicKey) String() string { return fmt.Sprintf("%q (key id %s)", k.Name, k.ID()) }

// MarshalText returns the public key file's line, newline included.
func (k PublicKey) MarshalText() ([]byte, error) {
	if len(k.Key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("firmware: public key: %d bytes, want %d", len(k.Key), ed25519.PublicKeySize)
	}
	return keyLine(PublicKeyPrefix, k.Key, k.Name)
}

// UnmarshalText parses a public key line (ParsePublicKey), so that a
// configuration file can hold one.
func (k *PublicKey) UnmarshalText(text []byte) error {
	p, err := ParsePublicKey(text)
	if err == nil {
		*k = p
	}
	return err
}

// ParsePublicKey parses a public key file's contents: one line
// "vigil-ed25519-public <base64 key> <name>", newline optional.
func ParsePublicKey(text []byte) (PublicKey, error) {
	raw, name, err := parseKeyLine("public key", PublicKeyPrefix, PrivateKeyPrefix, text)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{Name: name, Key: ed25519.PublicKey(raw)}, nil
}

// Public returns the public half of k, with its name.
func (k PrivateKey) Public() PublicKey {
	if len(k.Key) != ed25519.PrivateKeySize {
		return PublicKey{Name: k.Name}
	}
	return PublicKey{Name: k.Name, Key: k.Key.Public().(ed25519.PublicKey)}
}

// ID returns the id of the key's public half.
func (k PrivateKey) ID() string { return k.Public().ID() }

// String returns the key's name and id, never the key.
func (k PrivateKey) String() string { return fmt.Sprintf("private key %q (key id %s)", k.Name, k.ID()) }

// GoString is String, so that %#v does not print the key either.
func (k PrivateKey) GoString() string { return k.String() }

// MarshalText returns the private key file's line, newline included. It
// holds the secret seed: write it to a file only the signer can read
// (mode 0600).
func (k PrivateKey) MarshalText() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return keyLine(PrivateKeyPrefix, k.Key.Seed(), k.Name)
}

// check checks the key's size and name.
func (k PrivateKey) check() error {
	if len(k.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("firmware: private key: %d bytes, want %d", len(k.Key), ed25519.PrivateKeySize)
	}
	return checkKeyName(k.Name)
}

// ParsePrivateKey parses a private key file's contents: one line
// "vigil-ed25519-private <base64 seed> <name>", newline optional.
func ParsePrivateKey(text []byte) (PrivateKey, error) {
	seed, name, err := parseKeyLine("private key", PrivateKeyPrefix, PublicKeyPrefix, text)
	if err != nil {
		return PrivateKey{}, err
	}
	return PrivateKey{Name: name, Key: ed25519.NewKeyFromSeed(seed)}, nil
}

// ReadPublicKeyFile reads a public key file; errors name the path.
func ReadPublicKeyFile(path string) (PublicKey, error) {
	text, err := readKeyFile(path, false)
	if err != nil {
		return PublicKey{}, err
	}
	k, err := ParsePublicKey(text)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ReadPrivateKeyFile reads a private key file; errors name the path. It
// refuses a file that group or others may read or write.
func ReadPrivateKeyFile(path string) (PrivateKey, error) {
	text, err := readKeyFile(path, true)
	if err != nil {
		return PrivateKey{}, err
	}
	k, err := ParsePrivateKey(text)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// readKeyFile reads a small regular file; if private, only its owner may
// have access to it.
func readKeyFile(path string, private bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("firmware: key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("firmware: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("firmware: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); private && perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("firmware: private key file %s has mode %04o: group or others may read it; make it private with chmod 600 %s", path, perm, path)
	}
	text, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("firmware: key file %s: %w", path, err)
	}
	if len(text) > maxKeyFile {
		return nil, fmt.Errorf("firmware: key file %s is over %d bytes: not a key file", path, maxKeyFile)
	}
	return text, nil
}

// keyLine formats a key file's line.
func keyLine(prefix string, raw []byte, name string) ([]byte, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "%s %s %s\n", prefix, base64.StdEncoding.EncodeToString(raw), name), nil
}

// parseKeyLine parses "<prefix> <base64 of 32 bytes> <name>"; other is
// the prefix of the other kind of key, for a clear message.
func parseKeyLine(what, prefix, other string, text []byte) ([]byte, string, error) {
	line, more, _ := bytes.Cut(text, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(bytes.TrimSpace(more)) != 0 {
		return nil, "", fmt.Errorf("firmware: %s: more than one line; want one line %q", what, prefix+" KEY NAME")
	}
	word, rest, _ := strings.Cut(string(line), " ")
	switch word {
	case prefix:
	case other:
		return nil, "", fmt.Errorf("firmware: %s: this is a %s key (%q), not a %s", what, strings.TrimPrefix(other, "vigil-ed25519-"), other, what)
	default:
		return nil, "", fmt.Errorf("firmware: %s: first word %q, want %q", what, truncate(word), prefix)
	}
	enc, name, _ := strings.Cut(rest, " ")
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, "", fmt.Errorf("firmware: %s: the key is not standard base64: %w", what, err)
	}
	if len(raw) != ed25519.SeedSize { // = ed25519.PublicKeySize
		return nil, "", fmt.Errorf("firmware: %s: the key is %d bytes, want %d", what, len(raw), ed25519.SeedSize)
	}
	if p := keyNameProblem(name); p != "" {
		return nil, "", fmt.Errorf("firmware: %s: name %q after the key %s", what, truncate(name), p)
	}
	return raw, name, nil
}

// checkKeyName checks a key's name (keyNameProblem).
func checkKeyName(name string) error {
	if p := keyNameProblem(name); p != "" {
		return fmt.Errorf("firmware: key name %q %s", truncate(name), p)
	}
	return nil
}

// keyNameProblem says what is wrong with a key's name, if anything: it
// must be 1 to MaxKeyName bytes of UTF-8 without control characters and
// without a leading or trailing space.
func keyNameProblem(name string) string {
	var p string
	switch {
	case name == "":
		p = "is missing"
	case len(name) > MaxKeyName:
		p = fmt.Sprintf("is %d bytes, over %d", len(name), MaxKeyName)
	case !utf8.ValidString(name):
		p = "is not UTF-8"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		p = "holds a control character"
	case strings.TrimSpace(name) != name:
		p = "starts or ends with a space"
	default:
		return ""
	}
	return p + fmt.Sprintf("; want 1 to %d printable characters", MaxKeyName)
}

// Sign returns file — a model file of format 1 or 2, unsigned or signed
// by another key — as a format 2 file signed with key. It first decodes
// file (Decode with AllowUnsigned: its digest, structure and model must
// hold; another key's signature cannot be checked without that key), and
// decodes the result with key's public half as the only trusted key
// before returning it. A format 1 payload is re-encoded (as Pack would),
// which changes the model's ID; a format 2 payload is kept as it is.
func Sign(file []byte, key PrivateKey) ([]byte, error) {
	if err := key.check(); err != nil {
		return nil, err
	}
	l, e, err := decode(file, LoadOptions{AllowUnsigned: true})
	if err != nil {
		return nil, err
	}
	payload := e.payload
	if e.format != FormatV2 {
		if payload, err = canonicalPayload(l.Model); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(payload)
	sig := ed25519.Sign(key.Key, SignedMessage(FormatV2, payload))
	out := appendEnvelope(nil, FormatV2, payload, sum[:], key.ID(), sig)
	if _, err := Decode(out, LoadOptions{Trusted: []PublicKey{key.Public()}}); err != nil {
		return nil, fmt.Errorf("firmware: the signed file does not load: %w", err)
	}
	return out, nil
}
