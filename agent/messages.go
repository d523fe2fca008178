package agent

import (
	"math"
	"time"
)

// Contribution is one channel's share of a sample's reconstruction error.
type Contribution struct {
	Channel string  `json:"channel"`
	Share   float64 `json:"share"` // 0..1 of the summed error
}

// StateMessage is the retained payload of <prefix>state.
type StateMessage struct {
	// State is normal, anomaly, sensor-fault or stale.
	State  string    `json:"state"`
	Site   string    `json:"site"`
	Device string    `json:"device"`
	Since  time.Time `json:"since"` // when this state began
	// Score is null when there is none (sensor-fault, stale); an
	// overflowed score reads as the largest float32 (about 3.4e38).
	Score     *float64 `json:"score"`
	Threshold float64  `json:"threshold"`
	// AlarmAbove and NormalAt are the score levels of the decision's
	// hysteresis: k of n scores above AlarmAbove start an anomaly, k at
	// or below NormalAt end it. Both are absent when they are the
	// threshold itself (no hysteresis).
	AlarmAbove float64 `json:"alarm_above,omitempty"`
	NormalAt   float64 `json:"normal_at,omitempty"`
	// Top lists the channels contributing most to Score, largest first;
	// empty when there is no score.
	Top []Contribution `json:"top"`
	// Fault names the channels that were missing or invalid (sensor-fault).
	Fault []string `json:"fault,omitempty"`
	// Reason says why there is no score (sensor-fault, stale), e.g. "serial
	// /dev/ttyUSB0: device lost (...); reopening" or "no sample within 5s".
	Reason string `json:"reason,omitempty"`
	Model  string `json:"model"`
	// SampleTime is the time of the sample that decided the state; for
	// stale, of the last sample received (absent if none ever was).
	SampleTime time.Time `json:"sample_time,omitzero"`
	Time       time.Time `json:"time"` // when the message was made
}

// AlertMessage is the payload of <prefix>alert, one per state change.
// Consumers de-duplicate on ID; Seq counts the device's alerts (1, 2, ...)
// across restarts, so a gap shows an alert that was never stored.
type AlertMessage struct {
	ID   string `json:"id"`
	Seq  uint64 `json:"seq"`
	From string `json:"from"`
	StateMessage
}

// ScoreMessage is the payload of <prefix>score (QoS 0 telemetry).
type ScoreMessage struct {
	Score     *float64  `json:"score"` // null if the score is not a number
	Threshold float64   `json:"threshold"`
	State     string    `json:"state"`
	Site      string    `json:"site"`
	Device    string    `json:"device"`
	Time      time.Time `json:"time"`
}

// StatusMessage is the retained payload of <prefix>status.
type StatusMessage struct {
	Status string `json:"status"` // online or offline
	Site   string `json:"site"`
	Device string `json:"device"`
	Agent  string `json:"agent,omitempty"`
	Model  string `json:"model,omitempty"`
	// OnlineSince is when the connection this status belongs to began.
	OnlineSince time.Time `json:"online_since,omitzero"`
	// LastSeen is when the agent was last known alive: the message's own
	// time for online and for an orderly stop; for the offline status the
	// broker publishes as the agent's last will, the time the connection
	// began (the agent was alive at least until then).
	LastSeen time.Time `json:"last_seen,omitzero"`
	// State is the machine state when the message was made; the last
	// will, made when the connection began, names none.
	State string `json:"state,omitempty"`
	// Reason says why an offline status was published: "stopped" by the
	// agent, or "connection lost" by the broker (last will).
	Reason string `json:"reason,omitempty"`
}

// jsonScore makes a score safe for JSON: NaN becomes absent (nil),
// infinities the largest float32 of their sign.
func jsonScore(v float64) *float64 {
	switch {
	case math.IsNaN(v):
		return nil
	case v > math.MaxFloat32:
		v = math.MaxFloat32
	case v < -math.MaxFloat32:
		v = -math.MaxFloat32
	}
	return &v
}
