package health

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stream is one /events client; a goroutine reads its events into
// events until the stream ends.
type stream struct {
	resp   *http.Response
	events chan string
}

func openStream(t *testing.T, s *Server) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addr()+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	st := &stream{resp, make(chan string, 100)}
	go func() {
		defer close(st.events)
		r := bufio.NewReader(resp.Body)
		var data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch line = strings.TrimSuffix(line, "\n"); {
			case line == "" && data != "":
				st.events <- data
				data = ""
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return st, resp.StatusCode
}

// nextWithin returns the next event's data, or false after d.
func (st *stream) nextWithin(t *testing.T, d time.Duration) (string, bool) {
	t.Helper()
	select {
	case data, ok := <-st.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return data, true
	case <-time.After(d):
		return "", false
	}
}

// TestEvents checks that a stream sends a snapshot at once, then one per
// change, and nothing while nothing changes.
func TestEvents(t *testing.T) {
	var score atomic.Int64
	snap := func() Snapshot {
		s := fixedSnapshot()
		s.Time = time.Time{} // the server's clock: changes every tick
		s.LastSample = time.Time{}
		s.Score = float64(score.Load()) / 100
		return s
	}
	s := startServer(t, Options{Snapshot: snap, Interval: 40 * time.Millisecond})
	st, code := openStream(t, s)
	if code != 200 || st.resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events = %d %s", code, st.resp.Header.Get("Content-Type"))
	}
	scoreOf := func(data string) float64 {
		var v struct{ Score float64 }
		if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		return v.Score
	}
	first, ok := st.nextWithin(t, 2*time.Second)
	if !ok || scoreOf(first) != 0 {
		t.Fatalf("first event %q, %v; want score 0 at once", first, ok)
	}
	if data, ok := st.nextWithin(t, 300*time.Millisecond); ok {
		t.Errorf("an event although nothing changed: %s", data)
	}
	score.Store(75)
	data, ok := st.nextWithin(t, 2*time.Second)
	if !ok || scoreOf(data) != 0.75 {
		t.Fatalf("after a change: event %q, %v; want score 0.75", data, ok)
	}
	// The stream counts as a status client.
	_, _, metrics := get(t, "http://"+s.Addr()+"/metrics")
	if !strings.Contains(metrics, "\nvigil_status_clients 1\n") {
		t.Errorf("/metrics with one stream open:\n%s", metrics)
	}
}

// TestEventsClientLimit checks that streams beyond MaxClients get 503 and
// that a closed stream frees its place.
func TestEventsClientLimit(t *testing.T) {
	s := startServer(t, Options{Snapshot: fixedSnapshot, MaxClients: 2, Interval: 50 * time.Millisecond})
	var open []*stream
	for i := range 2 {
		st, code := openStream(t, s)
		if code != 200 {
			t.Fatalf("stream %d: %d, want 200", i+1, code)
		}
		if _, ok := st.nextWithin(t, 2*time.Second); !ok {
			t.Fatalf("stream %d: no first event", i+1)
		}
		open = append(open, st)
	}
	code, hdr, body := get(t, "http://"+s.Addr()+"/events")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "2 status pages are streaming already") || hdr.Get("Retry-After") == "" {
		t.Errorf("third stream: %d %q, want 503 naming the limit", code, body)
	}
	open[0].resp.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for s.clients.Load() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients counted after one stream closed", s.clients.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, code := openStream(t, s); code != 200 {
		t.Errorf("a stream after one closed: %d, want 200", code)
	}
}

// TestEventsManyClientsRace opens and closes streams concurrently, for
// the race detector and the client count.
func TestEventsManyClientsRace(t *testing.T) {
	s := startServer(t, Options{Snapshot: fixedSnapshot, MaxClients: 4, Interval: 10 * time.Millisecond})
	// The clients' own transport: its spare connections, dialled but
	// never used, are closed at the end, or the server's Shutdown would
	// wait up to 5 s for them to send a request.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	done := make(chan error, 12)
	for i := range 12 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addr()+"/events", nil)
			resp, err := client.Do(req)
			if err != nil {
				done <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != 503 {
				done <- fmt.Errorf("client %d: %d", i, resp.StatusCode)
				return
			}
			bufio.NewReader(resp.Body).ReadString('\n')
			done <- nil
		}()
	}
	for range 12 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.clients.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients counted after all left", s.clients.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
