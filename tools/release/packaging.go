package release

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

// Packaging holds the package's files: nfpm.yaml, the systemd unit
// vigil-agent.service, the default configuration agent.yaml (the
// conffile /etc/vigil/agent.yaml), the maintainer scripts postinst, prerm
// and postrm, and copyright.
//
//go:embed packaging
var packaging embed.FS

// PackagingFile returns one of the packaging files.
func PackagingFile(name string) ([]byte, error) {
	return packaging.ReadFile("packaging/" + name)
}

// scripts are the packaging files that must be executable.
var scripts = map[string]bool{"postinst": true, "prerm": true, "postrm": true}

// writePackaging copies the packaging files into dir.
func writePackaging(dir string) error {
	return fs.WalkDir(packaging, "packaging", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := packaging.ReadFile(path)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if scripts[d.Name()] {
			mode = 0o755
		}
		return os.WriteFile(filepath.Join(dir, d.Name()), b, mode)
	})
}
