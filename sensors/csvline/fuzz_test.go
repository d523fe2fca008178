package csvline

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

// FuzzParse checks that Parse never panics on any line, and that whatever
// it accepts, AppendLine writes back in a form that parses to the same
// values (bit for bit) and the same time truncated to the millisecond.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.line))
	}
	if data, err := os.ReadFile("../testdata/skab/valve1-0-head.csv"); err == nil {
		for _, line := range strings.SplitAfter(string(data), "\n")[:5] {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte("2020-02-08 13:30:47.999999999;1e-45;-0;;NaN;3.4028235e38;1_0;0x1p-2;9"))
	l, err := NewLayout(skabColumns, sensors.SKABChannels, Opts{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		s := sensors.Sample{Values: make([]float32, 8)}
		IsHeader(line, Opts{})
		_, _ = ParseHeader(line, Opts{})
		if err := l.Parse(line, &s); err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) = %T %v, want a *ParseError", line, err, err)
			}
			return
		}
		for _, sep := range []byte{';', ','} {
			out := AppendLine(nil, s.Time, s.Values, sep)
			back := sensors.Sample{Values: make([]float32, 8)}
			if err := l.Parse(out, &back); err != nil {
				t.Fatalf("Parse(AppendLine(Parse(%q))) = %v; line %q", line, err, out)
			}
			if !sameValues(back.Values, s.Values) || !back.Time.Equal(s.Time.Truncate(time.Millisecond)) {
				t.Fatalf("round trip of %q via %q: got %v %v, want %v %v", line, out, back.Time, back.Values, s.Time, s.Values)
			}
		}
	})
}

// FuzzAppendLine checks the writer's side: any values (NaN and ±Inf too) and any
// time in years 0-9999 survive AppendLine and Parse.
func FuzzAppendLine(f *testing.F) {
	f.Add(int64(1581168647), int64(250e6), float32(0.202394), float32(-0.0), float32(math.NaN()), float32(math.MaxFloat32))
	f.Add(int64(-62167219200), int64(0), float32(math.SmallestNonzeroFloat32), float32(1), float32(2), float32(3))
	l, err := NewLayout([]string{"datetime", "a", "b", "c", "d"}, []string{"a", "b", "c", "d"}, Opts{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64, a, b, c, d float32) {
		tm := time.Unix(sec, nsec).UTC()
		if y := tm.Year(); y < 0 || y > 9999 {
			t.Skip()
		}
		vals := []float32{a, b, c, d}
		line := AppendLine(nil, tm, vals, ';')
		s := sensors.Sample{Values: make([]float32, 4)}
		if err := l.Parse(line, &s); err != nil {
			t.Fatalf("Parse(%q) = %v", line, err)
		}
		if !sameValues(s.Values, vals) || !s.Time.Equal(tm.Truncate(time.Millisecond)) {
			t.Fatalf("Parse(%q) = %v %v, want %v %v", line, s.Time, s.Values, tm, vals)
		}
	})
}
