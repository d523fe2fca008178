package periph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Device is what every device of this package offers: a name for logs,
// the values it gives, one read of them, and Close.
type Device interface {
	String() string
	// Channels names the values Read writes, in order.
	Channels() []string
	// Read writes one value per channel, NaN for each it could not read,
	// and returns an error naming what failed.
	Read(ctx context.Context, values []float32) error
	Close() error
}

var (
	_ Device = (*BME280)(nil)
	_ Device = (*ADS1115)(nil)
	_ Device = (*ADXL345)(nil)
	_ Device = (*PulseCounter)(nil)
)

// Group reads several devices, on one bus or several, as one
// request/response source: Read is a sensors.ReadFunc. It is not safe
// for concurrent use with itself.
type Group struct {
	devs     []Device
	offs     []int
	channels []string
	buses    []io.Closer
	name     string
}

// NewGroup groups devs, whose channels must be named once across all of
// them. buses are closed by Close after the devices (the I²C bus they
// share, for one). On error nothing is closed: the caller still owns
// devs and buses.
func NewGroup(devs []Device, buses ...io.Closer) (*Group, error) {
	if len(devs) == 0 {
		return nil, errors.New("periph: a group needs at least one device")
	}
	g := &Group{devs: devs, buses: buses}
	seen := map[string]string{}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.String()
		g.offs = append(g.offs, len(g.channels))
		for _, ch := range d.Channels() {
			if prev, ok := seen[ch]; ok {
				return nil, fmt.Errorf("periph: channel %q is given by both %s and %s: name it once", ch, prev, d)
			}
			seen[ch] = d.String()
			g.channels = append(g.channels, ch)
		}
	}
	g.offs = append(g.offs, len(g.channels))
	g.name = strings.Join(names, ", ")
	return g, nil
}

// String lists the devices, e.g. "bme280 0x76, ads1115 0x48".
func (g *Group) String() string { return g.name }

// Channels names the values Read writes: each device's channels, in
// device order. The slice belongs to g.
func (g *Group) Channels() []string { return g.channels }

// Read reads every device into its part of values (len ≥
// len(Channels())). A device that fails leaves NaN in the values it could
// not read; the others are still read, and the returned error joins what
// failed. It allocates only when a device fails (or its driver does).
func (g *Group) Read(ctx context.Context, values []float32) error {
	if len(values) < len(g.channels) {
		return fmt.Errorf("periph: group %s: Read into %d values, want %d", g.name, len(values), len(g.channels))
	}
	var errs error
	for i, d := range g.devs {
		if err := d.Read(ctx, values[g.offs[i]:g.offs[i+1]]); err != nil {
			errs = errors.Join(errs, err)
		}
	}
	return errs
}

// Close closes every device, then the buses, and returns the errors
// joined. It is safe to call more than once only if each device's Close
// is.
func (g *Group) Close() error {
	var errs error
	for _, d := range g.devs {
		errs = errors.Join(errs, d.Close())
	}
	for _, b := range g.buses {
		errs = errors.Join(errs, b.Close())
	}
	return errs
}
