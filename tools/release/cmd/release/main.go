// Command release builds vigil's release binaries into a directory
// (default dist/): vigil-agent and vigil for linux armv6 (GOARM=6), armv7,
// arm64 and amd64, vigil also for darwin/arm64 and windows/amd64; static
// (CGO_ENABLED=0), -trimpath, stripped, with -X main.version. File names are
// <program>_<version>_<os>_<arch>[.exe]; SHA256SUMS lists them. make release
// runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"

	"github.com/vigil-edge/vigil/tools/release"
)

func main() {
	root, err := release.ModuleRoot()
	if err != nil {
		fail(err)
	}
	out := flag.String("out", filepath.Join(root, "dist"), "output directory")
	version := flag.String("version", "", "version stamped into the binaries (default: git describe --tags --always --dirty)")
	jobs := flag.Int("j", 2, "builds at a time")
	flag.Parse()
	if *version == "" {
		*version = release.GitVersion(root)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	for _, p := range []release.Program{release.Agent, release.CLI} {
		ok, err := release.HasVersionVar(root, p)
		if err != nil {
			fail(err)
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "release: warning: %s declares no `var version`: -X main.version does not stamp %s\n", p.Pkg, p.Name)
		}
	}
	arts := release.Artifacts()
	errs := make([]error, len(arts))
	sem := make(chan struct{}, max(*jobs, 1))
	var wg sync.WaitGroup
	for i, a := range arts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = release.Build(ctx, release.BuildOptions{Root: root, Program: a.Program, Target: a.Target,
				Version: *version, Out: filepath.Join(*out, a.FileName(*version))})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			fail(err)
		}
		path := filepath.Join(*out, arts[i].FileName(*version))
		st, err := os.Stat(path)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%-45s %10d bytes\n", path, st.Size())
	}
	if _, err := release.WriteSums(*out, *version); err != nil {
		fail(err)
	}
	fmt.Println(filepath.Join(*out, release.SumsFile))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "release:", err)
	os.Exit(1)
}
