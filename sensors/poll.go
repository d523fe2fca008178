package sensors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// ReadFunc reads a request/response device once, writing one value per
// channel into values (len == len(channels)); NaN marks a value it could
// not read. It returns an error describing what failed, if anything.
type ReadFunc func(ctx context.Context, values []float32) error

// PollOpts configure NewPoll.
type PollOpts struct {
	// Name names the device in logs and errors, e.g. "modbus /dev/ttyUSB0".
	Name string
	// Channels name the values, in order. Required.
	Channels []string
	// Interval is the time between the starts of two reads. Required.
	Interval time.Duration
	// Close releases the device; optional.
	Close func() error
	// Logger receives partial failures (some values missing), at most one
	// report per 10 s; optional.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultPollInterval is a poll interval for devices without one of
// their own: 10 samples a second.
const DefaultPollInterval = 100 * time.Millisecond

// Poll is a Source for devices that answer requests (Modbus slaves, I2C
// sensors): each driver states only how to read once, and Poll reads on a
// fixed schedule. Reads start every Interval from the first; a read that
// overruns skips the ticks it missed rather than bunching up. A sample is
// stamped with the time its read began. A read that fails for every
// channel is reported as an error wrapping ErrAbsent (the device does not
// answer), and Poll keeps polling; one that fails for some channels gives
// a sample with NaN for them (a sensor fault the agent names).
type Poll struct {
	read     ReadFunc
	o        PollOpts
	next     time.Time
	timer    *time.Timer
	done     chan struct{}
	closed   atomic.Bool
	lastWarn time.Time
}

var _ Source = (*Poll)(nil)

// NewPoll checks o and returns a Poll that calls read.
func NewPoll(read ReadFunc, o PollOpts) (*Poll, error) {
	switch {
	case read == nil:
		return nil, errors.New("sensors: NewPoll: read is nil")
	case len(o.Channels) == 0:
		return nil, fmt.Errorf("sensors: poll %s: PollOpts.Channels is empty", o.Name)
	case o.Interval <= 0:
		return nil, fmt.Errorf("sensors: poll %s: PollOpts.Interval %v: want a positive interval", o.Name, o.Interval)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Poll{read: read, o: o, timer: t, done: make(chan struct{})}, nil
}

// Channels returns PollOpts.Channels.
func (p *Poll) Channels() []string { return p.o.Channels }

// String returns PollOpts.Name.
func (p *Poll) String() string { return p.o.Name }

// Read waits for the next tick, reads the device once into s and stamps
// s.Time. It does not allocate unless the read fails.
func (p *Poll) Read(ctx context.Context, s *Sample) error {
	if len(s.Values) < len(p.o.Channels) {
		return fmt.Errorf("sensors: poll %s: sample has %d values, want %d", p.o.Name, len(s.Values), len(p.o.Channels))
	}
	now := p.o.Now()
	if p.next.IsZero() {
		p.next = now
	}
	if wait := p.next.Sub(now); wait > 0 {
		p.timer.Reset(wait)
		select {
		case <-ctx.Done():
			p.timer.Stop()
			return ctx.Err()
		case <-p.done:
			p.timer.Stop()
			return fmt.Errorf("sensors: poll %s: %w", p.o.Name, fs.ErrClosed)
		case <-p.timer.C:
		}
		now = p.o.Now()
	}
	if p.closed.Load() {
		return fmt.Errorf("sensors: poll %s: %w", p.o.Name, fs.ErrClosed)
	}
	// The schedule: every Interval from the first read; missed ticks are
	// skipped.
	p.next = p.next.Add(p.o.Interval)
	if !p.next.After(now) {
		p.next = now.Add(p.o.Interval)
	}
	s.Time = now.UTC()
	values := s.Values[:len(p.o.Channels)]
	err := p.read(ctx, values)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	missing := 0
	for _, v := range values {
		if math.IsNaN(float64(v)) {
			missing++
		}
	}
	if missing == len(values) {
		return fmt.Errorf("sensors: poll %s: %v: %w", p.o.Name, err, ErrAbsent)
	}
	if p.o.Logger != nil && now.Sub(p.lastWarn) >= 10*time.Second {
		p.lastWarn = now
		p.o.Logger.Warn("sensors: some values could not be read", "device", p.o.Name, "missing", missing, "err", err)
	}
	return nil
}

// Close ends a waiting Read and releases the device. It is safe to call
// more than once and from any goroutine.
func (p *Poll) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(p.done)
	if p.o.Close != nil {
		return p.o.Close()
	}
	return nil
}
