// Package health serves what a field engineer commissioning a gateway, and
// a Prometheus server watching it, need to see of the agent: metrics, a
// health check and a live status page. It is an HTTP server on a local
// address, fed by a callback: the agent implements Options.Snapshot by
// filling a Snapshot from its pipeline, sender, outbox and sources, and
// calls Server.ObserveInference from the sampling loop (it allocates
// nothing). The package reads no configuration and keeps no history.
//
// # Address
//
// The server listens on 127.0.0.1:9377 (DefaultAddr) unless told
// otherwise, and Start refuses an address that is not loopback
// (127.0.0.0/8, ::1, "localhost"; an empty host means every interface)
// unless Options.AllowRemote is set, because nothing here asks who is
// calling. From a laptop, reach it through an SSH tunnel:
// ssh -L 9377:127.0.0.1:9377 gateway.
//
// # Endpoints
//
// Only GET and HEAD are served; anything else is 405.
//
//	/             the status page (and its /static/app.js, style.css and
//	              favicon.svg): state (coloured), score against threshold
//	              over the last two minutes, each channel's value and share
//	              of the score, model, outbox, broker, sources and health.
//	              Plain HTML, CSS and JavaScript embedded in the binary;
//	              it loads nothing from elsewhere.
//	/events       Server-Sent Events: the /status.json document as each
//	              message's data, at once and then at most once per
//	              Options.Interval (1 s), when it changed or every 15 s.
//	              At most Options.MaxClients (8) streams at once; more get
//	              503, and the page then polls /status.json.
//	/status.json  one snapshot as JSON; NaN and infinite numbers are null,
//	              durations are seconds (fields ending in _s).
//	/healthz      200 "ok" when a model is loaded, the source delivered a
//	              sample within its stale timeout and the outbox's writes
//	              reach the disk; else 503 with one line per failed check
//	              (see Problems).
//	/metrics      Prometheus text format, one metrics.Set per Server (never
//	              the global set of github.com/VictoriaMetrics/metrics).
//
// # Metrics
//
// Every name starts with vigil_. Counters end in _total and are running
// totals since the agent started; an info gauge is always 1.
//
//	vigil_build_info{version}             info: the agent's build
//	vigil_model_loaded                    1 when a model is loaded, else 0
//	vigil_model_info{id,version}          info: the running model (only when loaded)
//	vigil_state{state}                    one-hot: 1 for the current state among
//	                                      unknown, normal, anomaly, sensor-fault, stale
//	vigil_healthy                         1 when /healthz answers ok, else 0
//	vigil_score                           the last score (NaN if none)
//	vigil_threshold                       the model's threshold (NaN if none)
//	vigil_channel_value{channel}          each channel's last value
//	vigil_channel_share{channel}          each channel's share of the last score, 0..1
//	vigil_samples_total                   samples read
//	vigil_sensor_faults_total             samples not scored: sensor faults
//	vigil_stale_events_total              times the source went stale
//	vigil_last_sample_age_seconds         since the last sample arrived (once one has)
//	vigil_inference_seconds               histogram: time to score one sample
//	vigil_outbox_pending                  records not yet acknowledged by the broker
//	vigil_outbox_pending_alerts           of which alerts
//	vigil_outbox_oldest_pending_seconds   age of the oldest of them (0 if none)
//	vigil_outbox_durable                  1 when the outbox's writes reach the disk
//	vigil_mqtt_connected                  1 while connected to the broker
//	vigil_mqtt_connects_total             successful connections (reconnects + 1)
//	vigil_mqtt_connection_failures_total  failed connection attempts
//	vigil_mqtt_sent_total                 outbox records acknowledged by the broker
//	vigil_source_read_errors_total{source}
//	vigil_modbus_requests_total{source,slave}
//	vigil_modbus_timeouts_total{source,slave}
//	vigil_modbus_crc_errors_total{source,slave}
//	vigil_modbus_exceptions_total{source,slave}
//	vigil_status_clients                  status pages streaming /events now
//
// The server writes its own HELP and TYPE lines.
//
// # Not for
//
// Authentication, TLS, or control of the agent: every endpoint only
// reads. Long-term storage: the page shows what it has seen since it was
// opened; Prometheus keeps history.
package health
