package merge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/merge"
)

// Pressure from one device and vibration from another, scored as one
// machine: one sample per tick with the newest value of each.
func ExampleNew() {
	pressure, _ := sensors.NewPoll(func(_ context.Context, v []float32) error { v[0] = 1.02; return nil },
		sensors.PollOpts{Name: "modbus slave 1", Channels: []string{"Pressure"}, Interval: 5 * time.Millisecond})
	vibration, _ := sensors.NewPoll(func(_ context.Context, v []float32) error { v[0] = 0.21; return nil },
		sensors.PollOpts{Name: "i2c adxl345", Channels: []string{"Accelerometer1RMS"}, Interval: 5 * time.Millisecond})
	m, err := merge.New([]sensors.Source{pressure, vibration}, merge.Opts{Interval: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	s := sensors.Sample{Values: make([]float32, 2)}
	m.Read(context.Background(), &s)
	m.Read(context.Background(), &s) // by now both have answered
	fmt.Println(m.Channels(), s.Values)
	// Output: [Pressure Accelerometer1RMS] [1.02 0.21]
}
