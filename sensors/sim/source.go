package sim

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// ErrClosed is returned by Source.Read after Close. It matches fs.ErrClosed.
var ErrClosed = fmt.Errorf("sim: source closed: %w", fs.ErrClosed)

// SourceOpts configures a Source.
type SourceOpts struct {
	// Paced makes Read deliver samples at the pump's Rate in real time
	// (the first at once, sample k no earlier than k/Rate after it).
	// Unpaced, Read returns at once: for generating data (--fast).
	Paced bool
	// For ends the stream: Read returns io.EOF once the next sample would
	// be For or more of simulated time after the pump's Start. 0 means
	// never.
	For time.Duration
	// Sleep waits for d or until ctx ends, returning ctx.Err() then; nil
	// means a real timer. Tests inject one that does not sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the real-time clock for pacing; nil means time.Now.
	Now func() time.Time
}

// Source adapts a Pump to sensors.Source. It is not safe for concurrent
// use, except that Close may be called from any goroutine; with the default
// Sleep it ends a paced Read that is waiting.
type Source struct {
	pump   *Pump
	opts   SourceOpts
	timer  *time.Timer // for the default Sleep, made on first use
	t0     time.Time   // real time of the first paced sample
	k0     uint64      // its index
	paced  bool        // t0 and k0 are set
	closed atomic.Bool
	done   chan struct{} // closed by Close
}

var _ sensors.Source = (*Source)(nil)

// NewSource returns a Source reading from p, which it then owns (do not
// call p.Next directly any more; Active and Elapsed are fine).
func NewSource(p *Pump, opts SourceOpts) (*Source, error) {
	if p == nil {
		return nil, fmt.Errorf("sim: nil Pump")
	}
	if opts.For < 0 {
		return nil, fmt.Errorf("sim: SourceOpts.For %v is negative", opts.For)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Source{pump: p, opts: opts, done: make(chan struct{})}, nil
}

// Pump returns the Pump the Source reads, for Active and Elapsed.
func (s *Source) Pump() *Pump { return s.pump }

// Channels returns sensors.SKABChannels. The slice is shared and must not
// be modified.
func (s *Source) Channels() []string { return sensors.SKABChannels }

// String names the source for logs and model provenance.
func (s *Source) String() string { return fmt.Sprintf("the simulated pump at %g Hz", s.pump.Rate()) }

// Read writes the next sample to smp, which must have 8 values. Paced, it
// first waits until the sample is due. It returns ctx.Err() when ctx ends
// (the sample is then not consumed), io.EOF after SourceOpts.For, and
// ErrClosed after Close. Unpaced, it does not allocate.
func (s *Source) Read(ctx context.Context, smp *sensors.Sample) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(smp.Values) < numChannels {
		return fmt.Errorf("sim: sample has %d values, want %d", len(smp.Values), numChannels)
	}
	p := s.pump
	if s.opts.For > 0 && p.elapsed(p.k) >= s.opts.For {
		return io.EOF
	}
	if s.opts.Paced {
		now := s.opts.Now()
		if !s.paced {
			s.t0, s.k0, s.paced = now, p.k, true
		}
		due := s.t0.Add(p.elapsed(p.k) - p.elapsed(s.k0))
		if d := due.Sub(now); d > 0 {
			if err := s.sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	p.Next(smp)
	return nil
}

func (s *Source) sleep(ctx context.Context, d time.Duration) error {
	if s.opts.Sleep != nil {
		if err := s.opts.Sleep(ctx, d); err != nil {
			return err
		}
	} else {
		if s.timer == nil {
			s.timer = time.NewTimer(d)
		} else {
			s.timer.Reset(d)
		}
		select {
		case <-s.timer.C:
		case <-ctx.Done():
			s.timer.Stop()
			return ctx.Err()
		case <-s.done:
			s.timer.Stop()
		}
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Close ends the stream; later Reads return ErrClosed. It is safe to call
// more than once and from any goroutine, and always returns nil.
func (s *Source) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		close(s.done)
	}
	return nil
}
