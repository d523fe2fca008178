package periph

import (
	"context"
	"errors"
	"fmt"
	"math"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ads1x15"
)

// ErrClipped marks an ADC reading at the end of its full-scale range: the
// true input is somewhere beyond it.
var ErrClipped = errors.New("input at the ADC's full scale (clipped)")

// ADCChannel is one input of an ADS1115 and what it carries.
type ADCChannel struct {
	// Name names the value, e.g. "Pressure". Required, unique per device.
	Name string
	// Input is the multiplexer setting: ads1x15.Channel0..Channel3
	// (single-ended, AINx against GND) or a differential pair
	// (ads1x15.Channel0Minus1, …Channel2Minus3).
	Input ads1x15.Channel
	// FullScale is the programmable-gain range: 6.144, 4.096, 2.048,
	// 1.024, 0.512 or 0.256 V (as physic.ElectricPotential). Zero picks
	// the smallest range that still reads the transmitter's fault limits
	// (21 mA across the shunt, 10.5 V through the divider) or, for
	// Volts, the supply voltage.
	FullScale physic.ElectricPotential
	// Scaling turns the input voltage into the engineering value; the
	// zero Scaling reports volts.
	Scaling
}

// ADS1115Opts configure NewADS1115.
type ADS1115Opts struct {
	// Addr is the I²C address: 0x48 (ADDR to GND), 0x49 (VDD), 0x4A (SDA)
	// or 0x4B (SCL).
	Addr uint16
	// Supply is the ADS1115's VDD in V. No input may exceed Supply+0.3 V,
	// so NewADS1115 refuses a channel whose fault limit (21 mA across the
	// shunt, 10.5 V through the divider) would.
	Supply float64
	// DataRate is the conversion rate in samples per second: 8, 16, 32,
	// 64, 128, 250, 475 or 860. Each channel's conversion takes 1/DataRate
	// (7.8 ms at 128), and Read converts the channels one after another;
	// slower rates average more noise (50/60 Hz hum) away.
	DataRate int
	// Channels are read in this order, one to eight of them.
	Channels []ADCChannel
}

// DefaultADS1115Opts: address 0x48, a 3.3 V supply (as on a Pi's
// header), 128 samples/s (the chip's default; four channels take 32 ms,
// fine for 10 Hz polling). Channels must be set.
var DefaultADS1115Opts = ADS1115Opts{Addr: ads1x15.I2CAddr, Supply: 3.3, DataRate: 128}

// adcRanges are the ADS1115's full-scale ranges, in V.
var adcRanges = []float64{0.256, 0.512, 1.024, 2.048, 4.096, 6.144}

// ADS1115 reads the inputs of a TI ADS1115 16-bit ADC in single-shot
// mode through periph's ads1x15 driver, scaling each to engineering
// units.
//
// Read is not safe for concurrent use with itself. Other devices may
// share the bus.
type ADS1115 struct {
	name     string
	dev      *ads1x15.Dev
	pins     []ads1x15.PinADC
	chans    []ADCChannel
	channels []string
}

// NewADS1115 checks o (address, data rate, each channel's input, range
// and scaling against the supply) and prepares one single-shot
// conversion per channel. It does not talk to the chip: the ADS1115 has
// no identification register, so a missing chip shows at the first Read.
func NewADS1115(bus i2c.Bus, o ADS1115Opts) (*ADS1115, error) {
	name := fmt.Sprintf("ads1115 %#x", o.Addr)
	if o.Addr < 0x48 || o.Addr > 0x4B {
		return nil, fmt.Errorf("periph: ads1115: Addr %#x: want 0x48, 0x49, 0x4A or 0x4B", o.Addr)
	}
	switch o.DataRate {
	case 8, 16, 32, 64, 128, 250, 475, 860:
	default:
		return nil, fmt.Errorf("periph: %s: DataRate %d: want 8, 16, 32, 64, 128, 250, 475 or 860 samples/s", name, o.DataRate)
	}
	if !(o.Supply >= 2 && o.Supply <= 5.5) {
		return nil, fmt.Errorf("periph: %s: Supply %v V: want 2.0 to 5.5 V", name, o.Supply)
	}
	if len(o.Channels) == 0 || len(o.Channels) > 8 {
		return nil, fmt.Errorf("periph: %s: %d Channels: want 1 to 8", name, len(o.Channels))
	}
	dev, err := ads1x15.NewADS1115(bus, &ads1x15.Opts{I2cAddress: o.Addr})
	if err != nil {
		return nil, fmt.Errorf("periph: %s: %w", name, err)
	}
	a := &ADS1115{name: name, dev: dev}
	seen := make(map[string]bool, len(o.Channels))
	for i, c := range o.Channels {
		where := fmt.Sprintf("periph: %s: Channels[%d] %q", name, i, c.Name)
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("%s: want a unique, non-empty Name", where)
		}
		seen[c.Name] = true
		if c.Input.String() == "Invalid" {
			return nil, fmt.Errorf("%s: Input %d: want ads1x15.Channel0..Channel3 or a differential pair", where, c.Input)
		}
		if err := c.Scaling.Check(); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		limit := o.Supply + 0.3
		need := c.Scaling.maxInput(o.Supply)
		if need > limit {
			return nil, fmt.Errorf("%s: the input reaches %.2f V at the fault limit, above the ADS1115's absolute maximum of %.1f V (supply + 0.3 V): use a smaller shunt (≤ %.0f Ω), a larger divider (≥ %.2f) or a 5 V supply",
				where, need, limit, limit/LoopFaultHigh*1000, VoltFaultHigh/limit)
		}
		fs := float64(c.FullScale) / float64(physic.Volt)
		if c.FullScale == 0 {
			fs = math.Inf(1)
			for _, r := range adcRanges {
				if r >= need-1e-9 && r < fs {
					fs = r
				}
			}
			if math.IsInf(fs, 1) {
				fs = adcRanges[len(adcRanges)-1]
			}
		} else {
			ok := false
			for _, r := range adcRanges {
				ok = ok || math.Abs(r-fs) < 1e-9
			}
			if !ok {
				return nil, fmt.Errorf("%s: FullScale %v: want 6.144, 4.096, 2.048, 1.024, 0.512 or 0.256 V", where, c.FullScale)
			}
			if c.Transmitter != Volts && fs < need-1e-9 {
				return nil, fmt.Errorf("%s: FullScale %v clips below the fault limit (%.3f V): want a range ≥ that", where, c.FullScale, need)
			}
		}
		pin, err := dev.PinForChannel(c.Input, physic.ElectricPotential(math.Round(fs*1000))*physic.MilliVolt,
			physic.Frequency(o.DataRate)*physic.Hertz, ads1x15.BestQuality)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		a.pins = append(a.pins, pin)
		a.chans = append(a.chans, c)
		a.channels = append(a.channels, c.Name)
	}
	return a, nil
}

// String names the chip and its address, e.g. "ads1115 0x48".
func (a *ADS1115) String() string { return a.name }

// Channels names the values Read writes, in ADS1115Opts.Channels order.
// The slice belongs to a; do not modify it.
func (a *ADS1115) Channels() []string { return a.channels }

// Read converts each channel in turn (a config-register write starting a
// single-shot conversion, a wait of 1/DataRate, a conversion-register
// read) and writes its scaled value to values[i]. A channel that could
// not be read, reads a signalled fault (NE43 loop limits, 0–10 V limits)
// or is clipped gets NaN, and the returned error names every such
// channel; the other channels are still read. When ctx ends, the
// remaining channels are NaN and Read returns ctx.Err().
//
// periph's ads1x15 driver allocates two small I²C buffers per
// conversion; Read itself allocates only when a channel fails.
func (a *ADS1115) Read(ctx context.Context, values []float32) error {
	if len(values) < len(a.pins) {
		return fmt.Errorf("periph: %s: Read into %d values, want %d", a.name, len(values), len(a.pins))
	}
	var errs error
	for i, p := range a.pins {
		if err := ctx.Err(); err != nil {
			for j := i; j < len(a.pins); j++ {
				values[j] = float32(nan64)
			}
			return err
		}
		c := &a.chans[i]
		s, err := p.Read()
		if err != nil {
			values[i] = float32(nan64)
			errs = errors.Join(errs, fmt.Errorf("periph: %s: channel %q (AIN%s): %w", a.name, c.Name, c.Input, err))
			continue
		}
		volts := float64(s.V) / float64(physic.Volt)
		if s.Raw >= math.MaxInt16 || s.Raw <= math.MinInt16 {
			values[i] = float32(nan64)
			errs = errors.Join(errs, fmt.Errorf("periph: %s: channel %q (AIN%s): %.4f V: %w", a.name, c.Name, c.Input, volts, ErrClipped))
			continue
		}
		v, err := c.Scaling.Apply(volts)
		values[i] = float32(v)
		if err != nil {
			errs = errors.Join(errs, a.faultError(c, volts, err))
		}
	}
	return errs
}

// faultError describes a signalled fault on channel c.
func (a *ADS1115) faultError(c *ADCChannel, volts float64, err error) error {
	if c.Transmitter == Loop4to20mA {
		return fmt.Errorf("periph: %s: channel %q (AIN%s): %.2f mA: %w", a.name, c.Name, c.Input, volts/c.Shunt*1000, err)
	}
	return fmt.Errorf("periph: %s: channel %q (AIN%s): %.2f V at the transmitter: %w", a.name, c.Name, c.Input, volts*c.Divider, err)
}

// Close releases nothing on the chip: in single-shot mode the ADS1115
// powers down after each conversion. The bus stays open (the caller owns
// it). It always returns nil.
func (a *ADS1115) Close() error { return a.dev.Halt() }
