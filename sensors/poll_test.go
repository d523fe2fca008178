package sensors

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock returns t0, then advances by the next step at every call.
func fakeClock(steps ...time.Duration) func() time.Time {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	return func() time.Time {
		now := t
		if i < len(steps) {
			t = t.Add(steps[i])
			i++
		}
		return now
	}
}

func TestPollResults(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name   string
		read   []float32
		err    error
		absent bool
	}{
		{"all read", []float32{1, 2}, nil, false},
		{"some missing", []float32{1, nan}, errors.New("slave 2: timeout"), false},
		{"none", []float32{nan, nan}, errors.New("slave 1: timeout"), true},
	}
	for _, tc := range tests {
		p, err := NewPoll(func(_ context.Context, v []float32) error { copy(v, tc.read); return tc.err },
			PollOpts{Name: "modbus test", Channels: []string{"a", "b"}, Interval: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		s := Sample{Values: make([]float32, 2)}
		err = p.Read(context.Background(), &s)
		switch {
		case tc.absent:
			if !errors.Is(err, ErrAbsent) || !strings.Contains(err.Error(), "modbus test") || !strings.Contains(err.Error(), "timeout") {
				t.Errorf("%s: Read = %v, want ErrAbsent naming the device and the cause", tc.name, err)
			}
		case err != nil:
			t.Errorf("%s: Read = %v", tc.name, err)
		case s.Values[0] != tc.read[0] || (s.Values[1] != tc.read[1]) != math.IsNaN(float64(tc.read[1])) || s.Time.IsZero():
			t.Errorf("%s: sample %+v, want %v", tc.name, s, tc.read)
		}
	}
}

// Reads start every Interval from the first; an overrun skips the ticks
// it missed.
func TestPollSchedule(t *testing.T) {
	const iv = 10 * time.Millisecond
	// Each Read calls Now once (no wait needed) or twice (after a wait).
	// Steps: read 1 at 0; read 2 at 10 ms; read 3 overran to 35 ms; read 4
	// at 45 ms (the 20 and 30 ms ticks are skipped).
	clock := fakeClock(10*time.Millisecond, 25*time.Millisecond, 10*time.Millisecond)
	p, _ := NewPoll(func(context.Context, []float32) error { return nil }, PollOpts{Name: "x", Channels: []string{"a"}, Interval: iv, Now: clock})
	s := Sample{Values: make([]float32, 1)}
	var got []time.Duration
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 4 {
		if err := p.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s.Time.Sub(t0))
	}
	want := []time.Duration{0, 10 * time.Millisecond, 35 * time.Millisecond, 45 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reads at %v, want %v", got, want)
		}
	}
}

func TestPollCloseAndCancel(t *testing.T) {
	var closed atomic.Bool
	p, _ := NewPoll(func(context.Context, []float32) error { return nil },
		PollOpts{Name: "x", Channels: []string{"a"}, Interval: time.Hour, Close: func() error { closed.Store(true); return nil }})
	s := Sample{Values: make([]float32, 1)}
	p.Read(context.Background(), &s) // the first read is at once
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Read(ctx, &s); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read waiting an hour with a short context = %v", err)
	}
	go func() { time.Sleep(20 * time.Millisecond); p.Close() }()
	err := p.Read(context.Background(), &s)
	time.Sleep(10 * time.Millisecond) // Close goes on after waking Read
	if !errors.Is(err, fs.ErrClosed) || !closed.Load() {
		t.Errorf("Read then Close = %v (device closed %v), want fs.ErrClosed", err, closed.Load())
	}
	if _, err := NewPoll(nil, PollOpts{}); err == nil {
		t.Error("NewPoll(nil) succeeded")
	}
	if _, err := NewPoll(func(context.Context, []float32) error { return nil }, PollOpts{Name: "y", Channels: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "Interval") {
		t.Errorf("NewPoll without an interval: %v", err)
	}
}

func TestPollAllocs(t *testing.T) {
	p, _ := NewPoll(func(_ context.Context, v []float32) error { v[0] = 1; return nil },
		PollOpts{Name: "x", Channels: []string{"a"}, Interval: time.Nanosecond})
	s := Sample{Values: make([]float32, 1)}
	ctx := context.Background()
	if a := testing.AllocsPerRun(100, func() { p.Read(ctx, &s) }); a != 0 {
		t.Errorf("Read allocates %v times, want 0", a)
	}
}
