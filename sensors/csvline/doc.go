// Package csvline parses and formats one line of CSV text in SKAB's layout,
// the one text format of vigil: recordings, simulator output, replay and
// the lines sensors print on a serial port.
//
// A line is a list of fields split by ';' or ','. One column may hold the
// time ("datetime" by default, formatted YYYY-MM-DD hh:mm:ss with optional
// fractional seconds, UTC); the others hold numbers. A [Layout] is built
// once from the column order of a file or device (from its header, see
// [ParseHeader], or from configuration) and the channel names the caller
// wants; [Layout.Parse] then maps every line straight into a
// [sensors.Sample] without allocating. An empty field is a missing value
// (NaN); NaN, Inf and numbers beyond float32's range (±Inf) are kept as
// they are, for the caller to treat as a sensor fault; anything else that
// is not a number is a [*ParseError] that names the field and what was
// expected.
//
// [AppendHeader] and [AppendLine] write the same layout, so what a writer
// produces a Layout reads back exactly (values bit for bit, time to the
// millisecond).
//
// This package is deliberately not a general CSV reader: it has no quoting
// or escaping of separators inside fields (SKAB has none), no multi-line
// records and no type inference. It neither frames lines out of a byte
// stream (see the serial package) nor enforces a line-length limit; callers
// that read lines bound their length before calling Parse.
package csvline
