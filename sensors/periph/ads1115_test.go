package periph

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ads1x15"
)

// ADS1115 register traffic, from the datasheet's register map (section
// 8.6) in the form periph's own ads1x15 tests record it: a write of the
// config register (pointer 0x01) starting a single-shot conversion, then a
// read of the conversion register (pointer 0x00), big-endian int16.
//
// Config word: OS 1 (start) | MUX (100 AIN0, 101 AIN1, 011 AIN2−AIN3) |
// PGA (001 ±4.096 V, 101 ±0.256 V) | MODE 1 (single shot) | DR (100 128
// SPS, 111 860 SPS) | COMP_QUE 11 (comparator off).
func adsConfig(word uint16) i2ctest.IO {
	return i2ctest.IO{Addr: 0x48, W: []byte{0x01, byte(word >> 8), byte(word)}, R: []byte{}}
}

func adsResult(raw uint16) i2ctest.IO {
	return i2ctest.IO{Addr: 0x48, W: []byte{0x00}, R: []byte{byte(raw >> 8), byte(raw)}}
}

// pumpADC: a pressure transmitter (0..10 bar, 4–20 mA across 150 Ω), a
// flow transmitter (0..200 L/min, 0–10 V through a ÷3.2 divider) and a
// shunt-current measurement across AIN2−AIN3 in volts.
func pumpADC(rate int) ADS1115Opts {
	o := DefaultADS1115Opts
	o.DataRate = rate
	o.Channels = []ADCChannel{
		{Name: "Pressure", Input: ads1x15.Channel0, Scaling: Scaling{Transmitter: Loop4to20mA, Shunt: 150, Lo: 0, Hi: 10}},
		{Name: "Flow", Input: ads1x15.Channel1, Scaling: Scaling{Transmitter: Volt0to10, Divider: 3.2, Lo: 0, Hi: 200}},
		{Name: "Shunt", Input: ads1x15.Channel2Minus3, FullScale: 256 * physic.MilliVolt},
	}
	return o
}

func TestADS1115(t *testing.T) {
	tests := []struct {
		name    string
		results [3]uint16 // conversion registers of Pressure, Flow, Shunt
		want    [3]float64
		errs    []string // substrings of the error, "" for none
		is      []error
	}{
		{"healthy",
			// 14400 × 4.096/32768 = 1.8 V = 12 mA → 5 bar; 8192 → 1.024 V × 3.2 = 3.2768 V → 65.536 L/min;
			// −4096 × 0.256/32768 = −32 mV.
			[3]uint16{14400, 8192, 0xF000}, [3]float64{5, 65.536, -0.032}, nil, nil},
		{"broken pressure loop",
			// 256 → 32 mV → 0.21 mA: NE43 broken loop.
			[3]uint16{256, 8192, 0xF000}, [3]float64{math.NaN(), 65.536, -0.032},
			[]string{`ads1115 0x48: channel "Pressure" (AIN0): 0.21 mA`}, []error{ErrLoopBroken}},
		{"shorted loop, flow over range, shunt clipped",
			// 26000 → 3.25 V → 21.67 mA; 27000 → 3.375 V × 3.2 = 10.8 V; 0x7FFF: clipped.
			[3]uint16{26000, 27000, 0x7FFF}, [3]float64{math.NaN(), math.NaN(), math.NaN()},
			[]string{`"Pressure" (AIN0): 21.67 mA`, `"Flow" (AIN1): 10.80 V at the transmitter`, `"Shunt" (AIN2-3)`},
			[]error{ErrLoopHigh, ErrOutOfRange, ErrClipped}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: []i2ctest.IO{
				adsConfig(0xC383), adsResult(tt.results[0]),
				adsConfig(0xD383), adsResult(tt.results[1]),
				adsConfig(0xBB83), adsResult(tt.results[2]),
			}}
			adc, err := NewADS1115(bus, pumpADC(128))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(adc.Channels(), ","); got != "Pressure,Flow,Shunt" {
				t.Errorf("Channels() = %s", got)
			}
			values := make([]float32, 3)
			err = adc.Read(context.Background(), values)
			for i, w := range tt.want {
				if math.IsNaN(w) != math.IsNaN(float64(values[i])) || math.Abs(float64(values[i])-w) > 1e-5*math.Max(1, math.Abs(w)) {
					t.Errorf("Read: %s = %v, want %v", adc.Channels()[i], values[i], w)
				}
			}
			if len(tt.errs) == 0 && err != nil {
				t.Errorf("Read error = %v, want nil", err)
			}
			for _, s := range tt.errs {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("Read error = %v, want it to contain %q", err, s)
				}
			}
			for _, e := range tt.is {
				if !errors.Is(err, e) {
					t.Errorf("Read error = %v, want it to match %v", err, e)
				}
			}
			if err := bus.Close(); err != nil {
				t.Errorf("playback: %v", err)
			}
		})
	}
}

func TestADS1115Absent(t *testing.T) {
	// Nothing answers at 0x48: every value NaN, each channel named.
	bus := &i2ctest.Playback{DontPanic: true}
	adc, err := NewADS1115(bus, pumpADC(860))
	if err != nil {
		t.Fatal(err)
	}
	values := []float32{1, 2, 3}
	err = adc.Read(context.Background(), values)
	for i, v := range values {
		if !math.IsNaN(float64(v)) {
			t.Errorf("values[%d] = %v, want NaN", i, v)
		}
	}
	for _, s := range []string{`"Pressure"`, `"Flow"`, `"Shunt"`} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Read error = %v, want it to name %s", err, s)
		}
	}
}

func TestNewADS1115Errors(t *testing.T) {
	with := func(f func(o *ADS1115Opts)) ADS1115Opts {
		o := pumpADC(128)
		o.Channels = append([]ADCChannel(nil), o.Channels...)
		f(&o)
		return o
	}
	tests := []struct {
		name string
		opts ADS1115Opts
		want string
	}{
		{"address", with(func(o *ADS1115Opts) { o.Addr = 0x76 }), "Addr 0x76"},
		{"rate", with(func(o *ADS1115Opts) { o.DataRate = 100 }), "DataRate 100"},
		{"supply", with(func(o *ADS1115Opts) { o.Supply = 0 }), "Supply 0 V"},
		{"no channels", with(func(o *ADS1115Opts) { o.Channels = nil }), "0 Channels"},
		{"duplicate", with(func(o *ADS1115Opts) { o.Channels[1].Name = "Pressure" }), `Channels[1] "Pressure": want a unique`},
		{"input", with(func(o *ADS1115Opts) { o.Channels[0].Input = 9 }), `Channels[0] "Pressure": Input 9`},
		{"shunt", with(func(o *ADS1115Opts) { o.Channels[0].Shunt = 0 }), `Channels[0] "Pressure": Shunt 0 Ω`},
		// The brief's 250 Ω shunt gives 5.25 V at 21 mA: too much for a 3.3 V chip.
		{"250 Ω on 3.3 V", with(func(o *ADS1115Opts) { o.Channels[0].Shunt = 250 }), "5.25 V at the fault limit, above the ADS1115's absolute maximum of 3.6 V (supply + 0.3 V): use a smaller shunt (≤ 171 Ω)"},
		{"divider", with(func(o *ADS1115Opts) { o.Channels[1].Divider = 2 }), `Channels[1] "Flow": the input reaches 5.25 V`},
		{"full scale", with(func(o *ADS1115Opts) { o.Channels[2].FullScale = physic.Volt }), "FullScale 1V: want 6.144"},
		{"clipping range", with(func(o *ADS1115Opts) { o.Channels[0].FullScale = 2048 * physic.MilliVolt }), "clips below the fault limit (3.150 V)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewADS1115(&i2ctest.Playback{}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewADS1115 = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// On a 5 V supply the 250 Ω loop (1–5 V) fits the ±6.144 V range.
	o := with(func(o *ADS1115Opts) { o.Supply = 5; o.Channels[0].Shunt = 250 })
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{adsConfig(0xC183), adsResult(16000)}} // PGA 000: ±6.144 V
	o.Channels = o.Channels[:1]
	adc, err := NewADS1115(bus, o)
	if err != nil {
		t.Fatal(err)
	}
	values := make([]float32, 1)
	// 16000 × 6.144/32768 = 3.0 V = 12 mA → 5 bar.
	if err := adc.Read(context.Background(), values); err != nil || math.Abs(float64(values[0])-5) > 1e-5 {
		t.Errorf("Read with 250 Ω on 5 V = %v, %v; want 5 bar", values, err)
	}
	if err := bus.Close(); err != nil {
		t.Errorf("playback: %v", err)
	}
}

// ads1x15Allocs is what periph's ads1x15 driver allocates per conversion:
// the pointer byte and the 2-byte result buffer passed through the
// i2c.Bus interface. ADS1115.Read adds nothing on success.
const ads1x15Allocs = 2

func adsLoop(t testing.TB) (*i2ctest.Playback, *ADS1115) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		adsConfig(0xC3E3), adsResult(14400),
		adsConfig(0xD3E3), adsResult(8192),
		adsConfig(0xBBE3), adsResult(0xF000),
	}}
	adc, err := NewADS1115(bus, pumpADC(860))
	if err != nil {
		t.Fatal(err)
	}
	return bus, adc
}

func TestADS1115ReadAllocs(t *testing.T) {
	bus, adc := adsLoop(t)
	values := make([]float32, 3)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(20, func() {
		bus.Count = 0
		if err := adc.Read(ctx, values); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("ADS1115.Read of 3 channels: %v allocations (all in ads1x15)", allocs)
	if allocs > 3*ads1x15Allocs {
		t.Errorf("ADS1115.Read allocates %v times for 3 channels, want at most ads1x15's %d", allocs, 3*ads1x15Allocs)
	}
}

// BenchmarkADS1115Read reads 3 channels at 860 SPS: the time is almost all
// the driver's 1/860 s wait per conversion.
func BenchmarkADS1115Read(b *testing.B) {
	bus, adc := adsLoop(b)
	values := make([]float32, 3)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bus.Count = 0
		if err := adc.Read(ctx, values); err != nil {
			b.Fatal(err)
		}
	}
}
