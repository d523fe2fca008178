// Package update installs new model files on a running agent: from MQTT
// (model/set), from a watched drop directory, or from the local command
// line. Each file is verified (firmware.Decode with the agent's trusted
// keys), checked against the installation (channels, units, version),
// written to the inactive slot of the A/B store (firmware/slots),
// activated, and swapped into the sampling loop without stopping it. The
// new model is then on probation: it must score a number of samples
// without error (and, if configured, without too many alerts); it is
// committed if it does, and otherwise the previous model is restored and
// the reason reported. Every outcome is reported as a Status, which the
// agent publishes retained on model/status and logs.
package update
