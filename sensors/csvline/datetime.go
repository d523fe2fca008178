package csvline

import (
	"fmt"
	"time"
)

// ParseTime parses a SKAB datetime, "YYYY-MM-DD hh:mm:ss" with optional
// fractional seconds of 1 to 9 digits (".5", ".250", ".123456789"), as UTC,
// or an RFC 3339 time: a 'T' in place of the space and a zone, "Z" or an
// offset such as "+02:00" (the time is then converted to UTC). It does not
// allocate unless it returns an error.
func ParseTime(b []byte) (time.Time, error) {
	t, ok := parseTime(b)
	if !ok {
		return time.Time{}, fmt.Errorf("csvline: want a datetime YYYY-MM-DD hh:mm:ss[.fff] or RFC 3339 (2024-01-02T03:04:05Z, +02:00), got %s", quoteLine(b))
	}
	return t, nil
}

// zone splits an RFC 3339 zone ("Z", "+hh:mm", "-hh:mm") off the end of b
// and returns the offset east of UTC in seconds.
func zone(b []byte) (rest []byte, offset int, ok bool) {
	if n := len(b); n > 0 && (b[n-1] == 'Z' || b[n-1] == 'z') {
		return b[:n-1], 0, true
	}
	n := len(b)
	if n < 6 || (b[n-6] != '+' && b[n-6] != '-') || b[n-3] != ':' {
		return b, 0, true // no zone: UTC
	}
	h, ok1 := digits(b[n-5 : n-3])
	m, ok2 := digits(b[n-2:])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return b, 0, false
	}
	offset = h*3600 + m*60
	if b[n-6] == '-' {
		offset = -offset
	}
	return b[:n-6], offset, true
}

// parseTime is ParseTime without the error value.
func parseTime(b []byte) (time.Time, bool) {
	b, offset, ok := zone(b)
	if !ok {
		return time.Time{}, false
	}
	// 0123456789012345678
	// YYYY-MM-DD hh:mm:ss
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec-offset, nsec, time.UTC), true
}

// digits parses a run of 1 to 9 ASCII digits.
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// AppendTime appends t in UTC as "YYYY-MM-DD hh:mm:ss.fff" (milliseconds,
// truncated) to dst and returns the extended slice. Years outside 0 to 9999
// are written in full and do not parse back. It does not allocate when dst
// has room.
func AppendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year >= 0 && year <= 9999 {
		dst = appendPadded(dst, year, 4)
	} else {
		dst = appendPadded(dst, year, 1)
	}
	dst = append(dst, '-')
	dst = appendPadded(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, day, 2)
	dst = append(dst, ' ')
	dst = appendPadded(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec, 2)
	dst = append(dst, '.')
	return appendPadded(dst, t.Nanosecond()/1e6, 3)
}

// appendPadded appends n in decimal, zero-padded on the left to width.
func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n >= 10 || i > len(buf)-width+1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	buf[i] = byte('0' + n)
	return append(dst, buf[i:]...)
}
