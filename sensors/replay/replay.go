// Package replay plays a CSV recording (SKAB's layout, as vigil sim and
// vigil train use) as a sensors.Source, paced by the recording's own
// timestamps at real or accelerated speed, once or in a loop: for
// commissioning an agent before the machine's sensors are wired, for
// demos and for tests.
//
// It reads through sensors/serial's line reader, so a recording gets the
// same parsing, limits and bad-line reports as a device. It is not a
// dataset loader (see tools/dataset) and does not change the values.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// Opts configure Open.
type Opts struct {
	// Path of the recording; it must carry a header naming its columns.
	Path string
	// Channels are the wanted channels, in the order Read writes them.
	Channels []string
	// Speed is how many times faster than recorded to play: 1 is real
	// time, 60 a minute a second; 0 means 1. Fast ignores it.
	Speed float64
	// Fast plays without pacing, as fast as the reader reads.
	Fast bool
	// Loop starts again at the end, shifting the times on so that they
	// keep increasing; otherwise Read returns io.EOF at the end.
	Loop bool
	// Logger receives bad-line reports (see sensors/serial); optional.
	Logger *slog.Logger
	// Now is the clock for pacing (default time.Now).
	Now func() time.Time
}

// DefaultOpts returns real-time, single-pass playing of path.
func DefaultOpts(path string, channels []string) Opts {
	return Opts{Path: path, Channels: channels, Speed: 1}
}

// Source plays a recording. Like every sensors.Source it is not safe for
// concurrent use, except Close.
type Source struct {
	o       Opts
	mu      sync.Mutex // guards in against Close while a loop swaps it
	closed  bool
	in      *serial.Source
	timer   *time.Timer
	done    chan struct{}
	started bool
	t0      time.Time     // sample time of the first sample played
	w0      time.Time     // clock time it was played
	shift   time.Duration // added to sample times (loops)
	last    time.Time     // the last sample time read, unshifted
	first   time.Time     // the recording's first sample time
	step    time.Duration // the last gap between samples, for loops
}

var _ sensors.Source = (*Source)(nil)

// Open checks o and opens the recording.
func Open(o Opts) (*Source, error) {
	if o.Speed == 0 {
		o.Speed = 1
	}
	if o.Speed < 0 || o.Speed > 1e6 {
		return nil, fmt.Errorf("replay: %s: speed %v: want more than 0 and at most 1e6", o.Path, o.Speed)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Source{o: o, done: make(chan struct{})}
	if err := s.open(); err != nil {
		return nil, err
	}
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	return s, nil
}

func (s *Source) open() error {
	f, err := os.Open(s.o.Path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	in, err := serial.NewReader(f, serial.Opts{Device: s.o.Path, Channels: s.o.Channels, Logger: s.o.Logger})
	if err != nil {
		f.Close()
		return fmt.Errorf("replay: %s: %w", s.o.Path, err)
	}
	s.in = in
	return nil
}

// Channels returns Opts.Channels.
func (s *Source) Channels() []string { return s.in.Channels() }

// String names the source for logs: "replay rec.csv".
func (s *Source) String() string { return "replay " + s.o.Path }

// Read returns the next sample of the recording when its time comes.
func (s *Source) Read(ctx context.Context, smp *sensors.Sample) error {
	err := s.in.Read(ctx, smp)
	if errors.Is(err, io.EOF) && s.o.Loop && s.started {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return serial.ErrClosed
		}
		s.in.Close()
		oerr := s.open()
		s.mu.Unlock()
		if oerr != nil {
			return oerr
		}
		// The next pass follows the last sample one step later.
		s.shift += s.last.Sub(s.first) + max(s.step, time.Millisecond)
		err = s.in.Read(ctx, smp)
	}
	if err != nil {
		select {
		case <-s.done:
			return serial.ErrClosed
		default:
		}
		return err
	}
	if !s.last.IsZero() && s.started && smp.Time.After(s.last) {
		s.step = smp.Time.Sub(s.last)
	}
	s.last = smp.Time
	if !s.started {
		s.started, s.first, s.t0, s.w0 = true, smp.Time, smp.Time, s.o.Now()
	}
	smp.Time = smp.Time.Add(s.shift)
	if s.o.Fast {
		return nil
	}
	due := s.w0.Add(time.Duration(float64(smp.Time.Sub(s.t0)) / s.o.Speed))
	if wait := due.Sub(s.o.Now()); wait > 0 {
		s.timer.Reset(wait)
		select {
		case <-ctx.Done():
			s.timer.Stop()
			return ctx.Err()
		case <-s.done:
			s.timer.Stop()
			return serial.ErrClosed
		case <-s.timer.C:
		}
	}
	return nil
}

// Close ends playing; a waiting Read returns an error matching
// fs.ErrClosed. Safe to call more than once.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	return s.in.Close()
}
