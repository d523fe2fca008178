package agent

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/sensors/periph"
)

// The configuration of each periph device reaches its driver: checked
// against the register traffic the driver must produce (periph's i2ctest
// playback), for an ADS1115 on a 4–20 mA loop and a BMP280 named with two
// channels.
func TestOpenPeriphDevice(t *testing.T) {
	conf := `site: s
device: d
channels: [Temperature, Pressure, Discharge]
model: {path: m.vgm}
source:
  periph:
    devices:
      - {type: bme280, channels: [Temperature, Pressure]}
      - type: ads1115
        data_rate: 860
        inputs:
          - {channel: Discharge, input: 0, transmitter: 4-20mA, shunt: 150, lo: 0, hi: 10}
`
	cfg, err := config.Parse([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		// BMP280 at 0x76: chip id, calibration, normal-mode set-up
		// (periph's recording, as in sensors/periph's tests).
		{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xF4, 0x4C, 0xF5, 0x24, 0xF4, 0x4F}},
		// One read of each: 23.72 °C and 1009.4 hPa; AIN0 at ±4.096 V,
		// 860 SPS: 14400 counts, 1.8 V, 12 mA, 5 bar.
		{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0}},
		{Addr: 0x48, W: []byte{0x01, 0xC3, 0xE3}, R: []byte{}},
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x38, 0x40}},
		{Addr: 0x76, W: []byte{0xF4, 0x4C}}, // sleep at Close
	}}
	o := Options{Logger: slog.New(slog.DiscardHandler)}
	var devs []periph.Device
	for i := range cfg.Source.Periph.Devices {
		d, err := openPeriphDevice(&cfg.Source.Periph.Devices[i], bus, o)
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, d)
	}
	g, err := periph.NewGroup(devs, bus)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.Channels(), ","); got != "Temperature,Pressure,Discharge" {
		t.Errorf("channels %s", got)
	}
	v := make([]float32, 3)
	if err := g.Read(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{23.72, 1009.42695, 5} {
		if math.Abs(float64(v[i])-want) > 0.01 {
			t.Errorf("%s = %v, want %v", g.Channels()[i], v[i], want)
		}
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}
