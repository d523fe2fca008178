package periph

import (
	"context"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"
)

// BME280Opts configure NewBME280.
type BME280Opts struct {
	// Addr is the I²C address: 0x76 (SDO to GND) or 0x77 (SDO to VDDIO).
	Addr uint16
	// Names name the channels: temperature (°C), pressure (hPa) and, on a
	// BME280, relative humidity (%RH). A BMP280 has only the first two.
	Names [3]string
	// Sensor are the bmxx80 driver's options: oversampling per quantity,
	// IIR filter and standby time.
	//
	// With Filter set and Standby > 0 the sensor runs in normal mode,
	// measuring on its own every Standby (rounded down to the chip's
	// steps) plus the measurement time, and Read fetches the latest
	// result in one burst read without waiting. With Filter NoFilter or
	// Standby 0 every Read triggers a forced measurement and sleeps for it
	// (about 1 ms + 2 ms per oversampling step of each quantity: 26 ms at
	// 4x each), polling the status register until it is done.
	Sensor bmxx80.Opts
}

// DefaultBME280Opts suit polling at 1–10 Hz: the sensor runs in normal
// mode, measuring about every 80 ms (typically 18 ms of measurement at
// temperature 2x, pressure 4x and humidity 2x oversampling, then 62.5 ms
// standby), so a Read never waits and always gets a result at most one
// cycle old; the IIR filter at coefficient 2 smooths pressure and
// temperature (door slams, fans) and delays a step by about one cycle.
// The sensor draws well under 1 mA.
var DefaultBME280Opts = BME280Opts{
	Addr:  0x76,
	Names: [3]string{"Temperature", "Pressure", "Humidity"},
	Sensor: bmxx80.Opts{
		Temperature: bmxx80.O2x,
		Pressure:    bmxx80.O4x,
		Humidity:    bmxx80.O2x,
		Filter:      bmxx80.F2,
		Standby:     62500 * time.Microsecond,
	},
}

// BME280 reads a Bosch BME280 (temperature, pressure, humidity) or BMP280
// (temperature, pressure) over I²C through periph's bmxx80 driver.
//
// Read is not safe for concurrent use with itself; Close may be called
// from any goroutine. Other devices may share the bus.
type BME280 struct {
	dev      *bmxx80.Dev
	bus      i2c.Bus
	addr     uint16
	sleep    [2]byte // ctrl_meas write putting a normal-mode sensor to sleep; zero in forced mode
	name     string
	channels []string
	env      physic.Env
}

// NewBME280 checks o, identifies the chip at o.Addr on bus (chip id 0xD0:
// 0x60 BME280, 0x58 BMP280), reads its calibration and configures it.
// A BMP180 (0x55) is refused: it has no humidity and a different timing.
func NewBME280(bus i2c.Bus, o BME280Opts) (*BME280, error) {
	if o.Addr != 0x76 && o.Addr != 0x77 {
		return nil, fmt.Errorf("periph: bme280: Addr %#x: want 0x76 or 0x77", o.Addr)
	}
	for i, n := range o.Names {
		if n == "" {
			return nil, fmt.Errorf("periph: bme280 at %#x: Names[%d] is empty", o.Addr, i)
		}
	}
	dev, err := bmxx80.NewI2C(bus, o.Addr, &o.Sensor)
	if err != nil {
		return nil, fmt.Errorf("periph: bme280 at %#x on %s: %w", o.Addr, bus, err)
	}
	b := &BME280{dev: dev, bus: bus, addr: o.Addr}
	if o.Sensor.Filter != bmxx80.NoFilter && o.Sensor.Standby != 0 {
		// ctrl_meas (0xF4): osrs_t<<5 | osrs_p<<2 | mode 00 (sleep).
		b.sleep = [2]byte{0xF4, byte(o.Sensor.Temperature)<<5 | byte(o.Sensor.Pressure)<<2}
	}
	switch name := dev.String(); {
	case len(name) >= 6 && name[:6] == "BME280":
		b.name = fmt.Sprintf("bme280 %#x", o.Addr)
		b.channels = []string{o.Names[0], o.Names[1], o.Names[2]}
	case len(name) >= 6 && name[:6] == "BMP280":
		b.name = fmt.Sprintf("bmp280 %#x", o.Addr)
		b.channels = []string{o.Names[0], o.Names[1]}
	default:
		return nil, fmt.Errorf("periph: bme280 at %#x on %s: found %s, want a BME280 or BMP280", o.Addr, bus, name)
	}
	return b, nil
}

// String names the chip and its address, e.g. "bme280 0x76".
func (b *BME280) String() string { return b.name }

// Channels names the values Read writes: temperature (°C), pressure (hPa)
// and, on a BME280, humidity (%RH). The slice belongs to b; do not modify it.
func (b *BME280) Channels() []string { return b.channels }

// Read reads one measurement into values[:len(Channels())]: temperature
// in °C, pressure in hPa, humidity in %RH. On failure it writes NaN to
// every value and returns an error naming the chip.
//
// The bmxx80 driver allocates its I²C buffers on each call (2 small
// allocations in normal mode, 5 or more in forced mode); Read adds none.
func (b *BME280) Read(ctx context.Context, values []float32) error {
	n := len(b.channels)
	if len(values) < n {
		return fmt.Errorf("periph: %s: Read into %d values, want %d", b.name, len(values), n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.dev.Sense(&b.env); err != nil {
		nan := float32(math.NaN())
		for i := range values[:n] {
			values[i] = nan
		}
		return fmt.Errorf("periph: %s: %w", b.name, err)
	}
	values[0] = float32(float64(b.env.Temperature-physic.ZeroCelsius) / float64(physic.Kelvin))
	values[1] = float32(float64(b.env.Pressure) / float64(100*physic.Pascal))
	if n == 3 {
		values[2] = float32(float64(b.env.Humidity) / float64(physic.PercentRH))
	}
	return nil
}

// Close puts a sensor running in normal mode to sleep (ctrl_meas mode 00)
// so it stops measuring; a sensor in forced mode already sleeps between
// reads and sees no traffic. The bus stays open: the caller owns it.
// Close may be called more than once.
func (b *BME280) Close() error {
	if b.sleep[0] == 0 {
		return nil
	}
	if err := b.bus.Tx(b.addr, b.sleep[:], nil); err != nil {
		return fmt.Errorf("periph: %s: sleep: %w", b.name, err)
	}
	return nil
}
