package release

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
)

// DebArch is a Debian architecture the agent is packaged for.
type DebArch struct {
	Debian string // dpkg's name: armhf
	NFPM   string // nfpm's name: arm6
	// Target is the binary the package holds. armhf holds the GOARM=6
	// build: Raspberry Pi OS's armhf is ARMv6 (Debian's is ARMv7, which
	// runs it too), so the one package runs on every Pi.
	Target Target
}

// DebArches are the packages a release has.
var DebArches = []DebArch{
	{Debian: "armhf", NFPM: "arm6", Target: LinuxARMv6},
	{Debian: "arm64", NFPM: "arm64", Target: LinuxARM64},
	{Debian: "amd64", NFPM: "amd64", Target: LinuxAMD64},
}

// DebArchNamed returns the DebArch with the Debian name, or false.
func DebArchNamed(name string) (DebArch, bool) {
	for _, a := range DebArches {
		if a.Debian == name {
			return a, true
		}
	}
	return DebArch{}, false
}

// DefaultMaintainer is the package's Maintainer field unless one is given.
const DefaultMaintainer = "vigil maintainers <maintainers@vigil-edge.invalid>"

// DebOptions say which package to make.
type DebOptions struct {
	Arch DebArch
	// Version is the package's Debian version (DebVersion).
	Version string
	// Binary is the agent built for Arch.Target.
	Binary string
	// OutDir receives the package, named as Debian names packages:
	// vigil-agent_<version>_<arch>.deb.
	OutDir     string
	Maintainer string // default DefaultMaintainer
	// MTime stamps every file in the package (reproducible builds: the
	// commit's time); zero takes SOURCE_DATE_EPOCH, else now.
	MTime time.Time
}

// Deb makes the vigil-agent Debian package with nfpm, from
// packaging/nfpm.yaml, and returns its path.
func Deb(o DebOptions) (string, error) {
	if o.Maintainer == "" {
		o.Maintainer = DefaultMaintainer
	}
	bin, err := filepath.Abs(o.Binary)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("release: the agent binary for %s: %w", o.Arch.Debian, err)
	}
	dir, err := os.MkdirTemp("", "vigil-packaging-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := writePackaging(dir); err != nil {
		return "", err
	}
	vars := map[string]string{"ARCH": o.Arch.NFPM, "VERSION": o.Version, "BINARY": bin, "MAINTAINER": o.Maintainer}
	var unknown []string
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(dir, "nfpm.yaml"), func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if !strings.HasPrefix(k, "NFPM_") { // nfpm asks for its passphrases
			unknown = append(unknown, k)
		}
		return ""
	})
	if err != nil {
		return "", fmt.Errorf("release: nfpm.yaml: %w", err)
	}
	if len(unknown) > 0 {
		return "", fmt.Errorf("release: nfpm.yaml uses unknown variables %q", unknown)
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", fmt.Errorf("release: nfpm.yaml: %w", err)
	}
	// Paths in nfpm.yaml are relative to its directory.
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, c := range info.Contents {
		c.Source = rel(c.Source)
	}
	s := &info.Scripts
	s.PreInstall, s.PostInstall, s.PreRemove, s.PostRemove = rel(s.PreInstall), rel(s.PostInstall), rel(s.PreRemove), rel(s.PostRemove)
	if !o.MTime.IsZero() {
		info.MTime = o.MTime.UTC()
	}
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", fmt.Errorf("release: nfpm: %w", err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(o.OutDir, deb.Default.ConventionalFileName(info))
	f, err := os.CreateTemp(o.OutDir, ".deb-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		return "", fmt.Errorf("release: nfpm deb %s: %w", o.Arch.Debian, err)
	}
	if err := errors.Join(f.Chmod(0o644), f.Close()); err != nil {
		return "", err
	}
	return out, os.Rename(f.Name(), out)
}

// CommitTime is the time of HEAD's commit in dir (git log -1 --format=%ct),
// for reproducible packages; zero outside git.
func CommitTime(dir string) time.Time {
	out, err := gitOutput(dir, "log", "-1", "--format=%ct")
	if err != nil {
		return time.Time{}
	}
	var sec int64
	if _, err := fmt.Sscan(out, &sec); err != nil {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
