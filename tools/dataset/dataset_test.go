package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadFiles(t *testing.T) {
	tab, err := ReadFiles([]string{"testdata/labelled.csv"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Channels, []string{"a", "b"}) || len(tab.Rows) != 3 || !slices.Equal(tab.Labels, []uint8{0, 0, 1}) {
		t.Fatalf("channels %v rows %v labels %v", tab.Channels, tab.Rows, tab.Labels)
	}
	if !slices.Equal(tab.Rows[1], []float32{1.5, 2.5}) || !tab.Times[2].Equal(time.Date(2020, 1, 1, 0, 0, 2, 0, time.UTC)) {
		t.Errorf("row 1 %v time 2 %v", tab.Rows[1], tab.Times[2])
	}
	if n := tab.Normal(); len(n) != 2 {
		t.Errorf("Normal() has %d rows, want 2", len(n))
	}
	if !slices.Equal(tab.Changepoints, []uint8{0, 0, 1}) {
		t.Errorf("changepoints %v, want [0 0 1]", tab.Changepoints)
	}
	sl := tab.Slice(0, 1, 3)
	if len(sl.Rows) != 2 || !slices.Equal(sl.Labels, []uint8{0, 1}) || !slices.Equal(sl.Changepoints, []uint8{0, 1}) || sl.Files[0].Rows != 2 {
		t.Errorf("Slice(0, 1, 3) = %+v", sl)
	}
	// Two files, one comma-separated with columns in another order:
	// channels are matched by name, and labels dropped (one file has none).
	tab, err = ReadFiles([]string{"testdata/labelled.csv", "testdata/comma.csv"}, []string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 4 || !slices.Equal(tab.Rows[3], []float32{3, 4}) || tab.Labels != nil || len(tab.Files) != 2 || tab.Files[1].Start != 3 {
		t.Errorf("rows %v labels %v files %+v", tab.Rows, tab.Labels, tab.Files)
	}
	if len(tab.Digest) != 64 {
		t.Errorf("digest %q", tab.Digest)
	}
}

func TestReadFilesErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body string
		channels   []string
		want       []string
	}{
		{"bad value", "datetime;a;b\n2020-01-01 00:00:00;1;2\n2020-01-01 00:00:01;1;x\n", nil, []string{":3:", "(b)", "x"}},
		{"bad label", "datetime;a;anomaly\n2020-01-01 00:00:00;1;2\n", nil, []string{":2:", "anomaly"}},
		{"bad changepoint", "datetime;a;anomaly;changepoint\n2020-01-01 00:00:00;1;0;0.5\n", nil, []string{":2:", "changepoint"}},
		{"bad time", "datetime;a\n2020-13-01 00:00:00;1\n", nil, []string{":2:"}},
		{"short row", "datetime;a;b\n2020-01-01 00:00:00;1\n", nil, []string{":2:"}},
		{"no channel", "datetime;a\n2020-01-01 00:00:00;1\n", []string{"Pressure"}, []string{":1:", "Pressure"}},
		{"empty", "", nil, []string{"empty"}},
		{"long line", "datetime;a\n" + strings.Repeat("1", MaxLine+1) + "\n", nil, []string{":2:", "longer"}},
		{"tabs", "timestamp\tvalue\n2020-01-01 00:00:00\t1\n", nil, []string{":1:", "separates them by a tab", "',' or ';'", `tr '\t' ','`}},
		{"pipes", "timestamp|value\n2020-01-01 00:00:00|1\n", nil, []string{":1:", "by '|'"}},
		{"bad RFC 3339", "timestamp,value\n2020-01-01T00:00:00+25:00,1\n", nil, []string{":2:", "RFC 3339"}},
	}
	for _, tc := range tests {
		p := write(strings.ReplaceAll(tc.name, " ", "-")+".csv", tc.body)
		_, err := ReadFiles([]string{p}, tc.channels)
		if err == nil {
			t.Errorf("%s: ReadFiles succeeded", tc.name)
			continue
		}
		for _, w := range append(tc.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
	if _, err := ReadFiles(nil, nil); err == nil {
		t.Error("ReadFiles(nil) succeeded")
	}
}

// TestTimeColumns: the time column is datetime, or else timestamp, time
// or date in any case; RFC 3339 times with zones are read as UTC; a
// file without one is evenly spaced. One value column makes one channel,
// spaces in its name and all.
func TestTimeColumns(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, column string
		channels           []string
		first              time.Time
	}{
		{"nab", "timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,21\n", "timestamp", []string{"value"},
			time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"Time", "Time;Flow Rate;Pressure\n2024-01-02T03:04:05+02:00;1;2\n2024-01-02T03:04:06+02:00;1;2\n", "Time", []string{"Flow Rate", "Pressure"},
			time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC)},
		{"date after datetime", "date,datetime,v\n1,2024-01-02T03:04:05Z,3\n1,2024-01-02T03:04:06Z,3\n", "datetime", []string{"date", "v"},
			time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"none", "Volume Flow RateRMS\n32\n31\n", "", []string{"Volume Flow RateRMS"}, time.Time{}},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
		if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		tab, err := ReadFiles([]string{p}, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tab.Files[0].TimeColumn != tc.column || !slices.Equal(tab.Channels, tc.channels) || !tab.Times[0].Equal(tc.first) || len(tab.Rows) != 2 {
			t.Errorf("%s: time column %q channels %q first time %v rows %d; want %q %q %v 2",
				tc.name, tab.Files[0].TimeColumn, tab.Channels, tab.Times[0], len(tab.Rows), tc.column, tc.channels, tc.first)
		}
	}
}

// TestInvalidRows: a missing or non-finite value makes its row invalid
// (all NaN), listed by file, line and column, and left out of Normal.
func TestInvalidRows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gaps.csv")
	body := "datetime;a;b\n2020-01-01 00:00:00;1;2\n2020-01-01 00:00:01;;2\n2020-01-01 00:00:02;1;NaN\n2020-01-01 00:00:03;1;2\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tab, err := ReadFiles([]string{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Cell{{p, 3, 1, "a"}, {p, 4, 2, "b"}}
	if !slices.Equal(tab.Invalid, want) || len(tab.Rows) != 4 || tab.Valid(1) || tab.Valid(2) || !tab.Valid(3) || len(tab.Normal()) != 2 {
		t.Fatalf("invalid %v, rows %v, normal %d", tab.Invalid, tab.Rows, len(tab.Normal()))
	}
	if got := want[0].Error(); got != p+`:3: column "a": missing or non-finite value, want a number` {
		t.Errorf("Cell.Error() = %q", got)
	}
	s := tab.Slice(0, 2, 4)
	if !slices.Equal(s.Invalid, []Cell{{p, 4, 0, "b"}}) || s.IsNormal(0) || !s.IsNormal(1) {
		t.Errorf("Slice(0, 2, 4): invalid %v", s.Invalid)
	}
}

func TestBackwards(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.csv")
	q := filepath.Join(dir, "b.csv")
	os.WriteFile(p, []byte("time,x\n2020-01-01T00:00:05Z,1\n2020-01-01T00:00:06Z,2\n\n2020-01-01T00:00:01Z,3\n2020-01-01T00:00:02Z,4\n"), 0o600)
	os.WriteFile(q, []byte("time,x\n2019-01-01T00:00:00Z,5\n2019-01-01T00:00:00Z,6\n"), 0o600) // a new file may start earlier; equal times are not backwards
	tab, err := ReadFiles([]string{p, q}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Cell{{p, 5, 2, "time"}}; !slices.Equal(tab.Backwards, want) {
		t.Fatalf("Backwards = %v, want %v", tab.Backwards, want)
	}
	if s := tab.Slice(0, 1, 4); !slices.Equal(s.Backwards, []Cell{{p, 5, 1, "time"}}) {
		t.Errorf("Slice(0, 1, 4).Backwards = %v", s.Backwards)
	}
	if s := tab.Slice(0, 2, 4); len(s.Backwards) != 0 {
		t.Errorf("Slice(0, 2, 4).Backwards = %v: its first row has no previous row in the slice", s.Backwards)
	}
}
