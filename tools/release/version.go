package release

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// GitVersion is `git describe --tags --always --dirty` in dir (the
// version stamped into binaries with -X main.version), or "dev" outside
// a git work tree.
func GitVersion(dir string) string {
	if v, err := gitOutput(dir, "describe", "--tags", "--always", "--dirty"); err == nil && v != "" {
		return v
	}
	return "dev"
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

var (
	// v1.2.3, v1.2.3-rc.1, 1.2, each optionally followed by git
	// describe's -N-gHASH. Without the v a tag needs a dot: 1234567 is a
	// commit.
	tagged = regexp.MustCompile(`^(?:v([0-9]+(?:\.[0-9]+)*)|([0-9]+(?:\.[0-9]+)+))(?:-([0-9A-Za-z.]+))??(?:-([0-9]+)-g([0-9a-f]+))?$`)
	// a bare abbreviated commit: no tag reachable.
	untagged   = regexp.MustCompile(`^g?([0-9a-f]{4,40})$`)
	debVersion = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~]*$`)
)

// DebVersion turns a git describe version into a Debian package version
// that sorts the way the releases do: v1.2.3 is 1.2.3, v1.2.3-rc.1 is
// 1.2.3~rc.1 (before 1.2.3), 4 commits after v1.2.3 is 1.2.3+git4.gHASH
// (after 1.2.3, before 1.2.4), a commit with no tag is 0.0.0+gHASH, "dev"
// is 0.0.0+dev, and a dirty tree appends .dirty (or +dirty). For a commit
// with no tag, a non-zero commit time (CommitTime) goes first,
// 0.0.0+git20261203100725.gHASH, so that such snapshots upgrade in order.
func DebVersion(v string, commit ...time.Time) (string, error) {
	in := v
	dirty := false
	if s, ok := strings.CutSuffix(v, "-dirty"); ok {
		v, dirty = s, true
	}
	var out, local string
	if m := tagged.FindStringSubmatch(v); m != nil {
		out = m[1] + m[2]
		if m[3] != "" {
			out += "~" + m[3]
		}
		if m[4] != "" {
			local = "git" + m[4] + ".g" + m[5]
		}
	} else if m := untagged.FindStringSubmatch(v); m != nil {
		out, local = "0.0.0", "g"+m[1]
		if len(commit) > 0 && !commit[0].IsZero() {
			local = "git" + commit[0].UTC().Format("20060102150405") + "." + local
		}
	} else if v == "dev" {
		out, local = "0.0.0", "dev"
	} else {
		return "", fmt.Errorf("release: version %q: want a tag like v1.2.3 (as git describe --tags prints it), a commit hash or dev", in)
	}
	if dirty {
		if local != "" {
			local += "."
		}
		local += "dirty"
	}
	if local != "" {
		out += "+" + local
	}
	if !debVersion.MatchString(out) {
		return "", fmt.Errorf("release: version %q gives %q, not a Debian version", in, out)
	}
	return out, nil
}
