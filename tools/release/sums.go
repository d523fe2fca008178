package release

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-edge/vigil/firmware"
)

// SumsFile is the checksum file of a release directory.
const SumsFile = "SHA256SUMS"

// WriteSums writes dir/SHA256SUMS over the files in dir whose names hold
// _<version>_ for one of versions (this release's binaries, and its
// packages, named with the Debian version), in the format `sha256sum -c`
// reads. It returns the names listed.
func WriteSums(dir string, versions ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	var b strings.Builder
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.ContainsFunc(versions, func(v string) bool { return strings.Contains(e.Name(), "_"+v+"_") }) {
			continue
		}
		sum, err := fileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		names = append(names, e.Name())
		fmt.Fprintf(&b, "%s  %s\n", sum, e.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("release: no files of version %q in %s", versions, dir)
	}
	return names, firmware.WriteFile(filepath.Join(dir, SumsFile), []byte(b.String()), 0o644)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
