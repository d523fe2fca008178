package agent

import (
	"fmt"
	"io"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/merge"
	"github.com/vigil-edge/vigil/sensors/modbus"
	"github.com/vigil-edge/vigil/sensors/periph"
	"github.com/vigil-edge/vigil/sensors/replay"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// openSource opens the configured source, or the merge of the configured
// sources, giving channels in model order.
func openSource(cfg *config.Config, channels []string, o Options, stats *sourceStats) (sensors.Source, error) {
	if len(cfg.Sources) == 0 {
		return openOne(&cfg.Source, channels, o, stats)
	}
	var srcs []sensors.Source
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for i := range cfg.Sources {
		s, err := openOne(&cfg.Sources[i], cfg.Sources[i].Channels, o, stats)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("sources entry %d: %w", i+1, err)
		}
		srcs = append(srcs, s)
	}
	m, err := merge.New(srcs, merge.Opts{Interval: cfg.Merge.Interval, MaxAge: cfg.Merge.MaxAge, Now: o.Now})
	if err != nil {
		closeAll()
		return nil, err
	}
	sel, err := selectChannels(m, channels)
	if err != nil {
		m.Close()
		return nil, err
	}
	return sel, nil
}

// openOne opens one configured source giving channels.
func openOne(src *config.Source, channels []string, o Options, stats *sourceStats) (sensors.Source, error) {
	if s := src.Serial; s != nil {
		var sep byte
		if s.Separator != "" {
			sep = s.Separator[0]
		}
		scale := map[string]serial.Linear{}
		for ch, lin := range s.Scale {
			scale[ch] = serial.Linear{Gain: lin.Gain, Offset: lin.Offset}
		}
		return serial.Open(serial.Opts{
			Device: s.Device, Baud: s.Baud, DataBits: s.DataBits, Parity: s.ParityByte(), StopBits: s.StopBits, Format: s.Format,
			Columns: s.Columns, Channels: channels, Scale: scale,
			Separator: sep, MaxLine: s.MaxLine, Logger: o.Logger.With("source", s.Device), Now: o.Now,
		})
	}
	if m := src.Modbus; m != nil {
		return openModbus(m, channels, o, stats)
	}
	if p := src.Periph; p != nil {
		return openPeriph(p, channels, o)
	}
	if r := src.Replay; r != nil {
		rs, err := replay.Open(replay.Opts{Path: r.Path, Channels: channels, Speed: r.Speed, Fast: r.Fast, Loop: r.Loop,
			Logger: o.Logger.With("source", r.Path), Now: o.Now})
		if err != nil {
			return nil, err
		}
		return rs, nil
	}
	return openSim(src.Sim, channels, o)
}

// openModbus builds the poller of a Modbus source: a TCP master connects
// at the first poll, so a gateway that is down at start is absent, not a
// failed start; an RTU line must open.
func openModbus(m *config.Modbus, channels []string, o Options, stats *sourceStats) (sensors.Source, error) {
	var client modbus.Client
	var closer func() error
	name := "modbus " + m.Device
	if m.Device != "" {
		parity, _ := modbus.ParseParity(m.Parity) // checked by config
		rtu, err := modbus.OpenRTU(modbus.RTUOpts{Device: m.Device, Baud: m.Baud, DataBits: 8, Parity: parity, StopBits: m.StopBits, Timeout: m.Timeout})
		if err != nil {
			return nil, err
		}
		client, closer = rtu, rtu.Close
	} else {
		name = "modbus tcp://" + m.Address
		tcp, err := modbus.NewTCP(m.Address, modbus.TCPOpts{Timeout: m.Timeout})
		if err != nil {
			return nil, err
		}
		client, closer = tcp, tcp.Close
	}
	var regs []modbus.Register
	for _, ch := range channels {
		for _, r := range m.Registers {
			if r.Channel != ch {
				continue
			}
			// Checked by config.
			table, _ := modbus.ParseTable(r.Table)
			typ, _ := modbus.ParseType(r.Type)
			word, _ := modbus.ParseOrder(r.WordOrder)
			byteOrder, _ := modbus.ParseOrder(r.ByteOrder)
			regs = append(regs, modbus.Register{Name: ch, Slave: uint8(r.Slave), Table: table, Address: uint16(r.Address),
				Type: typ, WordOrder: word, ByteOrder: byteOrder, Scale: r.Scale, Offset: r.Offset})
		}
	}
	poller, err := modbus.NewPoller(client, regs, modbus.PollerOpts{MaxGap: m.MaxGap})
	if err != nil {
		closer()
		return nil, err
	}
	stats.addModbus(name, poller)
	o.Logger.Info("modbus map", "source", name, "registers", len(regs), "requests", poller.Requests(), "interval", m.Interval)
	return sensors.NewPoll(poller.Poll, sensors.PollOpts{Name: name, Channels: channels, Interval: m.Interval,
		Close: closer, Logger: o.Logger, Now: o.Now})
}

// openPeriph opens the I²C bus (if a device needs it), builds each
// device and polls them as one group. A missing bus or pin is an error
// naming it and how to enable it.
func openPeriph(p *config.Periph, channels []string, o Options) (sensors.Source, error) {
	var devs []periph.Device
	var bus i2c.BusCloser
	fail := func(err error) (sensors.Source, error) {
		for _, d := range devs {
			d.Close()
		}
		if bus != nil {
			bus.Close()
		}
		return nil, err
	}
	for i := range p.Devices {
		d := &p.Devices[i]
		if d.Type != "pulse" && bus == nil {
			b, err := periph.OpenI2C(p.Bus)
			if err != nil {
				return fail(err)
			}
			bus = b
		}
		dev, err := openPeriphDevice(d, bus, o)
		if err != nil {
			return fail(fmt.Errorf("periph devices entry %d: %w", i+1, err))
		}
		devs = append(devs, dev)
	}
	var buses []io.Closer
	if bus != nil {
		buses = append(buses, bus)
	}
	g, err := periph.NewGroup(devs, buses...)
	if err != nil {
		return fail(err)
	}
	name := "periph " + g.String()
	o.Logger.Info("periph devices", "source", name, "bus", p.Bus, "channels", g.Channels(), "interval", p.Interval)
	poll, err := sensors.NewPoll(g.Read, sensors.PollOpts{Name: name, Channels: g.Channels(), Interval: p.Interval,
		Close: g.Close, Logger: o.Logger, Now: o.Now})
	if err != nil {
		g.Close()
		return nil, err
	}
	src, err := selectChannels(poll, channels)
	if err != nil {
		poll.Close()
		return nil, err
	}
	return src, nil
}

// openPeriphDevice builds one configured device (checked by config).
func openPeriphDevice(d *config.PeriphDevice, bus i2c.Bus, o Options) (periph.Device, error) {
	addr := uint16(d.Address)
	switch d.Type {
	case "bme280":
		bo := periph.DefaultBME280Opts
		bo.Addr = addr
		copy(bo.Names[:], d.Channels)
		if len(d.Channels) == 2 {
			// Humidity is not wanted (or the chip is a BMP280, which has
			// none): a name no model channel has, dropped by selectChannels.
			bo.Names[2] = fmt.Sprintf("humidity@%#x", addr)
		}
		return periph.NewBME280(bus, bo)
	case "adxl345":
		ao := periph.DefaultADXL345Opts
		ao.Addr, ao.Rate, ao.KeepGravity, ao.Names = addr, d.Rate, d.KeepGravity, d.Channels
		if d.Axes {
			ao.Output = periph.RMSAxes
		}
		return periph.NewADXL345(bus, ao)
	case "ads1115":
		ao := periph.DefaultADS1115Opts
		ao.Addr, ao.Supply, ao.DataRate = addr, d.Supply, d.DataRate
		for _, in := range d.Inputs {
			mux, _ := periph.ParseInput(in.Input)
			sc, _ := in.Scaling()
			ao.Channels = append(ao.Channels, periph.ADCChannel{Name: in.Channel, Input: mux,
				FullScale: physic.ElectricPotential(in.FullScale * float64(physic.Volt)), Scaling: sc})
		}
		return periph.NewADS1115(bus, ao)
	}
	pin, err := periph.OpenGPIO(d.Pin)
	if err != nil {
		return nil, err
	}
	po := periph.DefaultPulseOpts
	po.Name, po.Factor, po.Debounce, po.Now = d.Channels[0], d.Factor, d.Debounce, o.Now
	po.Edge, _ = periph.ParseEdge(d.Edge)
	po.Pull, _ = periph.ParsePull(d.Pull)
	return periph.NewPulseCounter(pin, po)
}

// sourceName names a source for the log.
func sourceName(src sensors.Source) string {
	if s, ok := src.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", src)
}
