package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Target is a platform binaries are built for.
type Target struct {
	OS, Arch string
	// ARM is GOARM ("6", "7") for Arch arm.
	ARM string
}

// Name is the target in file names: linux_armv6, linux_arm64,
// darwin_arm64, windows_amd64.
func (t Target) Name() string {
	a := t.Arch
	if a == "arm" {
		a = "armv" + t.ARM
	}
	return t.OS + "_" + a
}

func (t Target) String() string { return t.Name() }

// Env is the go command's environment for the target: static (cgo off).
func (t Target) Env() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + t.OS, "GOARCH=" + t.Arch}
	if t.Arch == "arm" {
		env = append(env, "GOARM="+t.ARM)
	}
	return env
}

// The platforms: the gateways (Pi Zero/1 armv6, Pi 2/3 armv7, 64-bit Pi
// OS arm64, amd64 boxes) run both binaries; desktops run vigil.
var (
	LinuxARMv6  = Target{OS: "linux", Arch: "arm", ARM: "6"}
	LinuxARMv7  = Target{OS: "linux", Arch: "arm", ARM: "7"}
	LinuxARM64  = Target{OS: "linux", Arch: "arm64"}
	LinuxAMD64  = Target{OS: "linux", Arch: "amd64"}
	DarwinARM64 = Target{OS: "darwin", Arch: "arm64"}
	WinAMD64    = Target{OS: "windows", Arch: "amd64"}

	GatewayTargets = []Target{LinuxARMv6, LinuxARMv7, LinuxARM64, LinuxAMD64}
	DesktopTargets = append(append([]Target{}, GatewayTargets...), DarwinARM64, WinAMD64)
)

// Program is a command of the module.
type Program struct {
	Name string // file name: vigil-agent
	Pkg  string // package, relative to the module root: ./agent/cmd/vigil-agent
	// Tags are the program's own build tags, always passed.
	Tags string
}

// AgentTags leave HTTP/2 out of the agent: its only HTTP server is the
// loopback status page and /metrics, which HTTP/1.1 serves as well, and
// paho never speaks HTTP/2. It saves 0.35 MB of every ARM binary. The
// Makefile's build and cross targets use the same tags.
const AgentTags = "nethttpomithttp2"

var (
	// Agent is the gateway daemon.
	Agent = Program{Name: "vigil-agent", Pkg: "./agent/cmd/vigil-agent", Tags: AgentTags}
	// CLI is the desktop tool.
	CLI = Program{Name: "vigil", Pkg: "./tools/cmd/vigil"}
)

// Artifact is one binary of a release: program, target, file name.
type Artifact struct {
	Program Program
	Target  Target
}

// Artifacts lists a release's binaries: the agent for the gateways, the
// CLI for the gateways and the desktops.
func Artifacts() []Artifact {
	var as []Artifact
	for _, t := range GatewayTargets {
		as = append(as, Artifact{Agent, t})
	}
	for _, t := range DesktopTargets {
		as = append(as, Artifact{CLI, t})
	}
	return as
}

// FileName is the artifact's file name in dist/:
// vigil-agent_<version>_linux_armv7, vigil_<version>_windows_amd64.exe.
func (a Artifact) FileName(version string) string {
	n := a.Program.Name + "_" + version + "_" + a.Target.Name()
	if a.Target.OS == "windows" {
		n += ".exe"
	}
	return n
}

// GoCommand is the go command running this program (go run and go test
// put it first in PATH), else the one of this program's GOROOT.
func GoCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// ModuleRoot is the directory of the go.mod governing the current
// directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command(GoCommand(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("release: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("release: not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// BuildOptions say how to build one binary.
type BuildOptions struct {
	Root    string // module root
	Program Program
	Target  Target
	Version string // stamped as main.version
	Out     string // output file
	// Unstripped keeps the symbol table and DWARF (size analysis).
	Unstripped bool
	// Tags, if set, are added to the program's own; GCFlags, if set, is
	// passed as -gcflags (both to try size options).
	Tags, GCFlags string
}

// LDFlags are the release's linker flags: no symbol table or DWARF, and
// the version.
func LDFlags(version string, strip bool) string {
	f := "-X main.version=" + version
	if strip {
		f = "-s -w " + f
	}
	return f
}

// Build builds one static binary with -trimpath and the release's
// linker flags.
func Build(ctx context.Context, o BuildOptions) error {
	if strings.ContainsAny(o.Version, " \t\n'\"") {
		return fmt.Errorf("release: version %q: no spaces or quotes", o.Version)
	}
	args := []string{"build", "-trimpath", "-ldflags", LDFlags(o.Version, !o.Unstripped)}
	if tags := strings.Trim(o.Program.Tags+","+o.Tags, ","); tags != "" {
		args = append(args, "-tags", tags)
	}
	if o.GCFlags != "" {
		args = append(args, "-gcflags", o.GCFlags)
	}
	cmd := exec.CommandContext(ctx, GoCommand(), append(args, "-o", o.Out, o.Program.Pkg)...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), o.Target.Env()...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("release: building %s for %s: %w\n%s", o.Program.Name, o.Target, err, stderr.Bytes())
	}
	return nil
}

// HasVersionVar reports whether the program's main package declares the
// package-level string variable version that -X main.version sets: the
// linker silently ignores -X for a variable that does not exist.
func HasVersionVar(root string, p Program) (bool, error) {
	files, err := filepath.Glob(filepath.Join(root, p.Pkg, "*.go"))
	if err != nil {
		return false, err
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return false, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if n.Name == "version" {
						return true, nil
					}
				}
			}
		}
	}
	return false, nil
}
