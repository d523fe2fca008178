package periph_test

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/ads1x15"

	"github.com/vigil-edge/vigil/sensors/periph"
)

// A pump's pressure transmitter (0–10 bar, 4–20 mA across a 150 Ω shunt)
// on an ADS1115's AIN0. On the gateway the bus comes from
// periph.OpenI2C("1"); here it replays the chip's register traffic: one
// healthy conversion (12 mA) and one of a broken loop (0.2 mA).
func Example() {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x48, W: []byte{0x01, 0xC3, 0xE3}, R: []byte{}}, // start AIN0, ±4.096 V, 860 SPS
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x38, 0x40}},   // 14400 → 1.8 V
		{Addr: 0x48, W: []byte{0x01, 0xC3, 0xE3}, R: []byte{}}, //
		{Addr: 0x48, W: []byte{0x00}, R: []byte{0x01, 0x00}},   // 256 → 32 mV
	}}
	o := periph.DefaultADS1115Opts
	o.DataRate = 860
	o.Channels = []periph.ADCChannel{{
		Name:    "Pressure",
		Input:   ads1x15.Channel0,
		Scaling: periph.Scaling{Transmitter: periph.Loop4to20mA, Shunt: 150, Lo: 0, Hi: 10},
	}}
	adc, err := periph.NewADS1115(bus, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	values := make([]float32, len(adc.Channels()))
	for range 2 {
		err := adc.Read(context.Background(), values)
		fmt.Println(adc.Channels()[0], values[0], err)
	}
	// Output:
	// Pressure 5 <nil>
	// Pressure NaN periph: ads1115 0x48: channel "Pressure" (AIN0): 0.21 mA: loop current below 3.6 mA (NAMUR NE43: broken loop or transmitter failure)
}
