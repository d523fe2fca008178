package periph

import (
	"context"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/bmxx80"
)

// Register traffic of a real BME280 at 0x76, recorded by periph's authors
// (periph.io/x/devices/v3 bmxx80/bmx280_test.go, TestI2CSenseBME280_success):
// chip id, the calibration blocks 0x88..0xA1 and 0xE1..0xE7, and one
// measurement burst 0xF7..0xFE (press_msb..hum_lsb) that compensates to
// 23.72 °C, 100942.695 Pa and 65.3056 %RH.
var (
	bmeChipID  = i2ctest.IO{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x60}}
	bmpChipID  = i2ctest.IO{Addr: 0x76, W: []byte{0xD0}, R: []byte{0x58}}
	bmeCalib1  = i2ctest.IO{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}}
	bmeCalib2  = i2ctest.IO{Addr: 0x76, W: []byte{0xE1}, R: []byte{0x6e, 0x1, 0x0, 0x13, 0x5, 0x0, 0x1e}}
	bmeMeasure = i2ctest.IO{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0, 0x7a, 0x76}}
	bmpMeasure = i2ctest.IO{Addr: 0x76, W: []byte{0xF7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0}}
)

// Configuration writes for DefaultBME280Opts, from the datasheet's
// register map (section 5.4): ctrl_meas 0xF4 = osrs_t 010 (2x) | osrs_p
// 011 (4x) | mode (00 sleep, 11 normal); ctrl_hum 0xF2 = 010 (2x); config
// 0xF5 = t_sb 001 (62.5 ms) | filter 001 (coefficient 2). ctrl_meas is
// written first to sleep and last to start, as the datasheet asks.
var (
	bmeConfigDefault = i2ctest.IO{Addr: 0x76, W: []byte{0xF4, 0x4C, 0xF2, 0x02, 0xF5, 0x24, 0xF4, 0x4F}}
	bmpConfigDefault = i2ctest.IO{Addr: 0x76, W: []byte{0xF4, 0x4C, 0xF5, 0x24, 0xF4, 0x4F}}
	bmeSleep         = i2ctest.IO{Addr: 0x76, W: []byte{0xF4, 0x4C}}
)

func TestBME280(t *testing.T) {
	// The forced-mode session is periph's recording verbatim (DefaultOpts
	// of bmxx80: 4x each, ctrl_meas 0x6C, forced 0x6D, status busy then
	// idle).
	forced := DefaultBME280Opts
	forced.Sensor = bmxx80.DefaultOpts
	tests := []struct {
		name     string
		opts     BME280Opts
		ops      []i2ctest.IO
		channels []string
		want     []float32
	}{
		{"BME280 normal mode", DefaultBME280Opts,
			[]i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault, bmeMeasure, bmeMeasure, bmeSleep},
			[]string{"Temperature", "Pressure", "Humidity"}, []float32{23.72, 1009.42695, 65.3056}},
		{"BMP280 normal mode", DefaultBME280Opts,
			[]i2ctest.IO{bmpChipID, bmeCalib1, bmpConfigDefault, bmpMeasure, bmpMeasure, bmeSleep},
			[]string{"Temperature", "Pressure"}, []float32{23.72, 1009.42695}},
		{"BME280 forced mode", forced,
			[]i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2,
				{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf2, 0x3, 0xf5, 0xa0, 0xf4, 0x6c}},
				{Addr: 0x76, W: []byte{0xF4, 0x6D}}, {Addr: 0x76, W: []byte{0xF3}, R: []byte{8}}, {Addr: 0x76, W: []byte{0xF3}, R: []byte{0}}, bmeMeasure,
				{Addr: 0x76, W: []byte{0xF4, 0x6D}}, {Addr: 0x76, W: []byte{0xF3}, R: []byte{0}}, bmeMeasure},
			[]string{"Temperature", "Pressure", "Humidity"}, []float32{23.72, 1009.42695, 65.3056}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			dev, err := NewBME280(bus, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(dev.Channels(), ","); got != strings.Join(tt.channels, ",") {
				t.Errorf("Channels() = %s, want %s", got, strings.Join(tt.channels, ","))
			}
			values := make([]float32, 3)
			for range 2 {
				if err := dev.Read(context.Background(), values); err != nil {
					t.Fatalf("Read: %v", err)
				}
				for i, w := range tt.want {
					if math.Abs(float64(values[i]-w)) > 1e-4*math.Abs(float64(w)) {
						t.Errorf("Read: %s = %v, want %v", tt.channels[i], values[i], w)
					}
				}
			}
			if err := dev.Close(); err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Errorf("playback: %v", err)
			}
		})
	}
}

func TestBME280ReadFails(t *testing.T) {
	// The measurement burst never comes: the device went away after setup.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault}, DontPanic: true}
	dev, err := NewBME280(bus, DefaultBME280Opts)
	if err != nil {
		t.Fatal(err)
	}
	values := []float32{1, 2, 3}
	err = dev.Read(context.Background(), values)
	if err == nil || !strings.Contains(err.Error(), "bme280 0x76") {
		t.Fatalf("Read on a silent bus = %v, want an error naming bme280 0x76", err)
	}
	for i, v := range values {
		if !math.IsNaN(float64(v)) {
			t.Errorf("values[%d] = %v after a failed read, want NaN", i, v)
		}
	}
	if err := bus.Close(); err != nil {
		t.Errorf("playback: %v", err)
	}
}

func TestNewBME280Errors(t *testing.T) {
	badAddr := DefaultBME280Opts
	badAddr.Addr = 0x48
	noName := DefaultBME280Opts
	noName.Names[2] = ""
	noTemp := DefaultBME280Opts
	noTemp.Sensor.Temperature = bmxx80.Off
	tests := []struct {
		name string
		opts BME280Opts
		ops  []i2ctest.IO
		want string
	}{
		{"address", badAddr, nil, "Addr 0x48"},
		{"name", noName, nil, "Names[2] is empty"},
		{"unknown chip", DefaultBME280Opts, []i2ctest.IO{{Addr: 0x76, W: []byte{0xD0}, R: []byte{0xFF}}}, "unexpected chip id ff"},
		{"temperature off", noTemp, []i2ctest.IO{bmeChipID}, "temperature measurement is required"},
		{"no device", DefaultBME280Opts, nil, "bme280 at 0x76 on playback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			_, err := NewBME280(bus, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewBME280 = %v, want an error containing %q", err, tt.want)
			}
			if err := bus.Close(); err != nil {
				t.Errorf("playback: %v", err)
			}
		})
	}
}

// bmxx80Allocs is what periph's bmxx80 driver allocates per Sense in
// normal mode: the register address and the read buffer passed through
// the conn.Conn interface. BME280.Read adds nothing to it.
const bmxx80Allocs = 2

func TestBME280ReadAllocs(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault, bmeMeasure}}
	dev, err := NewBME280(bus, DefaultBME280Opts)
	if err != nil {
		t.Fatal(err)
	}
	values := make([]float32, 3)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		bus.Count = 4 // replay the measurement burst again
		if err := dev.Read(ctx, values); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("BME280.Read: %v allocations per read (all in bmxx80)", allocs)
	if allocs > bmxx80Allocs {
		t.Errorf("BME280.Read allocates %v times, want at most bmxx80's %d", allocs, bmxx80Allocs)
	}
}

func BenchmarkBME280Read(b *testing.B) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault, bmeMeasure}}
	dev, err := NewBME280(bus, DefaultBME280Opts)
	if err != nil {
		b.Fatal(err)
	}
	values := make([]float32, 3)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bus.Count = 4
		if err := dev.Read(ctx, values); err != nil {
			b.Fatal(err)
		}
	}
}
