package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bugserial "go.bug.st/serial"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
	"github.com/vigil-edge/vigil/sensors/sim"
)

func runSim(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "sim", "[--fault KIND@START+DURATION]... [--fast --for D | --pty --link PATH | --device PATH | --modbus-tcp ADDR | --modbus-rtu --link PATH]")
	var faults listFlag
	fs.Var(&faults, "fault", "inject a fault: KIND[:CHANNEL]@START[+DURATION], e.g. valve-closed@20s+15s (repeatable);\nkinds: valve-closed, rotor-imbalance, cavitation; sensor-dropout, sensor-stuck, sensor-spike, sensor-drift (with :CHANNEL)")
	rate := fs.Float64("rate", sim.DefaultRate, "samples per second")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and flags give the same values")
	fast := fs.Bool("fast", false, "do not pace samples in real time (for training data; needs --for)")
	forDur := fs.Duration("for", 0, "stop after this much simulated time (0: run until interrupted)")
	labels := fs.Bool("labels", false, "add SKAB's label columns: anomaly (1 while a fault is active)\nand changepoint (1 where a fault begins or ends)")
	usePty := fs.Bool("pty", false, "write to a new pseudo-terminal instead of stdout and print its path")
	link := fs.String("link", "", "with --pty: also make this symlink to the terminal (removed on exit)")
	device := fs.String("device", "", "write to this serial device instead of stdout")
	baud := fs.Int("baud", 115200, "with --device: line speed")
	sep := fs.String("sep", ";", "field separator, ; or ,")
	modbusRTU := fs.Bool("modbus-rtu", false, "serve the pump as a Modbus RTU slave on a new pseudo-terminal (with --link PATH)\ninstead of writing lines; the register map of --modbus-tcp")
	modbusTCP := fs.String("modbus-tcp", "", "serve the pump as a Modbus TCP slave on this address (host:port)\ninstead of writing lines: unit 1, channel i as a float32 in holding registers 2i, 2i+1")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *fast && *forDur == 0 {
		return usagef("--fast needs --for, or it would write forever")
	}
	outs := 0
	for _, on := range []bool{*usePty, *device != "", *modbusTCP != "", *modbusRTU} {
		if on {
			outs++
		}
	}
	if outs > 1 {
		return usagef("choose one of --pty, --device, --modbus-tcp and --modbus-rtu")
	}
	if (*modbusTCP != "" || *modbusRTU) && *fast {
		return usagef("a Modbus slave serves samples in real time: leave out --fast")
	}
	if *link != "" && !*usePty && !*modbusRTU {
		return usagef("--link needs --pty or --modbus-rtu")
	}
	if *sep != ";" && *sep != "," {
		return usagef("--sep %q: want ; or ,", *sep)
	}
	o := sim.Opts{Seed: *seed, Rate: *rate}
	if !*fast {
		o.Start = time.Now().UTC().Truncate(time.Second)
	}
	for _, f := range faults {
		ft, err := sim.ParseFault(f)
		if err != nil {
			return usageError{err.Error()}
		}
		o.Faults = append(o.Faults, ft)
	}
	pump, err := sim.New(o)
	if err != nil {
		return usageError{err.Error()}
	}
	src, err := sim.NewSource(pump, sim.SourceOpts{Paced: !*fast, For: *forDur})
	if err != nil {
		return err
	}
	defer src.Close()

	if *modbusTCP != "" {
		return serveModbusTCP(ctx, env, *modbusTCP, src)
	}
	if *modbusRTU {
		return serveModbusRTU(ctx, env, *link, src)
	}
	var out io.Writer = env.Stdout
	switch {
	case *usePty:
		master, tty, err := openPty()
		if err != nil {
			return err
		}
		defer master.Close()
		defer tty.Close() // held open so the terminal outlives agent restarts
		if *link != "" {
			os.Remove(*link)
			if err := os.Symlink(tty.Name(), *link); err != nil {
				return fmt.Errorf("--link: %w", err)
			}
			defer os.Remove(*link)
		}
		fmt.Fprintf(env.Stdout, "sim: writing %g samples/s to %s\n", pump.Rate(), tty.Name())
		out = master
	case *device != "":
		port, err := bugserial.Open(*device, &bugserial.Mode{BaudRate: *baud})
		if err != nil {
			return fmt.Errorf("--device %s: %w", *device, err)
		}
		defer port.Close()
		out = port
	}
	return writeCSV(ctx, out, src, pump, (*sep)[0], *labels, !*fast)
}

// writeCSV writes a header and then one line per sample until the source
// ends or ctx is done. Paced output is flushed line by line.
func writeCSV(ctx context.Context, w io.Writer, src *sim.Source, pump *sim.Pump, sep byte, labels, flushEach bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	names := append([]string(nil), src.Channels()...)
	values := make([]float32, len(src.Channels()), len(src.Channels())+2)
	if labels {
		names = append(names, "anomaly", "changepoint")
	}
	wasActive := false
	line := csvline.AppendHeader(nil, names, sep)
	s := sensors.Sample{Values: values}
	for {
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("sim: writing: %w", err)
		}
		if flushEach {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("sim: writing: %w", err)
			}
		}
		err := src.Read(ctx, &s)
		switch {
		case errors.Is(err, io.EOF):
			return bw.Flush()
		case ctx.Err() != nil:
			bw.Flush()
			return nil
		case err != nil:
			return err
		}
		v := s.Values
		if labels {
			_, active := pump.Active()
			v = append(v, b2f(active), b2f(active != wasActive))
			wasActive = active
		}
		line = csvline.AppendLine(line[:0], s.Time, v, sep)
	}
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}
