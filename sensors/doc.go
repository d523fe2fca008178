// Package sensors defines what every source of machine readings in vigil
// produces: a [Sample] (a timestamp and one float32 per channel) read from a
// [Source] into memory the caller owns.
//
// The subpackages provide the sources and the one text format:
//
//   - [github.com/vigil-edge/vigil/sensors/csvline] parses and formats one
//     CSV line in SKAB's layout (the format of recordings, replay and serial
//     text lines);
//   - [github.com/vigil-edge/vigil/sensors/kvline] parses key=value and
//     JSON lines;
//   - [github.com/vigil-edge/vigil/sensors/serial] reads text lines (CSV,
//     key=value, JSON) from a serial device, or from any io.ReadCloser
//     (files, replay), reopening a device that went away;
//   - [github.com/vigil-edge/vigil/sensors/replay] plays a CSV recording,
//     paced by its timestamps;
//   - [github.com/vigil-edge/vigil/sensors/modbus] is a Modbus RTU/TCP
//     master polling register maps;
//   - [github.com/vigil-edge/vigil/sensors/periph] reads a Pi's own buses
//     through periph.io: BME280, ADS1115 (4–20 mA, 0–10 V), ADXL345
//     vibration RMS, GPIO pulse rates;
//   - [github.com/vigil-edge/vigil/sensors/health] tells sensor faults
//     (out of range, stuck, missing) from machine faults;
//   - [github.com/vigil-edge/vigil/sensors/sim] simulates SKAB's water pump
//     with injectable faults.
//
// [Poll] turns a driver of a request/response device (Modbus, I2C), which
// only says how to read once, into a Source read on a fixed schedule.
//
// Conventions shared by every Source:
//
//   - The caller allocates Sample.Values once, with len(Channels()), and
//     reuses it; Read never allocates in steady state and never retains the
//     Sample.
//   - A NaN value marks a missing reading of that channel (an empty CSV
//     field, a sensor that dropped out); it is not an error.
//   - Read returns ctx.Err() when ctx ends, io.EOF when the source is
//     exhausted, and, after Close, an error matching fs.ErrClosed
//     (errors.Is(err, fs.ErrClosed)). An error matching [ErrAbsent] means
//     the device went away and the source is getting it back: call Read
//     again. Any other error ends the source.
//   - A Source is not safe for concurrent use, except that Close may be
//     called from another goroutine to make a blocked Read return.
//
// This package is not for feature extraction, scaling or scoring (see infer),
// nor for deciding what a bad reading means for the machine (see agent). It
// holds no registry of sources and reads no configuration: the agent builds
// the Source its config names and hands it on.
package sensors
