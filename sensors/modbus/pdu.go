package modbus

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Function is a Modbus function code.
type Function uint8

// The function codes this package sends.
const (
	FuncReadCoils              Function = 1
	FuncReadDiscreteInputs     Function = 2
	FuncReadHoldingRegisters   Function = 3
	FuncReadInputRegisters     Function = 4
	FuncWriteSingleRegister    Function = 6
	FuncWriteMultipleRegisters Function = 16
)

// Limits of the Modbus application protocol (V1.1b3, sections 4.1 and 6).
const (
	MaxPDU        = 253  // bytes: function code + data
	MaxRTUADU     = 256  // bytes: slave address + PDU + CRC
	MaxTCPADU     = 260  // bytes: 7-byte MBAP header + PDU
	MaxReadBits   = 2000 // coils or discrete inputs per read (functions 1, 2)
	MaxReadRegs   = 125  // registers per read (functions 3, 4)
	MaxWriteRegs  = 123  // registers per write (function 16)
	exceptionFlag = 0x80
)

// Sentinel errors. Errors returned by this package wrap one of them or are
// an *ExceptionError; test with errors.Is / errors.As.
var (
	// ErrTimeout: no complete response within the request timeout (or the
	// context's deadline).
	ErrTimeout = errors.New("timeout")
	// ErrCRC: an RTU frame of the expected length arrived with a wrong CRC.
	ErrCRC = errors.New("bad CRC")
	// ErrFrame: a response that is not a valid answer to the request
	// (wrong length, function, byte count, slave, MBAP header, echo).
	ErrFrame = errors.New("bad frame")
	// ErrRequest: a request the caller asked for is invalid (quantity or
	// address out of range, buffer too short); nothing was sent.
	ErrRequest = errors.New("invalid request")
	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("closed")
)

// ExceptionCode is the code of a Modbus exception response.
type ExceptionCode uint8

// Exception codes (Modbus application protocol V1.1b3, section 7).
const (
	ExIllegalFunction         ExceptionCode = 1
	ExIllegalDataAddress      ExceptionCode = 2
	ExIllegalDataValue        ExceptionCode = 3
	ExSlaveDeviceFailure      ExceptionCode = 4
	ExAcknowledge             ExceptionCode = 5
	ExSlaveDeviceBusy         ExceptionCode = 6
	ExMemoryParityError       ExceptionCode = 8
	ExGatewayPathUnavailable  ExceptionCode = 10
	ExGatewayTargetNoResponse ExceptionCode = 11
)

// String returns the exception's name as the specification spells it, or
// "exception N" for codes it does not define.
func (c ExceptionCode) String() string {
	switch c {
	case ExIllegalFunction:
		return "illegal function"
	case ExIllegalDataAddress:
		return "illegal data address"
	case ExIllegalDataValue:
		return "illegal data value"
	case ExSlaveDeviceFailure:
		return "slave device failure"
	case ExAcknowledge:
		return "acknowledge"
	case ExSlaveDeviceBusy:
		return "slave device busy"
	case ExMemoryParityError:
		return "memory parity error"
	case ExGatewayPathUnavailable:
		return "gateway path unavailable"
	case ExGatewayTargetNoResponse:
		return "gateway target device failed to respond"
	}
	return fmt.Sprintf("exception %d", uint8(c))
}

// ExceptionError is a slave's exception response (function code | 0x80,
// exception code): the slave answered, but refused the request.
type ExceptionError struct {
	Slave    uint8
	Function Function // the function of the request, without the 0x80 flag
	Code     ExceptionCode
}

// Error returns e.g. "modbus: slave 3 function 3: exception 2 (illegal data address)".
func (e *ExceptionError) Error() string {
	return fmt.Sprintf("modbus: slave %d function %d: exception %d (%s)", e.Slave, e.Function, uint8(e.Code), e.Code)
}

func errorf(slave uint8, fn Function, sentinel error, format string, args ...any) error {
	return fmt.Errorf("modbus: slave %d function %d: %w: %s", slave, fn, sentinel, fmt.Sprintf(format, args...))
}

// AppendReadRequest appends the request PDU for a read of qty items
// starting at addr with function fn (1, 2, 3 or 4) to dst and returns the
// extended slice (5 bytes more). qty must be 1..2000 for bits, 1..125 for
// registers, and addr+qty must not pass 65536; otherwise it returns dst
// unchanged and an error wrapping ErrRequest.
func AppendReadRequest(dst []byte, fn Function, addr, qty uint16) ([]byte, error) {
	max := 0
	switch fn {
	case FuncReadCoils, FuncReadDiscreteInputs:
		max = MaxReadBits
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		max = MaxReadRegs
	default:
		return dst, fmt.Errorf("modbus: function %d: %w: not a read function", fn, ErrRequest)
	}
	if qty < 1 || int(qty) > max || int(addr)+int(qty) > 65536 {
		return dst, fmt.Errorf("modbus: function %d: %w: %d items at address %d (1..%d, within 0..65535)", fn, ErrRequest, qty, addr, max)
	}
	return append(dst, byte(fn), byte(addr>>8), byte(addr), byte(qty>>8), byte(qty)), nil
}

// AppendWriteSingleRegister appends the request PDU of function 6 (write
// value to the holding register at addr) to dst and returns the extended
// slice.
func AppendWriteSingleRegister(dst []byte, addr, value uint16) []byte {
	return append(dst, byte(FuncWriteSingleRegister), byte(addr>>8), byte(addr), byte(value>>8), byte(value))
}

// AppendWriteMultipleRegisters appends the request PDU of function 16
// (write values to the holding registers from addr on) to dst and returns
// the extended slice. 1..123 values, within the address space; otherwise
// it returns dst unchanged and an error wrapping ErrRequest.
func AppendWriteMultipleRegisters(dst []byte, addr uint16, values []uint16) ([]byte, error) {
	n := len(values)
	if n < 1 || n > MaxWriteRegs || int(addr)+n > 65536 {
		return dst, fmt.Errorf("modbus: function 16: %w: %d registers at address %d (1..%d, within 0..65535)", ErrRequest, n, addr, MaxWriteRegs)
	}
	dst = append(dst, byte(FuncWriteMultipleRegisters), byte(addr>>8), byte(addr), byte(n>>8), byte(n), byte(2*n))
	for _, v := range values {
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst, nil
}

// responseLen returns the length of the normal response PDU to the request
// PDU req, or 0 if req is not a request this package builds.
func responseLen(req []byte) int {
	if len(req) < 5 {
		return 0
	}
	qty := int(binary.BigEndian.Uint16(req[3:5]))
	switch Function(req[0]) {
	case FuncReadCoils, FuncReadDiscreteInputs:
		return 2 + (qty+7)/8
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		return 2 + 2*qty
	case FuncWriteSingleRegister, FuncWriteMultipleRegisters:
		return 5
	}
	return 0
}

// DecodeResponse checks the response PDU resp from slave against the
// request PDU req it answers and returns the data it carries: for reads
// the bytes after the byte count (registers big-endian, bits packed LSB
// first), for writes an empty slice. The returned slice aliases resp.
//
// An exception response yields an *ExceptionError; a response that is not
// exactly the expected answer (function echo, byte count consistent with
// the request's quantity, write echo, length) an error wrapping ErrFrame;
// an invalid req one wrapping ErrRequest. A normal response is decoded
// without allocating.
func DecodeResponse(slave uint8, req, resp []byte) ([]byte, error) {
	want := responseLen(req)
	if want == 0 {
		return nil, fmt.Errorf("modbus: slave %d: %w: request % x is not one this package builds", slave, ErrRequest, req)
	}
	fn := Function(req[0])
	if len(resp) == 0 {
		return nil, errorf(slave, fn, ErrFrame, "empty response")
	}
	if resp[0] == byte(fn)|exceptionFlag {
		if len(resp) != 2 {
			return nil, errorf(slave, fn, ErrFrame, "exception response of %d bytes, want 2", len(resp))
		}
		return nil, &ExceptionError{Slave: slave, Function: fn, Code: ExceptionCode(resp[1])}
	}
	if resp[0] != byte(fn) {
		return nil, errorf(slave, fn, ErrFrame, "response function %d", resp[0])
	}
	if len(resp) != want {
		return nil, errorf(slave, fn, ErrFrame, "response of %d bytes, want %d", len(resp), want)
	}
	switch fn {
	case FuncWriteSingleRegister:
		if [5]byte(resp) != [5]byte(req) {
			return nil, errorf(slave, fn, ErrFrame, "echo % x, want % x", resp, req[:5])
		}
		return resp[5:], nil
	case FuncWriteMultipleRegisters:
		if [4]byte(resp[1:5]) != [4]byte(req[1:5]) {
			return nil, errorf(slave, fn, ErrFrame, "echo % x, want % x", resp[1:5], req[1:5])
		}
		return resp[5:], nil
	}
	if int(resp[1]) != want-2 {
		return nil, errorf(slave, fn, ErrFrame, "byte count %d, want %d", resp[1], want-2)
	}
	return resp[2:], nil
}

// Registers copies the big-endian registers of data (as DecodeResponse
// returns it for functions 3 and 4) into dst and returns how many it
// copied: min(len(dst), len(data)/2).
func Registers(dst []uint16, data []byte) int {
	n := min(len(dst), len(data)/2)
	for i := range n {
		dst[i] = binary.BigEndian.Uint16(data[2*i:])
	}
	return n
}

// Bits unpacks the bits of data (as DecodeResponse returns it for
// functions 1 and 2; first item in the lowest bit of the first byte) into
// dst and returns how many it unpacked: min(len(dst), 8*len(data)).
func Bits(dst []bool, data []byte) int {
	n := min(len(dst), 8*len(data))
	for i := range n {
		dst[i] = data[i/8]>>(i%8)&1 == 1
	}
	return n
}

// crc16 returns the Modbus RTU CRC of b: CRC-16 with the reflected
// polynomial 0xA001 and initial value 0xFFFF. On the wire it is sent low
// byte first.
// AppendCRC appends the Modbus RTU CRC-16 of frame (poly 0xA001 reflected,
// initial 0xFFFF) to it, low byte first, as it goes on the wire.
func AppendCRC(frame []byte) []byte {
	c := crc16(frame)
	return append(frame, byte(c), byte(c>>8))
}

// CheckCRC reports whether frame ends with the right CRC-16 of the rest.
func CheckCRC(frame []byte) bool {
	n := len(frame)
	return n >= 3 && crc16(frame[:n-2]) == uint16(frame[n-2])|uint16(frame[n-1])<<8
}

func crc16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc = crc>>8 ^ crcTable[byte(crc)^c]
	}
	return crc
}

var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()
