package replay

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

const recording = `datetime;Pressure;Current
2024-01-01 00:00:00;1;10
2024-01-01 00:00:01;2;20
2024-01-01 00:00:03;3;30
`

func write(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "rec.csv")
	if err := os.WriteFile(p, []byte(recording), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// manualClock advances only when told; Read's waits use real timers, so
// the tests pace at high speed and check the schedule through the clock.
type manualClock struct{ t time.Time }

func (c *manualClock) now() time.Time { return c.t }

func TestPlayOnceAndLoop(t *testing.T) {
	for _, loop := range []bool{false, true} {
		src, err := Open(Opts{Path: write(t), Channels: []string{"Current", "Pressure"}, Fast: true, Loop: loop})
		if err != nil {
			t.Fatal(err)
		}
		s := sensors.Sample{Values: make([]float32, 2)}
		var times []string
		var values []float32
		for range 6 {
			if err := src.Read(context.Background(), &s); err != nil {
				if !loop && errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("loop %v: %v", loop, err)
			}
			times = append(times, s.Time.Format("15:04:05"))
			values = append(values, s.Values[0])
		}
		want := "00:00:00 00:00:01 00:00:03"
		if loop {
			// The second pass follows the first one step (2 s) later.
			want += " 00:00:05 00:00:06 00:00:08"
		}
		if got := join(times); got != want || values[0] != 10 || values[2] != 30 {
			t.Errorf("loop %v: times %s values %v, want %s", loop, got, values, want)
		}
		src.Close()
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// At speed 1000 the 3 s recording plays in about 3 ms; a Read that is
// due later waits (and Close or the context ends the wait).
func TestPacing(t *testing.T) {
	clock := &manualClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	src, err := Open(Opts{Path: write(t), Channels: []string{"Pressure"}, Speed: 1000, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, 1)}
	ctx := context.Background()
	src.Read(ctx, &s) // the first sample plays at once
	clock.t = clock.t.Add(time.Millisecond)
	if err := src.Read(ctx, &s); err != nil || s.Values[0] != 2 {
		t.Fatalf("second sample, due now: %v %v", err, s.Values)
	}
	// The third is due 3 ms after the first by the clock, which stands
	// still at 1 ms: Read waits 2 ms of real time.
	start := time.Now()
	if err := src.Read(ctx, &s); err != nil || s.Values[0] != 3 {
		t.Fatalf("third sample: %v %v", err, s.Values)
	}
	if time.Since(start) < time.Millisecond {
		t.Errorf("third sample was not waited for")
	}
	slow, _ := Open(Opts{Path: write(t), Channels: []string{"Pressure"}, Speed: 0.001})
	slow.Read(ctx, &s)
	go func() { time.Sleep(20 * time.Millisecond); slow.Close() }()
	if err := slow.Read(ctx, &s); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read waiting 1000 s, then Close = %v, want fs.ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Opts{Path: filepath.Join(t.TempDir(), "none.csv"), Channels: []string{"a"}}); err == nil {
		t.Error("Open of a missing file succeeded")
	}
	if _, err := Open(Opts{Path: write(t), Channels: []string{"a"}, Speed: -1}); err == nil {
		t.Error("negative speed accepted")
	}
}
