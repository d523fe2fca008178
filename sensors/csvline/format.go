package csvline

import (
	"strconv"
	"time"
)

// AppendHeader appends a header line, the time column DefaultTimeColumn
// followed by names, separated by sep and ended by '\n', to dst and returns
// the extended slice. Names must not contain sep, CR or LF.
func AppendHeader(dst []byte, names []string, sep byte) []byte {
	dst = append(dst, DefaultTimeColumn...)
	for _, n := range names {
		dst = append(dst, sep)
		dst = append(dst, n...)
	}
	return append(dst, '\n')
}

// AppendLine appends one data line matching AppendHeader's layout to dst and
// returns the extended slice: t as AppendTime writes it (UTC, milliseconds),
// then each value in the shortest form that parses back to the same float32
// (strconv 'g', -1, 32), NaN as an empty field, separated by sep and ended
// by '\n'. Infinities are written as "+Inf"/"-Inf", which Parse rejects.
// It does not allocate when dst has room.
func AppendLine(dst []byte, t time.Time, values []float32, sep byte) []byte {
	dst = AppendTime(dst, t)
	for _, v := range values {
		dst = append(dst, sep)
		if v != v { // NaN
			continue
		}
		dst = strconv.AppendFloat(dst, float64(v), 'g', -1, 32)
	}
	return append(dst, '\n')
}
