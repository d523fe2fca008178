//go:build linux

package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair, terminal side raw. The responder
// serves on the master; the master under test opens the terminal's path
// with OpenRTU, the production path through go.bug.st/serial.
func openPTY(t testing.TB) (master *os.File, path string) {
	t.Helper()
	m, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { tty.Close(); m.Close() })
	fd := int(tty.Fd())
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return m, tty.Name()
}

// responder is a hand-written RTU slave on a pty master: it frames
// requests, answers from memSlave banks and can misbehave on purpose.
type responder struct {
	f      *os.File
	slaves *memSlave
	mu     sync.Mutex
	silent map[uint8]bool // never answer
	badCRC map[uint8]bool // flip the CRC's low byte
	before []byte         // strays sent before each response
	after  []byte         // strays sent after each response
}

func (r *responder) serve() {
	var req [MaxRTUADU]byte
	buf := make([]byte, MaxPDU)
	var out []byte
	for {
		if _, err := io.ReadFull(r.f, req[:2]); err != nil {
			return
		}
		n := 8
		if req[1] == byte(FuncWriteMultipleRegisters) {
			if _, err := io.ReadFull(r.f, req[2:7]); err != nil {
				return
			}
			n = 9 + int(req[6])
			if _, err := io.ReadFull(r.f, req[7:n]); err != nil {
				return
			}
		} else if _, err := io.ReadFull(r.f, req[2:8]); err != nil {
			return
		}
		if crc16(req[:n-2]) != uint16(req[n-2])|uint16(req[n-1])<<8 {
			continue // a slave ignores frames with a bad CRC
		}
		slave := req[0]
		r.mu.Lock()
		silent, bad, before, after := r.silent[slave], r.badCRC[slave], r.before, r.after
		r.mu.Unlock()
		if silent {
			continue
		}
		pdu, err := r.slaves.RoundTrip(context.Background(), slave, req[1:n-2], buf)
		if err != nil {
			continue
		}
		out = append(append(out[:0], before...), slave)
		out = append(out, pdu...)
		crc := crc16(out[len(before):])
		if bad {
			crc ^= 0x5A
		}
		out = append(out, byte(crc), byte(crc>>8))
		out = append(out, after...)
		if _, err := r.f.Write(out); err != nil {
			return
		}
	}
}

// startResponder serves banks on a new pty and returns the responder and
// an RTU master opened on the terminal side with opts.
func startResponder(t testing.TB, banks map[uint8]*bank, opts RTUOpts) (*responder, *RTU) {
	t.Helper()
	m, path := openPTY(t)
	r := &responder{f: m, slaves: &memSlave{banks: banks}, silent: map[uint8]bool{}, badCRC: map[uint8]bool{}}
	go r.serve()
	opts.Device = path
	c, err := OpenRTU(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return r, c
}

func rtuOpts(timeout time.Duration) RTUOpts {
	o := DefaultRTUOpts
	o.Baud = 115200
	o.Timeout = timeout
	return o
}

func TestRTUOverPTY(t *testing.T) {
	banks := map[uint8]*bank{1: {holding: []uint16{11, 22, 33, 44}}, 2: {holding: []uint16{55}}, 3: {holding: []uint16{66}}}
	r, c := startResponder(t, banks, rtuOpts(100*time.Millisecond))
	ctx := context.Background()
	reg := make([]uint16, 2)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 1, reg); err != nil || reg[0] != 22 || reg[1] != 33 {
		t.Fatalf("read = %v, %v", reg, err)
	}

	// Exception response.
	err := ReadRegisters(ctx, c, 2, FuncReadHoldingRegisters, 1, reg)
	var ex *ExceptionError
	if !errors.As(err, &ex) || ex.Code != ExIllegalDataAddress {
		t.Errorf("read past the end = %v, want illegal data address", err)
	}

	// Stray bytes before and after the response are dropped.
	r.mu.Lock()
	r.before, r.after = []byte{0x00, 0xFF, 0x01, 0x55, 0x02}, []byte{0x01, 0x03, 0x99}
	r.mu.Unlock()
	for i := range 3 {
		if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 2, reg); err != nil || reg[0] != 33 || reg[1] != 44 {
			t.Errorf("read %d with strays = %v, %v", i, reg, err)
		}
	}
	r.mu.Lock()
	r.before, r.after = nil, nil
	r.badCRC[3] = true
	r.silent[4] = true
	r.mu.Unlock()

	// A bad CRC is reported as such, well before the timeout.
	start := time.Now()
	err = ReadRegisters(ctx, c, 3, FuncReadHoldingRegisters, 0, reg[:1])
	if took := time.Since(start); !errors.Is(err, ErrCRC) || took > 80*time.Millisecond {
		t.Errorf("bad CRC: %v after %v, want ErrCRC before the 100ms timeout", err, took)
	}

	// A silent slave times out after Timeout.
	start = time.Now()
	err = ReadRegisters(ctx, c, 4, FuncReadHoldingRegisters, 0, reg[:1])
	if took := time.Since(start); !errors.Is(err, ErrTimeout) || took < 95*time.Millisecond || took > 300*time.Millisecond {
		t.Errorf("silent slave: %v after %v, want ErrTimeout after about 100ms", err, took)
	}

	// The bus still works, and concurrent users are serialised.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reg := make([]uint16, 1)
			for range 10 {
				if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, uint16(g), reg); err != nil || reg[0] != uint16(11*(g+1)) {
					t.Errorf("goroutine %d: %v, %v", g, reg, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// Writes.
	if err := WriteRegister(ctx, c, 1, 0, 7); err == nil {
		t.Error("memSlave does not implement writes; want an exception")
	}
}

func TestRTUOpts(t *testing.T) {
	tests := []struct {
		o       RTUOpts
		bits    int
		silence time.Duration
	}{
		{RTUOpts{Baud: 9600, DataBits: 8, Parity: "E", StopBits: 1}, 11, 4010416 * time.Nanosecond},
		{RTUOpts{Baud: 9600, DataBits: 8, Parity: "N", StopBits: 2}, 11, 4010416 * time.Nanosecond},
		{RTUOpts{Baud: 9600, DataBits: 8, Parity: "N", StopBits: 1}, 10, 3645833 * time.Nanosecond},
		{RTUOpts{Baud: 19200, DataBits: 8, Parity: "E", StopBits: 1}, 11, 2005208 * time.Nanosecond},
		{RTUOpts{Baud: 38400, DataBits: 8, Parity: "E", StopBits: 1}, 11, 1750 * time.Microsecond},
	}
	for _, tt := range tests {
		if b, s := tt.o.CharBits(), tt.o.Silence(); b != tt.bits || s != tt.silence {
			t.Errorf("%+v: CharBits, Silence = %d, %v, want %d, %v", tt.o, b, s, tt.bits, tt.silence)
		}
	}
	bad := []RTUOpts{
		{Baud: 9600, DataBits: 7, Parity: "E", StopBits: 1, Timeout: time.Second},
		{Baud: 9600, DataBits: 8, Parity: "X", StopBits: 1, Timeout: time.Second},
		{Baud: 9600, DataBits: 8, Parity: "N", StopBits: 3, Timeout: time.Second},
		{Baud: 9600, DataBits: 8, Parity: "N", StopBits: 1},
		{Baud: 0, DataBits: 8, Parity: "N", StopBits: 1, Timeout: time.Second},
	}
	for _, o := range bad {
		if _, err := NewRTU(nil, o); err == nil {
			t.Errorf("NewRTU(%+v) accepted", o)
		}
	}
}

// wireMinimum is the shortest time the requests of p can take on a real
// line with opts: each request and response ADU at CharBits per byte,
// plus the 3.5-character silence before the request and before the
// response.
func wireMinimum(p *Poller, opts RTUOpts) time.Duration {
	var d time.Duration
	charTime := float64(opts.CharBits()) / float64(opts.Baud) * float64(time.Second)
	for _, q := range p.reqs {
		bytes := 8 + 3 + responseLen(q.pdu[:])
		d += time.Duration(float64(bytes)*charTime) + 2*opts.Silence()
	}
	return d
}

// BenchmarkPollRTU: the review scenario, 30 slaves × 16 registers (one
// 16-register read each) at 115200 baud 8E1 over a pty pair served by the
// Go responder. A pty does not pace bytes at the baud rate, so ns/op is
// the software cost of a cycle plus the enforced silences; wire-min-ms is
// what the same cycle needs at least on a real line.
func BenchmarkPollRTU(b *testing.B) {
	banks := map[uint8]*bank{}
	var regs []Register
	for s := uint8(1); s <= 30; s++ {
		banks[s] = &bank{holding: make([]uint16, 16)}
		for a := range uint16(16) {
			banks[s].holding[a] = a
			regs = append(regs, Register{Name: fmt.Sprintf("s%d.r%d", s, a), Slave: s, Address: a})
		}
	}
	opts := rtuOpts(200 * time.Millisecond)
	_, c := startResponder(b, banks, opts)
	p, err := NewPoller(c, regs, DefaultPollerOpts)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, len(regs))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Poll(ctx, dst); err != nil {
			b.Fatal(err)
		}
	}
	wire := wireMinimum(p, opts)
	b.ReportMetric(float64(wire)/1e6, "wire-min-ms")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(wire), "measured/wire-min")
}

func TestParseParity(t *testing.T) {
	for in, want := range map[string]string{"none": "N", "even": "E", "odd": "O", "E": "E", "mark": ""} {
		got, err := ParseParity(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseParity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
