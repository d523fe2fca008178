// Package agent is vigil's gateway daemon: it loads a model and a
// configuration, reads samples from a source, scores every sample,
// decides the machine's state (infer/decide) and queues state changes and
// alerts in the durable outbox (agent/outbox), from which the sender
// (agent/publish) delivers them over MQTT in order.
//
// The per-sample path (read, score, decide) allocates nothing and never
// waits on the network; messages are built only when something changes,
// and a state change waits only for its fsync. A source that goes quiet
// turns the state stale. Its main lives in agent/cmd/vigil-agent and
// calls Main.
package agent
