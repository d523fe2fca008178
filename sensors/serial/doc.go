// Package serial is a sensors.Source that reads CSV text lines (SKAB layout,
// see csvline) from a serial device, as microcontrollers and many industrial
// sensors print them, or from any io.ReadCloser such as a recorded file.
//
// Lines are framed in one fixed buffer of Opts.MaxLine bytes and parsed in
// place, so a steady stream of good lines costs no allocations. The line
// stream is treated as hostile: a line that is too long, is not valid CSV
// for the current layout or arrives before any layout is known is counted
// (Stats), logged at most once per 10 seconds (with the number of
// suppressed reports) and skipped; it never ends the stream. Blank lines are
// ignored.
//
// Columns are matched by name. Bare data lines follow Opts.Columns; a header
// line (its first field is the time column, or every field is a name)
// re-maps the columns for the lines after it, so a device that announces
// its layout at boot can reorder or add columns freely. A header that lacks
// a wanted channel is a bad line; if it starts with the time column it also
// invalidates the current layout, so that lines of the changed layout are
// never read with the old one.
//
// Serial reads use a short timeout (Opts.ReadTimeout) so that Read notices
// the end of its context; Close from another goroutine ends a blocked Read
// at once.
//
// A line with bytes that are not text (line noise at a wrong baud rate) is
// a bad line of its own kind, reported with a hint. A device opened with
// Open that goes away is reopened with a growing wait, and Read reports
// each failed attempt as an error wrapping sensors.ErrAbsent, so the agent
// can show the channels as faulty instead of exiting.
//
// This package does not speak binary protocols (Modbus RTU is its own
// package) and does not interpret values: NaN and ±Inf are passed on.
package serial
