// Package dataset loads CSV recordings (SKAB layout: a header row, a
// datetime column, one column per channel, optional anomaly labels) into
// memory for training and evaluation.
//
// Lines are parsed by sensors/csvline, the same parser the gateway uses on
// serial lines, so training and serving read values identically. Errors
// name the file, line and column. The package does not scale, window or
// split data.
package dataset

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
)

// LabelColumn is the name of the 0/1 anomaly label column, and
// ChangepointColumn that of SKAB's 0/1 changepoint marks.
const (
	LabelColumn       = "anomaly"
	ChangepointColumn = "changepoint"
)

// MaxLine is the longest line accepted, in bytes.
const MaxLine = 1 << 16

// ignored are columns that are never channels.
var ignored = []string{LabelColumn, ChangepointColumn}

// Table is the rows of one or more recordings.
type Table struct {
	Channels []string
	Rows     [][]float32 // one per line, len(Channels) values
	Times    []time.Time
	// Labels holds each row's anomaly label (0 or 1) when every file had
	// the label column, else nil.
	Labels []uint8
	// Changepoints holds each row's changepoint mark (0 or 1) when every
	// file had that column too, else nil.
	Changepoints []uint8
	// Files lists the files read, with the index of each one's first row.
	Files []File
	// Digest is the SHA-256 (hex) of the bytes of every file read, in order.
	Digest string
	// Invalid lists the rows with a missing or non-finite value, in
	// order, each by the first such cell; every value of such a row is
	// NaN. Training leaves them (and windows touching them) out, replay
	// scores them as the agent would a sensor fault.
	Invalid []Cell
	// Backwards lists the rows whose time is before the previous row's
	// in the same file, each by its time column. Nothing is dropped:
	// windows and decisions restart there, as after a gap (Segments,
	// decide.Decider.Next), because nothing measured across a clock
	// that went back means anything.
	Backwards []Cell
}

// Cell names one value of a file: its line and column, and its row in
// Table.Rows.
type Cell struct {
	Path   string
	Line   int
	Row    int
	Column string
}

// Error is the cell as an error message naming file, line and column.
func (c Cell) Error() string {
	return fmt.Sprintf("%s:%d: column %q: missing or non-finite value, want a number", c.Path, c.Line, c.Column)
}

// Valid reports whether row i holds only finite values.
func (t *Table) Valid(i int) bool {
	for _, v := range t.Rows[i] {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// File is one file of a Table.
type File struct {
	Path  string
	Start int // index of its first row in Table.Rows
	Rows  int
	// TimeColumn is the column the rows' times came from (one of
	// TimeColumns), or "" if the file has none: its rows are then taken
	// as evenly spaced.
	TimeColumn string
}

// ReadFiles reads the CSV files at paths. channels selects the channels by
// name, in order; nil takes every column of the first file except the
// time and label columns, and later files must then have the same
// channels. A row with a missing or non-numeric value is an error naming
// file, line and column.
func ReadFiles(paths []string, channels []string) (*Table, error) {
	if len(paths) == 0 {
		return nil, errors.New("dataset: no files given")
	}
	t := &Table{Channels: channels}
	h := sha256.New()
	labelled, marked := true, true
	var labels, cps []uint8
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		start := len(t.Rows)
		hasLabel, hasCP, timeCol, err := t.read(p, io.TeeReader(f, h), &labels, &cps)
		f.Close()
		if err != nil {
			return nil, err
		}
		labelled, marked = labelled && hasLabel, marked && hasCP
		t.Files = append(t.Files, File{Path: p, Start: start, Rows: len(t.Rows) - start, TimeColumn: timeCol})
	}
	if labelled {
		t.Labels = labels
		if marked {
			t.Changepoints = cps
		}
	}
	t.Digest = hex.EncodeToString(h.Sum(nil))
	return t, nil
}

// TimeColumns are the names a time column goes by, besides datetime
// (csvline.DefaultTimeColumn), matched without regard to case: the
// first one a header has is its time column.
var TimeColumns = []string{csvline.DefaultTimeColumn, "timestamp", "time", "date"}

// timeColumn is the time column of a header: datetime, else the first
// of TimeColumns it has (in any case), else datetime (absent).
func timeColumn(columns []string) string {
	for _, want := range TimeColumns {
		for _, c := range columns {
			if strings.EqualFold(c, want) {
				return c
			}
		}
	}
	return csvline.DefaultTimeColumn
}

// read appends the rows of one file and reports whether it had labels
// and changepoint marks.
func (t *Table) read(path string, r io.Reader, labels, cps *[]uint8) (labelled, marked bool, timeCol string, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return false, false, "", fmt.Errorf("%s:1: %w", path, err)
		}
		return false, false, "", fmt.Errorf("%s: empty file, want a header line", path)
	}
	columns, err := csvline.ParseHeader(sc.Bytes(), csvline.Opts{})
	if err != nil {
		return false, false, "", fmt.Errorf("%s:1: %w", path, err)
	}
	if len(columns) == 1 {
		for _, c := range []struct{ sep, name, tr string }{{"\t", "a tab", `\t`}, {"|", "'|'", "|"}} {
			if strings.Contains(columns[0], c.sep) {
				return false, false, "", fmt.Errorf("%s:1: the header is one column %q: vigil separates fields by ',' or ';' (it tried both), and this file separates them by %s; convert it, e.g. tr '%s' ','",
					path, columns[0], c.name, c.tr)
			}
		}
	}
	opts := csvline.Opts{TimeColumn: timeColumn(columns)}
	hasTime := slices.Contains(columns, opts.TimeColumn)
	if t.Channels == nil {
		for _, c := range columns {
			if c != opts.TimeColumn && !slices.Contains(ignored, c) {
				t.Channels = append(t.Channels, c)
			}
		}
		if len(t.Channels) == 0 {
			return false, false, "", fmt.Errorf("%s:1: no channel columns in the header", path)
		}
	}
	want := slices.Clip(t.Channels)
	// The 0/1 flag columns present, read after the channels.
	var flags []string
	var dsts []*[]uint8
	for i, name := range ignored {
		if slices.Contains(columns, name) {
			flags, dsts = append(flags, name), append(dsts, [](*[]uint8){labels, cps}[i])
			want = append(want, name)
		}
	}
	layout, err := csvline.NewLayout(columns, want, opts)
	if err != nil {
		return false, false, "", fmt.Errorf("%s:1: %w", path, err)
	}
	s := sensors.Sample{Values: make([]float32, len(want))}
	first := len(t.Rows) // this file's first row
	line := 1
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if err := layout.Parse(b, &s); err != nil {
			return false, false, "", fmt.Errorf("%s:%d: %w", path, line, err)
		}
		row := make([]float32, len(t.Channels))
		copy(row, s.Values)
		for i, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Invalid = append(t.Invalid, Cell{Path: path, Line: line, Row: len(t.Rows), Column: t.Channels[i]})
				for j := range row {
					row[j] = float32(math.NaN())
				}
				break
			}
		}
		for i, name := range flags {
			switch v := s.Values[len(t.Channels)+i]; v {
			case 0, 1:
				*dsts[i] = append(*dsts[i], uint8(v))
			default:
				return false, false, "", fmt.Errorf("%s:%d: column %q: %v, want 0 or 1", path, line, name, v)
			}
		}
		if n := len(t.Rows); hasTime && n > first && s.Time.Before(t.Times[n-1]) {
			t.Backwards = append(t.Backwards, Cell{Path: path, Line: line, Row: n, Column: opts.TimeColumn})
		}
		t.Rows = append(t.Rows, row)
		t.Times = append(t.Times, s.Time)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return false, false, "", fmt.Errorf("%s:%d: line longer than %d bytes", path, line+1, MaxLine)
		}
		return false, false, "", fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	if !hasTime {
		opts.TimeColumn = ""
	}
	return slices.Contains(flags, LabelColumn), slices.Contains(flags, ChangepointColumn), opts.TimeColumn, nil
}

// Slice returns the rows [start, end) of file fi as a table of their own
// (sharing the row data), for fitting on a part of one recording.
func (t *Table) Slice(fi, start, end int) *Table {
	f := t.Files[fi]
	lo, hi := f.Start+start, f.Start+min(end, f.Rows)
	s := &Table{Channels: t.Channels, Rows: t.Rows[lo:hi], Times: t.Times[lo:hi], Digest: t.Digest,
		Files: []File{{Path: f.Path, Start: 0, Rows: hi - lo, TimeColumn: f.TimeColumn}}}
	if t.Labels != nil {
		s.Labels = t.Labels[lo:hi]
	}
	s.Invalid, s.Backwards = cellsIn(t.Invalid, lo, hi), cellsIn(t.Backwards, lo, hi)
	if len(s.Backwards) > 0 && s.Backwards[0].Row == 0 { // its previous row is not in s
		s.Backwards = s.Backwards[1:]
	}
	if t.Changepoints != nil {
		s.Changepoints = t.Changepoints[lo:hi]
	}
	return s
}

// cellsIn returns the cells of rows [lo, hi), their rows counted from lo.
func cellsIn(cells []Cell, lo, hi int) []Cell {
	var out []Cell
	for _, c := range cells {
		if c.Row >= lo && c.Row < hi {
			c.Row -= lo
			out = append(out, c)
		}
	}
	return out
}

// Normal returns the rows labelled normal (all rows if unlabelled) that
// are valid (Invalid lists the others).
func (t *Table) Normal() [][]float32 {
	if t.Labels == nil && len(t.Invalid) == 0 {
		return t.Rows
	}
	var out [][]float32
	for i, r := range t.Rows {
		if t.IsNormal(i) {
			out = append(out, r)
		}
	}
	return out
}

// IsNormal reports whether row i is labelled normal (or unlabelled) and
// valid.
func (t *Table) IsNormal(i int) bool {
	return (t.Labels == nil || t.Labels[i] == 0) && (len(t.Invalid) == 0 || t.Valid(i))
}
