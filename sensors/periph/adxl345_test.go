package periph

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// ADXL345 register traffic at 0x53, from the datasheet's register map
// (Rev. G, table 19 and "Retrieving Data from FIFO"): DEVID, the setup
// writes, then per read FIFO_STATUS (entries in bits 5:0) and one 6-byte
// read of DATAX0..DATAZ1 per entry.
var adxlSetup400 = []i2ctest.IO{
	{Addr: 0x53, W: []byte{0x00}, R: []byte{0xE5}}, // DEVID
	{Addr: 0x53, W: []byte{0x2D, 0x00}},            // POWER_CTL: standby
	{Addr: 0x53, W: []byte{0x2C, 0x0C}},            // BW_RATE: 400 Hz
	{Addr: 0x53, W: []byte{0x31, 0x0B}},            // DATA_FORMAT: FULL_RES, ±16 g
	{Addr: 0x53, W: []byte{0x38, 0x80}},            // FIFO_CTL: stream
	{Addr: 0x53, W: []byte{0x2D, 0x08}},            // POWER_CTL: measure
}

var adxlStandby = i2ctest.IO{Addr: 0x53, W: []byte{0x2D, 0x00}}

func fifoStatus(entries byte) i2ctest.IO {
	return i2ctest.IO{Addr: 0x53, W: []byte{0x39}, R: []byte{entries}}
}

// sample is one FIFO entry: x, y, z in LSB, little-endian.
func sample(x, y, z int16) i2ctest.IO {
	return i2ctest.IO{Addr: 0x53, W: []byte{0x32}, R: []byte{byte(x), byte(uint16(x) >> 8), byte(y), byte(uint16(y) >> 8), byte(z), byte(uint16(z) >> 8)}}
}

// vibration: the sensor flat (z = 256 LSB ≈ 1 g) shaking ±100 LSB along x,
// four samples, the FIFO_STATUS trigger bit 7 set to check it is masked.
var vibration = []i2ctest.IO{fifoStatus(0x84), sample(100, 0, 256), sample(-100, 0, 256), sample(100, 0, 256), sample(-100, 0, 256)}

func TestADXL345RMS(t *testing.T) {
	const g = ADXL345G
	tests := []struct {
		name string
		opts func(o *ADXL345Opts)
		want []float32
	}{
		// Mean removed: x varies ±100 LSB about 0 → 100 LSB RMS; y, z constant.
		{"magnitude", func(o *ADXL345Opts) {}, []float32{100 * g}},
		{"axes", func(o *ADXL345Opts) { o.Output = RMSAxes }, []float32{100 * g, 0, 0}},
		// Gravity kept: sqrt(100² + 256²) LSB.
		{"magnitude with gravity", func(o *ADXL345Opts) { o.KeepGravity = true }, []float32{float32(math.Hypot(100, 256) * g)}},
		{"axes with gravity", func(o *ADXL345Opts) { o.Output = RMSAxes; o.KeepGravity = true }, []float32{100 * g, 0, 256 * g}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultADXL345Opts
			o.Drain = 0
			tt.opts(&o)
			ops := append(append(append([]i2ctest.IO(nil), adxlSetup400...), vibration...), adxlStandby)
			bus := &i2ctest.Playback{Ops: ops}
			acc, err := NewADXL345(bus, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(acc.Channels()) != len(tt.want) {
				t.Fatalf("Channels() = %q, want %d", acc.Channels(), len(tt.want))
			}
			values := make([]float32, 3)
			if err := acc.Read(context.Background(), values); err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				if math.Abs(float64(values[i]-w)) > 1e-6 {
					t.Errorf("Read: %s = %v g, want %v g", acc.Channels()[i], values[i], w)
				}
			}
			if err := acc.Close(); err != nil {
				t.Fatal(err)
			}
			if err := acc.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
			if err := bus.Close(); err != nil {
				t.Errorf("playback: %v", err)
			}
		})
	}
}

func TestADXL345Periods(t *testing.T) {
	// Period 1: the vibration (0.39 g). Period 2: the FIFO is empty → NaN
	// and an error. Period 3: a full FIFO (32 entries: an overrun) of a
	// still sensor → 0 g, and Overruns counts it.
	ops := append(append([]i2ctest.IO(nil), adxlSetup400...), vibration...)
	ops = append(ops, fifoStatus(0))
	ops = append(ops, fifoStatus(32))
	for range 32 {
		ops = append(ops, sample(3, -2, 250))
	}
	ops = append(ops, adxlStandby)
	bus := &i2ctest.Playback{Ops: ops}
	o := DefaultADXL345Opts
	o.Drain = 0
	acc, err := NewADXL345(bus, o)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 1)
	ctx := context.Background()
	if err := acc.Read(ctx, v); err != nil || math.Abs(float64(v[0])-0.39) > 1e-6 {
		t.Errorf("period 1: Read = %v, %v; want 0.39 g", v[0], err)
	}
	if err := acc.Read(ctx, v); err == nil || !strings.Contains(err.Error(), "adxl345 0x53: no samples") || !math.IsNaN(float64(v[0])) {
		t.Errorf("period 2: Read = %v, %v; want NaN and a no-samples error", v[0], err)
	}
	if err := acc.Read(ctx, v); err != nil || v[0] != 0 {
		t.Errorf("period 3: Read = %v, %v; want 0 g", v[0], err)
	}
	if n := acc.Overruns(); n != 1 {
		t.Errorf("Overruns() = %d, want 1", n)
	}
	if err := acc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := acc.Read(ctx, v); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v, want fs.ErrClosed", err)
	}
	if err := bus.Close(); err != nil {
		t.Errorf("playback: %v", err)
	}
}

func TestNewADXL345Errors(t *testing.T) {
	tests := []struct {
		name string
		opts func(o *ADXL345Opts)
		ops  []i2ctest.IO
		want string
	}{
		{"address", func(o *ADXL345Opts) { o.Addr = 0x68 }, nil, "Addr 0x68"},
		{"rate", func(o *ADXL345Opts) { o.Rate = 1600 }, nil, "Rate 1600 Hz"},
		{"output", func(o *ADXL345Opts) { o.Output = 7 }, nil, "Output 7"},
		{"names", func(o *ADXL345Opts) { o.Output = RMSAxes; o.Names = []string{"a"} }, nil, "1 Names: want 3"},
		{"drain", func(o *ADXL345Opts) { o.Drain = 100 * time.Millisecond }, nil, "Drain 100ms: want 0 (no goroutine) or less than 80ms"},
		{"absent", func(o *ADXL345Opts) {}, nil, "adxl345 0x53 on playback: reading DEVID"},
		{"wrong chip", func(o *ADXL345Opts) {}, []i2ctest.IO{{Addr: 0x53, W: []byte{0x00}, R: []byte{0x00}}}, "DEVID 0x00, want 0xe5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultADXL345Opts
			tt.opts(&o)
			_, err := NewADXL345(&i2ctest.Playback{Ops: tt.ops, DontPanic: true}, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewADXL345 = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestADXL345Drain runs the drain goroutine against a FIFO that stays
// empty, concurrently with Read, for the race detector; the count of
// drains is timing-dependent, so the playback is lenient.
func TestADXL345Drain(t *testing.T) {
	ops := append([]i2ctest.IO(nil), adxlSetup400...)
	for range 1000 {
		ops = append(ops, fifoStatus(0))
	}
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	o := DefaultADXL345Opts
	o.Drain = time.Millisecond
	acc, err := NewADXL345(bus, o)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 1)
	for range 5 {
		time.Sleep(3 * time.Millisecond)
		if err := acc.Read(context.Background(), v); err == nil || !math.IsNaN(float64(v[0])) {
			t.Errorf("Read of an empty FIFO = %v, %v; want NaN and an error", v[0], err)
		}
	}
	acc.Close() // the standby write meets a FIFO_STATUS op: error ignored
	bus.Lock()
	n := bus.Count
	bus.Unlock()
	if n <= len(adxlSetup400)+5 {
		t.Errorf("the drain goroutine made %d transactions, want more than Read's 5", n-len(adxlSetup400))
	}
}

func TestADXL345ReadAllocs(t *testing.T) {
	ops := append(append([]i2ctest.IO(nil), adxlSetup400...), vibration...)
	bus := &i2ctest.Playback{Ops: ops}
	o := DefaultADXL345Opts
	o.Drain = 0
	acc, err := NewADXL345(bus, o)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 1)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		bus.Count = len(adxlSetup400)
		if err := acc.Read(ctx, v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ADXL345.Read allocates %v times, want 0", allocs)
	}
}

func BenchmarkADXL345Read(b *testing.B) {
	ops := append(append([]i2ctest.IO(nil), adxlSetup400...), vibration...)
	bus := &i2ctest.Playback{Ops: ops}
	o := DefaultADXL345Opts
	o.Drain = 0
	acc, err := NewADXL345(bus, o)
	if err != nil {
		b.Fatal(err)
	}
	v := make([]float32, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bus.Count = len(adxlSetup400)
		if err := acc.Read(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}
