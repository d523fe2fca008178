package serial

import (
	"fmt"
	"io"

	bugserial "go.bug.st/serial"
)

// Open opens the serial device opts.Device at opts.Baud with the framing
// of opts (8N1 by default; raw mode, modem lines DTR/RTS left as they
// are) and returns a Source reading CSV lines from it. Every field of opts is checked first; errors name the
// field. Each read from the device waits at most opts.ReadTimeout, so Read
// notices the end of its context within that time. A device that goes
// away later (an unplugged adapter) is reopened by Read; see Source.Read.
func Open(opts Opts) (*Source, error) {
	if err := opts.validate(true); err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) {
		parity := map[byte]bugserial.Parity{'N': bugserial.NoParity, 'E': bugserial.EvenParity, 'O': bugserial.OddParity}[opts.Parity]
		stop := bugserial.OneStopBit
		if opts.StopBits == 2 {
			stop = bugserial.TwoStopBits
		}
		port, err := bugserial.Open(opts.Device, &bugserial.Mode{BaudRate: opts.Baud, DataBits: opts.DataBits, Parity: parity, StopBits: stop})
		if err != nil {
			return nil, fmt.Errorf("serial: open %s at %d baud %d%c%d: %w", opts.Device, opts.Baud, opts.DataBits, opts.Parity, opts.StopBits, err)
		}
		if err := port.SetReadTimeout(opts.ReadTimeout); err != nil {
			port.Close()
			return nil, fmt.Errorf("serial: %s: Opts.ReadTimeout %v: %w", opts.Device, opts.ReadTimeout, err)
		}
		return port, nil
	}
	port, err := open()
	if err != nil {
		return nil, err
	}
	s, err := NewReader(port, opts)
	if err != nil {
		port.Close()
		return nil, err
	}
	s.reopen = open
	return s, nil
}
