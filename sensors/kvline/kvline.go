// Package kvline parses the two line formats devices print besides CSV:
// key=value pairs ("Pressure=1.02 Current=2.5", separated by spaces, tabs,
// commas or semicolons) and flat JSON objects, one per line
// ({"Pressure": 1.02, "Current": 2.5}). Values are matched to channels by
// name; unknown keys are ignored, and a channel the line does not name
// reads NaN (a missing value, which the agent reports as a sensor fault).
//
// A time key (default "datetime") in csvline's format stamps the sample;
// without one the caller stamps it. Numbers follow csvline: NaN, Inf and
// numbers beyond float32 are kept as values; JSON null is NaN. Parsing a
// good line allocates nothing.
//
// It does not frame lines (see sensors/serial), does not read nested JSON
// (an object or array value is an error) and does not unescape keys: a key
// with escapes matches no channel.
package kvline

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
)

// Format is a line format.
type Format uint8

// The formats.
const (
	KeyValue Format = iota + 1 // key=value pairs
	JSON                       // a flat JSON object
)

// ParseFormat returns the Format named "kv" or "json".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "kv":
		return KeyValue, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("kvline: format %q: want kv or json", s)
}

// ErrSyntax is wrapped by every error about a line's form.
var ErrSyntax = errors.New("kvline: bad line")

// Parser maps lines of one format to samples of fixed channels. It is
// not safe for concurrent use.
type Parser struct {
	format  Format
	idx     map[string]int
	timeKey string
	n       int
	hasTime bool // the last line parsed carried the time key
}

// New returns a Parser for channels (unique, non-empty names). timeKey ""
// means csvline.DefaultTimeColumn.
func New(format Format, channels []string, timeKey string) (*Parser, error) {
	if format != KeyValue && format != JSON {
		return nil, fmt.Errorf("kvline: unknown format %d", format)
	}
	if timeKey == "" {
		timeKey = csvline.DefaultTimeColumn
	}
	if len(channels) == 0 {
		return nil, errors.New("kvline: no channels")
	}
	p := &Parser{format: format, idx: make(map[string]int, len(channels)), timeKey: timeKey, n: len(channels)}
	for i, c := range channels {
		if c == "" || c == timeKey {
			return nil, fmt.Errorf("kvline: channel %d %q is empty or the time key", i, c)
		}
		if _, dup := p.idx[c]; dup {
			return nil, fmt.Errorf("kvline: channel %q wanted twice", c)
		}
		p.idx[c] = i
	}
	return p, nil
}

// HasTime reports whether the last line parsed carried the time key.
func (p *Parser) HasTime() bool { return p.hasTime }

// Parse reads one line (without its line end) into s: s.Values[i] for
// channel i, NaN where the line does not name it, and s.Time from the time
// key (zero without one). On error s holds partial results.
func (p *Parser) Parse(line []byte, s *sensors.Sample) error {
	if len(s.Values) < p.n {
		return fmt.Errorf("kvline: sample has %d values, want %d", len(s.Values), p.n)
	}
	nan := float32(math.NaN())
	for i := range p.n {
		s.Values[i] = nan
	}
	s.Time, p.hasTime = time.Time{}, false
	if p.format == JSON {
		return p.parseJSON(line, s)
	}
	return p.parseKV(line, s)
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\r' }

func (p *Parser) parseKV(line []byte, s *sensors.Sample) error {
	pairs := 0
	for i := 0; i < len(line); {
		for i < len(line) && isSep(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		for i < len(line) && !isSep(line[i]) {
			i++
		}
		field := line[start:i]
		eq := -1
		for j, c := range field {
			if c == '=' {
				eq = j
				break
			}
		}
		if eq <= 0 {
			return fmt.Errorf("%w: %s: want key=value", ErrSyntax, quote(field))
		}
		key, val := field[:eq], field[eq+1:]
		// A time value holds a space: "datetime=2024-01-01 00:00:00".
		if string(key) == p.timeKey && len(val) == 10 && i < len(line) && line[i] == ' ' {
			end := i + 1
			for end < len(line) && !isSep(line[end]) {
				end++
			}
			val, i = line[start+eq+1:end], end
		}
		if err := p.set(key, val, s); err != nil {
			return err
		}
		pairs++
	}
	if pairs == 0 {
		return fmt.Errorf("%w: no key=value pairs", ErrSyntax)
	}
	return nil
}

// set stores one value by key; unknown keys are ignored.
func (p *Parser) set(key, val []byte, s *sensors.Sample) error {
	if string(key) == p.timeKey {
		t, err := csvline.ParseTime(val)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrSyntax, p.timeKey, err)
		}
		s.Time, p.hasTime = t, true
		return nil
	}
	i, ok := p.idx[string(key)]
	if !ok {
		return nil
	}
	v, ok := number(val)
	if !ok {
		return fmt.Errorf("%w: %s: want a number, got %s", ErrSyntax, key, quote(val))
	}
	s.Values[i] = v
	return nil
}

// number parses a value as csvline does: NaN, ±Inf and numbers beyond
// float32 (±Inf) are kept; empty is NaN.
func number(b []byte) (float32, bool) {
	if len(b) == 0 {
		return float32(math.NaN()), true
	}
	v, err := strconv.ParseFloat(string(b), 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return float32(v), true
		}
		return 0, false
	}
	return float32(v), true
}

func (p *Parser) parseJSON(line []byte, s *sensors.Sample) error {
	i := skipWS(line, 0)
	if i == len(line) || line[i] != '{' {
		return fmt.Errorf("%w: want a JSON object {...}", ErrSyntax)
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return fmt.Errorf("%w: empty object", ErrSyntax)
	}
	for {
		key, next, ok := jsonString(line, i)
		if !ok {
			return fmt.Errorf("%w: want a quoted key at byte %d", ErrSyntax, i+1)
		}
		i = skipWS(line, next)
		if i == len(line) || line[i] != ':' {
			return fmt.Errorf("%w: want ':' after key %s", ErrSyntax, quote(key))
		}
		i = skipWS(line, i+1)
		if i == len(line) {
			return fmt.Errorf("%w: no value for %s", ErrSyntax, quote(key))
		}
		var val []byte
		skip := false // a boolean: no channel reads one
		switch c := line[i]; {
		case c == '"':
			str, next, ok := jsonString(line, i)
			if !ok {
				return fmt.Errorf("%w: unterminated string for %s", ErrSyntax, quote(key))
			}
			val, i = str, next
		case c == '{' || c == '[':
			return fmt.Errorf("%w: %s: nested values are not read", ErrSyntax, quote(key))
		default:
			start := i
			for i < len(line) && line[i] != ',' && line[i] != '}' && line[i] != ' ' && line[i] != '\t' {
				i++
			}
			val = line[start:i]
			switch string(val) {
			case "null":
				val = nil // NaN
			case "true", "false":
				skip = true
			}
		}
		if !skip {
			if err := p.set(key, val, s); err != nil {
				return err
			}
		}
		i = skipWS(line, i)
		if i == len(line) {
			return fmt.Errorf("%w: unterminated object", ErrSyntax)
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			if j := skipWS(line, i+1); j != len(line) {
				return fmt.Errorf("%w: text after the object", ErrSyntax)
			}
			return nil
		default:
			return fmt.Errorf("%w: want ',' or '}' at byte %d", ErrSyntax, i+1)
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonString returns the raw bytes of the string starting at b[i] (a
// quote) and the index after its closing quote.
func jsonString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i+1 : j], j + 1, true
		}
	}
	return nil, i, false
}

func quote(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}
