package replay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/replay"
)

// A recording replayed at sixty times its speed, as an agent's source
// while commissioning.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "replay")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pump.csv")
	os.WriteFile(path, []byte("datetime;Pressure\n2024-01-01 00:00:00;1.02\n2024-01-01 00:00:01;1.05\n"), 0o600)

	o := replay.DefaultOpts(path, []string{"Pressure"})
	o.Speed = 60
	src, err := replay.Open(o)
	if err != nil {
		panic(err)
	}
	defer src.Close()
	s := sensors.Sample{Values: make([]float32, 1)}
	for src.Read(context.Background(), &s) == nil {
		fmt.Println(s.Time.Format("15:04:05"), s.Values[0])
	}
	// Output:
	// 00:00:00 1.02
	// 00:00:01 1.05
}
