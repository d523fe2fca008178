package health

import (
	"net/http"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Snapshot)
		code int
		body string
	}{
		{"healthy", nil, 200, "ok\n"},
		{"no model", func(s *Snapshot) { s.Model.Loaded = false }, 503,
			"model: no model loaded\n"},
		{"no sample yet", func(s *Snapshot) { s.LastSample = time.Time{} }, 503,
			"source: no sample received yet\n"},
		{"stale", func(s *Snapshot) { s.LastSample = t0.Add(-6 * time.Second) }, 503,
			"source: last sample 6s ago, stale after 5s\n"},
		{"just within the timeout", func(s *Snapshot) { s.LastSample = t0.Add(-5 * time.Second) }, 200, "ok\n"},
		{"default timeout", func(s *Snapshot) { s.StaleAfter = 0; s.LastSample = t0.Add(-29 * time.Second) }, 200, "ok\n"},
		{"default timeout passed", func(s *Snapshot) { s.StaleAfter = 0; s.LastSample = t0.Add(-31 * time.Second) }, 503,
			"source: last sample 31s ago, stale after 30s\n"},
		{"outbox in memory", func(s *Snapshot) { s.Outbox.Durable = false }, 503,
			"outbox: not durable: alerts are held in memory only\n"},
		{"outbox disk error", func(s *Snapshot) {
			s.Outbox.Durable = false
			s.Outbox.Error = "write /var/lib/vigil/outbox.db:\nno space left on device"
		}, 503, "outbox: not durable: alerts are held in memory only: write /var/lib/vigil/outbox.db: no space left on device\n"},
		{"everything wrong", func(s *Snapshot) { *s = Snapshot{Time: t0} }, 503,
			"model: no model loaded\nsource: no sample received yet\noutbox: not durable: alerts are held in memory only\n"},
		{"zero time uses the server's clock", func(s *Snapshot) { s.Time = time.Time{} }, 200, "ok\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := fixedSnapshot()
			if tc.edit != nil {
				tc.edit(&snap)
			}
			s := testServer(t, func() Snapshot { return snap })
			w := serve(s, "GET", "/healthz")
			if w.Code != tc.code || w.Body.String() != tc.body {
				t.Errorf("GET /healthz = %d %q, want %d %q", w.Code, w.Body, tc.code, tc.body)
			}
			if h := serve(s, "HEAD", "/healthz"); h.Code != tc.code {
				t.Errorf("HEAD /healthz = %d, want %d", h.Code, tc.code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// TestHealthzListening asks a listening server, as a load balancer or
// systemd's health check would.
func TestHealthzListening(t *testing.T) {
	s := startServer(t, Options{Snapshot: fixedSnapshot})
	code, _, body := get(t, "http://"+s.Addr()+"/healthz")
	if code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", code, body)
	}
}
