package csvline

import (
	"math"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

var appendLineTests = []struct {
	values []float32
	sep    byte
	want   string
}{
	{[]float32{0.202394, 2.16975, 238.852}, ';', "2020-02-08 13:30:47.250;0.202394;2.16975;238.852\n"},
	{[]float32{1, nan(), -0.5}, ',', "2020-02-08 13:30:47.250,1,,-0.5\n"},
	{[]float32{1e-7, 3e20, float32(math.Copysign(0, -1))}, ';', "2020-02-08 13:30:47.250;1e-07;3e+20;-0\n"},
	{[]float32{float32(math.Inf(1))}, ';', "2020-02-08 13:30:47.250;+Inf\n"},
	{nil, ';', "2020-02-08 13:30:47.250\n"},
}

func TestAppendLine(t *testing.T) {
	tm := time.Date(2020, 2, 8, 13, 30, 47, 250e6, time.UTC)
	for _, tt := range appendLineTests {
		if got := string(AppendLine(nil, tm, tt.values, tt.sep)); got != tt.want {
			t.Errorf("AppendLine(%v, %q) = %q, want %q", tt.values, tt.sep, got, tt.want)
		}
	}
}

func TestAppendHeader(t *testing.T) {
	got := string(AppendHeader(nil, sensors.SKABChannels, ';'))
	want := "datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS\n"
	if got != want {
		t.Errorf("AppendHeader(SKABChannels) = %q, want %q", got, want)
	}
}

// TestWriteRead writes a header and lines and reads them back through
// ParseHeader and a Layout.
func TestWriteRead(t *testing.T) {
	names := []string{"a", "b", "c"}
	rows := [][]float32{{1, 2, 3}, {nan(), 0.1, -1e-30}, {math.MaxFloat32, math.SmallestNonzeroFloat32, 0}}
	for _, sep := range []byte{';', ','} {
		hdr := AppendHeader(nil, names, sep)
		cols, err := ParseHeader(hdr, Opts{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := NewLayout(cols, names, Opts{})
		if err != nil {
			t.Fatal(err)
		}
		s := sensors.Sample{Values: make([]float32, 3)}
		for i, r := range rows {
			tm := time.Date(2021, 3, 4, 5, 6, 7, i*1e6, time.UTC)
			line := AppendLine(nil, tm, r, sep)
			if err := l.Parse(line, &s); err != nil {
				t.Fatalf("Parse(%q) = %v", line, err)
			}
			if !s.Time.Equal(tm) || !sameValues(s.Values, r) {
				t.Errorf("Parse(%q) = %v %v, want %v %v", line, s.Time, s.Values, tm, r)
			}
		}
	}
}
