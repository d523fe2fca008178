package sensors_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/serial"
	"github.com/vigil-edge/vigil/sensors/sim"
)

func TestSKABChannels(t *testing.T) {
	want := "Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS"
	if got := strings.Join(sensors.SKABChannels, ";"); got != want {
		t.Errorf("SKABChannels = %q, want SKAB's header order %q", got, want)
	}
}

const lines = "datetime;Current;Pressure\n2020-02-08 13:30:47;2.1;0.38\n2020-02-08 13:30:48;2.2;0.39\n"

// sources are the implementations of sensors.Source that need no hardware,
// each yielding exactly n samples before io.EOF.
var sources = []struct {
	name string
	open func(t *testing.T) sensors.Source
	n    int
}{
	{"serial.NewReader", func(t *testing.T) sensors.Source {
		s, err := serial.NewReader(io.NopCloser(strings.NewReader(lines)), serial.Opts{Channels: []string{"Pressure", "Current"}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 2},
	{"sim.Source", func(t *testing.T) sensors.Source {
		p, err := sim.New(sim.Opts{Rate: 2})
		if err != nil {
			t.Fatal(err)
		}
		s, err := sim.NewSource(p, sim.SourceOpts{For: 1500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, 3},
}

// TestSourceContract checks the conventions of the package documentation
// on every implementation.
func TestSourceContract(t *testing.T) {
	for _, tt := range sources {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.open(t)
			s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			if err := src.Read(cancelled, &s); !errors.Is(err, context.Canceled) {
				t.Errorf("Read(cancelled ctx) = %v, want context.Canceled", err)
			}
			for i := range tt.n {
				s.Time = time.Time{}
				if err := src.Read(context.Background(), &s); err != nil {
					t.Fatalf("Read %d = %v", i, err)
				}
				if s.Time.IsZero() || s.Time.Location() != time.UTC {
					t.Errorf("Read %d: Time %v, want a UTC time", i, s.Time)
				}
			}
			if err := src.Read(context.Background(), &s); err != io.EOF {
				t.Errorf("Read past the end = %v, want io.EOF", err)
			}
			if err := src.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if err := src.Close(); err != nil {
				t.Errorf("second Close() = %v", err)
			}
			if err := src.Read(context.Background(), &s); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Read after Close = %v, want fs.ErrClosed", err)
			}
		})
	}
}
