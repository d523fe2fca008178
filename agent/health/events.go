package health

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// keepAlive is the longest /events stays silent: a snapshot that has not
// changed is sent again after this long, so the page knows the stream
// lives.
const keepAlive = 15 * time.Second

// timeKey starts the last field of a status in JSON; what precedes it
// tells whether a snapshot changed.
var timeKey = []byte(`,"time":`)

// serveEvents streams snapshots as Server-Sent Events: one at once, then
// at most one per Interval, and only when it differs from the last one
// sent (or keepAlive has passed). At most MaxClients streams run at once;
// more are refused with 503.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if n := s.clients.Add(1); int(n) > s.o.MaxClients {
		s.clients.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "health: "+strconv.Itoa(s.o.MaxClients)+" status pages are streaming already; close one, or poll /status.json",
			http.StatusServiceUnavailable)
		return
	}
	defer s.clients.Add(-1)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	tick := time.NewTicker(s.o.Interval)
	defer tick.Stop()
	var (
		msg, last []byte
		sent      time.Time
	)
	for first := true; ; first = false {
		if !first {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			case <-s.done:
				return
			}
		}
		b, err := json.Marshal(s.statusOf(s.snapshot()))
		if err != nil {
			s.o.Logger.Warn("health: encoding the status", "err", err)
			continue
		}
		body := b
		if i := bytes.LastIndex(b, timeKey); i >= 0 {
			body = b[:i]
		}
		now := time.Now()
		if !first && bytes.Equal(body, last) && now.Sub(sent) < keepAlive {
			continue
		}
		last = append(last[:0], body...)
		sent = now
		msg = append(msg[:0], "data: "...)
		msg = append(msg, b...)
		msg = append(msg, "\n\n"...)
		rc.SetWriteDeadline(now.Add(writeTimeout))
		if _, err := w.Write(msg); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
