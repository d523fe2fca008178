package sim

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// fakeTime is a clock that only moves when the Source sleeps (or the test
// says so), recording every sleep.
type fakeTime struct {
	now    time.Time
	sleeps []time.Duration
}

func (f *fakeTime) Now() time.Time { return f.now }

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func newSource(t *testing.T, popts Opts, sopts SourceOpts) *Source {
	t.Helper()
	p, err := New(popts)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(p, sopts)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var forTests = []struct {
	rate float64
	dur  time.Duration
	want int
}{
	{10, 2 * time.Second, 20},
	{10, 2050 * time.Millisecond, 21},
	{1, time.Minute, 60},
	{3, time.Second, 3},
	{10, time.Nanosecond, 1},
}

func TestSourceFor(t *testing.T) {
	for _, tt := range forTests {
		src := newSource(t, Opts{Rate: tt.rate}, SourceOpts{For: tt.dur})
		s := sensors.Sample{Values: make([]float32, 8)}
		n := 0
		var err error
		for ; n < 1000; n++ {
			if err = src.Read(context.Background(), &s); err != nil {
				break
			}
		}
		if n != tt.want || !errors.Is(err, io.EOF) {
			t.Errorf("rate %v for %v: %d samples then %v, want %d then EOF", tt.rate, tt.dur, n, err, tt.want)
		}
		if err := src.Read(context.Background(), &s); !errors.Is(err, io.EOF) {
			t.Errorf("Read after EOF = %v, want EOF", err)
		}
	}
}

func TestSourcePaced(t *testing.T) {
	ft := &fakeTime{now: time.Unix(1000, 0)}
	src := newSource(t, Opts{Rate: 10}, SourceOpts{Paced: true, Sleep: ft.Sleep, Now: ft.Now})
	s := sensors.Sample{Values: make([]float32, 8)}
	read := func() {
		t.Helper()
		if err := src.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
	}
	read() // at once
	read() // 100 ms later
	read()
	ft.now = ft.now.Add(250 * time.Millisecond) // the caller was slow
	read()                                      // due at 300 ms, now 450 ms: no sleep
	read()                                      // due at 400 ms: no sleep
	read()                                      // due at 500 ms: back on schedule
	want := []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 50 * time.Millisecond}
	if len(ft.sleeps) != len(want) {
		t.Fatalf("slept %v, want %v", ft.sleeps, want)
	}
	for i := range want {
		if ft.sleeps[i] != want[i] {
			t.Fatalf("slept %v, want %v", ft.sleeps, want)
		}
	}
	if n := testing.AllocsPerRun(100, read); n != 0 {
		t.Errorf("paced Read allocates %v times, want 0", n)
	}
}

func TestSourceCancelDoesNotConsume(t *testing.T) {
	ft := &fakeTime{now: time.Unix(1000, 0)}
	src := newSource(t, Opts{}, SourceOpts{Paced: true, Sleep: ft.Sleep, Now: ft.Now})
	s := sensors.Sample{Values: make([]float32, 8)}
	if err := src.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := src.Read(ctx, &s); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read(cancelled) = %v, want context.Canceled", err)
	}
	if e := src.Pump().Elapsed(); e != 100*time.Millisecond {
		t.Errorf("after a cancelled Read the next sample is at %v, want 100ms", e)
	}
}

// TestSourceRealSleep uses the default timer: a context deadline and Close
// both end a paced Read that waits for a sample due in 100 s.
func TestSourceRealSleep(t *testing.T) {
	src := newSource(t, Opts{Rate: 0.01}, SourceOpts{Paced: true})
	s := sensors.Sample{Values: make([]float32, 8)}
	if err := src.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := src.Read(ctx, &s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read = %v, want context.DeadlineExceeded", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- src.Read(context.Background(), &s) }()
	time.Sleep(20 * time.Millisecond)
	src.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Read blocked during Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Read")
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if err := src.Read(context.Background(), &s); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
}

func TestSourceErrors(t *testing.T) {
	if _, err := NewSource(nil, SourceOpts{}); err == nil {
		t.Error("NewSource(nil) succeeded")
	}
	p, _ := New(Opts{})
	if _, err := NewSource(p, SourceOpts{For: -time.Second}); err == nil {
		t.Error("NewSource with negative For succeeded")
	}
	src, _ := NewSource(p, SourceOpts{})
	if err := src.Read(context.Background(), &sensors.Sample{Values: make([]float32, 7)}); err == nil {
		t.Error("Read into 7 values succeeded")
	}
}

func TestSourceReadAllocs(t *testing.T) {
	src := newSource(t, Opts{}, SourceOpts{For: time.Hour})
	s := sensors.Sample{Values: make([]float32, 8)}
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { _ = src.Read(ctx, &s) }); n != 0 {
		t.Errorf("unpaced Read allocates %v times, want 0", n)
	}
}

func BenchmarkSourceRead(b *testing.B) {
	p, _ := New(Opts{})
	src, _ := NewSource(p, SourceOpts{})
	s := sensors.Sample{Values: make([]float32, 8)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Read(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
}
