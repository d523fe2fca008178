// Package publish is the agent's MQTT sender: the one goroutine that owns
// the eclipse/paho.mqtt.golang client. It delivers the durable outbox
// (agent/outbox) strictly in order, one record in flight at a time,
// removing each only after the broker's PUBACK; republishes the retained
// state and the online status at every connect; fails over between
// brokers; and logs every connection failure at once with its reason.
//
// The session is persistent (fixed client id, clean session off) so
// subscribers' sessions on the broker see one publisher. paho's own store
// is not relied on: each connection uses a new client with an ordered
// in-memory store, and what must survive — the outbox — is on disk.
//
// Delivery is at least once: a record whose PUBACK was lost with the
// connection is sent again (a duplicate with the same alert id), never
// skipped and never overtaken by a later one.
package publish
