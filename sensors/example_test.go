package sensors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// The loop every consumer of a Source runs: one Sample allocated up front
// and reused, NaN for missing values, io.EOF at the end.
func Example() {
	pump, err := sim.New(sim.Opts{Seed: 1, Rate: 1, Faults: []sim.Fault{
		{Kind: sim.SensorDropout, Channel: 3, Start: time.Second, Duration: time.Second},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var src sensors.Source
	src, err = sim.NewSource(pump, sim.SourceOpts{For: 3 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()

	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for {
		err := src.Read(context.Background(), &s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %s=%.2f\n", s.Time.Format(time.TimeOnly), src.Channels()[3], s.Values[3])
	}
	// Output:
	// 00:00:00 Pressure=0.40
	// 00:00:01 Pressure=NaN
	// 00:00:02 Pressure=0.08
}

// A driver for a request/response device states only how to read once;
// Poll reads it on a schedule as a Source.
func ExampleNewPoll() {
	reads := 0
	src, err := sensors.NewPoll(func(_ context.Context, v []float32) error {
		reads++
		v[0] = 20 + float32(reads)/10 // a temperature register, say
		return nil
	}, sensors.PollOpts{Name: "i2c bme280@0x76", Channels: []string{"Temperature"}, Interval: time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	s := sensors.Sample{Values: make([]float32, 1)}
	for range 3 {
		src.Read(context.Background(), &s)
		fmt.Println(src, s.Values[0])
	}
	// Output:
	// i2c bme280@0x76 20.1
	// i2c bme280@0x76 20.2
	// i2c bme280@0x76 20.3
}
