package serial

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/csvline"
)

var update = flag.Bool("update", false, "rewrite testdata/transcripts/*.golden")

// fourChannels is the wanted channel list of most transcripts.
var fourChannels = []string{"Accelerometer1RMS", "Current", "Pressure", "Volume Flow RateRMS"}

var fourColumns = append([]string{"datetime"}, fourChannels...)

// transcripts are recorded line streams, each replayed through NewReader
// (and some through a real pseudo-terminal, see pty_test.go); the samples,
// errors, counters and logs they produce are in NAME.golden.
var transcripts = []struct {
	name string // testdata/transcripts/NAME.in, or a path
	opts Opts
	pty  bool // also replayed through a pty: must end with a good line
}{
	{"bare", Opts{Columns: fourColumns, Channels: fourChannels}, true},
	{"garbage", Opts{Columns: fourColumns, Channels: fourChannels}, true},
	{"overlong", Opts{Columns: fourColumns, Channels: fourChannels, MaxLine: 64}, false},
	{"remap", Opts{Columns: fourColumns, Channels: fourChannels}, false},
	{"noheader", Opts{Channels: fourChannels}, true},
	{"notime", Opts{Columns: []string{"a", "b"}, Channels: []string{"b", "a"}, Separator: ','}, false},
	{"../skab/anomaly-free-head.csv", Opts{Channels: sensors.SKABChannels}, true},
	{"../skab/valve1-0-head.csv", Opts{Channels: []string{"Pressure", "anomaly", "Volume Flow RateRMS"}}, false},
}

func transcriptPath(name string) string {
	if strings.HasPrefix(name, "../") {
		return filepath.Join("..", "testdata", strings.TrimPrefix(name, "../"))
	}
	return filepath.Join("testdata", "transcripts", name+".in")
}

func goldenPath(name string) string {
	base := strings.TrimSuffix(filepath.Base(name), ".csv")
	return filepath.Join("testdata", "transcripts", base+".golden")
}

// stepClock is a fake clock that moves on by step at every reading.
type stepClock struct {
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time { c.t = c.t.Add(c.step); return c.t }

func newStepClock() *stepClock {
	return &stepClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), step: LogInterval}
}

// testLogger writes text logs without timestamps to buf.
func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// replay reads src until an error or until want samples were read (want <
// 0: no limit) and renders what happened, one line per event.
func replay(t *testing.T, src *Source, logs *bytes.Buffer, want int) string {
	t.Helper()
	var out bytes.Buffer
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for n := 0; want < 0 || n < want; n++ {
		if err := src.Read(ctx, &s); err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			break
		}
		out.Write(csvline.AppendLine(nil, s.Time, s.Values, ';'))
	}
	st := src.Stats()
	fmt.Fprintf(&out, "stats: lines=%d bad=%d headers=%d\n", st.Lines, st.Bad, st.Headers)
	out.WriteString("logs:\n")
	out.Write(logs.Bytes())
	return out.String()
}

func TestTranscripts(t *testing.T) {
	for _, tt := range transcripts {
		t.Run(filepath.Base(tt.name), func(t *testing.T) {
			in, err := os.Open(transcriptPath(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			opts := tt.opts
			opts.Device = filepath.Base(tt.name)
			opts.Logger = testLogger(&logs)
			opts.Now = newStepClock().Now
			src, err := NewReader(in, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got := replay(t, src, &logs, -1)
			golden := goldenPath(tt.name)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("replay of %s:\n%s\nwant (%s):\n%s", tt.name, got, golden, want)
			}
		})
	}
}

var optsTests = []struct {
	name string
	opts Opts
	dev  bool // Open rather than NewReader
	err  string
}{
	{"ok", Opts{Channels: []string{"a"}}, false, ""},
	{"no channels", Opts{}, false, "Opts.Channels is empty"},
	{"dup channels", Opts{Channels: []string{"a", "a"}}, false, `"a" wanted twice`},
	{"time as channel", Opts{Channels: []string{"datetime"}}, false, "time column"},
	{"separator", Opts{Channels: []string{"a"}, Separator: '.'}, false, "Separator"},
	{"max line small", Opts{Channels: []string{"a"}, MaxLine: 10}, false, "Opts.MaxLine 10 is outside"},
	{"max line big", Opts{Channels: []string{"a"}, MaxLine: 1 << 30}, false, "Opts.MaxLine"},
	{"columns lack channel", Opts{Channels: []string{"a", "b"}, Columns: []string{"a"}}, false, `Opts.Columns/Channels: csvline: wanted channels missing from the columns: "b"`},
	{"no device", Opts{Channels: []string{"a"}}, true, "Opts.Device is empty"},
	{"negative baud", Opts{Device: "/dev/null", Channels: []string{"a"}, Baud: -1}, true, "Opts.Baud -1"},
	{"timeout", Opts{Device: "/dev/null", Channels: []string{"a"}, ReadTimeout: time.Microsecond}, true, "Opts.ReadTimeout"},
	{"missing device", Opts{Device: "/nonexistent/tty", Channels: []string{"a"}}, true, "serial: open /nonexistent/tty at 115200 baud 8N1"},
	{"data bits", Opts{Device: "/dev/null", Channels: []string{"a"}, DataBits: 9}, true, "Opts.DataBits 9"},
	{"parity", Opts{Device: "/dev/null", Channels: []string{"a"}, Parity: 'X'}, true, "Opts.Parity 'X'"},
	{"stop bits", Opts{Device: "/dev/null", Channels: []string{"a"}, StopBits: 3}, true, "Opts.StopBits 3"},
	{"scale unknown channel", Opts{Channels: []string{"a"}, Scale: map[string]Linear{"b": {Gain: 2}}}, false, `Opts.Scale names "b"`},
	{"scale zero gain", Opts{Channels: []string{"a"}, Scale: map[string]Linear{"a": {Offset: 4}}}, false, `Opts.Scale["a"]`},
	{"not a tty", Opts{Device: "/dev/null", Channels: []string{"a"}}, true, "serial: open /dev/null"},
}

// Scale converts the named channels, NaN stays NaN, others pass as read.
func TestScale(t *testing.T) {
	src, err := NewReader(io.NopCloser(strings.NewReader("a;b;c\n4;1;1\n20;;2\n")), Opts{Device: "loop",
		Channels: []string{"a", "b", "c"}, Columns: []string{"a", "b", "c"},
		// 4–20 mA onto 0–10 bar, and a Fahrenheit reading to Celsius.
		Scale: map[string]Linear{"a": {Gain: 10.0 / 16, Offset: -2.5}, "b": {Gain: 5.0 / 9, Offset: -160.0 / 9}}})
	if err != nil {
		t.Fatal(err)
	}
	smp := sensors.Sample{Values: make([]float32, 3)}
	var got []string
	for src.Read(context.Background(), &smp) == nil {
		got = append(got, fmt.Sprintf("%.4g %.4g %.4g", smp.Values[0], smp.Values[1], smp.Values[2]))
	}
	if want := "0 -17.22 1|10 NaN 2"; strings.Join(got, "|") != want {
		t.Errorf("scaled samples %q, want %q", strings.Join(got, "|"), want)
	}
}

func TestOpts(t *testing.T) {
	for _, tt := range optsTests {
		t.Run(tt.name, func(t *testing.T) {
			var src *Source
			var err error
			if tt.dev {
				src, err = Open(tt.opts)
			} else {
				src, err = NewReader(io.NopCloser(strings.NewReader("")), tt.opts)
			}
			if tt.err == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				src.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("got %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

// listClock returns the given times in turn, then the last one forever.
type listClock struct{ ts []time.Duration }

func (c *listClock) Now() time.Time {
	d := c.ts[0]
	if len(c.ts) > 1 {
		c.ts = c.ts[1:]
	}
	return time.Unix(0, 0).Add(d)
}

// TestLogRateLimit checks that bad lines are logged at most once per
// LogInterval, each report carrying the number it suppressed.
func TestLogRateLimit(t *testing.T) {
	var logs bytes.Buffer
	clock := &listClock{ts: []time.Duration{0, time.Second, 2 * time.Second, 10500 * time.Millisecond, 11 * time.Second, 25 * time.Second}}
	in := "bad\n2020-02-08 13:30:47;1\nbad\nbad\nbad\nbad\n2020-02-08 13:30:48;2\nbad\n"
	src, err := NewReader(io.NopCloser(strings.NewReader(in)), Opts{Columns: []string{"datetime", "a"}, Channels: []string{"a"}, Logger: testLogger(&logs), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, 1)}
	for src.Read(context.Background(), &s) == nil {
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		i := strings.Index(l, "suppressed=")
		got = append(got, l[i:])
	}
	want := []string{"suppressed=0", "suppressed=2", "suppressed=1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("logged %q, want %q\n%s", got, want, logs.String())
	}
	if st := src.Stats(); st != (Stats{Lines: 8, Bad: 6}) {
		t.Errorf("Stats() = %+v, want 8 lines, 6 bad", st)
	}
}

func TestReadAfterClose(t *testing.T) {
	src, err := NewReader(io.NopCloser(strings.NewReader("1\n2\n")), Opts{Columns: []string{"a"}, Channels: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, 1)}
	if err := src.Read(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	if err := src.Read(context.Background(), &s); !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
}

func TestReadCancelled(t *testing.T) {
	src, err := NewReader(io.NopCloser(strings.NewReader("1\n")), Opts{Columns: []string{"a"}, Channels: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := sensors.Sample{Values: make([]float32, 1)}
	if err := src.Read(ctx, &s); !errors.Is(err, context.Canceled) {
		t.Errorf("Read(cancelled ctx) = %v, want context.Canceled", err)
	}
	if err := src.Read(context.Background(), &s); err != nil || s.Values[0] != 1 {
		t.Errorf("Read after a cancelled Read = %v %v, want the line", err, s.Values)
	}
	short := sensors.Sample{}
	if err := src.Read(context.Background(), &short); err == nil {
		t.Error("Read into a sample without values succeeded")
	}
}

// repeatReader yields line forever, in chunks of at most chunk bytes, and
// a (0, nil) "timeout" every fourth call, like a serial port.
type repeatReader struct {
	line  []byte
	off   int
	chunk int
	calls int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	r.calls++
	if r.calls%4 == 0 {
		return 0, nil
	}
	n := 0
	for n < len(p) && n < r.chunk {
		c := copy(p[n:min(len(p), r.chunk)], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

func (r *repeatReader) Close() error { return nil }

var allocTests = []struct {
	name string
	line string
	opts Opts
}{
	{"skab", "2020-02-08 13:30:47;0.202394;0.275154;2.16975;0.382638;90.6454;26.8508;238.852;122.664\r\n",
		Opts{Columns: append([]string{"datetime"}, sensors.SKABChannels...), Channels: sensors.SKABChannels}},
	{"no time", "0.202394,0.275154,2.16975\n", Opts{Columns: []string{"a", "b", "c"}, Channels: []string{"c", "a"}}},
}

// TestReadAllocs proves that a steady stream of good lines costs no
// allocations, whatever the chunking of reads.
func TestReadAllocs(t *testing.T) {
	for _, tt := range allocTests {
		for _, chunk := range []int{1, 7, 4096} {
			src, err := NewReader(&repeatReader{line: []byte(tt.line), chunk: chunk}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			s := sensors.Sample{Values: make([]float32, len(tt.opts.Channels))}
			ctx := context.Background()
			n := testing.AllocsPerRun(200, func() {
				if err := src.Read(ctx, &s); err != nil {
					t.Fatal(err)
				}
			})
			if n != 0 {
				t.Errorf("%s, chunks of %d: Read allocates %v times per line, want 0", tt.name, chunk, n)
			}
		}
	}
}

func BenchmarkRead(b *testing.B) {
	tt := allocTests[0]
	src, err := NewReader(&repeatReader{line: []byte(tt.line), chunk: 4096}, tt.opts)
	if err != nil {
		b.Fatal(err)
	}
	s := sensors.Sample{Values: make([]float32, len(tt.opts.Channels))}
	ctx := context.Background()
	b.SetBytes(int64(len(tt.line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Read(ctx, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func nan() float32 { return float32(math.NaN()) }

// sameValues compares values, NaN equal to NaN.
func sameValues(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// Devices that print key=value pairs or JSON lines are read by name; a
// bad line is skipped and counted as for CSV.
func TestLineFormats(t *testing.T) {
	for _, tc := range []struct {
		format, input string
	}{
		{"kv", "boot v1.2\nPressure=1.5 Current=2\nCurrent=3;Pressure=-1\n"},
		{"json", "{\"Pressure\":1.5,\"Current\":2}\nnot json\n{\"Current\":3,\"Pressure\":-1,\"rpm\":1450}\n"},
	} {
		src, err := NewReader(io.NopCloser(strings.NewReader(tc.input)), Opts{Device: tc.format, Format: tc.format,
			Channels: []string{"Current", "Pressure"}, Scale: map[string]Linear{"Pressure": {Gain: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		smp := sensors.Sample{Values: make([]float32, 2)}
		var got []string
		for src.Read(context.Background(), &smp) == nil {
			got = append(got, fmt.Sprint(smp.Values))
		}
		if strings.Join(got, " ") != "[2 15] [3 -10]" || src.Stats().Bad != 1 {
			t.Errorf("%s: samples %q, stats %+v; want [2 15] [3 -10] and one bad line", tc.format, got, src.Stats())
		}
	}
	if _, err := NewReader(io.NopCloser(strings.NewReader("")), Opts{Format: "xml", Channels: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "Opts.Format") {
		t.Errorf("format xml: %v", err)
	}
}
