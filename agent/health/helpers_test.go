package health

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/infer/decide"
)

// t0 is the fixed time of test snapshots.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// fixedSnapshot is a gateway in the middle of an anomaly, with a healthy
// outbox, a broker that reconnected once, and a Modbus source with two
// slaves.
func fixedSnapshot() Snapshot {
	return Snapshot{
		Time:       t0,
		Name:       "plant-3/pump-7",
		State:      decide.Anomaly,
		Score:      0.8125,
		Threshold:  0.5,
		AlarmAbove: 0.6,
		NormalAt:   0.375,
		Channels: []Channel{
			{Name: "Pressure", Value: 1.25, Share: 0.625},
			{Name: "Volume Flow RateRMS", Value: 32.5, Share: 0.25},
			{Name: "Temperature", Value: math.NaN(), Share: 0.125},
		},
		Model:      ModelInfo{Loaded: true, ID: "pump-ae-2025-03", Version: 7, Signer: "a1b2c3d4", K: 3, N: 5},
		Samples:    123456,
		Faults:     12,
		Stales:     2,
		LastSample: t0.Add(-250 * time.Millisecond),
		StaleAfter: 5 * time.Second,
		Outbox:     OutboxInfo{Pending: 3, PendingAlerts: 2, Oldest: 1500 * time.Millisecond, Durable: true},
		Broker: BrokerInfo{Connected: true, URL: "tls://broker.example:8883", LastError: "EOF",
			Connects: 2, Failures: 5, Sent: 42},
		Sources: []SourceInfo{
			{Name: `rtu "line 1"`, ReadErrors: 4, Modbus: []SlaveInfo{
				{Slave: 1, Requests: 1000, Timeouts: 3, CRCErrors: 1, Exceptions: 0},
				{Slave: 17, Requests: 998, Timeouts: 0, CRCErrors: 0, Exceptions: 2},
			}},
			{Name: "board", ReadErrors: 0},
		},
	}
}

// testServer builds a server for snap without listening; serve sends it
// requests.
func testServer(tb testing.TB, snap func() Snapshot) *Server {
	tb.Helper()
	o, err := Options{Snapshot: snap, Version: "v1.2.3-test", Now: func() time.Time { return t0 }, Logger: testLogger(tb)}.withDefaults()
	if err != nil {
		tb.Fatal(err)
	}
	return newServer(o)
}

// serve sends one request to s's handler and returns the response.
func serve(s *Server, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.srv.Handler.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

// startServer starts a listening server on a free loopback port and
// closes it when the test ends.
func startServer(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// testLogger logs to t.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b))
	return len(b), nil
}
