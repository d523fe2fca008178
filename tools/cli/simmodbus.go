package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	sv "github.com/simonvetter/modbus"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// SimModbusUnit is the unit id (slave address) the simulated pump answers
// to over Modbus.
const SimModbusUnit = 1

// pumpRegisters holds the simulated pump's latest sample as Modbus holding
// registers: channel i as a big-endian float32 in registers 2i and 2i+1.
// It is served by simonvetter/modbus, a Modbus server independent of
// vigil's own master.
type pumpRegisters struct {
	mu   sync.Mutex
	regs []uint16
}

func (p *pumpRegisters) set(values []float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, v := range values {
		b := math.Float32bits(v)
		p.regs[2*i], p.regs[2*i+1] = uint16(b>>16), uint16(b)
	}
}

func (p *pumpRegisters) HandleHoldingRegisters(r *sv.HoldingRegistersRequest) ([]uint16, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.UnitId != SimModbusUnit:
		return nil, sv.ErrGWTargetFailedToRespond
	case r.IsWrite:
		return nil, sv.ErrIllegalFunction
	case int(r.Addr)+int(r.Quantity) > len(p.regs):
		return nil, sv.ErrIllegalDataAddress
	}
	return append([]uint16(nil), p.regs[r.Addr:int(r.Addr)+int(r.Quantity)]...), nil
}

func (p *pumpRegisters) HandleInputRegisters(*sv.InputRegistersRequest) ([]uint16, error) {
	return nil, sv.ErrIllegalFunction
}
func (p *pumpRegisters) HandleCoils(*sv.CoilsRequest) ([]bool, error) {
	return nil, sv.ErrIllegalFunction
}
func (p *pumpRegisters) HandleDiscreteInputs(*sv.DiscreteInputsRequest) ([]bool, error) {
	return nil, sv.ErrIllegalFunction
}

// printMap prints which holding registers hold which channel.
func printMap(env Env, channels []string) {
	for i, ch := range channels {
		fmt.Fprintf(env.Stdout, "  %d-%d  %s\n", 2*i, 2*i+1, ch)
	}
}

// holdingRead is a read request as the Modbus server library presents it.
func holdingRead(unit uint8, addr, qty uint16) *sv.HoldingRegistersRequest {
	return &sv.HoldingRegistersRequest{UnitId: unit, Addr: addr, Quantity: qty}
}

// serveModbusTCP serves the pump's samples as a Modbus TCP slave on addr
// until the source ends or ctx is done. It prints the register map.
func serveModbusTCP(ctx context.Context, env Env, addr string, src *sim.Source) error {
	regs := &pumpRegisters{regs: make([]uint16, 2*len(src.Channels()))}
	srv, err := sv.NewServer(&sv.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 8}, regs)
	if err != nil {
		return fmt.Errorf("--modbus-tcp %s: %w", addr, err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("--modbus-tcp %s: %w", addr, err)
	}
	defer srv.Stop()
	fmt.Fprintf(env.Stdout, "sim: Modbus TCP slave on %s, unit %d, holding registers (float32, high word first):\n", addr, SimModbusUnit)
	printMap(env, src.Channels())
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for {
		err := src.Read(ctx, &s)
		switch {
		case errors.Is(err, io.EOF), ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		regs.set(s.Values)
	}
}
