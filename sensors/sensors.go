package sensors

import (
	"context"
	"errors"
	"time"
)

// ErrAbsent marks a Read error after which the source is still usable: the
// device went away (unplugged, powered off) and the source is trying to
// get it back. The caller reports the channels as faulty, naming the
// error, and calls Read again; Read waits between attempts itself.
var ErrAbsent = errors.New("device absent")

// Sample is one reading of every channel of a source at one instant.
type Sample struct {
	// Time is when the values were measured (or, for sources whose lines
	// carry no timestamp, received). Sources write it in UTC.
	Time time.Time
	// Values is caller-owned, len == len(source channels); NaN marks a
	// missing value. A Source writes into it and never keeps a reference.
	Values []float32
}

// Source produces samples; implementations are not safe for concurrent use.
// The one exception is Close, which may be called from another goroutine to
// end a Read that is blocked waiting for data.
type Source interface {
	// Channels names the values Read writes, in order. The returned slice
	// belongs to the Source and must not be modified.
	Channels() []string
	// Read blocks until the next sample, writing s.Time and s.Values (which
	// the caller allocated with len(Channels())).
	// It returns ctx.Err() when ctx ends, io.EOF when the source is exhausted.
	// After Close it returns an error matching fs.ErrClosed.
	Read(ctx context.Context, s *Sample) error
	// Close releases the source's device or file. It is safe to call more
	// than once and concurrently with a blocked Read, which then returns.
	Close() error
}

// SKABChannels are the 8 channel names of SKAB's pump testbed, in SKAB's
// column order. Units: Accelerometer1RMS and Accelerometer2RMS in g, Current
// in A, Pressure in bar, Temperature (motor) and Thermocouple (fluid) in °C,
// Voltage in V, Volume Flow RateRMS in L/min.
//
// It is shared: never modify it; copy it (slices.Clone) to build a
// channel list of your own.
var SKABChannels = []string{"Accelerometer1RMS", "Accelerometer2RMS", "Current", "Pressure", "Temperature", "Thermocouple", "Voltage", "Volume Flow RateRMS"}
