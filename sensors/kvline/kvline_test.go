package kvline

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/sensors"
)

var parseTests = []struct {
	format Format
	line   string
	want   string // "time|a b" or the error's text
}{
	{KeyValue, "a=1 b=2", "0001-01-01|1 2"},
	{KeyValue, "b=2.5,a=-1;junk=7", "0001-01-01|-1 2.5"},
	{KeyValue, "datetime=2024-01-02 03:04:05.5 a=1", "2024-01-02T03:04:05.5|1 NaN"},
	{KeyValue, "  a=Inf\tb=1e39 ", "0001-01-01|+Inf +Inf"},
	{KeyValue, "a= b=nan", "0001-01-01|NaN NaN"},
	{KeyValue, "a=x", `a: want a number, got "x"`},
	{KeyValue, "a", `"a": want key=value`},
	{KeyValue, "=3", `"=3": want key=value`},
	{KeyValue, " ; ", "no key=value pairs"},
	{KeyValue, "datetime=yesterday a=1", "datetime: csvline: want a datetime"},
	{JSON, `{"a": 1, "b": 2}`, "0001-01-01|1 2"},
	{JSON, `{"b":null,"a":"3.5","c":{"x":1}}`, `"c": nested values are not read`},
	{JSON, `{"b":null,"a":"3.5","on":true}`, "0001-01-01|3.5 NaN"},
	{JSON, `{"datetime":"2024-01-02T03:04:05","a":1,"name":"pump \"3\""}`, "2024-01-02T03:04:05|1 NaN"},
	{JSON, `{"a": "NaN", "b": -0}`, "0001-01-01|NaN -0"},
	{JSON, `{"a": 1,}`, "want a quoted key"},
	{JSON, `{"a" 1}`, `want ':' after key "a"`},
	{JSON, `{"a": 1`, "unterminated object"},
	{JSON, `{"a": 1} x`, "text after the object"},
	{JSON, `[1, 2]`, "want a JSON object"},
	{JSON, `{}`, "empty object"},
	{JSON, `{"a": tru}`, `a: want a number, got "tru"`},
	{JSON, `{"a": "1}`, "unterminated string"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseTests {
		p, err := New(tc.format, []string{"a", "b"}, "")
		if err != nil {
			t.Fatal(err)
		}
		s := sensors.Sample{Values: make([]float32, 2)}
		var got string
		if err := p.Parse([]byte(tc.line), &s); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tc.line, err)
			}
			got = err.Error()
		} else {
			got = strings.TrimSuffix(strings.TrimSuffix(s.Time.Format("2006-01-02T15:04:05.999999999"), "T00:00:00"), "Z") +
				"|" + fmt.Sprint(s.Values[0]) + " " + fmt.Sprint(s.Values[1])
			if p.HasTime() != !s.Time.IsZero() {
				t.Errorf("Parse(%q): HasTime %v with time %v", tc.line, p.HasTime(), s.Time)
			}
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("Parse(%q) = %s, want %s", tc.line, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		channels []string
		want     string
	}{
		{nil, "no channels"},
		{[]string{"a", "a"}, `"a" wanted twice`},
		{[]string{"datetime"}, "time key"},
	} {
		if _, err := New(JSON, tc.channels, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) = %v, want %q", tc.channels, err, tc.want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error(`ParseFormat("xml") succeeded`)
	}
}

func TestParseAllocs(t *testing.T) {
	for _, f := range []struct {
		format Format
		line   string
	}{
		{KeyValue, "datetime=2024-01-02 03:04:05 Pressure=1.02 Current=2.5 Temperature=70"},
		{JSON, `{"datetime":"2024-01-02 03:04:05","Pressure":1.02,"Current":2.5,"Temperature":70}`},
	} {
		p, _ := New(f.format, []string{"Pressure", "Current", "Temperature"}, "")
		s := sensors.Sample{Values: make([]float32, 3)}
		line := []byte(f.line)
		if a := testing.AllocsPerRun(100, func() { p.Parse(line, &s) }); a != 0 {
			t.Errorf("Parse(%s) allocates %v times, want 0", f.line, a)
		}
		if s.Values[0] != 1.02 || s.Time.IsZero() {
			t.Errorf("Parse(%s) = %v %v", f.line, s.Time, s.Values)
		}
	}
}

func BenchmarkParseJSON(b *testing.B) {
	p, _ := New(JSON, sensors.SKABChannels, "")
	line := []byte(`{"datetime":"2020-02-08 13:30:47","Accelerometer1RMS":0.202394,"Accelerometer2RMS":0.275154,"Current":2.16975,"Pressure":0.382638,"Temperature":90.6454,"Thermocouple":26.8508,"Voltage":238.852,"Volume Flow RateRMS":122}`)
	s := sensors.Sample{Values: make([]float32, len(sensors.SKABChannels))}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for range b.N {
		p.Parse(line, &s)
	}
}

// FuzzParse: no line makes Parse panic; every failure wraps ErrSyntax;
// every channel of a parsed sample is a number or NaN.
func FuzzParse(f *testing.F) {
	for _, tc := range parseTests {
		f.Add(uint8(tc.format), []byte(tc.line))
	}
	f.Fuzz(func(t *testing.T, format uint8, line []byte) {
		p, err := New(Format(format%2+1), []string{"a", "b"}, "")
		if err != nil {
			t.Fatal(err)
		}
		s := sensors.Sample{Values: make([]float32, 2)}
		if err := p.Parse(line, &s); err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("Parse(%q) = %v, not an ErrSyntax", line, err)
		}
		_ = math.IsNaN(float64(s.Values[0]))
	})
}
