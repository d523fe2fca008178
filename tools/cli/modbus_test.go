package cli

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors/modbus"
)

// vigil sim --modbus-tcp serves the pump over Modbus (through
// simonvetter/modbus); vigil modbus scan finds its unit, and vigil's own
// master reads plausible pump values from its register map.
func TestSimModbusAndScan(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Stdout: io.Discard, Stderr: io.Discard}, []string{"sim", "--modbus-tcp", addr, "--rate", "20"})
	}()
	defer func() { cancel(); <-done }()
	regs := make([]modbus.Register, 8)
	for i := range regs {
		regs[i] = modbus.Register{Name: string(rune('a' + i)), Slave: SimModbusUnit, Address: uint16(2 * i), Type: modbus.Float32}
	}
	client, err := modbus.NewTCP(addr, modbus.TCPOpts{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	p, err := modbus.NewPoller(client, regs, modbus.PollerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 8)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := p.Poll(ctx, v)
		if err == nil && v[6] > 100 { // Voltage, about 230 V, once a sample is in
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pump values over Modbus within 10 s: %v %v", v, err)
		}
	}
	if v[6] < 200 || v[6] > 260 || p.Requests() != 1 {
		t.Errorf("voltage %v V read in %d requests: want about 230 V in one merged request", v[6], p.Requests())
	}
	code, out, errOut := run("modbus", "scan", "--address", addr, "--to", "4")
	if code != 0 || strings.TrimSpace(out) != "answering: 1" {
		t.Errorf("modbus scan: exit %d, out %q, err %q", code, out, errOut)
	}
	if code, _, errOut := run("modbus", "scan", "--device", "/dev/x", "--address", addr); code != 2 || !strings.Contains(errOut, "not both") {
		t.Errorf("scan with both: exit %d %q", code, errOut)
	}
}

// vigil sim --modbus-rtu serves the pump on a pseudo-terminal; vigil's
// RTU master reads it and vigil modbus scan finds unit 1 only.
func TestSimModbusRTU(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyRS485")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Stdout: io.Discard, Stderr: io.Discard}, []string{"sim", "--modbus-rtu", "--link", link, "--rate", "20"})
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(link); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no terminal within 10 s")
		}
	}
	rtu, err := modbus.OpenRTU(modbus.RTUOpts{Device: link, Baud: 115200, DataBits: 8, Parity: "N", StopBits: 1, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	regs := []modbus.Register{{Name: "Voltage", Slave: SimModbusUnit, Address: 12, Type: modbus.Float32},
		{Name: "Pressure", Slave: SimModbusUnit, Address: 6, Type: modbus.Float32}}
	p, err := modbus.NewPoller(rtu, regs, modbus.PollerOpts{MaxGap: 4})
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 2)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := p.Poll(ctx, v); err == nil && v[0] > 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pump values over Modbus RTU within 10 s: %v", v)
		}
	}
	if v[0] < 200 || v[0] > 260 || v[1] < -2 || v[1] > 5 {
		t.Errorf("voltage %v V, pressure %v bar: not a pump's", v[0], v[1])
	}
	// An address past the map is exception 2, named as such.
	bad, _ := modbus.NewPoller(rtu, []modbus.Register{{Name: "x", Slave: SimModbusUnit, Address: 100}}, modbus.PollerOpts{})
	if err := bad.Poll(ctx, v[:1]); err == nil || !strings.Contains(err.Error(), "illegal data address") {
		t.Errorf("read past the map: %v", err)
	}
	rtu.Close()
	// Debian's mbpoll (libmodbus), a master vigil had no hand in, reads
	// the same map.
	mb, err := exec.Command("mbpoll", "-m", "rtu", "-a", "1", "-b", "115200", "-P", "none", "-t", "4:float", "-B",
		"-r", "1", "-c", "8", "-1", link).CombinedOutput()
	if err != nil {
		t.Fatalf("mbpoll (apt-get install mbpoll): %v\n%s", err, mb)
	}
	if got := mbpollValues(string(mb)); len(got) != 8 || got[6] < 200 || got[6] > 260 {
		t.Errorf("mbpoll read %v, want 8 values with a pump's voltage (200–260 V) 7th:\n%s", got, mb)
	}
	code, out, errOut := run("modbus", "scan", "--device", link, "--baud", "115200", "--parity", "none", "--to", "3", "--timeout", "100ms")
	if code != 0 || strings.TrimSpace(out) != "answering: 1" {
		t.Errorf("modbus scan: exit %d, out %q, err %q", code, out, errOut)
	}
}

// mbpollValues returns the values of mbpoll's "[ref]: value" lines.
func mbpollValues(out string) []float64 {
	var vs []float64
	for _, l := range strings.Split(out, "\n") {
		ref, val, ok := strings.Cut(l, ":")
		if !ok || !strings.HasPrefix(ref, "[") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}
