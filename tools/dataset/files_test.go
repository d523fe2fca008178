package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/2.csv", "b/10.csv", "a/1.CSV", "a/notes.txt", "top.csv"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o600)
	}
	got, err := Expand([]string{dir, filepath.Join(dir, "top.csv")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a/1.CSV", "b/10.csv", "b/2.csv", "top.csv", "top.csv"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %q, want %q", got, want)
	}
	if _, err := Expand([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("Expand of a missing path succeeded")
	}
	if _, err := Expand([]string{filepath.Join(dir, "a", "..", "a", "notes.txt")}); err != nil {
		t.Errorf("an explicit non-CSV file is taken as given: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := Expand([]string{empty}); err == nil {
		t.Error("a directory without CSV files was accepted")
	}
}

func TestSegments(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gap.csv")
	os.WriteFile(p, []byte("datetime;a\n"+
		"2020-01-01 00:00:00;1\n2020-01-01 00:00:01;1\n2020-01-01 00:00:03;1\n"+ // a 2 s step is no gap
		"2020-01-01 00:01:10;1\n2020-01-01 00:01:11;1\n"+ // a minute is
		"2020-01-01 00:01:05;1\n"), 0o600) // and so is going backwards
	tab, err := ReadFiles([]string{p, "testdata/labelled.csv"}, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	got := tab.Segments(5)
	want := []Segment{{0, 0, 3}, {0, 3, 5}, {0, 5, 6}, {1, 6, 9}}
	if !slices.Equal(got, want) {
		t.Errorf("Segments = %v, want %v", got, want)
	}
	// Steps of the first file: 1 s, 2 s, 67 s, 1 s, -6 s.
	for _, tc := range []struct {
		files []int
		want  time.Duration
	}{{[]int{0}, time.Second}, {nil, time.Second}, {[]int{1}, tab.Times[7].Sub(tab.Times[6])}} {
		if got := tab.MedianStep(tc.files...); got != tc.want {
			t.Errorf("MedianStep(%v) = %v, want %v", tc.files, got, tc.want)
		}
	}
	untimed := &Table{Rows: make([][]float32, 3), Times: make([]time.Time, 3), Files: []File{{Rows: 3}}}
	if got := untimed.MedianStep(); got != 0 {
		t.Errorf("MedianStep of rows without time = %v, want 0", got)
	}
}
