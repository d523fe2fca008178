package csvline

import (
	"strconv"
	"testing"
	"time"
)

func parseRef(t *testing.T, s string) float32 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		t.Fatal(err)
	}
	return float32(v)
}

var parseTimeTests = []struct {
	in   string
	want time.Time // zero: an error is expected
}{
	{"2020-02-08 13:30:47", time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC)},
	{"2020-02-08T13:30:47", time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC)},
	{"2020-02-08 13:30:47.5", time.Date(2020, 2, 8, 13, 30, 47, 500e6, time.UTC)},
	{"2020-02-08 13:30:47.123456789", time.Date(2020, 2, 8, 13, 30, 47, 123456789, time.UTC)},
	{"2000-02-29 00:00:00", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
	{"0000-01-01 00:00:00", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"9999-12-31 23:59:59.999", time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)},
	{"1900-02-29 00:00:00", time.Time{}},
	{"2020-04-31 00:00:00", time.Time{}},
	{"2020-00-01 00:00:00", time.Time{}},
	{"2020-01-00 00:00:00", time.Time{}},
	{"2020-01-01 24:00:00", time.Time{}},
	{"2020-01-01 00:60:00", time.Time{}},
	{"2020-01-01 00:00:60", time.Time{}},
	{"2020-01-01 00:00:00.", time.Time{}},
	{"2020-01-01 00:00:00.1234567890", time.Time{}},
	{"2020-01-01 00:00:00Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
	{"2024-01-02T03:04:05.25+02:00", time.Date(2024, 1, 2, 1, 4, 5, 250e6, time.UTC)},
	{"2024-01-02T03:04:05-05:30", time.Date(2024, 1, 2, 8, 34, 5, 0, time.UTC)},
	{"2024-01-01T00:30:00+01:00", time.Date(2023, 12, 31, 23, 30, 0, 0, time.UTC)},
	{"2024-01-02T03:04:05+24:00", time.Time{}},
	{"2024-01-02T03:04:05+02:60", time.Time{}},
	{"2024-01-02T03:04:05+0200", time.Time{}},
	{"2024-01-02T03:04:05ZZ", time.Time{}},
	{"2020-01-01 00:00:00.1x", time.Time{}},
	{"2020-1-01 00:00:00", time.Time{}},
	{"2020/01/01 00:00:00", time.Time{}},
	{"+020-01-01 00:00:00", time.Time{}},
	{"2020-01-01", time.Time{}},
	{"", time.Time{}},
}

func TestParseTime(t *testing.T) {
	for _, tt := range parseTimeTests {
		got, err := ParseTime([]byte(tt.in))
		if tt.want.IsZero() {
			if err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

var appendTimeTests = []struct {
	in   time.Time
	want string
}{
	{time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC), "2020-02-08 13:30:47.000"},
	{time.Date(2020, 2, 8, 13, 30, 47, 999999999, time.UTC), "2020-02-08 13:30:47.999"},
	{time.Date(2020, 2, 8, 14, 30, 47, 5e6, time.FixedZone("CET", 3600)), "2020-02-08 13:30:47.005"},
	{time.Date(7, 1, 2, 3, 4, 5, 60e6, time.UTC), "0007-01-02 03:04:05.060"},
	{time.Date(12345, 1, 2, 3, 4, 5, 0, time.UTC), "12345-01-02 03:04:05.000"},
	{time.Date(-1, 1, 2, 3, 4, 5, 0, time.UTC), "-1-01-02 03:04:05.000"},
}

func TestAppendTime(t *testing.T) {
	for _, tt := range appendTimeTests {
		if got := string(AppendTime([]byte("x"), tt.in)); got != "x"+tt.want {
			t.Errorf("AppendTime(%v) = %q, want %q", tt.in, got, "x"+tt.want)
		}
		// Anything in years 0-9999 parses back, to the millisecond.
		if y := tt.in.UTC().Year(); y >= 0 && y <= 9999 {
			back, err := ParseTime([]byte(tt.want))
			if err != nil || !back.Equal(tt.in.Truncate(time.Millisecond)) {
				t.Errorf("ParseTime(AppendTime(%v)) = %v, %v", tt.in, back, err)
			}
		}
	}
}
