package modbus

import (
	"context"
	"fmt"
	"time"
)

// Client carries one request PDU to one slave and brings back its response
// PDU. *RTU and *TCP implement it; both are safe for concurrent use and
// send one request at a time.
type Client interface {
	// RoundTrip sends the request PDU req (built with an Append…
	// function) to slave and reads the response PDU into buf, which must
	// hold at least MaxPDU bytes. The returned slice aliases buf. It
	// checks the transport's framing (RTU: address and CRC; TCP:
	// MBAP header) but not the PDU: pass the result to DecodeResponse.
	// It waits at most the transport's timeout or ctx's deadline, whichever
	// is earlier; errors wrap ErrTimeout, ErrCRC, ErrFrame, ErrRequest or
	// ErrClosed, or are I/O errors.
	RoundTrip(ctx context.Context, slave uint8, req, buf []byte) ([]byte, error)
}

// ReadRegisters reads len(dst) (1..125) holding (fn 3) or input (fn 4)
// registers of slave from addr on into dst. It allocates its frame
// buffers; a Poller does not.
func ReadRegisters(ctx context.Context, c Client, slave uint8, fn Function, addr uint16, dst []uint16) error {
	if fn != FuncReadHoldingRegisters && fn != FuncReadInputRegisters {
		return fmt.Errorf("modbus: slave %d function %d: %w: not a register read", slave, fn, ErrRequest)
	}
	data, err := do(ctx, c, slave, fn, addr, len(dst))
	if err != nil {
		return err
	}
	Registers(dst, data)
	return nil
}

// ReadBits reads len(dst) (1..2000) coils (fn 1) or discrete inputs (fn 2)
// of slave from addr on into dst. It allocates its frame buffers.
func ReadBits(ctx context.Context, c Client, slave uint8, fn Function, addr uint16, dst []bool) error {
	if fn != FuncReadCoils && fn != FuncReadDiscreteInputs {
		return fmt.Errorf("modbus: slave %d function %d: %w: not a bit read", slave, fn, ErrRequest)
	}
	data, err := do(ctx, c, slave, fn, addr, len(dst))
	if err != nil {
		return err
	}
	Bits(dst, data)
	return nil
}

func do(ctx context.Context, c Client, slave uint8, fn Function, addr uint16, n int) ([]byte, error) {
	if n > 0xFFFF {
		n = 0 // rejected below
	}
	req, err := AppendReadRequest(make([]byte, 0, 5), fn, addr, uint16(n))
	if err != nil {
		return nil, fmt.Errorf("modbus: slave %d: %w", slave, err)
	}
	return exchange(ctx, c, slave, req)
}

func exchange(ctx context.Context, c Client, slave uint8, req []byte) ([]byte, error) {
	resp, err := c.RoundTrip(ctx, slave, req, make([]byte, MaxPDU))
	if err != nil {
		return nil, err
	}
	return DecodeResponse(slave, req, resp)
}

// WriteRegister writes value to the holding register addr of slave
// (function 6) and checks the slave's echo.
func WriteRegister(ctx context.Context, c Client, slave uint8, addr, value uint16) error {
	_, err := exchange(ctx, c, slave, AppendWriteSingleRegister(nil, addr, value))
	return err
}

// WriteRegisters writes values (1..123) to the holding registers of slave
// from addr on (function 16) and checks the slave's echo.
func WriteRegisters(ctx context.Context, c Client, slave uint8, addr uint16, values []uint16) error {
	req, err := AppendWriteMultipleRegisters(nil, addr, values)
	if err != nil {
		return fmt.Errorf("modbus: slave %d: %w", slave, err)
	}
	_, err = exchange(ctx, c, slave, req)
	return err
}

// deadline returns the earlier of now+timeout and ctx's deadline.
func deadline(ctx context.Context, now time.Time, timeout time.Duration) time.Time {
	d := now.Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}
