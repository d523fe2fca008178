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
	State string    `json:"state"` // normal, anomaly or sensor-fault
	Since time.Time `json:"since"` // when this state began
	// Score is absent in a sensor fault; an overflowed score reads as
	// the largest float32 (about 3.4e38).
	Score     *float64       `json:"score,omitempty"`
	Threshold float64        `json:"threshold"`
	Top       []Contribution `json:"top,omitempty"`
	// Fault names the channels that were missing or invalid (sensor-fault).
	Fault      []string  `json:"fault,omitempty"`
	Model      string    `json:"model"`
	SampleTime time.Time `json:"sample_time,omitzero"`
	Time       time.Time `json:"time"`
}

// AlertMessage is the payload of <prefix>alert, one per state change.
// Consumers de-duplicate on ID.
type AlertMessage struct {
	ID   string `json:"id"`
	From string `json:"from"`
	StateMessage
}

// ScoreMessage is the payload of <prefix>score (QoS 0 telemetry).
type ScoreMessage struct {
	Score     *float64  `json:"score"` // null if the score is not a number
	Threshold float64   `json:"threshold"`
	State     string    `json:"state"`
	Time      time.Time `json:"time"`
}

// StatusMessage is the retained payload of <prefix>status.
type StatusMessage struct {
	Status string    `json:"status"` // online or offline
	Agent  string    `json:"agent,omitempty"`
	Model  string    `json:"model,omitempty"`
	Time   time.Time `json:"time,omitzero"` // when the agent came online
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
