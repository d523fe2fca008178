// Package sim simulates SKAB's water-pump testbed: a deterministic stream
// of the 8 SKAB channels (sensors.SKABChannels) with values in the ranges of
// SKAB's anomaly-free recording, and faults injected at chosen times.
//
// The channels are not independent noise. A few latent factors, each a
// slow first-order autoregressive process in simulated time, drive them
// together, so a model has structure to learn:
//
//   - the flow operating point (time constant 120 s) sets Volume Flow
//     RateRMS, pulls Pressure the other way (the pump curve), and raises
//     Current, Temperature and the vibration level with load;
//   - a vibration factor (30 s) is shared by both accelerometers;
//   - a thermal factor (600 s) drifts the motor Temperature and the fluid
//     Thermocouple together;
//   - the mains Voltage is white noise that also moves Current.
//
// Each channel adds small independent noise, and its mean and standard
// deviation match SKAB's anomaly-free recording:
//
//	Accelerometer1RMS     0.2126 ± 0.0047 g
//	Accelerometer2RMS     0.2684 ± 0.0040 g
//	Current               2.403  ± 0.486  A
//	Pressure              0.111  ± 0.253  bar
//	Temperature          89.47   ± 0.667  °C
//	Thermocouple         28.47   ± 0.73   °C
//	Voltage             228.6    ± 11.0   V
//	Volume Flow RateRMS 125.24   ± 1.6    L/min
//
// SKAB's quantisation of Pressure and its bimodal Current are not
// reproduced.
//
// Faults follow their SKAB counterparts, with a ramp of a few seconds in
// and out: a closed valve cuts flow and raises pressure; rotor imbalance
// raises both vibration levels; cavitation makes vibration noisy and
// pressure ripple. The sensor faults touch one channel only: a dropout
// reads NaN, a stuck sensor holds its value, a spiking one jumps 20
// standard deviations once a second, a drifting one creeps upwards. A faulted
// run is bit-identical to the clean run of the same seed outside its
// fault windows.
//
// A Pump is driven directly (Next) to generate training data at full
// speed, or wrapped in a Source, a sensors.Source that can pace samples in
// real time for demos.
//
// This package is a test and demonstration aid, not a physical model of a
// pump: its numbers are fitted to one recording, not derived from
// hydraulics.
package sim
