package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors/modbus"
)

// runModbus dispatches vigil modbus subcommands; scan is the one there is.
func runModbus(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "scan" {
		return usagef("want: vigil modbus scan (--device PATH | --address HOST:PORT) [flags]")
	}
	return runModbusScan(ctx, env, args[1:])
}

// runModbusScan lists the slave ids that answer on a bus or behind a
// gateway, as field engineers check a new RS-485 line.
func runModbusScan(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "modbus scan", "(--device PATH | --address HOST:PORT) [--baud N --parity none|even|odd --stop-bits N] [--from 1 --to 247]")
	device := fs.String("device", "", "RTU: the serial device of the RS-485 adapter")
	address := fs.String("address", "", "TCP: the Modbus TCP server or gateway, host:port")
	baud := fs.Int("baud", 19200, "RTU: line speed")
	parity := fs.String("parity", "even", "RTU: none, even or odd")
	stop := fs.Int("stop-bits", 1, "RTU: 1 or 2")
	timeout := fs.Duration("timeout", 200*time.Millisecond, "how long to wait for each slave")
	from := fs.Int("from", 1, "first slave id to try")
	to := fs.Int("to", 247, "last slave id to try")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*device == "") == (*address == "") {
		return usagef("give --device (RTU) or --address (TCP), not both")
	}
	if *from < 1 || *to > 247 || *from > *to {
		return usagef("--from %d --to %d: want 1 <= from <= to <= 247", *from, *to)
	}
	p, err := modbus.ParseParity(*parity)
	if err != nil {
		return usagef("--%v", err)
	}
	var client modbus.Client
	where := *address
	if *device != "" {
		rtu, err := modbus.OpenRTU(modbus.RTUOpts{Device: *device, Baud: *baud, DataBits: 8, Parity: p, StopBits: *stop, Timeout: *timeout})
		if err != nil {
			return err
		}
		defer rtu.Close()
		client, where = rtu, fmt.Sprintf("%s at %d 8%s%d", *device, *baud, p, *stop)
	} else {
		tcp, err := modbus.NewTCP(*address, modbus.TCPOpts{Timeout: *timeout})
		if err != nil {
			return err
		}
		defer tcp.Close()
		client = tcp
	}
	fmt.Fprintf(env.Stderr, "scanning slaves %d to %d on %s (up to %v each)\n", *from, *to, where, *timeout)
	ids := modbus.Scan(ctx, client, uint8(*from), uint8(*to))
	if len(ids) == 0 {
		return fmt.Errorf("no slave answered on %s: check wiring (A/B), termination, baud rate and parity", where)
	}
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprint(id))
	}
	fmt.Fprintf(env.Stdout, "answering: %s\n", strings.Join(out, " "))
	return nil
}
