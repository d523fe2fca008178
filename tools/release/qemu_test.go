package release

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestARMv6OnARM1176 runs the armv6 release build of the agent under
// qemu as the Pi Zero's core, and, as a control, the armv7 build, which
// that CPU must refuse (an illegal instruction) — else the check proves
// nothing.
func TestARMv6OnARM1176(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v6, err := RunOnCPU(ctx, ARM1176, agentFor(t, LinuxARMv6), "--version")
	if err != nil {
		t.Fatal(err)
	}
	if v6.Err != nil || strings.TrimSpace(v6.Output) != "vigil-agent "+testVersion {
		t.Errorf("armv6 build on an ARM1176: %v, output %q", v6, v6.Output)
	}
	v7, err := RunOnCPU(ctx, ARM1176, agentFor(t, LinuxARMv7), "--version")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case v7.Err == nil:
		t.Errorf("the armv7 build ran on the emulated ARM1176 (%q): the emulation accepts ARMv7, so the armv6 check proves nothing", v7.Output)
	case v7.Signal != syscall.SIGILL:
		t.Logf("the armv7 build failed on the ARM1176 without SIGILL: %v", v7)
	default:
		t.Logf("control: the armv7 build on the ARM1176: %v", v7)
	}
}
