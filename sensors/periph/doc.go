// Package periph reads sensors wired straight to a gateway's I²C bus and
// GPIO pins, through periph.io: a BME280/BMP280 environmental sensor, an
// ADS1115 ADC scaling 4–20 mA and 0–10 V industrial transmitters to
// engineering units, an ADXL345 accelerometer reduced to vibration RMS, and
// a GPIO pulse counter for flow meters and tachometers.
//
// Every device has the same small shape: a constructor New…(bus, Opts)
// that checks the options and the chip once and fails with an error naming
// the device and field; Channels, naming the values Read writes; Read(ctx,
// values), reading the device once into caller-owned memory (NaN for a
// value it could not read, plus an error naming the channel); Close. Read
// has the shape of sensors.ReadFunc, so the agent wraps a device with
//
//	sensors.NewPoll(dev.Read, sensors.PollOpts{Name: dev.String(), Channels: dev.Channels(), Close: dev.Close, …})
//
// Missing hardware is a normal case: OpenI2C and OpenGPIO return an error
// naming the bus or pin and saying how to enable it on a Raspberry Pi
// rather than failing later or crashing.
//
// Tests replay register traffic with periph's own fakes (i2ctest.Playback,
// gpiotest.Pin); the traffic is taken from periph's recorded sessions and
// from the datasheets' register maps.
//
// This package is not a general periph wrapper: it does not configure
// interrupts, does not drive SPI devices, does not discover devices on a
// bus, and knows nothing of vigil's configuration files; the agent maps its
// configuration onto these Opts.
package periph
