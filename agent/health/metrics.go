package health

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/vigil-edge/vigil/infer/decide"
)

// Metric names that the server's metrics.Set holds; the rest are written
// from each request's snapshot.
const (
	metricInferSeconds  = "vigil_inference_seconds"
	metricStatusClients = "vigil_status_clients"
)

// inferBuckets are the inference latency histogram's upper bounds in
// seconds: 10 µs (a small model on amd64) to 1 s (far too slow).
var inferBuckets = []float64{1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1}

// states are every decision state, for the one-hot vigil_state gauge.
var states = func() []decide.State {
	var out []decide.State
	for st := decide.State(0); ; st++ {
		if _, err := st.MarshalText(); err != nil {
			return out
		}
		out = append(out, st)
	}
}()

// serveMetrics writes the Prometheus text exposition of one snapshot.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	s.writeMetrics(&b, s.snapshot())
	h := w.Header()
	h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// writeMetrics writes every metric, one family after the other, each with
// its HELP and TYPE lines.
func (s *Server) writeMetrics(b *bytes.Buffer, snap Snapshot) {
	p := promWriter{b}
	p.family("vigil_build_info", "gauge", "The agent's build: always 1, the version in a label.")
	p.sample("vigil_build_info", 1, "version", s.o.Version)
	m := snap.Model
	p.family("vigil_model_loaded", "gauge", "1 when a model is loaded and scoring, else 0.")
	p.sample("vigil_model_loaded", bool01(m.Loaded))
	if m.Loaded {
		p.family("vigil_model_info", "gauge", "The running model: always 1, its id and version in labels.")
		p.sample("vigil_model_info", 1, "id", m.ID, "version", strconv.FormatUint(m.Version, 10))
	}
	p.family("vigil_state", "gauge", "The decided state, one-hot: 1 for the current state, 0 for the others.")
	for _, st := range states {
		p.sample("vigil_state", bool01(st == snap.State), "state", st.String())
	}
	p.family("vigil_healthy", "gauge", "1 when /healthz answers ok, else 0.")
	p.sample("vigil_healthy", bool01(len(Problems(snap)) == 0))
	p.family("vigil_score", "gauge", "The last sample's anomaly score; NaN if none.")
	p.sample("vigil_score", snap.Score)
	p.family("vigil_threshold", "gauge", "The model's score threshold; NaN if none.")
	p.sample("vigil_threshold", snap.Threshold)
	above, below := snap.levels()
	p.family("vigil_alarm_above", "gauge", "The score level above which scores count toward an anomaly: the threshold, times the decision's enter factor when it has hysteresis; NaN if none.")
	p.sample("vigil_alarm_above", above)
	p.family("vigil_normal_at", "gauge", "The score level at or below which scores count toward normal again: the threshold, times the decision's exit factor when it has hysteresis; NaN if none.")
	p.sample("vigil_normal_at", below)
	if len(snap.Channels) > 0 {
		p.family("vigil_channel_value", "gauge", "Each model channel's last value, in its unit.")
		for _, c := range snap.Channels {
			p.sample("vigil_channel_value", c.Value, "channel", c.Name)
		}
		p.family("vigil_channel_share", "gauge", "Each model channel's share of the last score, 0 to 1.")
		for _, c := range snap.Channels {
			p.sample("vigil_channel_share", c.Share, "channel", c.Name)
		}
	}
	p.counter("vigil_samples_total", "Samples read from the source.", snap.Samples)
	p.counter("vigil_sensor_faults_total", "Samples that could not be scored (sensor faults).", snap.Faults)
	p.counter("vigil_stale_events_total", "Times the source delivered nothing within the stale timeout.", snap.Stales)
	if !snap.LastSample.IsZero() {
		p.family("vigil_last_sample_age_seconds", "gauge", "Seconds since the last sample arrived.")
		p.sample("vigil_last_sample_age_seconds", snap.Time.Sub(snap.LastSample).Seconds())
	}
	if !metadataExposed() {
		p.family(metricInferSeconds, "histogram", "Time to score one sample, in seconds.")
	}
	s.set.WritePrometheus(b)
	o := snap.Outbox
	p.gauge("vigil_outbox_pending", "Records in the outbox not yet acknowledged by the broker.", float64(o.Pending))
	p.gauge("vigil_outbox_pending_alerts", "Alerts in the outbox not yet acknowledged by the broker.", float64(o.PendingAlerts))
	p.gauge("vigil_outbox_oldest_pending_seconds", "Age of the oldest record in the outbox; 0 if none.", o.Oldest.Seconds())
	p.gauge("vigil_outbox_durable", "1 when the outbox's last write reached the disk, else 0.", bool01(o.Durable))
	br := snap.Broker
	p.gauge("vigil_mqtt_connected", "1 while connected to the MQTT broker, else 0.", bool01(br.Connected))
	p.counter("vigil_mqtt_connects_total", "Successful connections to the MQTT broker.", br.Connects)
	p.counter("vigil_mqtt_connection_failures_total", "Failed connection attempts to the MQTT broker.", br.Failures)
	p.counter("vigil_mqtt_sent_total", "Outbox records acknowledged by the MQTT broker.", br.Sent)
	if len(snap.Sources) > 0 {
		p.family("vigil_source_read_errors_total", "counter", "Failed reads, per source.")
		for _, src := range snap.Sources {
			p.sampleUint("vigil_source_read_errors_total", src.ReadErrors, "source", src.Name)
		}
	}
	for _, f := range modbusFamilies {
		first := true
		for _, src := range snap.Sources {
			for _, sl := range src.Modbus {
				if first {
					p.family(f.name, "counter", f.help)
					first = false
				}
				p.sampleUint(f.name, f.value(sl), "source", src.Name, "slave", strconv.Itoa(int(sl.Slave)))
			}
		}
	}
	p.gauge(metricStatusClients, "Status pages streaming /events now.", float64(s.clients.Load()))
}

// modbusFamilies are the per-slave Modbus counters.
var modbusFamilies = []struct {
	name, help string
	value      func(SlaveInfo) uint64
}{
	{"vigil_modbus_requests_total", "Modbus requests sent, per source and slave.", func(s SlaveInfo) uint64 { return s.Requests }},
	{"vigil_modbus_timeouts_total", "Modbus requests without a complete response in time, per source and slave.", func(s SlaveInfo) uint64 { return s.Timeouts }},
	{"vigil_modbus_crc_errors_total", "Modbus RTU responses with a bad CRC, per source and slave.", func(s SlaveInfo) uint64 { return s.CRCErrors }},
	{"vigil_modbus_exceptions_total", "Modbus exception responses, per source and slave.", func(s SlaveInfo) uint64 { return s.Exceptions }},
}

// metadataExposed reports whether the metrics package was told, globally,
// to write its own HELP and TYPE lines; then the server does not write
// the histogram's, which would come twice.
func metadataExposed() bool {
	var b bytes.Buffer
	metrics.WriteMetadataIfNeeded(&b, metricInferSeconds, "histogram")
	return b.Len() > 0
}

// promWriter writes the Prometheus text format.
type promWriter struct{ b *bytes.Buffer }

// family writes a metric family's HELP and TYPE lines.
func (p promWriter) family(name, typ, help string) {
	p.b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// gauge writes a family of one unlabelled gauge.
func (p promWriter) gauge(name, help string, v float64) {
	p.family(name, "gauge", help)
	p.sample(name, v)
}

// counter writes a family of one unlabelled counter.
func (p promWriter) counter(name, help string, v uint64) {
	p.family(name, "counter", help)
	p.sampleUint(name, v)
}

// sample writes one float sample; labels are name, value pairs.
func (p promWriter) sample(name string, v float64, labels ...string) {
	p.series(name, labels)
	switch {
	case math.IsNaN(v):
		p.b.WriteString("NaN")
	case math.IsInf(v, 1):
		p.b.WriteString("+Inf")
	case math.IsInf(v, -1):
		p.b.WriteString("-Inf")
	default:
		p.b.Write(strconv.AppendFloat(p.b.AvailableBuffer(), v, 'g', -1, 64))
	}
	p.b.WriteByte('\n')
}

// sampleUint writes one integer sample exactly.
func (p promWriter) sampleUint(name string, v uint64, labels ...string) {
	p.series(name, labels)
	p.b.Write(strconv.AppendUint(p.b.AvailableBuffer(), v, 10))
	p.b.WriteByte('\n')
}

// series writes the name, the escaped labels and the space before the
// value.
func (p promWriter) series(name string, labels []string) {
	p.b.WriteString(name)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			p.b.WriteByte('{')
		} else {
			p.b.WriteByte(',')
		}
		p.b.WriteString(labels[i] + `="` + labelEscaper.Replace(strings.ToValidUTF8(labels[i+1], "\uFFFD")) + `"`)
		if i+2 >= len(labels) {
			p.b.WriteByte('}')
		}
	}
	p.b.WriteByte(' ')
}

// labelEscaper escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
