package health

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/infer/decide"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestMetricsGolden compares /metrics for fixedSnapshot, after three
// inferences, with testdata/metrics.golden.
func TestMetricsGolden(t *testing.T) {
	s := testServer(t, fixedSnapshot)
	for _, d := range []time.Duration{40 * time.Microsecond, 120 * time.Microsecond, 3 * time.Millisecond} {
		s.ObserveInference(d)
	}
	w := serve(s, "GET", "/metrics")
	if w.Code != 200 {
		t.Fatalf("GET /metrics = %d %q", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	got := w.Body.Bytes()
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestMetricsGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("/metrics differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

var (
	sampleLine = regexp.MustCompile(`^(vigil_[a-z_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? (\S+)$`)
	typeLine   = regexp.MustCompile(`^# TYPE (vigil_[a-z_]+) (counter|gauge|histogram)$`)
)

// TestMetricsFormat checks every line of /metrics against the text
// format, for snapshots with awkward values: each sample belongs to the
// family typed just before it, no family is typed twice, counters end in
// _total.
func TestMetricsFormat(t *testing.T) {
	empty := Snapshot{Score: math.NaN(), Threshold: math.NaN()}
	odd := fixedSnapshot()
	odd.Score = math.Inf(1)
	odd.Channels[0].Name = "a\"b\\c\nd\xff"
	odd.Sources[0].Name = `}{"`
	odd.Model.ID = `id "quoted"`
	for _, tc := range []struct {
		name string
		snap Snapshot
	}{{"fixed", fixedSnapshot()}, {"empty", empty}, {"odd", odd}} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, func() Snapshot { return tc.snap })
			body := serve(s, "GET", "/metrics").Body.String()
			typed := map[string]string{}
			family := ""
			for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
				if strings.HasPrefix(line, "# HELP ") {
					continue
				}
				if m := typeLine.FindStringSubmatch(line); m != nil {
					if typed[m[1]] != "" {
						t.Errorf("line %d: %s typed twice", i+1, m[1])
					}
					typed[m[1]], family = m[2], m[1]
					if (m[2] == "counter") != strings.HasSuffix(m[1], "_total") {
						t.Errorf("line %d: %s is a %s", i+1, m[1], m[2])
					}
					continue
				}
				m := sampleLine.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("line %d: %q is not a sample", i+1, line)
					continue
				}
				name := m[1]
				if typed[family] == "histogram" {
					name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				}
				if name != family {
					t.Errorf("line %d: %s under the TYPE of %s", i+1, m[1], family)
				}
			}
			if typed["vigil_state"] == "" || typed["vigil_build_info"] == "" || typed[metricInferSeconds] != "histogram" {
				t.Errorf("families missing: %v", typed)
			}
		})
	}
}

// TestMetricsValues checks single lines for chosen snapshots.
func TestMetricsValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Snapshot)
		want []string // lines that must appear
		not  []string // prefixes that must not
	}{
		{"state one-hot", func(s *Snapshot) { s.State = decide.Stale },
			[]string{`vigil_state{state="stale"} 1`, `vigil_state{state="anomaly"} 0`, `vigil_state{state="sensor-fault"} 0`, `vigil_state{state="unknown"} 0`}, nil},
		{"no score", func(s *Snapshot) { s.Score, s.Threshold = math.NaN(), math.NaN() },
			[]string{"vigil_score NaN", "vigil_threshold NaN"}, nil},
		{"no model", func(s *Snapshot) { s.Model = ModelInfo{} },
			[]string{"vigil_model_loaded 0", "vigil_healthy 0"}, []string{"vigil_model_info"}},
		{"model info", nil,
			[]string{`vigil_model_info{id="pump-ae-2025-03",version="7"} 1`, "vigil_model_loaded 1", "vigil_healthy 1"}, nil},
		{"escaped labels", func(s *Snapshot) { s.Sources[0].Name = "a\"b\\c\nd" },
			[]string{`vigil_source_read_errors_total{source="a\"b\\c\nd"} 4`}, nil},
		{"broker down", func(s *Snapshot) { s.Broker.Connected = false },
			[]string{"vigil_mqtt_connected 0", "vigil_mqtt_connects_total 2", "vigil_mqtt_connection_failures_total 5"}, nil},
		{"outbox", func(s *Snapshot) { s.Outbox.Durable = false },
			[]string{"vigil_outbox_durable 0", "vigil_outbox_oldest_pending_seconds 1.5", "vigil_outbox_pending_alerts 2"}, nil},
		{"no sample yet", func(s *Snapshot) { s.LastSample = time.Time{} },
			nil, []string{"vigil_last_sample_age_seconds"}},
		{"modbus", nil,
			[]string{`vigil_modbus_crc_errors_total{source="rtu \"line 1\"",slave="1"} 1`, `vigil_modbus_exceptions_total{source="rtu \"line 1\"",slave="17"} 2`}, nil},
		{"no sources", func(s *Snapshot) { s.Sources = nil },
			nil, []string{"vigil_source_read_errors_total", "vigil_modbus_", "# HELP vigil_modbus_"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := fixedSnapshot()
			if tc.edit != nil {
				tc.edit(&snap)
			}
			body := serve(testServer(t, func() Snapshot { return snap }), "GET", "/metrics").Body.String()
			lines := strings.Split(body, "\n")
			for _, w := range tc.want {
				if !contains(lines, w) {
					t.Errorf("/metrics lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tc.not {
				for _, l := range lines {
					if strings.HasPrefix(l, n) || strings.HasPrefix(l, "# TYPE "+n) {
						t.Errorf("/metrics has %q", l)
					}
				}
			}
		})
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestObserveInferenceAllocs holds ObserveInference, called for every
// sample, to zero allocations.
func TestObserveInferenceAllocs(t *testing.T) {
	s := testServer(t, fixedSnapshot)
	d := 150 * time.Microsecond
	if n := testing.AllocsPerRun(1000, func() { s.ObserveInference(d); d += time.Microsecond }); n != 0 {
		t.Errorf("ObserveInference: %v allocations per call, want 0", n)
	}
	var nilServer *Server
	nilServer.ObserveInference(d) // a disabled server does nothing
}

// TestObserveInferenceConcurrent scrapes while the sampling loop
// observes, for the race detector.
func TestObserveInferenceConcurrent(t *testing.T) {
	s := testServer(t, fixedSnapshot)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			s.ObserveInference(time.Duration(i) * time.Microsecond)
		}
	}()
	for range 20 {
		serve(s, "GET", "/metrics")
	}
	<-done
	body := serve(s, "GET", "/metrics").Body.String()
	if !strings.Contains(body, "\nvigil_inference_seconds_count 2000\n") {
		t.Errorf("after 2000 observations:\n%s", body)
	}
}

func BenchmarkObserveInference(b *testing.B) {
	s := testServer(b, fixedSnapshot)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.ObserveInference(time.Duration(i&1023) * time.Microsecond)
	}
}

func BenchmarkMetrics(b *testing.B) {
	s := testServer(b, fixedSnapshot)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		s.writeMetrics(&buf, fixedSnapshot())
	}
	b.SetBytes(int64(buf.Len()))
}
