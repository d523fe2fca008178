package modbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// TCPOpts configures a Modbus TCP transport.
type TCPOpts struct {
	// Timeout bounds one request: (re)connecting, sending and reading the
	// response. > 0.
	Timeout time.Duration
}

// DefaultTCPOpts has a 1 s request timeout.
var DefaultTCPOpts = TCPOpts{Timeout: time.Second}

// TCP is a Modbus TCP master on one connection to a server or gateway
// (unit id = slave). It is safe for concurrent use; requests are sent one
// at a time. A broken connection is closed and redialled on the next
// request.
type TCP struct {
	mu   sync.Mutex // held for a whole request
	addr string
	opts TCPOpts
	conn net.Conn // nil while disconnected
	tid  uint16
	shut bool
	tx   [MaxTCPADU]byte
	rx   [MaxTCPADU]byte
}

// NewTCP is DialTCP without the first connection: it connects at the
// first request, so a server that is down at start-up is a failed
// request (ErrTimeout or the dial error), not a failed start.
func NewTCP(addr string, opts TCPOpts) (*TCP, error) {
	if opts.Timeout <= 0 {
		return nil, fmt.Errorf("modbus: TCPOpts.Timeout %v: want > 0", opts.Timeout)
	}
	return &TCP{addr: addr, opts: opts}, nil
}

// DialTCP connects to the Modbus TCP server at addr ("host:port") and
// returns a master on it. opts is checked first.
func DialTCP(addr string, opts TCPOpts) (*TCP, error) {
	if opts.Timeout <= 0 {
		return nil, fmt.Errorf("modbus: TCPOpts.Timeout %v: want > 0", opts.Timeout)
	}
	t := &TCP{addr: addr, opts: opts}
	if err := t.dial(time.Now().Add(opts.Timeout)); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *TCP) dial(end time.Time) error {
	d := net.Dialer{Deadline: end}
	c, err := d.Dial("tcp", t.addr)
	if err != nil {
		return fmt.Errorf("modbus: dial %s: %w", t.addr, err)
	}
	t.conn = c
	return nil
}

func (t *TCP) drop() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// Close closes the connection; later requests return ErrClosed.
func (t *TCP) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.shut = true
	t.drop()
	return nil
}

// RoundTrip implements Client. Each request carries a new transaction id;
// responses with an older id (late answers to timed-out requests) are
// skipped, a response with protocol id ≠ 0, a wrong unit id or a length
// outside 3..254 is ErrFrame. If a reused connection turns out broken
// before any response byte arrived, the request is retried once on a new
// connection. A steady-state call does not allocate.
func (t *TCP) RoundTrip(ctx context.Context, slave uint8, req, buf []byte) ([]byte, error) {
	var fn Function
	if len(req) > 0 {
		fn = Function(req[0])
	}
	if len(req) == 0 || len(req) > MaxPDU {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w: request of %d bytes", slave, fn, ErrRequest, len(req))
	}
	if len(buf) < MaxPDU {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w: response buffer of %d bytes, want %d", slave, fn, ErrRequest, len(buf), MaxPDU)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w", slave, fn, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shut {
		return nil, fmt.Errorf("modbus: slave %d function %d: %w", slave, fn, ErrClosed)
	}
	end := deadline(ctx, time.Now(), t.opts.Timeout)
	for attempt := 0; ; attempt++ {
		fresh := t.conn == nil
		if fresh {
			if err := t.dial(end); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil, errorf(slave, fn, ErrTimeout, "%v", err)
				}
				return nil, fmt.Errorf("modbus: slave %d function %d: %w", slave, fn, err)
			}
		}
		pdu, got, err := t.exchange(slave, req, buf, end)
		if err == nil {
			return pdu, nil
		}
		timeout := errors.Is(err, os.ErrDeadlineExceeded)
		if !timeout || got > 0 { // keep a connection that merely waited
			t.drop()
		}
		switch {
		case timeout:
			return nil, errorf(slave, fn, ErrTimeout, "no complete response within %v", t.opts.Timeout)
		case errors.Is(err, ErrFrame):
			return nil, err
		case !fresh && attempt == 0 && got == 0:
			continue // the server went away since the last request: redial once
		}
		return nil, fmt.Errorf("modbus: slave %d function %d: %s: %w", slave, fn, t.addr, err)
	}
}

// exchange sends one request on t.conn and reads its response; got counts
// the response bytes read.
func (t *TCP) exchange(slave uint8, req, buf []byte, end time.Time) (pdu []byte, got int, err error) {
	fn := Function(req[0])
	t.tid++
	binary.BigEndian.PutUint16(t.tx[0:], t.tid)
	binary.BigEndian.PutUint16(t.tx[2:], 0)
	binary.BigEndian.PutUint16(t.tx[4:], uint16(1+len(req)))
	t.tx[6] = slave
	n := copy(t.tx[7:], req)
	if err := t.conn.SetDeadline(end); err != nil {
		return nil, 0, err
	}
	if _, err := t.conn.Write(t.tx[:7+n]); err != nil {
		return nil, 0, err
	}
	for {
		k, err := io.ReadFull(t.conn, t.rx[:7])
		got += k
		if err != nil {
			return nil, got, err
		}
		tid := binary.BigEndian.Uint16(t.rx[0:])
		pid := binary.BigEndian.Uint16(t.rx[2:])
		length := int(binary.BigEndian.Uint16(t.rx[4:]))
		if pid != 0 || length < 3 || length > MaxPDU+1 {
			return nil, got, errorf(slave, fn, ErrFrame, "MBAP header % x (protocol id %d, length %d)", t.rx[:7], pid, length)
		}
		k, err = io.ReadFull(t.conn, t.rx[7:6+length])
		got += k
		if err != nil {
			return nil, got, err
		}
		if tid != t.tid {
			if t.tid-tid < 0x8000 { // an older transaction: a late answer
				continue
			}
			return nil, got, errorf(slave, fn, ErrFrame, "transaction id %d, want %d", tid, t.tid)
		}
		if t.rx[6] != slave {
			return nil, got, errorf(slave, fn, ErrFrame, "unit id %d in response", t.rx[6])
		}
		return buf[:copy(buf, t.rx[7:6+length])], got, nil
	}
}
