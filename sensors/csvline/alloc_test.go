package csvline

import (
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

const skabLine = "2020-02-08 13:30:47.125;0.202394;0.275154;2.16975;0.382638;90.6454;26.8508;238.852;122.664\r\n"

func skabLayout(tb testing.TB) *Layout {
	tb.Helper()
	l, err := NewLayout(skabColumns, sensors.SKABChannels, Opts{})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

var allocTests = []struct {
	name string
	line string
}{
	{"skab", skabLine},
	{"missing values", "2020-02-08 13:30:47;;0.275154;;0.382638;;26.8508;;122.664"},
	{"32-byte numbers", "2020-02-08 13:30:47;0.202394000000000000000000000001;1;2;3;4;5;6;7"},
	{"comma", "2020-02-08 13:30:47,1,2,3,4,5,6,7,8"},
}

// TestParseAllocs proves Parse allocates nothing on success.
func TestParseAllocs(t *testing.T) {
	l := skabLayout(t)
	s := sensors.Sample{Values: make([]float32, 8)}
	for _, tt := range allocTests {
		line := []byte(tt.line)
		if err := l.Parse(line, &s); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = l.Parse(line, &s) }); n != 0 {
			t.Errorf("%s: Parse allocates %v times per line, want 0", tt.name, n)
		}
	}
}

func TestHelpersAllocs(t *testing.T) {
	hdr := []byte("datetime;Accelerometer1RMS;Accelerometer2RMS;Current\r\n")
	data := []byte(skabLine)
	buf := make([]byte, 0, 256)
	vals := []float32{0.202394, 0.275154, 2.16975, 0.382638, 90.6454, 26.8508, 238.852, 122.664}
	tm := time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC)
	for name, f := range map[string]func(){
		"IsHeader(header)": func() { IsHeader(hdr, Opts{}) },
		"IsHeader(data)":   func() { IsHeader(data, Opts{}) },
		"ParseTime":        func() { _, _ = ParseTime(data[:23]) },
		"AppendLine":       func() { buf = AppendLine(buf[:0], tm, vals, ';') },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times, want 0", name, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	l := skabLayout(b)
	s := sensors.Sample{Values: make([]float32, 8)}
	line := []byte(skabLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Parse(line, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsHeader(b *testing.B) {
	line := []byte(skabLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		IsHeader(line, Opts{})
	}
}

func BenchmarkAppendLine(b *testing.B) {
	vals := []float32{0.202394, 0.275154, 2.16975, 0.382638, 90.6454, 26.8508, 238.852, 122.664}
	tm := time.Date(2020, 2, 8, 13, 30, 47, 0, time.UTC)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendLine(buf[:0], tm, vals, ';')
	}
	b.SetBytes(int64(len(buf)))
}
