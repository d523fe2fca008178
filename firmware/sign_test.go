package firmware

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKey returns a fixed key named name, derived from the name, so test
// files signed with it are the same on every run.
func testKey(t testing.TB, name string) PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("vigil test key " + name))
	_, priv, err := GenerateKey(name, bytes.NewReader(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// trustTest returns options that trust the "release" test key and allow
// unsigned files.
func trustTest(t testing.TB) LoadOptions {
	return LoadOptions{AllowUnsigned: true, Trusted: []PublicKey{testKey(t, "release").Public()}}
}

func TestGenerateKey(t *testing.T) {
	pub, priv, err := GenerateKey("release 2026", nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pub.Key)
	if id := pub.ID(); len(id) != 16 || id != fmt.Sprintf("%x", sum[:8]) || priv.ID() != id || !isKeyID(id) {
		t.Errorf("key id %q (private %q), want the first 8 bytes of sha256(key) %x", id, priv.ID(), sum[:8])
	}
	if pub.Name != "release 2026" || !priv.Public().Key.Equal(pub.Key) {
		t.Errorf("public %v, private %v: names or keys differ", pub, priv)
	}
	_, other, _ := GenerateKey("release 2026", nil)
	if other.ID() == priv.ID() {
		t.Error("two generated keys have the same id")
	}
	for _, name := range []string{"", " lead", "trail ", "new\nline", strings.Repeat("x", MaxKeyName+1), "\xff"} {
		if _, _, err := GenerateKey(name, nil); err == nil || !strings.Contains(err.Error(), "key name") {
			t.Errorf("GenerateKey(%q): %v, want an error about the key name", name, err)
		}
	}
	// Printing a private key never shows it.
	seed := base64.StdEncoding.EncodeToString(priv.Key.Seed())
	for _, s := range []string{fmt.Sprint(priv), fmt.Sprintf("%v %+v %#v %s", priv, priv, priv, priv)} {
		if strings.Contains(s, seed) || !strings.Contains(s, priv.ID()) {
			t.Errorf("printed private key %q: shows the seed, or not the id", s)
		}
	}
}

func TestKeyText(t *testing.T) {
	priv := testKey(t, "lab bench")
	pub := priv.Public()
	pt, err := pub.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	st, err := priv.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pt), "vigil-ed25519-public ") || !strings.HasSuffix(string(pt), " lab bench\n") || strings.Count(string(pt), "\n") != 1 {
		t.Errorf("public key text %q", pt)
	}
	if !strings.HasPrefix(string(st), "vigil-ed25519-private ") || !strings.HasSuffix(string(st), " lab bench\n") {
		t.Errorf("private key text %q", st)
	}
	p2, err := ParsePublicKey(pt)
	if err != nil || p2.Name != pub.Name || !p2.Key.Equal(pub.Key) {
		t.Errorf("ParsePublicKey(%q) = %v, %v", pt, p2, err)
	}
	s2, err := ParsePrivateKey(bytes.TrimSuffix(st, []byte("\n")))
	if err != nil || s2.Name != priv.Name || !s2.Key.Equal(priv.Key) {
		t.Errorf("ParsePrivateKey without the newline = %v, %v", s2, err)
	}
	var u PublicKey
	if err := u.UnmarshalText(pt); err != nil || !u.Key.Equal(pub.Key) {
		t.Errorf("UnmarshalText: %v %v", u, err)
	}
	if _, err := (PublicKey{Name: "x", Key: make([]byte, 31)}).MarshalText(); err == nil {
		t.Error("MarshalText of a 31-byte public key succeeded")
	}

	key := base64.StdEncoding.EncodeToString(pub.Key)
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", `first word "", want "vigil-ed25519-public"`},
		{"other prefix", "ssh-ed25519 " + key + " x", `first word "ssh-ed25519"`},
		{"private given", string(st), "this is a private key"},
		{"not base64", "vigil-ed25519-public !!!! name", "not standard base64"},
		{"short key", "vigil-ed25519-public " + base64.StdEncoding.EncodeToString(pub.Key[:31]) + " name", "31 bytes, want 32"},
		{"no name", "vigil-ed25519-public " + key, "name \"\" after the key is missing"},
		{"no name, space", "vigil-ed25519-public " + key + " ", "is missing"},
		{"two lines", string(pt) + string(pt), "more than one line"},
		{"control character", "vigil-ed25519-public " + key + " a\tb", "control character"},
	}
	for _, tc := range tests {
		_, err := ParsePublicKey([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParsePublicKey(%q) = %v, want an error containing %q", tc.name, tc.text, err, tc.want)
		}
	}
	if _, err := ParsePrivateKey(pt); err == nil || !strings.Contains(err.Error(), "this is a public key") {
		t.Errorf("ParsePrivateKey of a public key: %v", err)
	}
	if _, err := ParsePublicKey([]byte(string(pt[:len(pt)-1]) + "\r\n")); err != nil {
		t.Errorf("a CRLF line: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	priv := testKey(t, "release")
	pt, _ := priv.Public().MarshalText()
	st, _ := priv.MarshalText()
	pubPath, privPath := filepath.Join(dir, "release.pub"), filepath.Join(dir, "release.key")
	if err := os.WriteFile(pubPath, pt, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privPath, st, 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := ReadPublicKeyFile(pubPath); err != nil || k.ID() != priv.ID() {
		t.Errorf("ReadPublicKeyFile: %v, %v", k, err)
	}
	if k, err := ReadPrivateKeyFile(privPath); err != nil || !k.Key.Equal(priv.Key) {
		t.Errorf("ReadPrivateKeyFile: %v, %v", k, err)
	}
	// The mode is checked from the file, so this holds for root too.
	os.Chmod(privPath, 0o640)
	if _, err := ReadPrivateKeyFile(privPath); err == nil || !strings.Contains(err.Error(), privPath) || !strings.Contains(err.Error(), "mode 0640") || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("private key readable by group: %v, want an error naming the path, mode and fix", err)
	}
	if _, err := ReadPublicKeyFile(privPath); err == nil || !strings.Contains(err.Error(), privPath) || !strings.Contains(err.Error(), "private key") {
		t.Errorf("ReadPublicKeyFile of a private key: %v", err)
	}
	if _, err := ReadPublicKeyFile(filepath.Join(dir, "missing.pub")); err == nil || !strings.Contains(err.Error(), "missing.pub") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadPublicKeyFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	big := filepath.Join(dir, "big.pub")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 5000), 0o644)
	if _, err := ReadPublicKeyFile(big); err == nil || !strings.Contains(err.Error(), "not a key file") {
		t.Errorf("a 5000-byte file: %v", err)
	}
}

func TestSignAndVerify(t *testing.T) {
	release, lab := testKey(t, "release"), testKey(t, "lab")
	unsigned, err := Pack(testModel())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(unsigned, release)
	if err != nil {
		t.Fatal(err)
	}
	trusted := []PublicKey{lab.Public(), release.Public()}
	l, err := Decode(signed, LoadOptions{Trusted: trusted})
	if err != nil {
		t.Fatal(err)
	}
	lu, _ := Decode(unsigned, LoadOptions{AllowUnsigned: true})
	if l.Format != FormatV2 || l.KeyID != release.ID() || l.Signer != "release" || len(l.Warnings) != 0 || l.ID != lu.ID {
		t.Errorf("signed file: format %d key %q signer %q warnings %q id %s (unsigned %s)", l.Format, l.KeyID, l.Signer, l.Warnings, l.ID, lu.ID)
	}

	// Signing again with another key replaces the signature; the payload,
	// and so the id, stay.
	relab, err := Sign(signed, lab)
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := Decode(relab, LoadOptions{Trusted: trusted}); err != nil || l2.Signer != "lab" || l2.ID != l.ID {
		t.Errorf("re-signed by lab: %v, %v", l2, err)
	}
	// A format 1 file is re-encoded and signed.
	v1 := v1File(payloadOf(t, testModel()))
	s1, err := Sign(v1, release)
	if err != nil {
		t.Fatal(err)
	}
	if l1, err := Decode(s1, LoadOptions{Trusted: trusted}); err != nil || l1.Format != FormatV2 || l1.Signer != "release" {
		t.Errorf("signed format 1 file: %v, %v", l1, err)
	}

	flipped := func(i int) []byte {
		b := bytes.Clone(signed)
		b[i] ^= 0x01
		return b
	}
	sigAt := len(signed) - 1                         // the last byte of the signature
	payloadAt := bytes.Index(signed, []byte("test")) // in the model's name
	tests := []struct {
		name string
		data []byte
		o    LoadOptions
		is   error
		want string
	}{
		{"unsigned, not allowed", unsigned, LoadOptions{Trusted: trusted}, ErrUnsigned, "unsigned"},
		{"untrusted key", signed, LoadOptions{Trusted: []PublicKey{lab.Public()}}, ErrUntrustedKey, release.ID()},
		{"no keys", signed, LoadOptions{}, ErrUntrustedKey, "not among the 0 trusted keys"},
		{"signature flipped", flipped(sigAt), LoadOptions{Trusted: trusted}, ErrBadSignature, `trusted key ` + release.ID() + ` ("release")`},
		{"signature flipped, unsigned allowed", flipped(sigAt), LoadOptions{Trusted: trusted, AllowUnsigned: true}, ErrBadSignature, "changed after it was signed"},
		{"payload flipped", flipped(payloadAt), LoadOptions{Trusted: trusted}, ErrDamaged, "payload digest mismatch: file damaged (want sha256"},
		{"payload flipped is a bad signature", flipped(payloadAt), LoadOptions{Trusted: trusted}, ErrBadSignature, "damaged"},
		{"trusted name, other key", signed, LoadOptions{Trusted: []PublicKey{{Name: "release", Key: lab.Public().Key}}}, ErrUntrustedKey, release.ID()},
	}
	for _, tc := range tests {
		_, err := Decode(tc.data, tc.o)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decode error %v, want %v containing %q", tc.name, err, tc.is, tc.want)
		}
	}
	// A payload changed and its digest updated: the signature catches it.
	var e Envelope
	e.UnmarshalMsg(signed)
	m := testModel()
	m.Threshold.Value = 99
	e.Payload = payloadOf(t, m)
	sum := sha256.Sum256(e.Payload)
	e.Digest = sum[:]
	forged, _ := e.MarshalMsg(nil)
	if _, err := Decode(forged, LoadOptions{Trusted: trusted}); !errors.Is(err, ErrBadSignature) || errors.Is(err, ErrDamaged) {
		t.Errorf("payload and digest replaced: %v, want ErrBadSignature", err)
	}
	// A file signed by an untrusted key loads as unsigned when unsigned
	// files are allowed, and says so.
	lw, err := Decode(signed, LoadOptions{AllowUnsigned: true})
	if err != nil || lw.Signer != "" || lw.KeyID != release.ID() || len(lw.Warnings) != 1 || !strings.Contains(lw.Warnings[0], "not trusted") {
		t.Errorf("untrusted key, unsigned allowed: %+v, %v", lw, err)
	}
	// The signature covers the format: the same payload and signature
	// under another format number do not verify.
	if msg1, msg2 := SignedMessage(1, []byte("p")), SignedMessage(2, []byte("p")); bytes.Equal(msg1, msg2) || string(msg2) != "vigil-model\x00\x02p" {
		t.Errorf("SignedMessage: %q %q", msg1, msg2)
	}

	if _, err := Sign(unsigned, PrivateKey{Name: "x", Key: make([]byte, 10)}); err == nil {
		t.Error("Sign with a 10-byte key succeeded")
	}
	if _, err := Sign(flipped(payloadAt), lab); !errors.Is(err, ErrDamaged) {
		t.Errorf("Sign of a damaged file: %v, want ErrDamaged", err)
	}
	if _, err := Sign([]byte("junk"), lab); err == nil {
		t.Error("Sign of junk succeeded")
	}
}
