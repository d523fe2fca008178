package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bugserial "go.bug.st/serial"
)

// RTUOpts configures an RTU transport. Modbus RTU sends 8 data bits; the
// specification's default framing is 8E1, and 8N2 or 8N1 are common.
type RTUOpts struct {
	Device   string        // serial device for OpenRTU, e.g. /dev/ttyUSB0; unused by NewRTU
	Baud     int           // bits per second, 300..4000000
	DataBits int           // must be 8
	Parity   string        // "N", "E" or "O"
	StopBits int           // 1 or 2
	Timeout  time.Duration // per request, from the end of the 3.5-character silence to the last byte of the response; > 0
	// ReadStep bounds one blocking read, so a cancelled context is noticed
	// within it. 0 means 50 ms.
	ReadStep time.Duration
}

// DefaultRTUOpts is 19200 baud 8E1 (the specification's default) with a
// 500 ms request timeout. Set Device and adjust the rest.
var DefaultRTUOpts = RTUOpts{Baud: 19200, DataBits: 8, Parity: "E", StopBits: 1, Timeout: 500 * time.Millisecond}

// ParseParity parses a line's parity as configuration and flags name it
// (none, even or odd; or the letters N, E and O) into RTUOpts.Parity's
// letter.
func ParseParity(name string) (string, error) {
	switch name {
	case "none", "N":
		return "N", nil
	case "even", "E":
		return "E", nil
	case "odd", "O":
		return "O", nil
	}
	return "", fmt.Errorf("parity %q: want none, even or odd", name)
}

func (o RTUOpts) validate() error {
	switch {
	case o.Baud < 300 || o.Baud > 4000000:
		return fmt.Errorf("modbus: RTUOpts.Baud %d: want 300..4000000", o.Baud)
	case o.DataBits != 8:
		return fmt.Errorf("modbus: RTUOpts.DataBits %d: Modbus RTU uses 8", o.DataBits)
	case o.Parity != "N" && o.Parity != "E" && o.Parity != "O":
		return fmt.Errorf("modbus: RTUOpts.Parity %q: want \"N\", \"E\" or \"O\"", o.Parity)
	case o.StopBits != 1 && o.StopBits != 2:
		return fmt.Errorf("modbus: RTUOpts.StopBits %d: want 1 or 2", o.StopBits)
	case o.Timeout <= 0:
		return fmt.Errorf("modbus: RTUOpts.Timeout %v: want > 0", o.Timeout)
	case o.ReadStep < 0:
		return fmt.Errorf("modbus: RTUOpts.ReadStep %v: want >= 0", o.ReadStep)
	}
	return nil
}

// CharBits is the number of bits one character takes on the line: start
// bit, 8 data bits, parity bit if any, stop bits (11 for 8E1 and 8N2, 10
// for 8N1).
func (o RTUOpts) CharBits() int {
	n := 1 + o.DataBits + o.StopBits
	if o.Parity != "N" {
		n++
	}
	return n
}

// Silence is the inter-frame gap the master keeps before each request:
// 3.5 character times, or a fixed 1.75 ms above 19200 baud (Modbus over
// serial line V1.02, 2.5.1.1).
func (o RTUOpts) Silence() time.Duration {
	if o.Baud > 19200 {
		return 1750 * time.Microsecond
	}
	return time.Duration(3.5 * float64(o.CharBits()) * float64(time.Second) / float64(o.Baud))
}

// RTU is a Modbus RTU master on one serial line. It is safe for
// concurrent use; requests are sent one at a time.
type RTU struct {
	mu      sync.Mutex // held for a whole request
	rw      io.ReadWriter
	closer  io.Closer
	closed  atomic.Bool
	opts    RTUOpts
	silence time.Duration
	step    time.Duration
	last    time.Time // end of the last bus activity we saw
	tx      [MaxRTUADU]byte
	rx      [2 * MaxRTUADU]byte

	// optional abilities of rw, found once by type assertion
	setTimeout  func(time.Duration) error // go.bug.st/serial: Read returns (0, nil) on timeout
	setDeadline func(time.Time) error     // *os.File, net.Conn
	resetInput  func() error              // drops bytes received but not read
}

// OpenRTU opens opts.Device with the framing of opts (raw mode; DTR and
// RTS are not set by this package) and returns an RTU master on it. Every
// field of opts is checked first; errors name the field.
func OpenRTU(opts RTUOpts) (*RTU, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	parity := map[string]bugserial.Parity{"N": bugserial.NoParity, "E": bugserial.EvenParity, "O": bugserial.OddParity}[opts.Parity]
	stop := bugserial.OneStopBit
	if opts.StopBits == 2 {
		stop = bugserial.TwoStopBits
	}
	port, err := bugserial.Open(opts.Device, &bugserial.Mode{BaudRate: opts.Baud, DataBits: 8, Parity: parity, StopBits: stop})
	if err != nil {
		return nil, fmt.Errorf("modbus: open %s at %d baud 8%s%d: %w", opts.Device, opts.Baud, opts.Parity, opts.StopBits, err)
	}
	r, err := NewRTU(port, opts)
	if err != nil {
		port.Close()
		return nil, err
	}
	r.closer = port
	return r, nil
}

// NewRTU returns an RTU master speaking over rw (opts.Device is not used).
// Reads must end within opts.Timeout: rw should have a
// SetReadTimeout(time.Duration) error method (go.bug.st/serial ports; Read
// returning (0, nil) on timeout) or a SetReadDeadline(time.Time) error
// method (*os.File, net.Conn); if it has neither, a silent slave blocks
// RoundTrip until rw returns. If rw has ResetInputBuffer() error, stray
// bytes are dropped before each request. Close closes rw if it is an
// io.Closer.
func NewRTU(rw io.ReadWriter, opts RTUOpts) (*RTU, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &RTU{rw: rw, opts: opts, silence: opts.Silence(), step: opts.ReadStep}
	if r.step == 0 {
		r.step = 50 * time.Millisecond
	}
	if c, ok := rw.(io.Closer); ok {
		r.closer = c
	}
	if p, ok := rw.(interface{ SetReadTimeout(time.Duration) error }); ok {
		r.setTimeout = p.SetReadTimeout
	} else if p, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		r.setDeadline = p.SetReadDeadline
	}
	if p, ok := rw.(interface{ ResetInputBuffer() error }); ok {
		r.resetInput = p.ResetInputBuffer
	}
	return r, nil
}

// Close closes the underlying port; a RoundTrip in progress ends with an
// error and later ones return ErrClosed.
func (r *RTU) Close() error {
	if r.closed.Swap(true) || r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// RoundTrip implements Client. It waits for 3.5 character times of
// silence since the last bus activity, drops bytes received since, sends
// slave address + req + CRC, and frames the response by the length the
// request implies (or 5 bytes for an exception): bytes before a frame
// starting with the slave's address and the request's function (or
// exception) are dropped as strays. A frame of the right length with a bad
// CRC yields ErrCRC once the line has been quiet for a silence interval
// with no valid frame found. Slave 0 (broadcast) is refused: it has no
// response. A steady-state call does not allocate.
func (r *RTU) RoundTrip(ctx context.Context, slave uint8, req, buf []byte) ([]byte, error) {
	var fn Function
	if len(req) > 0 {
		fn = Function(req[0])
	}
	want := responseLen(req)
	switch {
	case slave == 0 || slave > 247:
		return nil, fmt.Errorf("modbus: slave %d function %d: %w: RTU slave address must be 1..247", slave, fn, ErrRequest)
	case want == 0 || len(req) > MaxPDU:
		return nil, fmt.Errorf("modbus: slave %d function %d: %w: unknown request % x", slave, fn, ErrRequest, req)
	case len(buf) < want:
		return nil, fmt.Errorf("modbus: slave %d function %d: %w: response buffer of %d bytes, want %d", slave, fn, ErrRequest, len(buf), want)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w", slave, fn, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w", slave, fn, ErrClosed)
	}
	if wait := time.Until(r.last.Add(r.silence)); wait > 0 {
		time.Sleep(wait)
	}
	if r.resetInput != nil {
		r.resetInput() // best effort: strays are also dropped while framing
	}
	n := copy(r.tx[1:], req)
	r.tx[0] = slave
	crc := crc16(r.tx[:1+n])
	r.tx[1+n], r.tx[2+n] = byte(crc), byte(crc>>8)
	if _, err := r.rw.Write(r.tx[:3+n]); err != nil {
		return nil, fmt.Errorf("modbus: slave %d function %d: write: %w", slave, fn, err)
	}
	// The request takes (3+n) character times on the wire; the timeout
	// runs from the start of sending.
	end := deadline(ctx, time.Now(), r.opts.Timeout)
	pdu, err := r.readFrame(slave, fn, want+3, end)
	r.last = time.Now()
	if err != nil {
		return nil, err
	}
	return buf[:copy(buf, pdu)], nil
}

// readFrame reads until rx holds a valid frame from slave answering fn,
// of normal length wantADU or exception length 5, and returns its PDU
// (aliasing r.rx).
func (r *RTU) readFrame(slave uint8, fn Function, wantADU int, end time.Time) ([]byte, error) {
	have := 0
	var crcBad time.Time // when a bad-CRC candidate was last seen
	for {
		// Frame what we have: drop strays before a plausible header.
		for have > 0 {
			if r.rx[0] != slave || (have >= 2 && r.rx[1] != byte(fn) && r.rx[1] != byte(fn)|exceptionFlag) {
				have = copy(r.rx[:], r.rx[1:have])
				continue
			}
			if have < 2 {
				break
			}
			need := wantADU
			if r.rx[1]&exceptionFlag != 0 {
				need = 5
			}
			if have < need {
				break
			}
			if crc16(r.rx[:need-2]) == uint16(r.rx[need-2])|uint16(r.rx[need-1])<<8 {
				return r.rx[1 : need-2], nil
			}
			crcBad = time.Now()
			have = copy(r.rx[:], r.rx[1:have])
		}
		now := time.Now()
		if !crcBad.IsZero() && now.Sub(crcBad) >= r.silence+r.step/10 {
			return nil, errorf(slave, fn, ErrCRC, "no valid %d-byte frame", wantADU)
		}
		remaining := end.Sub(now)
		if remaining <= 0 {
			if !crcBad.IsZero() {
				return nil, errorf(slave, fn, ErrCRC, "no valid %d-byte frame", wantADU)
			}
			return nil, errorf(slave, fn, ErrTimeout, "no complete response within %v (%d bytes kept)", r.opts.Timeout, have)
		}
		step := min(remaining, r.step)
		if !crcBad.IsZero() {
			step = min(step, r.silence+r.step/10)
		}
		if r.setTimeout != nil {
			r.setTimeout(step)
		} else if r.setDeadline != nil {
			r.setDeadline(now.Add(step))
		}
		if r.closed.Load() {
			return nil, errorf(slave, fn, ErrClosed, "while waiting for the response")
		}
		if have == len(r.rx) { // only strays can fill it: keep the newest half
			have = copy(r.rx[:], r.rx[have-MaxRTUADU:have])
		}
		n, err := r.rw.Read(r.rx[have:])
		have += n
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			if r.closed.Load() {
				err = ErrClosed
			}
			return nil, fmt.Errorf("modbus: slave %d function %d: read: %w", slave, fn, err)
		}
	}
}
