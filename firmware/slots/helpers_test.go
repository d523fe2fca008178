package slots

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test model files: "vgm-test", the version (8 bytes, big endian), a
// payload and a CRC-32 of everything before it, so a torn or flipped file
// fails testCheck.
const testMagic = "vgm-test"

// testModel returns the test model file of version v: always the same
// bytes for the same v, about 12 KiB so a half-written temporary file
// spans pages.
func testModel(v uint64) []byte {
	b := []byte(testMagic)
	b = binary.BigEndian.AppendUint64(b, v)
	b = append(b, bytes.Repeat(fmt.Appendf(nil, "weights of model %d;", v), 600)...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// testCheck is Options.Check for test models.
func testCheck(data []byte) (uint64, error) {
	n := len(testMagic)
	if len(data) < n+12 || string(data[:n]) != testMagic {
		return 0, errors.New("not a test model")
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return 0, errors.New("test model CRC mismatch")
	}
	return binary.BigEndian.Uint64(data[n:]), nil
}

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func testOptions() Options { return Options{Check: testCheck, Now: newClock().Now} }

// openT opens the store in dir with test options or fails the test.
func openT(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, testOptions())
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

// update installs, activates and commits version v, or fails the test.
func update(t testing.TB, s *Store, v uint64) {
	t.Helper()
	if _, err := s.Install(testModel(v), InstallOptions{AllowRollback: true}); err != nil {
		t.Fatalf("Install(v%d): %v", v, err)
	}
	if _, err := s.Activate(); err != nil {
		t.Fatalf("Activate(v%d): %v", v, err)
	}
	if err := s.Commit(); err != nil {
		t.Fatalf("Commit(v%d): %v", v, err)
	}
}

// activeVersion returns the active model's version, checking that its
// bytes are exactly testModel(version); 0 means no active model.
func activeVersion(t testing.TB, s *Store) uint64 {
	t.Helper()
	info, data, err := s.Active()
	if errors.Is(err, ErrNoModel) {
		return 0
	}
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	if !bytes.Equal(data, testModel(info.Version)) {
		t.Fatalf("Active returned %d bytes that are not model version %d", len(data), info.Version)
	}
	return info.Version
}

// dirSnapshot returns the names and contents of the files in dir.
func dirSnapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, content := range dirSnapshot(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// flipBit flips one bit in the middle of the file at path.
func flipBit(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// tempFiles lists the store's temporary files left in dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	for name := range dirSnapshot(t, dir) {
		if isTemp(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// wantErr checks err against want: nil, a sentinel (errors.Is) or, for
// a string, a substring of the message.
func wantErr(t testing.TB, what string, err error, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if err != nil {
			t.Fatalf("%s: %v, want no error", what, err)
		}
	case error:
		if !errors.Is(err, w) {
			t.Fatalf("%s: %v, want %v", what, err, w)
		}
	case string:
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("%s: %v, want an error containing %q", what, err, w)
		}
	}
}
