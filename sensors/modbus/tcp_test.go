package modbus

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	sv "github.com/simonvetter/modbus"
)

// bank is the data of one slave, served by an independent implementation
// (simonvetter/modbus' TCP server, see svHandler).
type bank struct {
	holding, input []uint16
	coils, inputs  []bool
}

// svHandler serves banks by unit id through simonvetter/modbus; reads
// past a bank's end get "illegal data address".
type svHandler struct {
	mu    sync.Mutex
	banks map[uint8]*bank
}

func (h *svHandler) bank(unit uint8) (*bank, error) {
	b := h.banks[unit]
	if b == nil {
		return nil, sv.ErrGWTargetFailedToRespond
	}
	return b, nil
}

func span[T any](s []T, addr, qty uint16) ([]T, error) {
	if int(addr)+int(qty) > len(s) {
		return nil, sv.ErrIllegalDataAddress
	}
	return s[addr : int(addr)+int(qty)], nil
}

func (h *svHandler) HandleCoils(r *sv.CoilsRequest) ([]bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := h.bank(r.UnitId)
	if err != nil {
		return nil, err
	}
	if r.IsWrite {
		return nil, sv.ErrIllegalFunction
	}
	v, err := span(b.coils, r.Addr, r.Quantity)
	return append([]bool(nil), v...), err
}

func (h *svHandler) HandleDiscreteInputs(r *sv.DiscreteInputsRequest) ([]bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := h.bank(r.UnitId)
	if err != nil {
		return nil, err
	}
	v, err := span(b.inputs, r.Addr, r.Quantity)
	return append([]bool(nil), v...), err
}

func (h *svHandler) HandleHoldingRegisters(r *sv.HoldingRegistersRequest) ([]uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := h.bank(r.UnitId)
	if err != nil {
		return nil, err
	}
	v, err := span(b.holding, r.Addr, r.Quantity)
	if err != nil {
		return nil, err
	}
	if r.IsWrite {
		copy(v, r.Args)
		return nil, nil
	}
	return append([]uint16(nil), v...), nil
}

func (h *svHandler) HandleInputRegisters(r *sv.InputRegistersRequest) ([]uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := h.bank(r.UnitId)
	if err != nil {
		return nil, err
	}
	v, err := span(b.input, r.Addr, r.Quantity)
	return append([]uint16(nil), v...), err
}

// startServer starts a simonvetter/modbus TCP server at addr ("" picks a
// free port) and returns its address; it is stopped when the test ends.
func startServer(t testing.TB, addr string, h *svHandler) (string, *sv.ModbusServer) {
	t.Helper()
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	srv, err := sv.NewServer(&sv.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 4}, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return addr, srv
}

func testBanks() *svHandler {
	b := &bank{holding: make([]uint16, 200), input: make([]uint16, 20), coils: make([]bool, 30), inputs: make([]bool, 30)}
	for i := range b.holding {
		b.holding[i] = uint16(1000 + i)
	}
	for i := range b.input {
		b.input[i] = uint16(2000 + i)
	}
	for i := range b.coils {
		b.coils[i] = i%3 == 0
		b.inputs[i] = i%2 == 1
	}
	return &svHandler{banks: map[uint8]*bank{1: b, 2: {holding: make([]uint16, 10), input: make([]uint16, 10)}}}
}

func dialTest(t testing.TB, addr string, timeout time.Duration) *TCP {
	t.Helper()
	c, err := DialTCP(addr, TCPOpts{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTCPFunctions(t *testing.T) {
	h := testBanks()
	addr, _ := startServer(t, "", h)
	c := dialTest(t, addr, time.Second)
	ctx := context.Background()

	regs := make([]uint16, 125)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 10, regs); err != nil || regs[0] != 1010 || regs[124] != 1134 {
		t.Errorf("read holding 10+125 = %v..%v, %v", regs[0], regs[124], err)
	}
	regs = regs[:3]
	if err := ReadRegisters(ctx, c, 1, FuncReadInputRegisters, 17, regs); err != nil || regs[0] != 2017 || regs[2] != 2019 {
		t.Errorf("read input 17+3 = %v, %v", regs, err)
	}
	bits := make([]bool, 19)
	if err := ReadBits(ctx, c, 1, FuncReadCoils, 5, bits); err != nil {
		t.Fatal(err)
	}
	for i, b := range bits {
		if b != ((5+i)%3 == 0) {
			t.Errorf("coil %d = %v", 5+i, b)
		}
	}
	if err := ReadBits(ctx, c, 1, FuncReadDiscreteInputs, 2, bits); err != nil {
		t.Fatal(err)
	}
	for i, b := range bits {
		if b != ((2+i)%2 == 1) {
			t.Errorf("discrete input %d = %v", 2+i, b)
		}
	}
	if err := WriteRegister(ctx, c, 1, 7, 0xBEEF); err != nil {
		t.Errorf("write single: %v", err)
	}
	if err := WriteRegisters(ctx, c, 1, 100, []uint16{1, 2, 3}); err != nil {
		t.Errorf("write multiple: %v", err)
	}
	h.mu.Lock()
	if b := h.banks[1].holding; b[7] != 0xBEEF || b[100] != 1 || b[102] != 3 {
		t.Errorf("after writes holding[7]=%#x holding[100:103]=%v", b[7], b[100:103])
	}
	h.mu.Unlock()

	// An exception: reading past the bank.
	err := ReadRegisters(ctx, c, 2, FuncReadHoldingRegisters, 8, make([]uint16, 5))
	var ex *ExceptionError
	if !errors.As(err, &ex) || ex.Code != ExIllegalDataAddress || ex.Slave != 2 || ex.Function != 3 {
		t.Errorf("read past the end = %v, want illegal data address", err)
	} else if want := "modbus: slave 2 function 3: exception 2 (illegal data address)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go io.Copy(io.Discard, c)
		}
	}()
	return l.Addr().String()
}

func TestTCPTimeout(t *testing.T) {
	c := dialTest(t, silentServer(t), 100*time.Millisecond)
	start := time.Now()
	err := ReadRegisters(context.Background(), c, 1, FuncReadHoldingRegisters, 0, make([]uint16, 1))
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) || !strings.HasPrefix(err.Error(), "modbus: slave 1 function 3: timeout") {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	if took < 90*time.Millisecond || took > 400*time.Millisecond {
		t.Errorf("timed out after %v, want about 100ms", took)
	}
	// A context deadline shorter than Timeout wins.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, make([]uint16, 1)); !errors.Is(err, ErrTimeout) || time.Since(start) > 80*time.Millisecond {
		t.Errorf("with a 20ms context: %v after %v", err, time.Since(start))
	}
}

func TestTCPReconnect(t *testing.T) {
	h := testBanks()
	addr, srv := startServer(t, "", h)
	c := dialTest(t, addr, time.Second)
	ctx := context.Background()
	reg := make([]uint16, 1)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, reg); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, reg); err == nil {
		t.Fatal("read with the server stopped succeeded")
	}
	startServer(t, addr, h)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 1, reg); err != nil || reg[0] != 1001 {
		t.Fatalf("after the restart: %v, %v", reg, err)
	}
}

// TestTCPRestartBetweenRequests: the server restarts between two polls;
// the next request notices the dead connection and redials once.
func TestTCPRestartBetweenRequests(t *testing.T) {
	h := testBanks()
	addr, srv := startServer(t, "", h)
	c := dialTest(t, addr, time.Second)
	ctx := context.Background()
	reg := make([]uint16, 1)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 0, reg); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	startServer(t, addr, h)
	time.Sleep(20 * time.Millisecond)
	if err := ReadRegisters(ctx, c, 1, FuncReadHoldingRegisters, 2, reg); err != nil || reg[0] != 1002 {
		t.Fatalf("first read after the restart: %v, %v", reg, err)
	}
}

// putValue stores v of type typ at regs[addr:] in the given orders, the
// way a device would lay it out (written independently of decodeRaw).
func putValue(regs []uint16, addr int, typ Type, word, byteO Order, v float64) {
	var u uint32
	switch typ {
	case Uint16, Uint32:
		u = uint32(v)
	case Int16:
		u = uint32(uint16(int16(v)))
	case Int32:
		u = uint32(int32(v))
	case Float32:
		u = math.Float32bits(float32(v))
	}
	sw := func(r uint16) uint16 {
		if byteO == LittleEndian {
			return r<<8 | r>>8
		}
		return r
	}
	if typ.width() == 1 {
		regs[addr] = sw(uint16(u))
		return
	}
	hi, lo := uint16(u>>16), uint16(u)
	if word == LittleEndian {
		hi, lo = lo, hi
	}
	regs[addr], regs[addr+1] = sw(hi), sw(lo)
}

func TestTCPPollMerged(t *testing.T) {
	h := testBanks()
	b1 := h.banks[1]
	regs := []Register{
		{Name: "temp", Slave: 1, Address: 10, Type: Int16, Scale: 0.1},
		{Name: "flow", Slave: 1, Address: 11, Type: Float32, WordOrder: LittleEndian},
		{Name: "energy", Slave: 1, Address: 13, Type: Uint32, Scale: 0.001, Offset: 5},
		{Name: "press", Slave: 1, Address: 16, Type: Int32, ByteOrder: LittleEndian}, // gap of 1 at 15
		{Name: "speed", Slave: 1, Table: Input, Address: 3},
		{Name: "alarm", Slave: 1, Table: Coil, Address: 9},
		{Name: "door", Slave: 1, Table: Discrete, Address: 4},
		{Name: "missing", Slave: 2, Address: 9, Type: Uint32}, // past the end: exception
	}
	putValue(b1.holding, 10, Int16, 0, 0, -123)
	putValue(b1.holding, 11, Float32, LittleEndian, 0, 12.5)
	putValue(b1.holding, 13, Uint32, 0, 0, 3000000000)
	putValue(b1.holding, 16, Int32, 0, LittleEndian, -70000)
	addr, _ := startServer(t, "", h)
	c := dialTest(t, addr, time.Second)
	p, err := NewPoller(c, regs, PollerOpts{MaxGap: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Requests(); got != 5 { // holding 10..17, input 3, coil 9, discrete 4, slave 2
		t.Errorf("Requests() = %d, want 5", got)
	}
	dst := make([]float32, len(regs))
	err = p.Poll(context.Background(), dst)
	var ex *ExceptionError
	if !errors.As(err, &ex) || ex.Slave != 2 || !strings.Contains(err.Error(), "(address 9, count 2)") {
		t.Errorf("Poll err = %v, want slave 2's exception naming address 9", err)
	}
	want := []float32{-12.3, 12.5, 3000000 + 5, -70000, 2003, 1, 0, float32(math.NaN())}
	for i, w := range want {
		if !(dst[i] == w || math.Abs(float64(dst[i]-w)) < 1e-4*math.Abs(float64(w)) || (math.IsNaN(float64(w)) && math.IsNaN(float64(dst[i])))) {
			t.Errorf("%s = %v, want %v", regs[i].Name, dst[i], w)
		}
	}
	st := p.Stats()
	if len(st) != 2 || st[0].Requests != 4 || st[1].Exceptions != 1 || st[1].Requests != 1 {
		t.Errorf("Stats() = %+v", st)
	}
}
