//go:build linux

package modbus

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const aptHint = "apt-get install -y python3-pymodbus python3-serial-asyncio socat"

// python finds a python3 that can import pymodbus: Debian's
// /usr/bin/python3 first (python3-pymodbus installs there), then PATH.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import pymodbus.server, serial_asyncio").Run() == nil {
			return p
		}
	}
	t.Fatalf("no python3 with pymodbus here; the RTU interoperability test needs it: %s", aptHint)
	return ""
}

// startPymodbus makes a pty pair with socat and runs testdata/rtu_slave.py
// (pymodbus' RTU slave) on one end; it returns the other end's path. Both
// processes are killed when the test ends.
func startPymodbus(t *testing.T, baud int, parity string) string {
	t.Helper()
	py := python(t)
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Fatalf("socat not found; the RTU interoperability test needs it: %s", aptHint)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	start := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	sc := start(socat, "-d", "-d", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	sc.Stderr = nil
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, ea := os.Stat(a)
		_, eb := os.Stat(b)
		if ea == nil && eb == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("socat made no pty links within 5s")
		}
	}
	slave := start(py, "testdata/rtu_slave.py", a, strconv.Itoa(baud), parity)
	out, err := slave.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := slave.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "rtu_slave: serving") {
		t.Fatalf("rtu_slave.py did not start: %q, %v", line, err)
	}
	return b
}

func TestRTUAgainstPymodbus(t *testing.T) {
	// 8N1: pyserial cannot set parity on a pty (EINVAL), so pymodbus
	// could not open its end at 8E1.
	path := startPymodbus(t, 115200, "N")
	opts := DefaultRTUOpts
	opts.Device, opts.Baud, opts.Parity, opts.Timeout = path, 115200, "N", time.Second
	c, err := OpenRTU(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	// The slave opens its end after printing; retry the first read briefly.
	regs := make([]uint16, 10)
	for deadline := time.Now().Add(5 * time.Second); ; {
		err = ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, regs)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || regs[0] != 100 || regs[9] != 109 {
		t.Fatalf("read holding 0+10 from pymodbus = %v, %v", regs, err)
	}
	in := make([]uint16, 3)
	if err := ReadRegisters(ctx, c, 1, FuncReadInputRegisters, 2, in); err != nil || in[0] != 202 || in[2] != 204 {
		t.Errorf("read input 2+3 = %v, %v", in, err)
	}
	coils := make([]bool, 8)
	if err := ReadBits(ctx, c, 1, FuncReadCoils, 0, coils); err != nil || !coils[0] || coils[1] || !coils[2] || !coils[7] {
		t.Errorf("read coils 0+8 = %v, %v", coils, err)
	}
	di := make([]bool, 3)
	if err := ReadBits(ctx, c, 1, FuncReadDiscreteInputs, 0, di); err != nil || di[0] || !di[1] || !di[2] {
		t.Errorf("read discrete inputs 0+3 = %v, %v", di, err)
	}
	if err := WriteRegister(ctx, c, 1, 5, 0xBEEF); err != nil {
		t.Errorf("write single register: %v", err)
	}
	if err := WriteRegisters(ctx, c, 1, 7, []uint16{1, 2, 3}); err != nil {
		t.Errorf("write multiple registers: %v", err)
	}
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, regs); err != nil || regs[5] != 0xBEEF || regs[7] != 1 || regs[9] != 3 {
		t.Errorf("read back after writes = %v, %v", regs, err)
	}

	err = ReadRegisters(ctx, c, 3, FuncReadHoldingRegisters, 0, make([]uint16, 5))
	var ex *ExceptionError
	if !errors.As(err, &ex) || ex.Slave != 3 || ex.Code != ExIllegalDataAddress {
		t.Errorf("read past unit 3's registers = %v, want exception 2", err)
	}

	p, err := NewPoller(c, []Register{
		{Name: "flow", Slave: 2, Address: 0, Type: Float32},
		{Name: "press", Slave: 2, Address: 2, Type: Int32, WordOrder: LittleEndian, Scale: 0.01},
		{Name: "h3", Slave: 1, Address: 3, Scale: 0.5, Offset: -1},
		{Name: "in4", Slave: 1, Table: Input, Address: 4, Type: Int16},
		{Name: "c2", Slave: 1, Table: Coil, Address: 2},
		{Name: "bad", Slave: 3, Address: 0, Type: Uint32},
	}, DefaultPollerOpts)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 6)
	err = p.Poll(ctx, dst)
	if !errors.As(err, &ex) || ex.Slave != 3 {
		t.Errorf("Poll err = %v, want unit 3's exception", err)
	}
	want := []float32{12.5, -700, 50.5, 204, 1}
	for i, w := range want {
		if math.Abs(float64(dst[i]-w)) > 1e-3 {
			t.Errorf("Poll value %d = %v, want %v", i, dst[i], w)
		}
	}
	if !math.IsNaN(float64(dst[5])) {
		t.Errorf("failed register = %v, want NaN", dst[5])
	}

	if got := Scan(ctx, withTimeout{c, 150 * time.Millisecond}, 1, 5); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Errorf("Scan(1..5) = %v, want [1 2 3]", got)
	}
}

// withTimeout shortens a Client's requests with a context deadline.
type withTimeout struct {
	c Client
	d time.Duration
}

func (w withTimeout) RoundTrip(ctx context.Context, slave uint8, req, buf []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, w.d)
	defer cancel()
	return w.c.RoundTrip(ctx, slave, req, buf)
}
