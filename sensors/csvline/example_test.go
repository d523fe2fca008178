package csvline_test

import (
	"fmt"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
)

// A reader meets a header, builds a Layout for the channels it wants, and
// parses data lines into one reused Sample; a writer produces the same
// layout.
func Example() {
	header := []byte("datetime;Accelerometer1RMS;Current;Pressure;anomaly\r\n")
	cols, err := csvline.ParseHeader(header, csvline.Opts{})
	if err != nil {
		panic(err)
	}
	layout, err := csvline.NewLayout(cols, []string{"Pressure", "Current"}, csvline.Opts{})
	if err != nil {
		panic(err)
	}
	s := sensors.Sample{Values: make([]float32, len(layout.Channels()))}
	for _, line := range []string{
		"2020-03-09 10:14:33;0.0265878;1.3302;0.054711;0.0\r\n",
		"2020-03-09 10:14:34;0.0266;1,33;0.05;0.0\r\n", // decimal comma
		"2020-03-09 10:14:34.5;0.0266;1.33;;0.0\r\n",   // missing pressure
	} {
		if err := layout.Parse([]byte(line), &s); err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(s.Time.Format(time.StampMilli), s.Values)
	}

	out := csvline.AppendHeader(nil, layout.Channels(), ',')
	out = csvline.AppendLine(out, s.Time, s.Values, ',')
	fmt.Print(string(out))
	// Output:
	// Mar  9 10:14:33.000 [0.054711 1.3302]
	// error: csvline: field 3 (Current): want a number or an empty field, got "1,33"
	// Mar  9 10:14:34.500 [NaN 1.33]
	// datetime,Pressure,Current
	// 2020-03-09 10:14:34.500,,1.33
}
