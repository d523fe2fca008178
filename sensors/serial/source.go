package serial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
	"github.com/vigil-edge/vigil/sensors/kvline"
)

// Defaults applied by Open and NewReader to zero fields of Opts.
const (
	DefaultBaud        = 115200
	DefaultMaxLine     = 4096
	DefaultReadTimeout = 200 * time.Millisecond
)

// DefaultOpts returns the values Open fills in for zero fields: 115200
// baud 8N1, lines up to 4096 bytes, reads of at most 200 ms. Device and
// Channels are left for the caller.
func DefaultOpts() Opts {
	return Opts{Baud: DefaultBaud, DataBits: 8, Parity: 'N', StopBits: 1, MaxLine: DefaultMaxLine, ReadTimeout: DefaultReadTimeout}
}

// Limits on Opts.MaxLine.
const (
	MinMaxLine = 64
	MaxMaxLine = 1 << 20
)

// LogInterval is the least time between two reports of bad lines.
const LogInterval = 10 * time.Second

// ErrClosed is returned by Read after Close. It matches fs.ErrClosed.
var ErrClosed = fmt.Errorf("serial: source closed: %w", fs.ErrClosed)

var errNoLayout = errors.New("no layout: Opts.Columns is empty or a header dropped it; waiting for a header line that names every wanted channel")

// Opts configures a Source. Open and NewReader validate it and name the
// offending field in their error.
type Opts struct {
	// Device is the serial device path, e.g. /dev/ttyUSB0. For NewReader
	// it is only a name used in errors and logs.
	Device string
	// Baud is the line speed in bit/s; 0 means DefaultBaud. Ignored by
	// NewReader, as are the framing fields below.
	Baud int
	// DataBits is 7 or 8 (0 means 8).
	DataBits int
	// Parity is 'N' (none; also 0), 'E' (even) or 'O' (odd).
	Parity byte
	// StopBits is 1 or 2 (0 means 1).
	StopBits int
	// Scale converts raw readings of the named channels to engineering
	// units: value×Gain + Offset (a 4–20 mA transmitter read as counts,
	// say). Channels not named are passed on as read.
	Scale map[string]Linear
	// Format is the line format: "" or "csv" (the default), "kv"
	// (key=value pairs) or "json" (a flat JSON object per line); see
	// sensors/kvline. Columns, Separator and headers apply to CSV only.
	Format string
	// Columns is the order of fields on bare data lines, e.g.
	// "datetime", "Current", "Pressure". Empty means the stream announces
	// its layout in a header line, and data lines before it are bad.
	Columns []string
	// Channels are the wanted channel names, in the order Read writes them
	// to Sample.Values. Required.
	Channels []string
	// Separator is the field separator, or 0 to accept ';' and ','
	// detected per line.
	Separator byte
	// TimeColumn names the time column; "" means csvline.DefaultTimeColumn.
	// Lines of a layout without a time column are stamped with Now(), in
	// UTC, when read.
	TimeColumn string
	// MaxLine is the longest line accepted, in bytes including the line
	// end; 0 means DefaultMaxLine. Longer lines are bad lines.
	MaxLine int
	// ReadTimeout bounds each read from the device so that Read notices a
	// cancelled context; 0 means DefaultReadTimeout. Ignored by NewReader.
	ReadTimeout time.Duration
	// Logger receives reports of bad lines; nil means they are only
	// counted.
	Logger *slog.Logger
	// Now is the clock for the log rate limit and for stamping lines that
	// carry no time; nil means time.Now.
	Now func() time.Time
}

// Linear is a linear conversion, value×Gain + Offset. Gain must be
// finite and non-zero, Offset finite.
type Linear struct {
	Gain, Offset float64
}

// Stats counts lines since the Source was made.
type Stats struct {
	Lines   uint64 // non-blank lines read, good or bad, headers included
	Bad     uint64 // lines skipped: too long, not valid CSV, or no layout yet
	Headers uint64 // header lines that re-mapped the columns
	Losses  uint64 // times the device went away (Open's sources only)
}

// The wait before reopening a lost device starts at ReopenMin and
// doubles after every failed attempt up to ReopenMax.
const (
	ReopenMin = 250 * time.Millisecond
	ReopenMax = 5 * time.Second
)

// Source reads samples from CSV text lines. Like every sensors.Source it is
// not safe for concurrent use, except that Close and Stats may be called
// from any goroutine at any time.
type Source struct {
	rc       io.ReadCloser // nil while a lost device is being reopened
	reopen   func() (io.ReadCloser, error)
	wait     time.Duration // before the next reopen attempt
	mu       sync.Mutex    // guards rc against Close while it is swapped
	done     chan struct{} // closed by Close
	name     string
	channels []string
	csvOpts  csvline.Opts
	layout   *csvline.Layout // nil until Columns or a header give one
	kv       *kvline.Parser  // for the kv and json formats, else nil
	log      *slog.Logger
	now      func() time.Time

	gain, off  []float32 // per channel; nil when nothing is scaled
	buf        []byte    // fixed, len MaxLine
	r, w       int       // unread bytes are buf[r:w]
	discarding bool      // inside an overlong line, skipping to its end
	eof        bool      // the reader reported io.EOF

	closed              atomic.Bool
	lines, bad, headers atomic.Uint64
	losses              atomic.Uint64
	lastLog             time.Time
	suppressed          uint64
}

var _ sensors.Source = (*Source)(nil)

// NewReader returns a Source that reads lines from r, which it then owns
// and closes on Close (on error r is left to the caller). Read returns io.EOF at the end of r (a last line without
// a line end is still read). A Read blocked inside r.Read notices ctx only
// when r.Read returns; a read that returns (0, nil) is taken as "no data
// yet" and gives Read a chance to check ctx. Close closes r, which for
// files, pipes and serial ports makes a blocked read return.
func NewReader(r io.ReadCloser, opts Opts) (*Source, error) {
	if r == nil {
		return nil, errors.New("serial: nil reader")
	}
	if err := opts.validate(false); err != nil {
		return nil, err
	}
	s := &Source{
		rc:       r,
		name:     opts.Device,
		channels: append([]string(nil), opts.Channels...),
		csvOpts:  csvline.Opts{Separator: opts.Separator, TimeColumn: opts.TimeColumn},
		log:      opts.Logger,
		now:      opts.Now,
		buf:      make([]byte, opts.MaxLine),
		done:     make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.name == "" {
		s.name = "reader"
	}
	if len(opts.Scale) > 0 {
		s.gain, s.off = make([]float32, len(s.channels)), make([]float32, len(s.channels))
		for i, ch := range s.channels {
			lin, ok := opts.Scale[ch]
			if !ok {
				lin.Gain = 1
			}
			s.gain[i], s.off[i] = float32(lin.Gain), float32(lin.Offset)
		}
	}
	if opts.Format != "" && opts.Format != "csv" {
		f, err := kvline.ParseFormat(opts.Format)
		if err != nil {
			return nil, fmt.Errorf("serial: Opts.Format: %w", err)
		}
		if s.kv, err = kvline.New(f, opts.Channels, opts.TimeColumn); err != nil {
			return nil, fmt.Errorf("serial: Opts.Channels/TimeColumn: %w", err)
		}
	} else if len(opts.Columns) > 0 {
		l, err := csvline.NewLayout(opts.Columns, opts.Channels, s.csvOpts)
		if err != nil {
			return nil, fmt.Errorf("serial: Opts.Columns/Channels: %w", err)
		}
		s.layout = l
	}
	return s, nil
}

// validate checks opts and fills in defaults; device says whether the
// device fields (Device, Baud, ReadTimeout) matter.
func (o *Opts) validate(device bool) error {
	if device && o.Device == "" {
		return errors.New("serial: Opts.Device is empty")
	}
	if device {
		if o.Baud == 0 {
			o.Baud = DefaultBaud
		}
		if o.Baud < 0 {
			return fmt.Errorf("serial: Opts.Baud %d is negative", o.Baud)
		}
		if o.ReadTimeout == 0 {
			o.ReadTimeout = DefaultReadTimeout
		}
		if o.ReadTimeout < time.Millisecond {
			return fmt.Errorf("serial: Opts.ReadTimeout %v is below 1ms", o.ReadTimeout)
		}
		if o.DataBits == 0 {
			o.DataBits = 8
		}
		if o.DataBits != 7 && o.DataBits != 8 {
			return fmt.Errorf("serial: Opts.DataBits %d: want 7 or 8", o.DataBits)
		}
		if o.Parity == 0 {
			o.Parity = 'N'
		}
		if o.Parity != 'N' && o.Parity != 'E' && o.Parity != 'O' {
			return fmt.Errorf("serial: Opts.Parity %q: want 'N', 'E' or 'O'", o.Parity)
		}
		if o.StopBits == 0 {
			o.StopBits = 1
		}
		if o.StopBits != 1 && o.StopBits != 2 {
			return fmt.Errorf("serial: Opts.StopBits %d: want 1 or 2", o.StopBits)
		}
	}
	for ch, lin := range o.Scale {
		if !slices.Contains(o.Channels, ch) {
			return fmt.Errorf("serial: Opts.Scale names %q, which is not among the channels %q", ch, o.Channels)
		}
		if lin.Gain == 0 || math.IsInf(lin.Gain, 0) || math.IsNaN(lin.Gain) || math.IsInf(lin.Offset, 0) || math.IsNaN(lin.Offset) {
			return fmt.Errorf("serial: Opts.Scale[%q] gain %v offset %v: want a finite non-zero gain and a finite offset", ch, lin.Gain, lin.Offset)
		}
	}
	if len(o.Channels) == 0 {
		return errors.New("serial: Opts.Channels is empty")
	}
	if o.MaxLine == 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.MaxLine < MinMaxLine || o.MaxLine > MaxMaxLine {
		return fmt.Errorf("serial: Opts.MaxLine %d is outside %d..%d", o.MaxLine, MinMaxLine, MaxMaxLine)
	}
	// A layout of the channels alone checks Channels, Separator and
	// TimeColumn.
	if _, err := csvline.NewLayout(o.Channels, o.Channels, csvline.Opts{Separator: o.Separator, TimeColumn: o.TimeColumn}); err != nil {
		return fmt.Errorf("serial: Opts.Channels/Separator/TimeColumn: %w", err)
	}
	return nil
}

// Channels returns Opts.Channels. The slice belongs to the Source and must
// not be modified.
func (s *Source) Channels() []string { return s.channels }

// Stats returns the line counters. It is safe to call from any goroutine.
func (s *Source) Stats() Stats {
	return Stats{Lines: s.lines.Load(), Bad: s.bad.Load(), Headers: s.headers.Load(), Losses: s.losses.Load()}
}

// Close closes the device or reader and makes a blocked Read return
// ErrClosed. It is safe to call more than once and from any goroutine;
// calls after the first return nil.
func (s *Source) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rc == nil {
		return nil
	}
	if err := s.rc.Close(); err != nil {
		return fmt.Errorf("serial: close %s: %w", s.name, err)
	}
	return nil
}

// String names the source for logs: "serial /dev/ttyUSB0".
func (s *Source) String() string { return "serial " + s.name }

// lose closes a device that failed and returns the error Read reports:
// it wraps sensors.ErrAbsent, and the next Read tries to reopen it.
func (s *Source) lose(err error) error {
	s.mu.Lock()
	s.rc.Close()
	s.rc = nil
	s.mu.Unlock()
	s.r, s.w, s.discarding = 0, 0, false
	s.wait = ReopenMin
	s.losses.Add(1)
	if s.log != nil {
		s.log.Warn("serial: device lost; reopening", "device", s.name, "err", err)
	}
	return fmt.Errorf("serial: %s: device lost (%v); reopening: %w", s.name, err, sensors.ErrAbsent)
}

// regain waits, then tries once to reopen the lost device. It returns nil
// once the device is back, else the error Read reports.
func (s *Source) regain(ctx context.Context) error {
	t := time.NewTimer(s.wait)
	select {
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	case <-s.done:
		t.Stop()
		return ErrClosed
	case <-t.C:
	}
	rc, err := s.reopen()
	if err != nil {
		s.wait = min(2*s.wait, ReopenMax)
		return fmt.Errorf("serial: %s: still absent (%v); next attempt in %v: %w", s.name, err, s.wait, sensors.ErrAbsent)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		rc.Close()
		return ErrClosed
	}
	s.rc = rc
	if s.log != nil {
		s.log.Info("serial: device back", "device", s.name)
	}
	return nil
}

// Read reads lines until one parses into smp, which must have
// len(Channels()) values; bad lines and headers are handled as the package
// documentation describes. smp.Time comes from the line's time column, or
// from Now() when the layout has none. Read returns ctx.Err() when ctx
// ends, io.EOF at the end of a reader, ErrClosed after Close, and a wrapped
// error when the device fails. For a device opened by Open that error
// wraps sensors.ErrAbsent (an adapter unplugged, say): the device is
// closed, and the following Reads wait (ReopenMin, doubling to ReopenMax)
// and try to reopen it, returning an ErrAbsent error after each failed
// attempt, until it is back. A good line costs no allocations.
func (s *Source) Read(ctx context.Context, smp *sensors.Sample) error {
	if len(smp.Values) < len(s.channels) {
		return fmt.Errorf("serial: sample has %d values, want %d", len(smp.Values), len(s.channels))
	}
	for {
		line, err := s.nextLine(ctx)
		if err != nil {
			return err
		}
		line = trimLine(line)
		if len(line) == 0 {
			continue
		}
		s.lines.Add(1)
		if n := nonText(line); n > 0 {
			s.report("non-text line", line, fmt.Errorf("%d of its %d bytes are not text: check the baud rate, the framing (data bits, parity, stop bits) and that this is the right device", n, len(line)))
			continue
		}
		if s.kv != nil {
			if err := s.kv.Parse(line, smp); err != nil {
				s.report("invalid line", line, err)
				continue
			}
			if !s.kv.HasTime() {
				smp.Time = s.now().UTC()
			}
			s.scale(smp)
			return nil
		}
		var perr error
		if s.layout != nil {
			if perr = s.layout.Parse(line, smp); perr == nil {
				if !s.layout.HasTime() {
					smp.Time = s.now().UTC()
				}
				s.scale(smp)
				return nil
			}
		}
		if csvline.IsHeader(line, s.csvOpts) {
			s.header(line)
			continue
		}
		if perr == nil {
			perr = errNoLayout
		}
		s.report("invalid line", line, perr)
	}
}

// scale converts the sample to engineering units (Opts.Scale).
func (s *Source) scale(smp *sensors.Sample) {
	for i := range s.gain {
		smp.Values[i] = smp.Values[i]*s.gain[i] + s.off[i]
	}
}

// header re-maps the columns from a header line, or reports it as bad.
func (s *Source) header(line []byte) {
	cols, err := csvline.ParseHeader(line, s.csvOpts)
	if err == nil {
		var l *csvline.Layout
		if l, err = csvline.NewLayout(cols, s.channels, s.csvOpts); err == nil {
			s.layout = l
			s.headers.Add(1)
			return
		}
		tc := s.csvOpts.TimeColumn
		if tc == "" {
			tc = csvline.DefaultTimeColumn
		}
		if len(cols) > 0 && cols[0] == tc {
			// A real header of a layout we cannot read: stop trusting
			// the old one.
			s.layout = nil
			err = fmt.Errorf("%w; data lines are now bad until a header names them", err)
		}
	}
	s.report("unusable header", line, err)
}

// report counts a bad line and logs it, at most once per LogInterval.
func (s *Source) report(what string, line []byte, err error) {
	s.bad.Add(1)
	if s.log == nil {
		return
	}
	now := s.now()
	if !s.lastLog.IsZero() && now.Sub(s.lastLog) < LogInterval && now.Sub(s.lastLog) >= 0 {
		s.suppressed++
		return
	}
	const max = 80
	shown := line
	if len(shown) > max {
		shown = shown[:max]
	}
	s.log.Warn("serial: skipped "+what, "device", s.name, "line", string(shown), "err", err, "suppressed", s.suppressed)
	s.lastLog = now
	s.suppressed = 0
}

// nonText counts the bytes of line that no text line holds: control
// characters other than tab, DEL, and bytes of invalid UTF-8 (all of
// them, as one, if the line is not UTF-8). Line noise at the wrong baud
// rate looks like this.
func nonText(line []byte) int {
	n := 0
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			n++
		}
	}
	if !utf8.Valid(line) {
		n++
	}
	return n
}

// trimLine drops the line end and surrounding blanks.
func trimLine(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\r' || b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// nextLine returns the next line without its '\n'. The line is a view of
// s.buf, valid until the next call.
func (s *Source) nextLine(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		if i := bytes.IndexByte(s.buf[s.r:s.w], '\n'); i >= 0 {
			line := s.buf[s.r : s.r+i]
			s.r += i + 1
			if s.discarding { // the end of an overlong line, already reported
				s.discarding = false
				continue
			}
			return line, nil
		}
		if s.eof {
			if s.discarding {
				s.discarding = false
				s.r, s.w = 0, 0
			}
			if s.r < s.w { // last line without a line end
				line := s.buf[s.r:s.w]
				s.r = s.w
				return line, nil
			}
			return nil, io.EOF
		}
		// No complete line buffered: make room and read more.
		switch {
		case s.discarding:
			s.r, s.w = 0, 0
		case s.r > 0:
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		case s.w == len(s.buf):
			// A full buffer without a line end: report the line by its
			// start and skip to its end.
			s.lines.Add(1)
			s.report("overlong line", s.buf, fmt.Errorf("line longer than Opts.MaxLine (%d bytes)", len(s.buf)))
			s.discarding = true
			s.r, s.w = 0, 0
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.rc == nil { // lost: try to get the device back
			if err := s.regain(ctx); err != nil {
				return nil, err
			}
		}
		n, err := s.rc.Read(s.buf[s.w:])
		if n > 0 {
			s.w += n
		}
		if err != nil {
			if s.closed.Load() {
				return nil, ErrClosed
			}
			if err == io.EOF {
				s.eof = true
				continue
			}
			if s.reopen != nil {
				return nil, s.lose(err)
			}
			return nil, fmt.Errorf("serial: read %s: %w", s.name, err)
		}
	}
}
