package health

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNumberJSON(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.8125, "0.8125"}, {-2.5, "-2.5"}, {1e-9, "1e-09"}, {3e21, "3e+21"},
		{math.NaN(), "null"}, {math.Inf(1), "null"}, {math.Inf(-1), "null"},
	} {
		b, err := json.Marshal(number(tc.in))
		if err != nil || string(b) != tc.want {
			t.Errorf("json.Marshal(number(%v)) = %s, %v; want %s", tc.in, b, err, tc.want)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	snap := fixedSnapshot()
	snap.Score = math.Inf(1)
	snap.Channels[1].Name = `<img src=x onerror="alert(1)">`
	s := testServer(t, func() Snapshot { return snap })
	w := serve(s, "GET", "/status.json")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /status.json = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	if strings.Contains(body, "<img") {
		t.Errorf("a channel name's markup is not escaped: %s", body)
	}
	var got struct {
		State     string   `json:"state"`
		Score     *float64 `json:"score"`
		Threshold *float64 `json:"threshold"`
		Above     *float64 `json:"alarm_above"`
		NormalAt  *float64 `json:"normal_at"`
		Channels  []struct {
			Name  string   `json:"name"`
			Value *float64 `json:"value"`
			Share *float64 `json:"share"`
		} `json:"channels"`
		Model struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
			Signer  string `json:"signer"`
			K, N    int
		} `json:"model"`
		LastSampleS float64 `json:"last_sample_age_s"`
		StaleAfterS float64 `json:"stale_after_s"`
		Outbox      struct {
			Pending int     `json:"pending"`
			OldestS float64 `json:"oldest_s"`
		} `json:"outbox"`
		Broker struct {
			Connected bool   `json:"connected"`
			URL       string `json:"url"`
		} `json:"broker"`
		Sources []struct {
			Name   string `json:"name"`
			Modbus []struct {
				Slave     uint8  `json:"slave"`
				CRCErrors uint64 `json:"crc_errors"`
			} `json:"modbus"`
		} `json:"sources"`
		Healthy  bool      `json:"healthy"`
		Problems []string  `json:"problems"`
		Version  string    `json:"version"`
		Time     time.Time `json:"time"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	switch {
	case got.State != "anomaly" || got.Score != nil || got.Threshold == nil || *got.Threshold != 0.5:
		t.Errorf("state %q score %v threshold %v; want anomaly, null (+Inf), 0.5", got.State, got.Score, got.Threshold)
	case got.Above == nil || *got.Above != 0.6 || got.NormalAt == nil || *got.NormalAt != 0.375:
		t.Errorf("alarm above %v, normal at %v; want 0.6 and 0.375", got.Above, got.NormalAt)
	case len(got.Channels) != 3 || got.Channels[1].Name != snap.Channels[1].Name || got.Channels[2].Value != nil || *got.Channels[0].Share != 0.625:
		t.Errorf("channels %+v", got.Channels)
	case got.Model.ID != "pump-ae-2025-03" || got.Model.Version != 7 || got.Model.Signer != "a1b2c3d4" || got.Model.K != 3 || got.Model.N != 5:
		t.Errorf("model %+v", got.Model)
	case got.LastSampleS != 0.25 || got.StaleAfterS != 5 || got.Outbox.Pending != 3 || got.Outbox.OldestS != 1.5:
		t.Errorf("ages %v %v, outbox %+v", got.LastSampleS, got.StaleAfterS, got.Outbox)
	case !got.Broker.Connected || got.Broker.URL != "tls://broker.example:8883":
		t.Errorf("broker %+v", got.Broker)
	case len(got.Sources) != 2 || len(got.Sources[0].Modbus) != 2 || got.Sources[0].Modbus[0].CRCErrors != 1 || got.Sources[1].Modbus == nil:
		t.Errorf("sources %+v", got.Sources)
	case !got.Healthy || got.Problems == nil || len(got.Problems) != 0 || got.Version != "v1.2.3-test" || !got.Time.Equal(t0):
		t.Errorf("healthy %v problems %#v version %q time %v", got.Healthy, got.Problems, got.Version, got.Time)
	}
	if !strings.HasSuffix(strings.TrimSpace(body), `,"time":"2025-03-14T09:26:53Z"}`) {
		t.Errorf("time is not the last field (events compare what precedes it): %s", body)
	}
}

// TestStatusEmpty encodes a snapshot with nothing in it: lists are [],
// not null, so the page need not check.
func TestStatusEmpty(t *testing.T) {
	s := testServer(t, func() Snapshot { return Snapshot{Score: math.NaN(), Threshold: math.NaN()} })
	body := serve(s, "GET", "/status.json").Body.String()
	for _, want := range []string{`"channels":[]`, `"sources":[]`, `"score":null`, `"alarm_above":null`, `"normal_at":null`, `"last_sample_age_s":null`, `"healthy":false`,
		`"state":"unknown"`, `"problems":["model: no model loaded",`} {
		if !strings.Contains(body, want) {
			t.Errorf("/status.json lacks %s: %s", want, body)
		}
	}
}

// Without hysteresis the levels are the threshold itself.
func TestSnapshotLevels(t *testing.T) {
	tests := []struct {
		snap         Snapshot
		above, below float64
	}{
		{Snapshot{Threshold: 0.5}, 0.5, 0.5},
		{Snapshot{Threshold: 0.5, AlarmAbove: 0.6, NormalAt: 0.35}, 0.6, 0.35},
		{Snapshot{Threshold: 0.5, NormalAt: 0.35}, 0.5, 0.35},
	}
	for _, tc := range tests {
		if a, b := tc.snap.levels(); a != tc.above || b != tc.below {
			t.Errorf("levels of %+v = %v, %v; want %v, %v", tc.snap, a, b, tc.above, tc.below)
		}
	}
	if a, b := (&Snapshot{Threshold: math.NaN()}).levels(); !math.IsNaN(a) || !math.IsNaN(b) {
		t.Errorf("levels without a threshold = %v, %v; want NaN", a, b)
	}
}
