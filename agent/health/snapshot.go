package health

import (
	"time"

	"github.com/vigil-edge/vigil/infer/decide"
)

// Snapshot is what the agent reports about itself at one instant. The
// agent fills one in the Options.Snapshot callback from its pipeline,
// sender, outbox and sources; the server only reads it, during the one
// request that asked for it, and keeps nothing of it.
type Snapshot struct {
	// Time is when the snapshot was taken, on the clock LastSample and
	// the outbox ages use; zero means the server's clock (Options.Now).
	Time time.Time
	// Name names the gateway on the status page (e.g. "site/device");
	// optional.
	Name string
	// State is the current debounced state.
	State decide.State
	// Score is the last sample's score and Threshold the model's
	// threshold; NaN when there is none.
	Score, Threshold float64
	// AlarmAbove and NormalAt are the score levels that start and end an
	// anomaly (the decision's hysteresis); 0 means the threshold itself.
	AlarmAbove, NormalAt float64
	// Channels are the model's channels in input order, with their last
	// values and shares of the last score.
	Channels []Channel
	// Model describes the running model.
	Model ModelInfo
	// Samples, Faults and Stales are running totals: samples read,
	// samples that could not be scored (sensor faults), and times the
	// source went stale.
	Samples, Faults, Stales uint64
	// LastSample is when the last sample arrived, by the clock of Time
	// (not the sample's own timestamp, which a replayed recording sets in
	// the past); zero if none yet.
	LastSample time.Time
	// StaleAfter is the source's stale timeout in force; 0 or less means
	// DefaultStaleAfter.
	StaleAfter time.Duration
	// Outbox describes the alert queue.
	Outbox OutboxInfo
	// Broker describes the MQTT connection.
	Broker BrokerInfo
	// Sources are the sample sources and their error counts.
	Sources []SourceInfo
}

// DefaultStaleAfter is the stale timeout /healthz applies when a
// Snapshot gives none.
const DefaultStaleAfter = 30 * time.Second

// Channel is one model input channel.
type Channel struct {
	Name  string  // as in the model and the configuration
	Value float64 // the last value read, in the channel's unit; NaN if none
	Share float64 // share of the last score, 0..1; NaN if none
}

// ModelInfo describes the running model.
type ModelInfo struct {
	Loaded  bool   // a model is loaded and scoring
	ID      string // the model's id
	Version uint64 // the model file's version
	Signer  string // the key id that signed it; empty if unsigned
	K, N    int    // the decision rule: anomaly after K of the last N scores
}

// OutboxInfo describes the durable alert queue (agent/outbox.Stats).
type OutboxInfo struct {
	Pending       int           // records not yet acknowledged by the broker
	PendingAlerts int           // of which alerts
	Oldest        time.Duration // age of the oldest pending record; 0 if none
	Durable       bool          // the last write reached the disk
	Error         string        // why the disk refused the last write; empty if none
}

// BrokerInfo describes the MQTT connection (agent/publish.Stats).
type BrokerInfo struct {
	Connected bool
	URL       string // the broker connected to, or last tried
	LastError string // why the last attempt failed or the connection was lost
	Connects  uint64 // successful connections (reconnects are Connects-1)
	Failures  uint64 // failed connection attempts
	Sent      uint64 // queued records acknowledged by the broker
}

// SourceInfo describes one sample source.
type SourceInfo struct {
	Name       string      // as in the configuration
	ReadErrors uint64      // reads that failed
	Modbus     []SlaveInfo // per slave, for a Modbus source; nil otherwise
}

// SlaveInfo counts one Modbus slave's requests
// (sensors/modbus.SlaveStats).
type SlaveInfo struct {
	Slave      uint8
	Requests   uint64 // requests sent
	Timeouts   uint64 // no complete response in time
	CRCErrors  uint64 // RTU frames with a bad CRC
	Exceptions uint64 // exception responses
}

// levels returns AlarmAbove and NormalAt, each the threshold when unset.
func (s *Snapshot) levels() (above, below float64) {
	above, below = s.AlarmAbove, s.NormalAt
	if above == 0 {
		above = s.Threshold
	}
	if below == 0 {
		below = s.Threshold
	}
	return above, below
}
