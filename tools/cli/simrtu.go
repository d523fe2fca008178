package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/modbus"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// rtuSlave answers Modbus RTU read-holding-registers requests (function
// 3) for unit SimModbusUnit from regs, on a byte stream such as a
// pseudo-terminal. Frames are found by their CRC (a pty has no
// inter-character timing); requests for other units get no answer, as on
// a shared bus; other functions get exception 1, addresses out of range
// exception 2.
type rtuSlave struct {
	rw   io.ReadWriter
	regs *pumpRegisters
	buf  []byte
}

func (s *rtuSlave) serve(ctx context.Context) error {
	tmp := make([]byte, 256)
	for ctx.Err() == nil {
		n, err := s.rw.Read(tmp)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("sim: modbus rtu: %w", err)
		}
		s.buf = append(s.buf, tmp[:n]...)
		for s.frame() {
		}
		if len(s.buf) > 512 { // noise: keep the tail only
			s.buf = append(s.buf[:0], s.buf[len(s.buf)-8:]...)
		}
	}
	return nil
}

// frame handles one request at the start of buf, or drops a byte that
// cannot start one; it reports whether buf changed.
func (s *rtuSlave) frame() bool {
	if len(s.buf) < 8 {
		return false
	}
	req := s.buf[:8]
	if !modbus.CheckCRC(req) {
		s.buf = s.buf[1:] // resynchronise
		return true
	}
	s.buf = s.buf[8:]
	unit, fn := req[0], req[1]
	if unit != SimModbusUnit {
		return true
	}
	addr, qty := uint16(req[2])<<8|uint16(req[3]), uint16(req[4])<<8|uint16(req[5])
	var resp []byte
	switch {
	case fn != 3:
		resp = []byte{unit, fn | 0x80, 1}
	case qty == 0 || qty > 125:
		resp = []byte{unit, fn | 0x80, 3}
	default:
		vals, err := s.regs.HandleHoldingRegisters(holdingRead(unit, addr, qty))
		if err != nil {
			resp = []byte{unit, fn | 0x80, 2}
			break
		}
		resp = append(resp, unit, fn, byte(2*len(vals)))
		for _, v := range vals {
			resp = append(resp, byte(v>>8), byte(v))
		}
	}
	s.rw.Write(modbus.AppendCRC(resp))
	return true
}

// serveModbusRTU serves the pump's samples as a Modbus RTU slave on the
// terminal side of a new pseudo-terminal (linked at link) until the
// source ends or ctx is done.
func serveModbusRTU(ctx context.Context, env Env, link string, src *sim.Source) error {
	master, tty, err := openPty()
	if err != nil {
		return err
	}
	defer tty.Close()
	// The slave reads the master in a goroutine: make it pollable, so
	// that closing it ends that read (a blocking read would not end).
	if master, err = pollable(master); err != nil {
		return err
	}
	if link != "" {
		os.Remove(link)
		if err := os.Symlink(tty.Name(), link); err != nil {
			return fmt.Errorf("--link: %w", err)
		}
		defer os.Remove(link)
	}
	regs := &pumpRegisters{regs: make([]uint16, 2*len(src.Channels()))}
	fmt.Fprintf(env.Stdout, "sim: Modbus RTU slave on %s, unit %d (any baud rate: it is a pseudo-terminal), holding registers (float32, high word first):\n", tty.Name(), SimModbusUnit)
	printMap(env, src.Channels())
	slave := &rtuSlave{rw: master, regs: regs}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- slave.serve(ctx) }()
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for {
		err := src.Read(ctx, &s)
		if err != nil {
			master.Close() // ends the slave's read
			<-done
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		regs.set(s.Values)
	}
}
