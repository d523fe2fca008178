package eval

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// labelsJSON is in the layout of NAB's labels/combined_windows.json.
const labelsJSON = `{
    "artificialNoAnomaly/art_daily_no_noise.csv": [],
    "realKnownCause/machine_temperature_system_failure.csv": [
        [
            "2013-12-10 06:25:00.000000",
            "2013-12-12 05:35:00.000000"
        ],
        [
            "2013-12-15 17:50:00.000000",
            "2013-12-17 17:00:00.000000"
        ]
    ]
}`

func TestParseNumentaLabels(t *testing.T) {
	l, err := ParseNumentaLabels([]byte(labelsJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := NumentaLabels{
		"artificialNoAnomaly/art_daily_no_noise.csv": {},
		"realKnownCause/machine_temperature_system_failure.csv": {
			{time.Date(2013, 12, 10, 6, 25, 0, 0, time.UTC), time.Date(2013, 12, 12, 5, 35, 0, 0, time.UTC)},
			{time.Date(2013, 12, 15, 17, 50, 0, 0, time.UTC), time.Date(2013, 12, 17, 17, 0, 0, 0, time.UTC)},
		},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("ParseNumentaLabels = %v, want %v", l, want)
	}
}

var findTests = []struct {
	file, key string // key "" when none matches
}{
	{"realKnownCause/machine_temperature_system_failure.csv", "realKnownCause/machine_temperature_system_failure.csv"},
	{"/data/NAB/data/realKnownCause/machine_temperature_system_failure.csv", "realKnownCause/machine_temperature_system_failure.csv"},
	{"./data/realKnownCause/machine_temperature_system_failure.csv", "realKnownCause/machine_temperature_system_failure.csv"},
	{"data/realKnownCause/x.csv", "x.csv"},
	{"data/realKnownCause/ax.csv", ""},
	{"data/other/machine_temperature_system_failure.csv", ""},
	{"data/other/y.csv", "other/y.csv"}, // the longer key wins
}

func TestNumentaLabelsFind(t *testing.T) {
	l := NumentaLabels{
		"realKnownCause/machine_temperature_system_failure.csv": nil,
		"x.csv":       nil,
		"y.csv":       nil,
		"other/y.csv": nil,
	}
	for _, tc := range findTests {
		key, _, ok := l.Find(tc.file)
		if key != tc.key || ok != (tc.key != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", tc.file, key, ok, tc.key)
		}
	}
}

var labelErrorTests = []struct {
	name, json string
	want       []string
}{
	{"not JSON", `{"a.csv": [`, []string{"want a JSON object", "[start, end]"}},
	{"a list", `[["2014-01-01 00:00:00", "2014-01-02 00:00:00"]]`, []string{"want a JSON object"}},
	{"null", `null`, []string{"got null"}},
	{"null windows", `{"a.csv": null}`, []string{`"a.csv"`, "got null", "[] for none"}},
	{"numbers", `{"a.csv": [[1, 2]]}`, []string{"want a JSON object", "number"}},
	{"one bound", `{"a.csv": [["2014-01-01 00:00:00"]]}`, []string{`"a.csv"`, "window 1 has 1 times, want [start, end]"}},
	{"bad start", `{"a.csv": [["2014-01-01 00:00:00", "2014-01-02 00:00:00"], ["2014-13-01 00:00:00", "2014-13-02 00:00:00"]]}`,
		[]string{`"a.csv"`, `window 2: start "2014-13-01 00:00:00"`, "want a time YYYY-MM-DD hh:mm:ss"}},
	{"bad end", `{"a.csv": [["2014-01-01 00:00:00", "yesterday"]]}`, []string{`window 1: end "yesterday"`}},
	{"reversed", `{"a.csv": [["2014-01-02 00:00:00", "2014-01-01 00:00:00"]]}`, []string{`"a.csv"`, "window 1 ends", "before it starts"}},
	{"overlapping", `{"a.csv": [["2014-01-01 00:00:00", "2014-01-03 00:00:00"], ["2014-01-02 00:00:00", "2014-01-04 00:00:00"]]}`,
		[]string{`"a.csv"`, "window 2 starts", "not overlap"}},
}

func TestParseNumentaLabelsErrors(t *testing.T) {
	for _, tc := range labelErrorTests {
		_, err := ParseNumentaLabels([]byte(tc.json))
		if err == nil {
			t.Errorf("%s: ParseNumentaLabels(%q): no error", tc.name, tc.json)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: ParseNumentaLabels(%q) = %q, want it to contain %q", tc.name, tc.json, err, w)
			}
		}
	}
}

// FuzzParseNumentaLabels: any bytes give labels or an error, never a
// panic, and the windows returned are ordered.
func FuzzParseNumentaLabels(f *testing.F) {
	f.Add([]byte(labelsJSON))
	for _, tc := range labelErrorTests {
		f.Add([]byte(tc.json))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseNumentaLabels(b)
		if err != nil {
			return
		}
		for k, ws := range l {
			if err := checkWindows(ws); err != nil {
				t.Errorf("%q: accepted windows %v: %v", k, ws, err)
			}
			l.Find(k)
		}
	})
}
