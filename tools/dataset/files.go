package dataset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Expand turns paths into CSV files: a file stands for itself, a
// directory for every *.csv below it, recursively, in lexical order (so
// SKAB's layout is read directly, whole or any subset).
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".csv") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("dataset: no .csv files under %s", p)
		}
		slices.Sort(found)
		out = append(out, found...)
	}
	return out, nil
}

// Segment is a run of rows [Start, End) of one file with no gap in time.
type Segment struct {
	File       int // index into Table.Files
	Start, End int // row indexes into Table.Rows
}

// Segments splits every file's rows where the time between two rows is
// more than gapFactor times the file's median step (MedianStep, at least
// a millisecond) or goes backwards, so that windows never join samples
// across a gap. Files whose rows carry no time are one segment each.
func (t *Table) Segments(gapFactor float64) []Segment {
	var segs []Segment
	for fi, f := range t.Files {
		start, end := f.Start, f.Start+f.Rows
		if f.Rows == 0 {
			continue
		}
		if f.Rows < 2 || t.Times[start].IsZero() {
			segs = append(segs, Segment{fi, start, end})
			continue
		}
		limit := time.Duration(gapFactor * float64(max(t.MedianStep(fi), time.Millisecond)))
		s := start
		for i := start + 1; i < end; i++ {
			if d := t.Times[i].Sub(t.Times[i-1]); d <= 0 || d > limit {
				segs = append(segs, Segment{fi, s, i})
				s = i
			}
		}
		segs = append(segs, Segment{fi, s, end})
	}
	return segs
}

// MedianStep returns the median time between consecutive rows of the
// files with the given indexes into Files (of every file if none is
// given), steps from one file to the next not counted. It is 0 when
// those rows carry no time (their first row's time is zero) or hold no
// two rows of one file.
func (t *Table) MedianStep(files ...int) time.Duration {
	if len(files) == 0 {
		for fi := range t.Files {
			files = append(files, fi)
		}
	}
	var steps []time.Duration
	for _, fi := range files {
		f := t.Files[fi]
		if f.Rows < 2 || t.Times[f.Start].IsZero() {
			continue
		}
		for i := f.Start + 1; i < f.Start+f.Rows; i++ {
			steps = append(steps, t.Times[i].Sub(t.Times[i-1]))
		}
	}
	if len(steps) == 0 {
		return 0
	}
	slices.Sort(steps)
	return steps[len(steps)/2]
}

// Load reads the CSV files paths name (directories expanded as by Expand)
// into one table; see ReadFiles.
func Load(paths, channels []string) (*Table, error) {
	files, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	return ReadFiles(files, channels)
}
