package csvline

import (
	"slices"
	"strings"
	"testing"
)

var parseHeaderTests = []struct {
	line string
	opts Opts
	want []string
	err  string
}{
	{"datetime;Accelerometer1RMS;Volume Flow RateRMS\r\n", Opts{}, []string{"datetime", "Accelerometer1RMS", "Volume Flow RateRMS"}, ""},
	{"\xef\xbb\xbf\"datetime\", a ,b", Opts{}, []string{"datetime", "a", "b"}, ""},
	{"a;;b", Opts{}, []string{"a", "", "b"}, ""},
	{"a,b;c", Opts{Separator: ','}, []string{"a", "b;c"}, ""},
	{"single", Opts{}, []string{"single"}, ""},
	{"a;b;c", Opts{MaxFields: 2}, nil, "3 fields, more than the limit of 2"},
	{" \r\n", Opts{}, nil, "blank header"},
	{"a;b", Opts{Separator: '7'}, nil, "Separator"},
}

func TestParseHeader(t *testing.T) {
	for _, tt := range parseHeaderTests {
		got, err := ParseHeader([]byte(tt.line), tt.opts)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseHeader(%q) = %q, %v; want error containing %q", tt.line, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseHeader(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

var isHeaderTests = []struct {
	line string
	opts Opts
	want bool
}{
	{"datetime;Accelerometer1RMS;Accelerometer2RMS\r\n", Opts{}, true},
	{"\xef\xbb\xbfdatetime,a", Opts{}, true},
	{"datetime", Opts{}, true},
	{"ts;x;1", Opts{TimeColumn: "ts"}, true},
	{"Current;Pressure", Opts{}, true},
	{"boot: sensor ready", Opts{}, true}, // stray text looks like a header; NewLayout rejects it
	{"2020-02-08 13:30:47;0.2;0.27", Opts{}, false},
	{"2020-02-08 13:30:47", Opts{}, false},
	{"Current;1.5", Opts{}, false},
	{"Current;", Opts{}, false},
	{"Current;;Pressure", Opts{}, false},
	{"Current;1e999", Opts{}, false}, // out of range is still a number
	{"", Opts{}, false},
	{"  \r\n", Opts{}, false},
	{"1;2;3", Opts{}, false},
}

func TestIsHeader(t *testing.T) {
	for _, tt := range isHeaderTests {
		if got := IsHeader([]byte(tt.line), tt.opts); got != tt.want {
			t.Errorf("IsHeader(%q, %+v) = %v, want %v", tt.line, tt.opts, got, tt.want)
		}
	}
}
