// Package infer runs vigil's anomaly models at inference time: dense
// layers, activations, the input scaler and autoencoder scoring with
// per-channel reconstruction errors.
//
// It is the code on the gateway's per-sample path, so everything here is
// allocation-free once a model is built: buffers are allocated by the
// constructors and reused by every call. A Model is therefore not safe for
// concurrent use; give each goroutine its own (Clone).
//
// Dense layers hold float32 weights (Dense) or int8 weights with a float32
// scale per output (DenseQ8); activations are float32 throughout. Their
// inner loops run in assembly where the CPU allows — AVX2 and FMA on
// amd64, NEON on arm64, four rows at a time, chosen at run time with
// golang.org/x/sys/cpu — and otherwise in portable Go (also forced by the
// purego build tag), against which the assembly is tested.
//
// infer imports only the standard library and x/sys/cpu. It does not read files or
// decode model formats (package firmware does) and it does not train
// (package infer/train does).
package infer
