package health

import (
	"net/http"
	"strings"
	"time"
)

// Problems returns, one line each, why snap is not healthy: no model
// loaded, no sample within the stale timeout, an outbox that cannot write
// to its disk. It returns nil when all is well.
func Problems(snap Snapshot) []string {
	var out []string
	if !snap.Model.Loaded {
		out = append(out, "model: no model loaded")
	}
	stale := snap.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	switch age := snap.Time.Sub(snap.LastSample); {
	case snap.LastSample.IsZero():
		out = append(out, "source: no sample received yet")
	case age > stale:
		out = append(out, "source: last sample "+age.Round(time.Millisecond).String()+" ago, stale after "+stale.String())
	}
	if !snap.Outbox.Durable {
		line := "outbox: not durable: alerts are held in memory only"
		if snap.Outbox.Error != "" {
			line += ": " + oneLine(snap.Outbox.Error)
		}
		out = append(out, line)
	}
	return out
}

// serveHealthz answers 200 "ok" when Problems finds none, else 503 with
// one line per problem.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	problems := Problems(s.snapshot())
	if len(problems) == 0 {
		w.Write([]byte("ok\n"))
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(strings.Join(problems, "\n") + "\n"))
}

// oneLine replaces line breaks in an error text, so that each problem
// stays one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
