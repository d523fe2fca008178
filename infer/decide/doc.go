// Package decide turns a stream of anomaly scores into the machine state
// an operator sees: unknown, normal, anomaly, sensor-fault or stale. It is
// the one decision code of vigil: the gateway agent runs it on live
// samples, and vigil eval, bench and pack run it on recordings, so a
// model is judged offline exactly as it behaves on the gateway.
//
// A Decider holds the last N verdicts. A score above Enter×threshold
// counts toward an anomaly, a score at or below Exit×threshold toward
// normal (with Exit < Enter the band between counts as neither:
// hysteresis). The state turns to Anomaly once K of the held verdicts are
// above, and back to Normal once K are below; an on-delay (MinDuration)
// and an off-delay (Cooldown), measured in sample time, keep short bursts
// from raising or ending an alert. After start-up, a sensor fault or a
// stale input the decision waits for a full window of N verdicts. A gap
// in sample time (Params.Gap) forgets the verdicts but keeps the state,
// and tells the caller to restart its feature window.
//
// The package reads no clock: every time it sees is a sample's time,
// given by the caller, and staleness (no sample arriving in wall-clock
// time) is the caller's to detect and report (Decider.Stale). It does no
// I/O and allocates only in New. It does not compute scores (package
// infer does) or choose thresholds (package infer/train does).
package decide
