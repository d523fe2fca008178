package periph

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/ads1x15"
)

// A BME280 and an ADS1115 on one bus, read as one group: the recorded
// traffic of both, in the order the group reads them.
func TestGroup(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault,
		bmeMeasure, adsConfig(0xC3E3), adsResult(14400), // 12 mA: 5 bar
		bmeMeasure, adsConfig(0xC3E3), adsResult(256), // 0.21 mA: broken loop
		bmeSleep,
	}}
	bo := DefaultBME280Opts
	bo.Names = [3]string{"Temperature", "AmbientPressure", "Humidity"}
	bme, err := NewBME280(bus, bo)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultADS1115Opts
	o.DataRate = 860
	o.Channels = []ADCChannel{{Name: "Pressure", Input: ads1x15.Channel0, Scaling: Scaling{Transmitter: Loop4to20mA, Shunt: 150, Lo: 0, Hi: 10}}}
	adc, err := NewADS1115(bus, o)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup([]Device{bme, adc}, bus)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(g.Channels(), ","), "Temperature,AmbientPressure,Humidity,Pressure"; got != want {
		t.Fatalf("channels %q, want %q", got, want)
	}
	if got, want := g.String(), "bme280 0x76, ads1115 0x48"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	values := make([]float32, len(g.Channels()))
	if err := g.Read(context.Background(), values); err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(values[0])-23.72) > 0.01 || math.Abs(float64(values[3])-5) > 0.01 {
		t.Errorf("first read %v, want 23.72 °C … and 5 bar", values)
	}
	err = g.Read(context.Background(), values)
	if !errors.Is(err, ErrLoopBroken) || !strings.Contains(err.Error(), `"Pressure"`) {
		t.Errorf("second read error %v, want the broken loop of Pressure", err)
	}
	if math.IsNaN(float64(values[0])) || !math.IsNaN(float64(values[3])) {
		t.Errorf("second read %v: want the BME280's values and NaN for the broken loop only", values)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewGroupErrors(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{bmeChipID, bmeCalib1, bmeCalib2, bmeConfigDefault}, DontPanic: true}
	bme, err := NewBME280(bus, DefaultBME280Opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		devs []Device
		want string
	}{
		{"none", nil, "at least one device"},
		{"twice", []Device{bme, bme}, `channel "Temperature" is given by both bme280 0x76 and bme280 0x76`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewGroup(tt.devs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewGroup: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	if ch, err := ParseInput("AIN2"); err != nil || ch != ads1x15.Channel2 {
		t.Errorf("ParseInput(AIN2) = %v, %v", ch, err)
	}
	if ch, err := ParseInput("0-3"); err != nil || ch != ads1x15.Channel0Minus3 {
		t.Errorf("ParseInput(0-3) = %v, %v", ch, err)
	}
	if tr, err := ParseTransmitter("4-20mA"); err != nil || tr != Loop4to20mA {
		t.Errorf("ParseTransmitter(4-20mA) = %v, %v", tr, err)
	}
	for _, bad := range []func() error{
		func() error { _, err := ParseInput("4"); return err },
		func() error { _, err := ParseTransmitter("4-20"); return err },
		func() error { _, err := ParsePull("sideways"); return err },
		func() error { _, err := ParseEdge("up"); return err },
	} {
		if err := bad(); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("bad input: error %v, want one listing the accepted forms", err)
		}
	}
}
