package csvline

import (
	"bytes"
	"fmt"
	"strconv"
)

var bom = []byte("\xef\xbb\xbf")

// ParseHeader splits a header line into column names, so that a reader that
// meets one can build a new Layout from it. It drops trailing CR/LF, a
// leading UTF-8 byte order mark, spaces and tabs around names and double
// quotes around a whole name. The separator is Opts.Separator or, if 0,
// detected as Parse does. It fails on a blank line and on more than
// Opts.MaxFields fields. The names are new strings (this allocates).
func ParseHeader(line []byte, opts Opts) ([]string, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	line = bytes.TrimPrefix(trimEOL(line), bom)
	if len(trimSpace(line)) == 0 {
		return nil, fmt.Errorf("csvline: blank header line")
	}
	sep := opts.Separator
	if sep == 0 {
		sep = detectSep(line)
	}
	if n := bytes.Count(line, []byte{sep}) + 1; n > opts.MaxFields {
		return nil, fmt.Errorf("csvline: header has %d fields, more than the limit of %d", n, opts.MaxFields)
	}
	var names []string
	for f := range bytes.SplitSeq(line, []byte{sep}) {
		names = append(names, string(unquote(trimSpace(f))))
	}
	return names, nil
}

func unquote(f []byte) []byte {
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		return f[1 : len(f)-1]
	}
	return f
}

// IsHeader reports whether line looks like a header rather than data: its
// first field is the time column's name (Opts.TimeColumn), or every field is
// non-empty and none is a number or a datetime. It does not allocate for
// data lines and for headers whose names start with a letter (other than
// n or i), as long as fields are at most 32 bytes long.
//
// The second rule also matches stray text such as a device's boot message;
// callers should treat a header that lacks the channels they want as a bad
// line (NewLayout says which are missing) rather than trust it.
func IsHeader(line []byte, opts Opts) bool {
	tc := opts.TimeColumn
	if tc == "" {
		tc = DefaultTimeColumn
	}
	line = bytes.TrimPrefix(trimEOL(line), bom)
	if len(trimSpace(line)) == 0 {
		return false
	}
	sep := opts.Separator
	if sep == 0 {
		sep = detectSep(line)
	}
	first := true
	for len(line) > 0 || first {
		f := line
		if i := bytes.IndexByte(line, sep); i >= 0 {
			f, line = line[:i], line[i+1:]
			if len(line) == 0 {
				return false // trailing separator: an empty last field
			}
		} else {
			line = nil
		}
		f = unquote(trimSpace(f))
		if first && string(f) == tc {
			return true
		}
		first = false
		if len(f) == 0 {
			return false
		}
		if _, ok := parseTime(f); ok || isNumber(f) {
			return false
		}
	}
	return true
}

// isNumber reports whether ParseFloat accepts f (out of range included).
// Fields that cannot start a number are rejected without calling ParseFloat,
// whose errors allocate.
func isNumber(f []byte) bool {
	switch c := f[0]; {
	case c >= '0' && c <= '9', c == '+', c == '-', c == '.', c == 'n', c == 'N', c == 'i', c == 'I':
	default:
		return false
	}
	_, err := strconv.ParseFloat(string(f), 64)
	if err == nil {
		return true
	}
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
