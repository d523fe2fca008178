package modbus_test

import (
	"context"
	"fmt"

	"github.com/vigil-edge/vigil/sensors/modbus"
)

// replay answers one recorded request with its recorded response, as a
// slave on the line did (the register map of a pump's drive).
type replay map[string][]byte

func (r replay) RoundTrip(_ context.Context, slave uint8, req, buf []byte) ([]byte, error) {
	return buf[:copy(buf, r[fmt.Sprintf("%d % x", slave, req)])], nil
}

func Example() {
	bus := replay{
		// slave 1, holding 0..3: int16 -123 (0.1 °C), float32 12.5 m³/h, uint16 1480 rpm
		"1 03 00 00 00 04": {0x03, 0x08, 0xFF, 0x85, 0x41, 0x48, 0x00, 0x00, 0x05, 0xC8},
	}
	p, err := modbus.NewPoller(bus, []modbus.Register{
		{Name: "temperature", Slave: 1, Address: 0, Type: modbus.Int16, Scale: 0.1},
		{Name: "flow", Slave: 1, Address: 1, Type: modbus.Float32},
		{Name: "speed", Slave: 1, Address: 3},
	}, modbus.DefaultPollerOpts)
	if err != nil {
		fmt.Println(err)
		return
	}
	values := make([]float32, 3)
	err = p.Poll(context.Background(), values)
	fmt.Println(p.Requests(), "request:", values, err)
	// Output: 1 request: [-12.3 12.5 1480] <nil>
}
