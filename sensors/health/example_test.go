package health_test

import (
	"fmt"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/health"
)

// A pressure transmitter on a 0–16 bar range that is broken (reads below
// range) or frozen (the same value for ten minutes) is a sensor fault.
func ExampleChecker() {
	c, err := health.New([]string{"Pressure", "Current"}, map[string]health.Limits{
		"Pressure": {Min: 0, Max: 16, Stuck: 10 * time.Minute},
	})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []sensors.Sample{
		{Time: t0, Values: []float32{4.2, 2.5}},
		{Time: t0.Add(time.Minute), Values: []float32{-1, 2.5}},
		{Time: t0.Add(20 * time.Minute), Values: []float32{4.2, 2.4}},
		{Time: t0.Add(30 * time.Minute), Values: []float32{4.2, 2.6}},
	} {
		if c.Check(&s) > 0 {
			fmt.Println(c.Describe(c.Faults()))
		} else {
			fmt.Println("ok")
		}
	}
	// Output:
	// ok
	// Pressure below range (-1 < 0)
	// ok
	// Pressure stuck at 4.2 for 10m0s
}
