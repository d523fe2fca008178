package periph

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// fakeClock is a settable clock for PulseOpts.Now that counts its calls,
// so a test knows when the counting goroutine has stamped an edge.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	calls int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.t
}

func (c *fakeClock) Set(sec float64) {
	c.mu.Lock()
	c.t = time.Unix(1_700_000_000, 0).Add(time.Duration(sec * float64(time.Second)))
	c.mu.Unlock()
}

func (c *fakeClock) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// edge injects one falling edge at clock time sec through gpiotest's
// EdgesChan and waits until the counting goroutine has stamped it and,
// if it is to be counted, counted it, so the test is deterministic.
func edge(t *testing.T, clock *fakeClock, pin *gpiotest.Pin, c *PulseCounter, sec float64, counted bool) {
	t.Helper()
	calls, count := clock.Calls(), c.Count()
	clock.Set(sec)
	pin.EdgesChan <- gpio.Low
	deadline := time.Now().Add(5 * time.Second)
	for clock.Calls() == calls || (counted && c.Count() == count) {
		if time.Now().After(deadline) {
			t.Fatalf("edge at %v s not handled within 5 s", sec)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestPulseCounter(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(0)
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
	o := DefaultPulseOpts
	o.Name = "Volume Flow RateRMS"
	o.Factor = 6 // e.g. L/min per Hz
	o.Now = clock.Now
	c, err := NewPulseCounter(pin, o)
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullUp {
		t.Errorf("pin pull = %s, want PullUp", pin.P)
	}
	if got := c.String(); got != "pulse counter GPIO17(17)" {
		t.Errorf("String() = %q", got)
	}
	steps := []struct {
		edges []float64 // edge times, s
		at    float64   // Read time, s
		want  float64   // Hz (before Factor)
	}{
		{[]float64{0.1, 0.2, 0.3, 0.4}, 0.45, 10}, // 4 edges since the start at 0
		{[]float64{0.6, 0.8}, 0.85, 5},            // 2 edges over 0.4..0.8
		{nil, 1.0, 5},                             // none: min(5, 1/(1.0−0.8))
		{nil, 1.8, 1},                             // none: min(5, 1/(1.8−0.8)) — decaying
		{nil, 10.8, 0.1},                          // stopped
		{[]float64{11.0, 11.5}, 11.6, 2 / 10.7},   // restart: 2 edges since the last one at 0.8 (reads low once)
		{[]float64{12.0}, 12.1, 2},                // one edge, 0.5 s after the last
	}
	values := make([]float32, 1)
	for i, s := range steps {
		for _, e := range s.edges {
			edge(t, clock, pin, c, e, true)
		}
		clock.Set(s.at)
		if err := c.Read(context.Background(), values); err != nil {
			t.Fatal(err)
		}
		if want := s.want * 6; math.Abs(float64(values[0])-want) > 1e-4*want {
			t.Errorf("step %d: Read at %.2f s = %v, want %v (%v Hz × 6)", i, s.at, values[0], want, s.want)
		}
	}
	if n := c.Count(); n != 9 {
		t.Errorf("Count() = %d, want 9", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestPulseCounterDebounce(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(0)
	pin := &gpiotest.Pin{N: "GPIO27", Num: 27, EdgesChan: make(chan gpio.Level)}
	o := DefaultPulseOpts
	o.Debounce = 5 * time.Millisecond
	o.Now = clock.Now
	c, err := NewPulseCounter(pin, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A reed switch: each closure bounces twice within 2 ms.
	for _, e := range []float64{0.100, 0.101, 0.102, 0.200, 0.2015, 0.300, 0.301} {
		first := e == 0.100 || e == 0.200 || e == 0.300
		edge(t, clock, pin, c, e, first)
	}
	if n := c.Count(); n != 3 {
		t.Errorf("Count() = %d after 3 bouncing closures, want 3", n)
	}
}

func TestNewPulseCounterErrors(t *testing.T) {
	tests := []struct {
		name string
		pin  gpio.PinIn
		opts func(o *PulseOpts)
		want string
	}{
		{"nil pin", nil, func(o *PulseOpts) {}, `pulse counter "PulseRate": pin is nil`},
		{"name", &gpiotest.Pin{N: "GPIO5"}, func(o *PulseOpts) { o.Name = "" }, "GPIO5(0): Name is empty"},
		{"factor", &gpiotest.Pin{N: "GPIO5"}, func(o *PulseOpts) { o.Factor = 0 }, "Factor 0"},
		{"edge", &gpiotest.Pin{N: "GPIO5"}, func(o *PulseOpts) { o.Edge = gpio.NoEdge }, "Edge is NoEdge"},
		{"debounce", &gpiotest.Pin{N: "GPIO5"}, func(o *PulseOpts) { o.Debounce = -1 }, "Debounce -1ns"},
		// gpiotest refuses edge detection without EdgesChan, as a pin
		// without interrupt support would.
		{"no edges", &gpiotest.Pin{N: "GPIO5"}, func(o *PulseOpts) {}, "setting input with PullUp and FallingEdge detection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultPulseOpts
			tt.opts(&o)
			_, err := NewPulseCounter(tt.pin, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPulseCounter = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPulseCounterReadAllocs(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level)}
	c, err := NewPulseCounter(pin, DefaultPulseOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	values := make([]float32, 1)
	ctx := context.Background()
	if allocs := testing.AllocsPerRun(100, func() { _ = c.Read(ctx, values) }); allocs != 0 {
		t.Errorf("PulseCounter.Read allocates %v times, want 0", allocs)
	}
}
