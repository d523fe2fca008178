package periph

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// PulseOpts configure NewPulseCounter.
type PulseOpts struct {
	// Name names the value Read writes, e.g. "Volume Flow RateRMS".
	Name string
	// Pull is the pin's bias: gpio.PullUp for open-collector (NPN) and
	// reed-switch outputs, gpio.Float when the sensor drives the line.
	Pull gpio.Pull
	// Edge is the edge counted: gpio.FallingEdge, RisingEdge or BothEdges
	// (which counts two per pulse).
	Edge gpio.Edge
	// Factor converts pulses per second to the reported unit: 1 reports
	// Hz, 60 pulses per minute (rpm with one pulse per turn), 1/7.5 the
	// L/min of a YF-S201 flow sensor (7.5 Hz per L/min). Must be positive.
	Factor float64
	// Debounce ignores an edge closer than this to the last counted one
	// (reed-switch contact bounce); 0 counts every edge. It caps the
	// countable rate at 1/Debounce.
	Debounce time.Duration
	// Now is the clock (default time.Now); edges are stamped with it.
	Now func() time.Time
}

// DefaultPulseOpts count falling edges of a pulled-up input and report Hz.
var DefaultPulseOpts = PulseOpts{Name: "PulseRate", Pull: gpio.PullUp, Edge: gpio.FallingEdge, Factor: 1}

// edgeWait bounds each WaitForEdge so the counting goroutine notices
// Close on pins whose Halt does not end a wait (such as gpiotest.Pin).
const edgeWait = 100 * time.Millisecond

// PulseCounter counts edges on a GPIO input in a goroutine (periph's
// edge detection: the kernel's GPIO interrupts) and reports their rate.
//
// The rate over a poll period is measured between edges, not by counting
// in a window: n edges in the period, the last at t, the last of the
// previous period at t0, give n/(t−t0) Hz. A flow meter at 5 Hz polled
// at 10 Hz so reads 5, not alternately 0 and 10. A period without edges
// reports the smaller of the previous rate and 1/(now−t0), so a stopped
// meter decays towards 0 instead of holding its last rate. The first
// period measures from NewPulseCounter, and so reads low.
//
// Read, Count and Close are safe to call from any goroutine.
type PulseCounter struct {
	pin      gpio.PinIn
	o        PulseOpts
	name     string
	channels []string

	mu       sync.Mutex
	count    uint64    // edges counted, all time
	lastEdge time.Time // time of the last counted edge
	seen     uint64    // count at the last Read
	ref      time.Time // the last edge before this period (or the start)
	hz       float64   // rate reported at the last Read
	closed   bool

	done chan struct{}
	wg   sync.WaitGroup
}

// NewPulseCounter checks o, configures pin as an input with o.Pull and
// edge detection on o.Edge, and starts counting. Close stops it.
func NewPulseCounter(pin gpio.PinIn, o PulseOpts) (*PulseCounter, error) {
	if pin == nil {
		return nil, fmt.Errorf("periph: pulse counter %q: pin is nil", o.Name)
	}
	name := fmt.Sprintf("pulse counter %s", pin)
	switch {
	case o.Name == "":
		return nil, fmt.Errorf("periph: %s: Name is empty", name)
	case !(o.Factor > 0) || math.IsInf(o.Factor, 0):
		return nil, fmt.Errorf("periph: %s: Factor %v: want a positive number (units per Hz)", name, o.Factor)
	case o.Edge == gpio.NoEdge:
		return nil, fmt.Errorf("periph: %s: Edge is NoEdge: want FallingEdge, RisingEdge or BothEdges", name)
	case o.Debounce < 0:
		return nil, fmt.Errorf("periph: %s: Debounce %v: want ≥ 0", name, o.Debounce)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := pin.In(o.Pull, o.Edge); err != nil {
		return nil, fmt.Errorf("periph: %s: setting input with %s and %s detection: %w", name, o.Pull, o.Edge, err)
	}
	c := &PulseCounter{pin: pin, o: o, name: name, channels: []string{o.Name}, ref: o.Now(), done: make(chan struct{})}
	c.wg.Add(1)
	go c.countEdges()
	return c, nil
}

func (c *PulseCounter) countEdges() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		default:
		}
		if !c.pin.WaitForEdge(edgeWait) {
			continue
		}
		t := c.o.Now()
		c.mu.Lock()
		if c.o.Debounce == 0 || c.count == 0 || t.Sub(c.lastEdge) >= c.o.Debounce {
			c.count++
			c.lastEdge = t
		}
		c.mu.Unlock()
	}
}

// String names the counter and its pin, e.g. "pulse counter GPIO17(17)".
func (c *PulseCounter) String() string { return c.name }

// Channels is the one value Read writes, PulseOpts.Name. The slice
// belongs to c; do not modify it.
func (c *PulseCounter) Channels() []string { return c.channels }

// Count returns the edges counted since NewPulseCounter (after
// debouncing): a totaliser, e.g. litres = Count()/pulses per litre.
func (c *PulseCounter) Count() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Read writes the pulse rate over the period since the previous Read,
// in Hz times PulseOpts.Factor, to values[0], and starts a new period.
// It does not allocate and does not touch the pin.
func (c *PulseCounter) Read(ctx context.Context, values []float32) error {
	if len(values) < 1 {
		return fmt.Errorf("periph: %s: Read into 0 values, want 1", c.name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := c.o.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.count - c.seen; n > 0 {
		if dt := c.lastEdge.Sub(c.ref).Seconds(); dt > 0 {
			c.hz = float64(n) / dt
		}
		c.seen, c.ref = c.count, c.lastEdge
	} else if dt := now.Sub(c.ref).Seconds(); dt > 0 {
		c.hz = min(c.hz, 1/dt)
	}
	values[0] = float32(c.hz * c.o.Factor)
	return nil
}

// Close stops counting: it ends the goroutine (within 100 ms) and halts
// the pin's edge detection. It is safe to call more than once.
func (c *PulseCounter) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.done)
	err := c.pin.Halt()
	c.wg.Wait()
	if err != nil {
		return fmt.Errorf("periph: %s: %w", c.name, err)
	}
	return nil
}
