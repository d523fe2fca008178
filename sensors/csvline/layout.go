package csvline

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// DefaultTimeColumn is the name of the time column when Opts.TimeColumn is
// empty.
const DefaultTimeColumn = "datetime"

// DefaultMaxFields is the limit on fields per line when Opts.MaxFields is 0.
const DefaultMaxFields = 256

// Opts configures a Layout and the header helpers. The zero value accepts
// SKAB files and ',' separated lines alike.
type Opts struct {
	// Separator is the only field separator accepted, or 0 to detect it
	// per line: ';' if the line contains one, ',' otherwise. It must not
	// be a byte that can appear inside a number or a datetime, nor CR or LF.
	Separator byte
	// MaxFields limits the number of columns of a layout and of a header
	// line; 0 means DefaultMaxFields.
	MaxFields int
	// TimeColumn names the time column; "" means DefaultTimeColumn.
	TimeColumn string
}

func (o Opts) withDefaults() (Opts, error) {
	if o.TimeColumn == "" {
		o.TimeColumn = DefaultTimeColumn
	}
	if o.MaxFields == 0 {
		o.MaxFields = DefaultMaxFields
	}
	if o.MaxFields < 0 {
		return o, fmt.Errorf("csvline: Opts.MaxFields %d is negative", o.MaxFields)
	}
	switch c := o.Separator; {
	case c == 0:
	case c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '.' || c == '+' || c == '-' || c == ':' || c == '"',
		c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= 0x80:
		return o, fmt.Errorf("csvline: Opts.Separator %q cannot separate numbers and datetimes (use ';' or ',')", c)
	}
	return o, nil
}

// role of a column in a layout: roleTime, roleSkip or, when >= 0, the index
// of the wanted channel it holds.
const (
	roleSkip = -1
	roleTime = -2
)

// Layout maps the fields of a line onto the channels a caller wants. It is
// immutable once built, so one Layout may be used by many goroutines at once
// (each with its own Sample).
type Layout struct {
	columns []string
	want    []string
	roles   []int // per column
	timeCol int   // index of the time column, -1 if none
	sep     byte
}

// NewLayout builds the layout of lines whose fields are named by columns, in
// order, extracting the channels named by want, in want's order. columns may
// contain the time column (Opts.TimeColumn) and columns nobody wants; both
// lists are copied. The error names every wanted channel missing from
// columns, and rejects empty or duplicate wanted names, a wanted name that
// appears twice in columns and more than Opts.MaxFields columns.
func NewLayout(columns, want []string, opts Opts) (*Layout, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(columns) == 0 {
		return nil, fmt.Errorf("csvline: no columns")
	}
	if len(columns) > opts.MaxFields {
		return nil, fmt.Errorf("csvline: %d columns, more than the limit of %d", len(columns), opts.MaxFields)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("csvline: no channels wanted")
	}
	l := &Layout{
		columns: append([]string(nil), columns...),
		want:    append([]string(nil), want...),
		roles:   make([]int, len(columns)),
		timeCol: -1,
		sep:     opts.Separator,
	}
	wantIdx := make(map[string]int, len(want))
	for i, w := range want {
		switch {
		case w == "":
			return nil, fmt.Errorf("csvline: wanted channel %d has an empty name", i+1)
		case w == opts.TimeColumn:
			return nil, fmt.Errorf("csvline: wanted channel %q is the time column", w)
		}
		if _, dup := wantIdx[w]; dup {
			return nil, fmt.Errorf("csvline: channel %q wanted twice", w)
		}
		wantIdx[w] = i
	}
	found := make([]bool, len(want))
	for i, c := range columns {
		l.roles[i] = roleSkip
		if c == opts.TimeColumn {
			if l.timeCol >= 0 {
				return nil, fmt.Errorf("csvline: time column %q appears twice (columns %d and %d)", c, l.timeCol+1, i+1)
			}
			l.timeCol = i
			l.roles[i] = roleTime
			continue
		}
		if w, ok := wantIdx[c]; ok {
			if found[w] {
				return nil, fmt.Errorf("csvline: wanted channel %q appears twice in the columns", c)
			}
			found[w] = true
			l.roles[i] = w
		}
	}
	var missing []string
	for i, ok := range found {
		if !ok {
			missing = append(missing, strconv.Quote(want[i]))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("csvline: wanted channels missing from the columns: %s", strings.Join(missing, ", "))
	}
	return l, nil
}

// Columns returns the column names of a line, in order. The slice belongs to
// the Layout and must not be modified.
func (l *Layout) Columns() []string { return l.columns }

// Channels returns the wanted channel names, in the order Parse writes
// them to Sample.Values. The slice belongs to the Layout and must not be
// modified.
func (l *Layout) Channels() []string { return l.want }

// HasTime reports whether the layout has a time column.
func (l *Layout) HasTime() bool { return l.timeCol >= 0 }

// ParseError describes a line that does not fit its layout.
type ParseError struct {
	// Column is the name of the offending column, "" when the line as a
	// whole is wrong (the number of fields).
	Column string
	// Field is the 1-based position of the offending field on the line,
	// 0 when the line as a whole is wrong.
	Field int
	// Msg says what was expected and what was found.
	Msg string
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Field == 0 {
		return "csvline: " + e.Msg
	}
	return fmt.Sprintf("csvline: field %d (%s): %s", e.Field, e.Column, e.Msg)
}

// Parse parses one line into s: s.Time from the time column (the zero Time
// if the layout has none) and s.Values[i] from the column of Channels()[i].
// s.Values must have at least len(Channels()) elements; the rest are left
// alone. Trailing CR and LF are ignored, as are spaces and tabs around a
// field. An empty field yields NaN; "NaN", "Inf" and numbers beyond
// float32's range yield NaN and ±Inf (a sensor fault, for the caller to
// report, not a bad line). A field that is not a number, a bad datetime or
// a wrong number of fields yields a *ParseError, after which s holds
// partial results.
//
// Parse does not allocate, except when it returns an error and for numeric
// fields longer than 32 bytes. It does not retain line or s.
func (l *Layout) Parse(line []byte, s *sensors.Sample) error {
	if len(s.Values) < len(l.want) {
		return &ParseError{Msg: fmt.Sprintf("sample has %d values, layout needs %d", len(s.Values), len(l.want))}
	}
	line = trimEOL(line)
	sep := l.sep
	if sep == 0 {
		sep = detectSep(line)
	}
	if bytes.Count(line, []byte{sep})+1 != len(l.roles) {
		return l.countError(line, sep)
	}
	s.Time = time.Time{}
	field, start := 0, 0
	for {
		end := bytes.IndexByte(line[start:], sep)
		if end < 0 {
			end = len(line)
		} else {
			end += start
		}
		f := trimSpace(line[start:end])
		switch r := l.roles[field]; {
		case r >= 0:
			v, ok := parseValue(f)
			if !ok {
				return l.valueError(field, f)
			}
			s.Values[r] = v
		case r == roleTime:
			t, ok := parseTime(f)
			if !ok {
				return l.timeError(field, f)
			}
			s.Time = t
		}
		field++
		if end == len(line) {
			return nil
		}
		start = end + 1
	}
}

// parseValue parses one numeric field: empty is NaN; NaN, ±Inf and numbers
// beyond float32's range (read as ±Inf) are kept, for the caller to
// report as a sensor fault; anything that is not a number fails.
func parseValue(f []byte) (float32, bool) {
	if len(f) == 0 {
		return float32(math.NaN()), true
	}
	// The conversion does not allocate for fields of up to 32 bytes: the
	// string does not escape (strconv clones it into its errors).
	v, err := strconv.ParseFloat(string(f), 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return float32(v), true
		}
		return 0, false
	}
	return float32(v), true
}

func (l *Layout) countError(line []byte, sep byte) error {
	n := bytes.Count(line, []byte{sep}) + 1
	return &ParseError{Msg: fmt.Sprintf("line has %d fields separated by %q, want %d (%s)", n, sep, len(l.columns), quoteLine(line))}
}

func (l *Layout) valueError(field int, f []byte) error {
	return &ParseError{Column: l.columns[field], Field: field + 1,
		Msg: fmt.Sprintf("want a number or an empty field, got %s", quoteLine(f))}
}

func (l *Layout) timeError(field int, f []byte) error {
	return &ParseError{Column: l.columns[field], Field: field + 1,
		Msg: fmt.Sprintf("want a datetime YYYY-MM-DD hh:mm:ss[.fff] or RFC 3339 (2024-01-02T03:04:05Z, +02:00), got %s", quoteLine(f))}
}

// quoteLine quotes b for an error message, cut to a readable length.
func quoteLine(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

// detectSep picks ';' if the line has one, ',' otherwise.
func detectSep(line []byte) byte {
	if bytes.IndexByte(line, ';') >= 0 {
		return ';'
	}
	return ','
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
