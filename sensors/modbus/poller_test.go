package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// memSlave answers read requests from in-memory banks, as a slave would,
// without allocating; it stands in for the bus in planning and
// allocation tests (the wire is tested against simonvetter/modbus and
// pymodbus elsewhere).
type memSlave struct {
	banks map[uint8]*bank
	sent  int
}

func (m *memSlave) RoundTrip(_ context.Context, slave uint8, req, buf []byte) ([]byte, error) {
	m.sent++
	b := m.banks[slave]
	if b == nil {
		return nil, errorf(slave, Function(req[0]), ErrTimeout, "no such slave")
	}
	fn := Function(req[0])
	addr, qty := int(binary.BigEndian.Uint16(req[1:])), int(binary.BigEndian.Uint16(req[3:]))
	exc := func(c ExceptionCode) []byte { return append(buf[:0], byte(fn)|0x80, byte(c)) }
	switch fn {
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		regs := b.holding
		if fn == FuncReadInputRegisters {
			regs = b.input
		}
		if addr+qty > len(regs) {
			return exc(ExIllegalDataAddress), nil
		}
		out := append(buf[:0], byte(fn), byte(2*qty))
		for _, r := range regs[addr : addr+qty] {
			out = append(out, byte(r>>8), byte(r))
		}
		return out, nil
	case FuncReadCoils, FuncReadDiscreteInputs:
		bits := b.coils
		if fn == FuncReadDiscreteInputs {
			bits = b.inputs
		}
		if addr+qty > len(bits) {
			return exc(ExIllegalDataAddress), nil
		}
		out := append(buf[:0], byte(fn), byte((qty+7)/8))
		out = append(out, make([]byte, (qty+7)/8)...)
		for i, v := range bits[addr : addr+qty] {
			if v {
				out[2+i/8] |= 1 << (i % 8)
			}
		}
		return out, nil
	}
	return exc(ExIllegalFunction), nil
}

type plannedReq struct {
	slave     uint8
	fn        Function
	addr, qty uint16
}

var planTests = []struct {
	name   string
	regs   []Register
	maxGap int
	want   []plannedReq
}{
	{"adjacent merge", []Register{{Address: 0}, {Address: 1, Type: Float32}, {Address: 3}}, 0,
		[]plannedReq{{0, 3, 0, 4}}},
	{"out of order", []Register{{Address: 3}, {Address: 0, Type: Int32}, {Address: 2}}, 0,
		[]plannedReq{{0, 3, 0, 4}}},
	{"gap 0 splits", []Register{{Address: 0}, {Address: 2}}, 0,
		[]plannedReq{{0, 3, 0, 1}, {0, 3, 2, 1}}},
	{"gap 2 merges", []Register{{Address: 0}, {Address: 3}}, 2,
		[]plannedReq{{0, 3, 0, 4}}},
	{"gap 2 not 3", []Register{{Address: 0}, {Address: 4}}, 2,
		[]plannedReq{{0, 3, 0, 1}, {0, 3, 4, 1}}},
	{"125 limit", []Register{{Address: 0}, {Address: 123, Type: Uint32}, {Address: 125}}, 200,
		[]plannedReq{{0, 3, 0, 125}, {0, 3, 125, 1}}},
	{"32-bit straddling the limit", []Register{{Address: 0}, {Address: 124, Type: Uint32}}, 200,
		[]plannedReq{{0, 3, 0, 1}, {0, 3, 124, 2}}},
	{"2000 bits", []Register{{Table: Coil, Address: 0}, {Table: Coil, Address: 1999}, {Table: Coil, Address: 2000}}, 2000,
		[]plannedReq{{0, 1, 0, 2000}, {0, 1, 2000, 1}}},
	{"slaves and tables apart", []Register{{Slave: 2, Address: 0}, {Slave: 1, Address: 1}, {Slave: 1, Table: Input, Address: 2}, {Slave: 1, Table: Discrete, Address: 3}, {Slave: 1, Address: 0}}, 10,
		[]plannedReq{{1, 3, 0, 2}, {1, 4, 2, 1}, {1, 2, 3, 1}, {2, 3, 0, 1}}},
	{"overlap", []Register{{Address: 0, Type: Float32}, {Address: 1}}, 0,
		[]plannedReq{{0, 3, 0, 2}}},
	{"top of the address space", []Register{{Address: 65534, Type: Uint32}}, 0,
		[]plannedReq{{0, 3, 65534, 2}}},
}

func TestPlan(t *testing.T) {
	for _, tt := range planTests {
		for i := range tt.regs {
			tt.regs[i].Name = string(rune('a' + i))
		}
		p, err := NewPoller(&memSlave{}, tt.regs, PollerOpts{MaxGap: tt.maxGap})
		if err != nil {
			t.Errorf("%s: NewPoller: %v", tt.name, err)
			continue
		}
		var got []plannedReq
		for _, q := range p.reqs {
			got = append(got, plannedReq{q.slave, q.fn, q.addr, q.qty})
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: plan = %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: plan = %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

var badRegTests = []struct {
	regs []Register
	want string
}{
	{[]Register{{Name: "a"}, {Name: "a", Address: 1}}, `"a": name used twice`},
	{[]Register{{}}, "empty Name"},
	{[]Register{{Name: "t", Type: 9}}, "unknown type"},
	{[]Register{{Name: "t", Table: 4}}, "unknown table"},
	{[]Register{{Name: "w", Address: 65535, Type: Float32}}, "runs past 65535"},
	{[]Register{{Name: "s", Scale: math.Inf(1)}}, "want finite"},
	{nil, "no registers"},
}

func TestNewPollerRejects(t *testing.T) {
	for _, tt := range badRegTests {
		_, err := NewPoller(&memSlave{}, tt.regs, DefaultPollerOpts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewPoller(%v) = %v, want error containing %q", tt.regs, err, tt.want)
		}
	}
}

// Value decoding: the wire bytes of two registers, each type and order.
var valueTests = []struct {
	wire        string
	typ         Type
	word, byteO Order
	want        float64
}{
	{"1234 0000", Uint16, BigEndian, BigEndian, 0x1234},
	{"1234 0000", Uint16, BigEndian, LittleEndian, 0x3412},
	{"FF85 0000", Int16, BigEndian, BigEndian, -123},
	{"85FF 0000", Int16, BigEndian, LittleEndian, -123},
	{"0001 0002", Uint32, BigEndian, BigEndian, 0x00010002},
	{"0001 0002", Uint32, LittleEndian, BigEndian, 0x00020001},
	{"0100 0200", Uint32, BigEndian, LittleEndian, 0x00010002},
	{"0100 0200", Uint32, LittleEndian, LittleEndian, 0x00020001},
	{"FFFE EE90", Int32, BigEndian, BigEndian, -70000},
	{"EE90 FFFE", Int32, LittleEndian, BigEndian, -70000},
	{"FEFF 90EE", Int32, BigEndian, LittleEndian, -70000},
	{"90EE FEFF", Int32, LittleEndian, LittleEndian, -70000},
	{"4148 0000", Float32, BigEndian, BigEndian, 12.5},       // ABCD
	{"0000 4148", Float32, LittleEndian, BigEndian, 12.5},    // CDAB
	{"4841 0000", Float32, BigEndian, LittleEndian, 12.5},    // BADC
	{"0000 4841", Float32, LittleEndian, LittleEndian, 12.5}, // DCBA
	{"C2F6 E979", Float32, BigEndian, BigEndian, -123.456},
	{"FFFF FFFF", Uint32, BigEndian, BigEndian, 4294967295},
}

func TestDecodeRaw(t *testing.T) {
	for _, tt := range valueTests {
		got := decodeRaw(unhex(t, tt.wire), tt.typ, tt.word, tt.byteO)
		if float32(got) != float32(tt.want) {
			t.Errorf("decodeRaw(%s, %s, word %d, byte %d) = %v, want %v", tt.wire, tt.typ, tt.word, tt.byteO, got, tt.want)
		}
	}
}

func TestPollNaNAndStats(t *testing.T) {
	m := &memSlave{banks: map[uint8]*bank{1: {holding: []uint16{10, 20, 30}}}}
	regs := []Register{
		{Name: "a", Slave: 1, Address: 0, Scale: 2, Offset: 1},
		{Name: "b", Slave: 1, Address: 5},
		{Name: "c", Slave: 9, Address: 0},
		{Name: "d", Slave: 1, Address: 2},
	}
	p, err := NewPoller(m, regs, PollerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 4)
	err = p.Poll(context.Background(), dst)
	if dst[0] != 21 || !math.IsNaN(float64(dst[1])) || !math.IsNaN(float64(dst[2])) || dst[3] != 30 {
		t.Errorf("Poll dst = %v", dst)
	}
	var ex *ExceptionError
	if !errors.As(err, &ex) || !errors.Is(err, ErrTimeout) ||
		!strings.Contains(err.Error(), "modbus: slave 1 function 3: exception 2 (illegal data address) (address 5, count 1)") ||
		!strings.Contains(err.Error(), "modbus: slave 9 function 3: timeout") {
		t.Errorf("Poll err = %v", err)
	}
	st := p.Stats()
	if len(st) != 2 || st[0] != (SlaveStats{Slave: 1, Requests: 3, Exceptions: 1}) || st[1] != (SlaveStats{Slave: 9, Requests: 1, Timeouts: 1}) {
		t.Errorf("Stats() = %+v", st)
	}
	if err := p.Poll(context.Background(), dst[:3]); err == nil {
		t.Error("Poll with a short dst succeeded")
	}
}

func steadyPoller(tb testing.TB) (*Poller, []float32) {
	b := &bank{holding: make([]uint16, 100), input: make([]uint16, 100), coils: make([]bool, 16)}
	var regs []Register
	for i := range 16 {
		regs = append(regs, Register{Name: string(rune('a' + i)), Slave: 1, Address: uint16(2 * i), Type: Float32, Scale: 0.5})
	}
	regs = append(regs, Register{Name: "in", Slave: 1, Table: Input, Address: 3, Type: Int16}, Register{Name: "coil", Slave: 1, Table: Coil, Address: 7})
	p, err := NewPoller(&memSlave{banks: map[uint8]*bank{1: b}}, regs, DefaultPollerOpts)
	if err != nil {
		tb.Fatal(err)
	}
	return p, make([]float32, len(regs))
}

func TestPollAllocs(t *testing.T) {
	p, dst := steadyPoller(t)
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		if err := p.Poll(ctx, dst); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Poll allocates %v times per call, want 0", n)
	}
}

func BenchmarkPollDecode(b *testing.B) {
	p, dst := steadyPoller(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Poll(ctx, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func TestScan(t *testing.T) {
	m := &memSlave{banks: map[uint8]*bank{2: {holding: []uint16{1}}, 5: {}}}
	got := Scan(context.Background(), m, 0, 7)
	if len(got) != 2 || got[0] != 2 || got[1] != 5 {
		t.Errorf("Scan = %v, want [2 5] (5 answers with an exception)", got)
	}
	if m.sent != 7 {
		t.Errorf("Scan sent %d probes, want 7 (1..7)", m.sent)
	}
}
