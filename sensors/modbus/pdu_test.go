package modbus

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CRC vectors: the spec's examples, checked against pymodbus'
// utilities.computeCRC (which prints the wire bytes, low byte first).
var crcTests = []struct {
	frame string
	wire  string // CRC bytes as sent: low byte first
}{
	{"01 03 00 00 00 0A", "C5 CD"},
	{"01 03 00 00 00 01", "84 0A"},
	{"11 03 00 6B 00 03", "76 87"}, // Modbus over serial line V1.02, 6.2.2 example
	{"", "FF FF"},
}

func TestCRC(t *testing.T) {
	for _, tt := range crcTests {
		crc := crc16(unhex(t, tt.frame))
		got := []byte{byte(crc), byte(crc >> 8)}
		if want := unhex(t, tt.wire); !bytes.Equal(got, want) {
			t.Errorf("crc16(%s) on the wire = % X, want % X", tt.frame, got, want)
		}
	}
}

var requestTests = []struct {
	fn        Function
	addr, qty uint16
	want      string // hex PDU, "" = ErrRequest
}{
	{FuncReadCoils, 19, 19, "01 0013 0013"},
	{FuncReadDiscreteInputs, 196, 22, "02 00C4 0016"},
	{FuncReadHoldingRegisters, 107, 3, "03 006B 0003"},
	{FuncReadInputRegisters, 8, 1, "04 0008 0001"},
	{FuncReadCoils, 0, 2000, "01 0000 07D0"},
	{FuncReadCoils, 0, 2001, ""},
	{FuncReadHoldingRegisters, 0, 125, "03 0000 007D"},
	{FuncReadHoldingRegisters, 0, 126, ""},
	{FuncReadHoldingRegisters, 0, 0, ""},
	{FuncReadInputRegisters, 65535, 1, "04 FFFF 0001"},
	{FuncReadInputRegisters, 65535, 2, ""},
	{FuncWriteSingleRegister, 0, 1, ""},
}

func TestAppendReadRequest(t *testing.T) {
	for _, tt := range requestTests {
		got, err := AppendReadRequest(nil, tt.fn, tt.addr, tt.qty)
		if tt.want == "" {
			if !errors.Is(err, ErrRequest) {
				t.Errorf("AppendReadRequest(%d, %d, %d) = % X, %v, want ErrRequest", tt.fn, tt.addr, tt.qty, got, err)
			}
			continue
		}
		if want := unhex(t, tt.want); err != nil || !bytes.Equal(got, want) {
			t.Errorf("AppendReadRequest(%d, %d, %d) = % X, %v, want % X", tt.fn, tt.addr, tt.qty, got, err, want)
		}
	}
}

func TestAppendWrites(t *testing.T) {
	// Examples of the application protocol spec, 6.6 and 6.12.
	if got, want := AppendWriteSingleRegister(nil, 1, 3), unhex(t, "06 0001 0003"); !bytes.Equal(got, want) {
		t.Errorf("AppendWriteSingleRegister = % X, want % X", got, want)
	}
	got, err := AppendWriteMultipleRegisters(nil, 1, []uint16{0x000A, 0x0102})
	if want := unhex(t, "10 0001 0002 04 000A 0102"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("AppendWriteMultipleRegisters = % X, %v, want % X", got, err, want)
	}
	if _, err := AppendWriteMultipleRegisters(nil, 0, make([]uint16, 124)); !errors.Is(err, ErrRequest) {
		t.Errorf("124 registers: err %v, want ErrRequest", err)
	}
}

var decodeTests = []struct {
	name      string
	req, resp string
	data      string // hex; when err is nil
	err       error  // sentinel, or errExc for an *ExceptionError
	code      ExceptionCode
}{
	{"coils", "01 0013 0013", "01 03 CD6B05", "CD6B05", nil, 0},
	{"discrete", "02 00C4 0016", "02 03 ACDB35", "ACDB35", nil, 0},
	{"holding", "03 006B 0003", "03 06 022B 0000 0064", "022B00000064", nil, 0},
	{"input", "04 0008 0001", "04 02 000A", "000A", nil, 0},
	{"write single", "06 0001 0003", "06 0001 0003", "", nil, 0},
	{"write multiple", "10 0001 0002 04 000A 0102", "10 0001 0002", "", nil, 0},
	{"exception", "03 0000 0001", "83 02", "", errExc, ExIllegalDataAddress},
	{"exception 11", "04 0000 0001", "84 0B", "", errExc, ExGatewayTargetNoResponse},
	{"long exception", "03 0000 0001", "83 02 00", "", ErrFrame, 0},
	{"wrong function", "03 0000 0001", "04 02 0000", "", ErrFrame, 0},
	{"byte count", "03 0000 0002", "03 02 0000", "", ErrFrame, 0},
	{"byte count lies", "03 0000 0001", "03 04 0000", "", ErrFrame, 0},
	{"short", "03 0000 0001", "03 02 00", "", ErrFrame, 0},
	{"empty", "03 0000 0001", "", "", ErrFrame, 0},
	{"bits count", "01 0000 0009", "01 01 FF", "", ErrFrame, 0},
	{"bad echo", "06 0001 0003", "06 0001 0004", "", ErrFrame, 0},
	{"bad echo 16", "10 0001 0002 04 000A 0102", "10 0001 0003", "", ErrFrame, 0},
	{"bad request", "05 0000 FF00", "05 0000 FF00", "", ErrRequest, 0},
}

var errExc = errors.New("exception")

func TestDecodeResponse(t *testing.T) {
	for _, tt := range decodeTests {
		data, err := DecodeResponse(7, unhex(t, tt.req), unhex(t, tt.resp))
		switch tt.err {
		case nil:
			if err != nil || !bytes.Equal(data, unhex(t, tt.data)) {
				t.Errorf("%s: DecodeResponse = % X, %v, want % X", tt.name, data, err, unhex(t, tt.data))
			}
		case errExc:
			var ex *ExceptionError
			if !errors.As(err, &ex) || ex.Code != tt.code || ex.Slave != 7 || ex.Function != Function(unhex(t, tt.req)[0]) {
				t.Errorf("%s: DecodeResponse err = %v, want exception %d", tt.name, err, tt.code)
			}
		default:
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: DecodeResponse err = %v, want %v", tt.name, err, tt.err)
			} else if !strings.HasPrefix(err.Error(), "modbus: slave 7") {
				t.Errorf("%s: error %q does not name the slave", tt.name, err)
			}
		}
	}
}

func TestExceptionError(t *testing.T) {
	err := error(&ExceptionError{Slave: 3, Function: 3, Code: ExIllegalDataAddress})
	if got, want := err.Error(), "modbus: slave 3 function 3: exception 2 (illegal data address)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestBitsRegisters(t *testing.T) {
	bits := make([]bool, 19)
	Bits(bits, unhex(t, "CD6B05"))
	// Spec 6.1 example: coils 20..27 = CD = 1100 1101, LSB first.
	want := []bool{true, false, true, true, false, false, true, true}
	for i, w := range want {
		if bits[i] != w {
			t.Errorf("bit %d = %v, want %v", i, bits[i], w)
		}
	}
	regs := make([]uint16, 3)
	if n := Registers(regs, unhex(t, "022B00000064")); n != 3 || regs[0] != 555 || regs[2] != 100 {
		t.Errorf("Registers = %d %v", n, regs)
	}
}

func TestDecodeResponseAllocs(t *testing.T) {
	req, resp := unhex(t, "03 0000 0003"), unhex(t, "03 06 0001 0002 0003")
	if n := testing.AllocsPerRun(100, func() { DecodeResponse(1, req, resp) }); n != 0 {
		t.Errorf("DecodeResponse allocates %v times, want 0", n)
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	req, _ := AppendReadRequest(nil, FuncReadHoldingRegisters, 0, 125)
	resp := append([]byte{3, 250}, make([]byte, 250)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if _, err := DecodeResponse(1, req, resp); err != nil {
			b.Fatal(err)
		}
	}
}
