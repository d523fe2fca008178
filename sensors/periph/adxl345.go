package periph

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// ADXL345 registers and values used here (Analog Devices ADXL345
// datasheet, Rev. G, table 19). periph.io/x/devices/v3/adxl345 is not used:
// it sets the SPI read bit (0x80) on I²C register addresses and reads the
// six data registers one byte at a time, which tears samples.
const (
	adxlDevID      = 0x00 // DEVID, reads 0xE5
	adxlBWRate     = 0x2C // BW_RATE: rate code in bits 3:0
	adxlPowerCtl   = 0x2D // POWER_CTL: bit 3 Measure
	adxlDataFormat = 0x31 // DATA_FORMAT: bit 3 FULL_RES, bits 1:0 range
	adxlDataX0     = 0x32 // DATAX0..DATAZ1: little-endian int16 x, y, z
	adxlFIFOCtl    = 0x38 // FIFO_CTL: bits 7:6 mode (10 stream)
	adxlFIFOStatus = 0x39 // FIFO_STATUS: bits 5:0 entries

	adxlID         = 0xE5
	adxlMeasure    = 0x08
	adxlFullRes16g = 0x0B // FULL_RES | ±16 g
	adxlStream     = 0x80
	adxlFIFODepth  = 32
)

// ADXL345G is the full-resolution scale factor: 3.9 mg per LSB (datasheet
// typical; 256 LSB/g nominal).
const ADXL345G = 0.0039

// AccelOutput selects what ADXL345.Read reports for each poll period.
type AccelOutput uint8

const (
	// RMSMagnitude is one value, the RMS length of the acceleration
	// vector over the period: sqrt(ms_x + ms_y + ms_z), where ms is each
	// axis' mean square (about its mean unless KeepGravity). With the
	// mean removed it is the vibration level independent of mounting
	// orientation — SKAB's Accelerometer1RMS kind of channel.
	RMSMagnitude AccelOutput = iota
	// RMSAxes is three values, sqrt(ms_x), sqrt(ms_y), sqrt(ms_z).
	RMSAxes
)

// ADXL345Opts configure NewADXL345.
type ADXL345Opts struct {
	// Addr is the I²C address: 0x53 (ALT ADDRESS low) or 0x1D (high).
	Addr uint16
	// Rate is the output data rate in Hz: 100, 200, 400 or 800. Each
	// sample is one 6-byte I²C read (about 0.9 ms on a 100 kHz bus), so
	// 800 Hz needs the bus at 400 kHz (dtparam=i2c_arm_baudrate=400000).
	Rate int
	// Output selects one magnitude value or three per-axis values.
	Output AccelOutput
	// KeepGravity reports the RMS of the raw acceleration, gravity and
	// static tilt included; by default each axis' mean over the period is
	// removed first, leaving the vibration.
	KeepGravity bool
	// Names name the values: one for RMSMagnitude, three for RMSAxes.
	// Nil gives "AccelerationRMS" or "AccelerationRMS_X", "_Y", "_Z".
	Names []string
	// Drain is how often a background goroutine empties the chip's
	// 32-sample FIFO; it must be shorter than 32/Rate (80 ms at 400 Hz).
	// Zero starts no goroutine: only Read empties the FIFO, which then
	// holds the last 32 samples at most, so Read must come at least every
	// 32/Rate or the RMS covers only the last 32 samples of the period.
	Drain time.Duration
}

// DefaultADXL345Opts: address 0x53, 400 Hz (band 200 Hz, covering the
// running-speed harmonics of a 1500–3000 rpm pump), vibration RMS
// magnitude, the FIFO drained every 20 ms (a quarter of its 80 ms).
var DefaultADXL345Opts = ADXL345Opts{Addr: 0x53, Rate: 400, Output: RMSMagnitude, Drain: 20 * time.Millisecond}

// ADXL345 samples an Analog Devices ADXL345 accelerometer at its own
// output data rate (±16 g, full resolution) through its FIFO, and reports
// the RMS acceleration in g over each poll period: every sample the chip
// took between the previous Read and this one.
//
// Read and Close are safe to call from any goroutine.
type ADXL345 struct {
	bus      i2c.Bus
	addr     uint16
	name     string
	o        ADXL345Opts
	channels []string

	mu       sync.Mutex // guards what follows and the bus transactions
	w        [2]byte
	r        [6]byte
	n        int64    // samples in the current period
	sum      [3]int64 // Σ x, Σ y, Σ z in LSB
	sumSq    [3]int64 // Σ x², Σ y², Σ z² in LSB²
	overruns uint64
	err      error // first drain error since the last Read
	closed   bool

	done chan struct{}
	wg   sync.WaitGroup
}

// NewADXL345 checks o, verifies the chip's DEVID (0xE5), configures it
// (standby, BW_RATE, DATA_FORMAT full resolution ±16 g, FIFO stream mode,
// measure) and, when o.Drain > 0, starts the goroutine that empties the
// FIFO. Close stops it.
func NewADXL345(bus i2c.Bus, o ADXL345Opts) (*ADXL345, error) {
	if o.Addr != 0x53 && o.Addr != 0x1D {
		return nil, fmt.Errorf("periph: adxl345: Addr %#x: want 0x53 or 0x1D", o.Addr)
	}
	a := &ADXL345{bus: bus, addr: o.Addr, name: fmt.Sprintf("adxl345 %#x", o.Addr), o: o, done: make(chan struct{})}
	var code byte
	switch o.Rate {
	case 100:
		code = 0x0A
	case 200:
		code = 0x0B
	case 400:
		code = 0x0C
	case 800:
		code = 0x0D
	default:
		return nil, fmt.Errorf("periph: %s: Rate %d Hz: want 100, 200, 400 or 800", a.name, o.Rate)
	}
	want := 1
	switch o.Output {
	case RMSMagnitude:
		a.channels = []string{"AccelerationRMS"}
	case RMSAxes:
		want = 3
		a.channels = []string{"AccelerationRMS_X", "AccelerationRMS_Y", "AccelerationRMS_Z"}
	default:
		return nil, fmt.Errorf("periph: %s: Output %d: want RMSMagnitude or RMSAxes", a.name, o.Output)
	}
	if o.Names != nil {
		if len(o.Names) != want {
			return nil, fmt.Errorf("periph: %s: %d Names: want %d for this Output", a.name, len(o.Names), want)
		}
		for i, n := range o.Names {
			if n == "" {
				return nil, fmt.Errorf("periph: %s: Names[%d] is empty", a.name, i)
			}
		}
		a.channels = append([]string(nil), o.Names...)
	}
	if fill := time.Duration(adxlFIFODepth) * time.Second / time.Duration(o.Rate); o.Drain < 0 || o.Drain >= fill {
		return nil, fmt.Errorf("periph: %s: Drain %v: want 0 (no goroutine) or less than %v, the time the FIFO takes to fill at %d Hz", a.name, o.Drain, fill, o.Rate)
	}
	var id [1]byte
	if err := bus.Tx(o.Addr, []byte{adxlDevID}, id[:]); err != nil {
		return nil, fmt.Errorf("periph: %s on %s: reading DEVID: %w", a.name, bus, err)
	}
	if id[0] != adxlID {
		return nil, fmt.Errorf("periph: %s on %s: DEVID %#02x, want 0xe5: not an ADXL345", a.name, bus, id[0])
	}
	for _, rv := range [][2]byte{
		{adxlPowerCtl, 0}, // standby while configuring
		{adxlBWRate, code},
		{adxlDataFormat, adxlFullRes16g},
		{adxlFIFOCtl, adxlStream},
		{adxlPowerCtl, adxlMeasure},
	} {
		if err := bus.Tx(o.Addr, rv[:], nil); err != nil {
			return nil, fmt.Errorf("periph: %s: writing register %#02x: %w", a.name, rv[0], err)
		}
	}
	if o.Drain > 0 {
		a.wg.Add(1)
		go a.drainLoop()
	}
	return a, nil
}

// String names the chip and its address, e.g. "adxl345 0x53".
func (a *ADXL345) String() string { return a.name }

// Channels names the values Read writes. The slice belongs to a; do not
// modify it.
func (a *ADXL345) Channels() []string { return a.channels }

// Overruns counts the times the FIFO was found full, since each may have
// lost samples (Drain too slow for Rate, or a bus too busy).
func (a *ADXL345) Overruns() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.overruns
}

func (a *ADXL345) drainLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.o.Drain)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
		}
		a.mu.Lock()
		if err := a.drain(); err != nil && a.err == nil {
			a.err = err
		}
		a.mu.Unlock()
	}
}

// drain reads every sample the FIFO holds into the period's sums. a.mu
// must be held.
func (a *ADXL345) drain() error {
	a.w[0] = adxlFIFOStatus
	if err := a.bus.Tx(a.addr, a.w[:1], a.r[:1]); err != nil {
		return fmt.Errorf("periph: %s: reading FIFO_STATUS: %w", a.name, err)
	}
	entries := int(a.r[0] & 0x3F)
	if entries >= adxlFIFODepth {
		a.overruns++
	}
	a.w[0] = adxlDataX0
	for range entries {
		if err := a.bus.Tx(a.addr, a.w[:1], a.r[:6]); err != nil {
			return fmt.Errorf("periph: %s: reading DATAX0..DATAZ1: %w", a.name, err)
		}
		for i := range 3 {
			v := int64(int16(uint16(a.r[2*i]) | uint16(a.r[2*i+1])<<8))
			a.sum[i] += v
			a.sumSq[i] += v * v
		}
		a.n++
	}
	return nil
}

// Read empties the FIFO and writes the RMS acceleration in g over every
// sample taken since the previous Read (or since NewADXL345) into
// values[:len(Channels())], then starts a new period. With no samples in
// the period, or after a bus error, the values are NaN and the error
// names the chip. A bus error during the period is returned too, beside
// the RMS of the samples that were read. It does not allocate unless it
// fails.
func (a *ADXL345) Read(ctx context.Context, values []float32) error {
	n := len(a.channels)
	if len(values) < n {
		return fmt.Errorf("periph: %s: Read into %d values, want %d", a.name, len(values), n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return fmt.Errorf("periph: %s: %w", a.name, fs.ErrClosed)
	}
	err := a.drain()
	if err == nil {
		err = a.err
	}
	a.err = nil
	count, sum, sumSq := a.n, a.sum, a.sumSq
	a.n, a.sum, a.sumSq = 0, [3]int64{}, [3]int64{}
	if count == 0 {
		for i := range values[:n] {
			values[i] = float32(nan64)
		}
		if err == nil {
			err = fmt.Errorf("periph: %s: no samples since the last read", a.name)
		}
		return err
	}
	var ms [3]float64 // mean squares in g²
	for i := range 3 {
		m := float64(sumSq[i]) / float64(count)
		if !a.o.KeepGravity {
			mean := float64(sum[i]) / float64(count)
			m = max(m-mean*mean, 0)
		}
		ms[i] = m * ADXL345G * ADXL345G
	}
	if a.o.Output == RMSAxes {
		for i := range 3 {
			values[i] = float32(math.Sqrt(ms[i]))
		}
	} else {
		values[0] = float32(math.Sqrt(ms[0] + ms[1] + ms[2]))
	}
	// Samples drained before a bus error still give a valid RMS: report
	// both (sensors.Poll logs the error and keeps the values).
	return err
}

// Close stops the drain goroutine and puts the chip in standby
// (POWER_CTL 0). The bus stays open: the caller owns it. It is safe to
// call more than once; later calls return nil.
func (a *ADXL345) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.done)
	a.mu.Unlock()
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.w = [2]byte{adxlPowerCtl, 0}
	if err := a.bus.Tx(a.addr, a.w[:], nil); err != nil {
		return fmt.Errorf("periph: %s: standby: %w", a.name, err)
	}
	return nil
}
