//go:build !linux

package cli

import (
	"errors"
	"os"
)

// openPty is only implemented on Linux, where the gateways run.
func openPty() (master, tty *os.File, err error) {
	return nil, nil, errors.New("sim: --pty is supported on Linux only")
}

// pollable is only needed where openPty works.
func pollable(f *os.File) (*os.File, error) { return f, nil }
