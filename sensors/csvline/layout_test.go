package csvline

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

var skabColumns = append([]string{"datetime"}, sensors.SKABChannels...)

func nan() float32 { return float32(math.NaN()) }

// sameValues compares float32s bit for bit, except that any NaN equals any
// NaN.
func sameValues(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
		if a[i] == 0 && b[i] == 0 && math.Signbit(float64(a[i])) != math.Signbit(float64(b[i])) {
			return false
		}
	}
	return true
}

var newLayoutTests = []struct {
	name    string
	columns []string
	want    []string
	opts    Opts
	err     string // substring; "" means success
}{
	{"skab", skabColumns, sensors.SKABChannels, Opts{}, ""},
	{"subset reordered", skabColumns, []string{"Pressure", "Current"}, Opts{}, ""},
	{"no time column", []string{"a", "b"}, []string{"b"}, Opts{}, ""},
	{"custom time column", []string{"ts", "a"}, []string{"a"}, Opts{TimeColumn: "ts"}, ""},
	{"labelled file", append(slices.Clone(skabColumns), "anomaly", "changepoint"), []string{"anomaly"}, Opts{}, ""},
	{"missing two", skabColumns, []string{"Current", "Speed", "Torque"}, Opts{}, `missing from the columns: "Speed", "Torque"`},
	{"no columns", nil, []string{"a"}, Opts{}, "no columns"},
	{"no want", []string{"a"}, nil, Opts{}, "no channels wanted"},
	{"empty want", []string{"a"}, []string{""}, Opts{}, "empty name"},
	{"want twice", []string{"a"}, []string{"a", "a"}, Opts{}, `"a" wanted twice`},
	{"want time", []string{"datetime", "a"}, []string{"datetime"}, Opts{}, "is the time column"},
	{"column twice", []string{"a", "a"}, []string{"a"}, Opts{}, "appears twice"},
	{"unwanted column twice", []string{"a", "x", "x"}, []string{"a"}, Opts{}, ""},
	{"time twice", []string{"datetime", "a", "datetime"}, []string{"a"}, Opts{}, "time column \"datetime\" appears twice"},
	{"too many", []string{"a", "b", "c"}, []string{"a"}, Opts{MaxFields: 2}, "more than the limit of 2"},
	{"negative max", []string{"a"}, []string{"a"}, Opts{MaxFields: -1}, "MaxFields"},
	{"bad separator", []string{"a"}, []string{"a"}, Opts{Separator: '.'}, "Separator"},
	{"tab separator", []string{"a"}, []string{"a"}, Opts{Separator: '\t'}, "Separator"},
	{"pipe separator", []string{"a"}, []string{"a"}, Opts{Separator: '|'}, ""},
}

func TestNewLayout(t *testing.T) {
	for _, tt := range newLayoutTests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLayout(tt.columns, tt.want, tt.opts)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("NewLayout(%q, %q) = %v, want success", tt.columns, tt.want, err)
				}
				if !slices.Equal(l.Channels(), tt.want) || !slices.Equal(l.Columns(), tt.columns) {
					t.Errorf("Channels, Columns = %q, %q; want %q, %q", l.Channels(), l.Columns(), tt.want, tt.columns)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("NewLayout(%q, %q) = %v, want error containing %q", tt.columns, tt.want, err, tt.err)
			}
		})
	}
}

var (
	t0   = time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC)
	pqcW = []string{"Pressure", "Current"}
)

var parseTests = []struct {
	name    string
	columns []string
	want    []string
	opts    Opts
	line    string
	time    time.Time
	values  []float32
	errCol  string // for errors: ParseError.Column
	errFld  int    // ParseError.Field (0 with errCol "" means a whole-line error)
	errMsg  string // substring of the message; "" means success
}{
	{name: "skab row", columns: skabColumns, want: sensors.SKABChannels,
		line:   "2020-02-08 13:30:47;0.202394;0.275154;2.16975;0.382638;90.6454;26.8508;238.852;122.664\r\n",
		time:   t0,
		values: []float32{0.202394, 0.275154, 2.16975, 0.382638, 90.6454, 26.8508, 238.852, 122.664}},
	{name: "comma and subset", columns: skabColumns, want: pqcW,
		line:   "2020-02-08 13:30:47,0.2,0.27,2.5,-0.273216,90,26,238,122\n",
		time:   t0,
		values: []float32{-0.273216, 2.5}},
	{name: "fraction and T", columns: []string{"datetime", "a"}, want: []string{"a"},
		line: "2020-02-29T23:59:59.25;1e-3", time: time.Date(2020, 2, 29, 23, 59, 59, 250e6, time.UTC), values: []float32{0.001}},
	{name: "empty field is NaN", columns: []string{"datetime", "a", "b"}, want: []string{"b", "a"},
		line: "2020-02-08 13:30:47;;7", time: t0, values: []float32{7, nan()}},
	{name: "spaces around fields", columns: []string{"a", "b"}, want: []string{"a", "b"},
		line: " 1.5 ,\t-2 ", values: []float32{1.5, -2}},
	{name: "blank field with spaces is NaN", columns: []string{"a", "b"}, want: []string{"a", "b"},
		line: "1;  ", values: []float32{1, nan()}},
	{name: "NaN literal", columns: []string{"a"}, want: []string{"a"}, line: "NaN", values: []float32{nan()}},
	{name: "unwanted field ignored even if junk", columns: []string{"a", "junk"}, want: []string{"a"},
		line: "3;not a number", values: []float32{3}},
	{name: "fixed separator ignores the other", columns: []string{"a", "b"}, want: []string{"a", "b"}, opts: Opts{Separator: ','},
		line: "1,2", values: []float32{1, 2}},
	{name: "pipe separator", columns: []string{"a", "b"}, want: []string{"b"}, opts: Opts{Separator: '|'},
		line: "1|2", values: []float32{2}},
	{name: "custom time column", columns: []string{"t", "a"}, want: []string{"a"}, opts: Opts{TimeColumn: "t"},
		line: "2020-02-08 13:30:47,4", time: t0, values: []float32{4}},

	{name: "not a number", columns: skabColumns, want: sensors.SKABChannels,
		line:   "2020-02-08 13:30:47;0.2;0.27;2.5x;0.38;90;26;238;122",
		errCol: "Current", errFld: 4, errMsg: `want a number or an empty field, got "2.5x"`},
	// Non-finite readings are values (a sensor fault for the agent), not bad lines.
	{name: "infinity", columns: []string{"a"}, want: []string{"a"}, line: "+Inf",
		values: []float32{float32(math.Inf(1))}},
	{name: "float32 overflow", columns: []string{"a"}, want: []string{"a"}, line: "-1e39",
		values: []float32{float32(math.Inf(-1))}},
	{name: "not a number", columns: []string{"a"}, want: []string{"a"}, line: "nan",
		values: []float32{float32(math.NaN())}},
	{name: "infinity spelt out", columns: []string{"a"}, want: []string{"a"}, line: "infinity",
		values: []float32{float32(math.Inf(1))}},
	{name: "too few fields", columns: skabColumns, want: sensors.SKABChannels,
		line:   "2020-02-08 13:30:47;0.2;0.27",
		errMsg: "line has 3 fields separated by ';', want 9"},
	{name: "too many fields", columns: []string{"a", "b"}, want: []string{"a"}, line: "1;2;3",
		errMsg: "line has 3 fields"},
	{name: "fixed separator rejects the other", columns: []string{"a", "b"}, want: []string{"a", "b"}, opts: Opts{Separator: ','},
		line: "1;2", errMsg: "line has 1 fields separated by ','"},
	{name: "bad month", columns: []string{"datetime", "a"}, want: []string{"a"}, line: "2020-13-08 13:30:47;1",
		errCol: "datetime", errFld: 1, errMsg: "want a datetime YYYY-MM-DD hh:mm:ss[.fff]"},
	{name: "Feb 30", columns: []string{"datetime", "a"}, want: []string{"a"}, line: "2021-02-29 13:30:47;1",
		errCol: "datetime", errFld: 1, errMsg: "want a datetime"},
	{name: "empty time", columns: []string{"a", "datetime"}, want: []string{"a"}, line: "1;",
		errCol: "datetime", errFld: 2, errMsg: `got ""`},
	{name: "long junk is cut", columns: []string{"a"}, want: []string{"a"}, line: strings.Repeat("x", 100),
		errCol: "a", errFld: 1, errMsg: `"...`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLayout(tt.columns, tt.want, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			s := sensors.Sample{Time: time.Unix(1, 0), Values: make([]float32, len(tt.want))}
			err = l.Parse([]byte(tt.line), &s)
			if tt.errMsg == "" {
				if err != nil {
					t.Fatalf("Parse(%q) = %v, want success", tt.line, err)
				}
				if !s.Time.Equal(tt.time) || !sameValues(s.Values, tt.values) {
					t.Errorf("Parse(%q) = %v %v, want %v %v", tt.line, s.Time, s.Values, tt.time, tt.values)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.line, err)
			}
			if pe.Column != tt.errCol || pe.Field != tt.errFld || !strings.Contains(pe.Msg, tt.errMsg) {
				t.Errorf("Parse(%q) = %#v, want Column %q Field %d Msg containing %q", tt.line, pe, tt.errCol, tt.errFld, tt.errMsg)
			}
			if !strings.HasPrefix(err.Error(), "csvline: ") {
				t.Errorf("Error() = %q, want the csvline: prefix", err)
			}
		})
	}
}

func TestParseShortSample(t *testing.T) {
	l, err := NewLayout(skabColumns, sensors.SKABChannels, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, 3)}
	if err := l.Parse([]byte("2020-02-08 13:30:47;1;2;3;4;5;6;7;8"), &s); err == nil || !strings.Contains(err.Error(), "sample has 3 values, layout needs 8") {
		t.Errorf("Parse into a short sample = %v, want an error", err)
	}
}

// TestParseSKABRows parses real SKAB rows (CRLF line ends, a header, the
// labelled layout) and checks them against a naive reference parser.
func TestParseSKABRows(t *testing.T) {
	for _, file := range []string{"../testdata/skab/anomaly-free-head.csv", "../testdata/skab/valve1-0-head.csv"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			if !sc.Scan() || !IsHeader(sc.Bytes(), Opts{}) {
				t.Fatalf("first line %q is not a header", sc.Bytes())
			}
			cols, err := ParseHeader(sc.Bytes(), Opts{})
			if err != nil {
				t.Fatal(err)
			}
			l, err := NewLayout(cols, sensors.SKABChannels, Opts{})
			if err != nil {
				t.Fatal(err)
			}
			s := sensors.Sample{Values: make([]float32, len(sensors.SKABChannels))}
			rows := 0
			for sc.Scan() {
				line := sc.Bytes() // Scanner keeps the '\r'
				if IsHeader(line, Opts{}) {
					t.Fatalf("data line %q taken for a header", line)
				}
				if err := l.Parse(line, &s); err != nil {
					t.Fatalf("Parse(%q) = %v", line, err)
				}
				f := strings.Split(strings.TrimSpace(string(line)), ";")
				tm, err := time.Parse(time.DateTime, f[0])
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float32, 8)
				for i := range want {
					want[i] = parseRef(t, f[i+1])
				}
				if !s.Time.Equal(tm) || !sameValues(s.Values, want) {
					t.Errorf("Parse(%q) = %v %v, want %v %v", line, s.Time, s.Values, tm, want)
				}
				rows++
			}
			if rows < 20 {
				t.Errorf("parsed %d rows, want at least 20", rows)
			}
		})
	}
}
