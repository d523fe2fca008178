// Package agent is vigil's gateway daemon: it loads a model and a
// configuration, reads samples from a source, scores every sample, debounces
// the verdicts into a machine state and publishes state changes, alerts and
// score telemetry over MQTT.
//
// The per-sample path (read, score, decide) allocates nothing; messages are
// built only when something is published. Its main lives in
// agent/cmd/vigil-agent. Durable alert storage (the outbox), health
// endpoints and model updates are later work; see the package docs of
// agent/publish for what is and is not guaranteed today.
package agent
