// Package merge reads several sensors.Sources at once and gives one
// sample per tick holding every channel: a pump's vibration from an I2C
// accelerometer, its pressure and flow from a Modbus transmitter and its
// motor current from a serial meter, scored as one machine.
//
// Each source is read by a goroutine of its own, at its own pace; at each
// tick Read takes the newest values of every source. Values older than
// MaxAge, of a source that is absent (sensors.ErrAbsent) or that never
// delivered read NaN: a sensor fault the agent reports by channel.
//
// It does not resample or interpolate, and does not align timestamps: a
// merged sample is stamped with the tick's time.
package merge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// Opts configure New.
type Opts struct {
	// Interval is the time between merged samples (default 100 ms).
	Interval time.Duration
	// MaxAge is the oldest a source's values may be to count; older read
	// NaN. Default 3 Intervals.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultOpts are ten merged samples a second, values up to 300 ms old.
func DefaultOpts() Opts {
	return Opts{Interval: 100 * time.Millisecond, MaxAge: 300 * time.Millisecond}
}

// Source merges sources. Like every sensors.Source it is not safe for
// concurrent use, except Close.
type Source struct {
	o        Opts
	srcs     []sensors.Source
	off      []int // off[i]: position of source i's first channel
	channels []string
	timer    *time.Timer
	next     time.Time

	start  sync.Once
	cancel context.CancelFunc
	ctx    context.Context

	mu     sync.Mutex
	latest []float32   // the newest values, all channels
	at     []time.Time // per source: when its values arrived (zero: none)
	ended  []bool      // per source: io.EOF
	failed error       // a source's fatal error
}

var _ sensors.Source = (*Source)(nil)

// New merges srcs, whose channels are concatenated in order. A channel
// named by two sources is an error naming both.
func New(srcs []sensors.Source, o Opts) (*Source, error) {
	if len(srcs) == 0 {
		return nil, errors.New("merge: no sources")
	}
	if o.Interval == 0 {
		o.Interval = DefaultOpts().Interval
	}
	if o.MaxAge == 0 {
		o.MaxAge = 3 * o.Interval
	}
	if o.Interval < 0 || o.MaxAge < 0 {
		return nil, fmt.Errorf("merge: interval %v max age %v: want positive durations", o.Interval, o.MaxAge)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Source{o: o, srcs: srcs, off: make([]int, len(srcs)), at: make([]time.Time, len(srcs)), ended: make([]bool, len(srcs))}
	owner := map[string]int{}
	for i, s := range srcs {
		m.off[i] = len(m.channels)
		for _, ch := range s.Channels() {
			if j, dup := owner[ch]; dup {
				return nil, fmt.Errorf("merge: channel %q comes from both %s and %s: name each channel once", ch, name(srcs[j], j), name(s, i))
			}
			owner[ch] = i
			m.channels = append(m.channels, ch)
		}
	}
	m.latest = make([]float32, len(m.channels))
	for i := range m.latest {
		m.latest[i] = float32(math.NaN())
	}
	m.timer = time.NewTimer(time.Hour)
	m.timer.Stop()
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// name is a source's String, or its position.
func name(s sensors.Source, i int) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("source %d", i+1)
}

// Channels returns every source's channels, in order.
func (m *Source) Channels() []string { return m.channels }

// String names the merged sources, e.g. "merge(serial /dev/ttyUSB0, modbus ...)".
func (m *Source) String() string {
	names := make([]string, len(m.srcs))
	for i, s := range m.srcs {
		names[i] = name(s, i)
	}
	return "merge(" + strings.Join(names, ", ") + ")"
}

// run reads source i until it ends.
func (m *Source) run(i int) {
	src := m.srcs[i]
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for {
		err := src.Read(m.ctx, &s)
		m.mu.Lock()
		switch {
		case err == nil:
			copy(m.latest[m.off[i]:], s.Values)
			m.at[i] = m.o.Now()
		case errors.Is(err, sensors.ErrAbsent):
			m.at[i] = time.Time{} // its values read NaN until it is back
		case errors.Is(err, io.EOF):
			m.ended[i] = true
		case m.ctx.Err() == nil && m.failed == nil:
			m.failed = fmt.Errorf("merge: %s: %w", name(src, i), err)
		}
		m.mu.Unlock()
		if err != nil && !errors.Is(err, sensors.ErrAbsent) {
			return
		}
	}
}

// Read waits for the next tick and writes the newest values of every
// source into s. It returns io.EOF once every source has ended, and the
// first fatal error of any source.
func (m *Source) Read(ctx context.Context, s *sensors.Sample) error {
	if len(s.Values) < len(m.channels) {
		return fmt.Errorf("merge: sample has %d values, want %d", len(s.Values), len(m.channels))
	}
	m.start.Do(func() {
		for i := range m.srcs {
			go m.run(i)
		}
		m.next = m.o.Now().Add(m.o.Interval)
	})
	if wait := m.next.Sub(m.o.Now()); wait > 0 {
		m.timer.Reset(wait)
		select {
		case <-ctx.Done():
			m.timer.Stop()
			return ctx.Err()
		case <-m.ctx.Done():
			m.timer.Stop()
			return fmt.Errorf("merge: %w", fs.ErrClosed)
		case <-m.timer.C:
		}
	}
	now := m.o.Now()
	if m.next = m.next.Add(m.o.Interval); !m.next.After(now) {
		m.next = now.Add(m.o.Interval)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed != nil {
		return m.failed
	}
	all := true
	for i, src := range m.srcs {
		all = all && m.ended[i]
		vals := s.Values[m.off[i] : m.off[i]+len(src.Channels())]
		if m.at[i].IsZero() || now.Sub(m.at[i]) > m.o.MaxAge {
			for j := range vals {
				vals[j] = float32(math.NaN())
			}
			continue
		}
		copy(vals, m.latest[m.off[i]:])
	}
	if all {
		return io.EOF
	}
	s.Time = now.UTC()
	return nil
}

// Close stops reading and closes every source; the first error is
// returned. Safe to call more than once.
func (m *Source) Close() error {
	m.cancel()
	var first error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
