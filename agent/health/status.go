package health

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"
)

// number is a float64 that marshals NaN and ±Inf as JSON null.
type number float64

// MarshalJSON writes the number, or null when it is not finite.
func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// status is the JSON form of a Snapshot, as /status.json and /events
// send it. Durations are in seconds. Time comes last: /events compares
// what precedes it to tell whether anything changed.
type status struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	State       string       `json:"state"`
	Score       number       `json:"score"`
	Threshold   number       `json:"threshold"`
	AlarmAbove  number       `json:"alarm_above"` // the levels of the decision's hysteresis:
	NormalAt    number       `json:"normal_at"`   // the threshold itself without one
	Channels    []channel    `json:"channels"`
	Model       modelStatus  `json:"model"`
	Samples     uint64       `json:"samples"`
	Faults      uint64       `json:"faults"`
	Stales      uint64       `json:"stales"`
	LastSampleS number       `json:"last_sample_age_s"` // null if none yet
	StaleAfterS number       `json:"stale_after_s"`
	Outbox      outboxStatus `json:"outbox"`
	Broker      brokerStatus `json:"broker"`
	Sources     []source     `json:"sources"`
	Healthy     bool         `json:"healthy"`
	Problems    []string     `json:"problems"`
	Time        time.Time    `json:"time"`
}

type channel struct {
	Name  string `json:"name"`
	Value number `json:"value"`
	Share number `json:"share"`
}

type modelStatus struct {
	Loaded  bool   `json:"loaded"`
	ID      string `json:"id"`
	Version uint64 `json:"version"`
	Signer  string `json:"signer"`
	K       int    `json:"k"`
	N       int    `json:"n"`
}

type outboxStatus struct {
	Pending       int    `json:"pending"`
	PendingAlerts int    `json:"pending_alerts"`
	OldestS       number `json:"oldest_s"`
	Durable       bool   `json:"durable"`
	Error         string `json:"error"`
}

type brokerStatus struct {
	Connected bool   `json:"connected"`
	URL       string `json:"url"`
	LastError string `json:"last_error"`
	Connects  uint64 `json:"connects"`
	Failures  uint64 `json:"failures"`
	Sent      uint64 `json:"sent"`
}

type source struct {
	Name       string  `json:"name"`
	ReadErrors uint64  `json:"read_errors"`
	Modbus     []slave `json:"modbus"`
}

type slave struct {
	Slave      uint8  `json:"slave"`
	Requests   uint64 `json:"requests"`
	Timeouts   uint64 `json:"timeouts"`
	CRCErrors  uint64 `json:"crc_errors"`
	Exceptions uint64 `json:"exceptions"`
}

// statusOf converts a snapshot to its JSON form.
func (s *Server) statusOf(snap Snapshot) status {
	stale := snap.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	above, below := snap.levels()
	st := status{
		Name: snap.Name, Version: s.o.Version, State: snap.State.String(),
		Score: number(snap.Score), Threshold: number(snap.Threshold), AlarmAbove: number(above), NormalAt: number(below),
		Channels: make([]channel, len(snap.Channels)),
		Model: modelStatus{Loaded: snap.Model.Loaded, ID: snap.Model.ID, Version: snap.Model.Version,
			Signer: snap.Model.Signer, K: snap.Model.K, N: snap.Model.N},
		Samples: snap.Samples, Faults: snap.Faults, Stales: snap.Stales,
		LastSampleS: number(math.NaN()), StaleAfterS: number(stale.Seconds()),
		Outbox: outboxStatus{Pending: snap.Outbox.Pending, PendingAlerts: snap.Outbox.PendingAlerts,
			OldestS: number(snap.Outbox.Oldest.Seconds()), Durable: snap.Outbox.Durable, Error: snap.Outbox.Error},
		Broker: brokerStatus{Connected: snap.Broker.Connected, URL: snap.Broker.URL, LastError: snap.Broker.LastError,
			Connects: snap.Broker.Connects, Failures: snap.Broker.Failures, Sent: snap.Broker.Sent},
		Sources:  make([]source, len(snap.Sources)),
		Problems: Problems(snap),
		Time:     snap.Time.UTC(),
	}
	st.Healthy = len(st.Problems) == 0
	if st.Problems == nil {
		st.Problems = []string{}
	}
	if !snap.LastSample.IsZero() {
		st.LastSampleS = number(snap.Time.Sub(snap.LastSample).Seconds())
	}
	for i, c := range snap.Channels {
		st.Channels[i] = channel{Name: c.Name, Value: number(c.Value), Share: number(c.Share)}
	}
	for i, src := range snap.Sources {
		st.Sources[i] = source{Name: src.Name, ReadErrors: src.ReadErrors, Modbus: make([]slave, len(src.Modbus))}
		for j, sl := range src.Modbus {
			st.Sources[i].Modbus[j] = slave{Slave: sl.Slave, Requests: sl.Requests, Timeouts: sl.Timeouts,
				CRCErrors: sl.CRCErrors, Exceptions: sl.Exceptions}
		}
	}
	return st
}

// serveStatus answers one snapshot as JSON.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(s.statusOf(s.snapshot()))
	if err != nil { // a Time beyond year 9999
		http.Error(w, "health: encoding the status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}
