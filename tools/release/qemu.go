package release

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// QemuARM is the user-mode emulator for 32-bit ARM binaries (Debian's
// qemu-user-static).
const QemuARM = "qemu-arm-static"

// ARM1176 is the Raspberry Pi Zero's and 1's core (ARMv6, VFPv2): qemu's
// default ARM CPU accepts ARMv7 instructions, so ARMv6 builds are run as
// this one.
const ARM1176 = "arm1176"

// EmulatedRun is how a binary fared under qemu.
type EmulatedRun struct {
	Output, Stderr string
	// Err is nil for exit status 0; Signal is the signal that killed the
	// emulated process, if one did (qemu re-raises it), else 0.
	Err    error
	Signal syscall.Signal
}

func (r EmulatedRun) String() string {
	switch {
	case r.Err == nil:
		return "exit 0"
	case r.Signal != 0:
		return "killed by " + r.Signal.String()
	}
	return fmt.Sprintf("%v: %s", r.Err, OneLine(r.Stderr+r.Output))
}

// RunOnCPU runs a linux/arm binary with args under qemu-arm-static as the
// given CPU. A missing qemu is an error naming the Debian package.
func RunOnCPU(ctx context.Context, cpu, binary string, args ...string) (EmulatedRun, error) {
	qemu, err := exec.LookPath(QemuARM)
	if err != nil {
		return EmulatedRun{}, fmt.Errorf("release: %s not found: install qemu-user-static (make deps does, as root)", QemuARM)
	}
	cmd := exec.CommandContext(ctx, qemu, append([]string{"-cpu", cpu, binary}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := EmulatedRun{Output: stdout.String(), Stderr: stderr.String(), Err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Signal = ws.Signal()
		}
	} else if err != nil {
		return r, fmt.Errorf("release: running %s: %w", QemuARM, err)
	}
	return r, nil
}
