// Package infer runs vigil's anomaly models at inference time: the input
// scaler, feature windows, dense and convolutional layers with their
// activations, autoencoder and variational-autoencoder scoring, and
// per-channel attribution of the reconstruction error.
//
// It is the code on the gateway's per-sample path, so everything here is
// allocation-free once a model is built: buffers are allocated by the
// constructors and reused by every call. An Autoencoder is therefore not
// safe for concurrent use; give each goroutine its own (Clone).
//
// The path of a sample: Scaler (standard, min-max or robust, per channel)
// → Window (the last W scaled samples; a feature vector of the flattened
// window and/or per-channel statistics every Stride samples) → Layers
// (Dense, DenseQ8, DenseF16, Conv1D, ConvTranspose1D) → reconstruction
// error per feature → the score and each channel's contribution
// (TopShares picks the largest). A multi-scale model (Config.Members)
// fuses further autoencoders, usually over longer windows, into one
// score. The trainer builds its training matrix with Sequence, the
// same window code, so gateway and evaluation compute identical features.
//
// Weights are float32, int8 with a float32 scale per output channel
// (QuantizeLayer), or, in dense layers, float16 (HalfLayer); activations
// are float32 throughout. The inner loops run in assembly where the CPU
// allows — AVX2 and FMA (and F16C) on amd64, NEON on arm64,
// four rows at a time, chosen at run time with golang.org/x/sys/cpu — and
// otherwise in portable Go (also forced by the purego build tag), against
// which the assembly is tested.
//
// infer imports only the standard library and x/sys/cpu. It does not read
// files or decode model formats (package firmware does) and it does not
// train (package infer/train does).
package infer
