// Command mkdeb makes the vigil-agent Debian packages (armhf from the
// GOARM=6 build, arm64, amd64) with nfpm from the agent binaries that
// `release` left in the directory, then rewrites its SHA256SUMS to cover
// them too. make deb runs release, then mkdeb.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-edge/vigil/tools/release"
)

func main() {
	root, err := release.ModuleRoot()
	if err != nil {
		fail(err)
	}
	dist := flag.String("dist", filepath.Join(root, "dist"), "release directory: the agent binaries in, the packages out")
	version := flag.String("version", "", "the release's version, as in the binaries' names (default: git describe --tags --always --dirty)")
	arches := flag.String("arch", "armhf,arm64,amd64", "Debian architectures, comma-separated")
	maintainer := flag.String("maintainer", release.DefaultMaintainer, "the packages' Maintainer field")
	flag.Parse()
	if *version == "" {
		*version = release.GitVersion(root)
	}
	mtime := release.CommitTime(root)
	debVersion, err := release.DebVersion(*version, mtime)
	if err != nil {
		fail(err)
	}
	for _, name := range strings.Split(*arches, ",") {
		arch, ok := release.DebArchNamed(name)
		if !ok {
			fail(fmt.Errorf("unknown architecture %q", name))
		}
		bin := filepath.Join(*dist, release.Artifact{Program: release.Agent, Target: arch.Target}.FileName(*version))
		path, err := release.Deb(release.DebOptions{Arch: arch, Version: debVersion, Binary: bin, OutDir: *dist,
			Maintainer: *maintainer, MTime: mtime})
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s (%s binary)\n", path, arch.Target)
	}
	// The packages are named with the Debian version.
	if _, err := release.WriteSums(*dist, *version, debVersion); err != nil {
		fail(err)
	}
	fmt.Println(filepath.Join(*dist, release.SumsFile))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkdeb:", err)
	os.Exit(1)
}
