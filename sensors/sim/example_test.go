package sim_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
	"github.com/vigil-edge/vigil/sensors/sim"
)

// Generate a labelled SKAB-layout recording at full speed: one sample per
// second, a valve closing 3 s in for 4 s.
func Example() {
	fault, err := sim.ParseFault("valve-closed@3s+4s")
	if err != nil {
		fmt.Println(err)
		return
	}
	pump, err := sim.New(sim.Opts{Seed: 1, Rate: 1, Faults: []sim.Fault{fault}})
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := sim.NewSource(pump, sim.SourceOpts{For: 9 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for src.Read(context.Background(), &s) != io.EOF {
		kind, active := pump.Active()
		line := csvline.AppendTime(nil, s.Time)
		fmt.Printf("%s flow %5.1f L/min pressure %5.2f bar %v %v\n", line, s.Values[7], s.Values[3], active, kind)
	}
	// Output:
	// 2020-01-01 00:00:00.000 flow 124.2 L/min pressure  0.40 bar false none
	// 2020-01-01 00:00:01.000 flow 125.9 L/min pressure  0.21 bar false none
	// 2020-01-01 00:00:02.000 flow 124.8 L/min pressure  0.08 bar false none
	// 2020-01-01 00:00:03.000 flow 125.8 L/min pressure -0.15 bar true valve-closed
	// 2020-01-01 00:00:04.000 flow  90.2 L/min pressure  1.09 bar true valve-closed
	// 2020-01-01 00:00:05.000 flow  90.8 L/min pressure  0.97 bar true valve-closed
	// 2020-01-01 00:00:06.000 flow  89.2 L/min pressure  0.97 bar true valve-closed
	// 2020-01-01 00:00:07.000 flow 124.2 L/min pressure  0.34 bar false none
	// 2020-01-01 00:00:08.000 flow 124.1 L/min pressure -0.23 bar false none
}
