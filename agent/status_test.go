package agent

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/sensors"
)

// The running agent serves /healthz, /metrics and the status data from
// its own parts: samples counted, the model's id, the broker connected.
func TestStatusServer(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	model := writeModel(t, dir, sensors.SKABChannels...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg, err := config.Parse([]byte(fmt.Sprintf("site: s\ndevice: d\nchannels: [%s]\nmodel: {path: %s, allow_unsigned: true}\n"+
		"source: {sim: {seed: 1, rate: 50}}\nmqtt: {broker: %q}\noutbox: {path: %s}\nhttp: {listen: %q}\n",
		strings.Join(sensors.SKABChannels, ", "), model, url, filepath.Join(dir, "outbox.db"), addr)))
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, cfg, Options{Version: "v-test"})
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, b := get("/healthz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz: %d %s", code, b)
		}
	}
	samples := regexp.MustCompile(`(?m)^vigil_samples_total (\d+)$`)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body = get("/metrics")
		if m := samples.FindStringSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 20 && strings.Contains(body, "vigil_mqtt_connected 1") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics after 15 s:\n%s", body)
		}
	}
	for _, want := range []string{`vigil_build_info{version="v-test"} 1`, `vigil_state{state="anomaly"} 1` /* the zero model finds the pump far off */, "vigil_inference_seconds_bucket",
		`vigil_channel_value{channel="Voltage"}`, "vigil_outbox_durable 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if code, page := get("/"); code != http.StatusOK || !strings.Contains(page, "<html") {
		t.Errorf("/: %d %.200s", code, page)
	}
}
