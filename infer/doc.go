// Package infer runs vigil's anomaly models at inference time: dense
// layers, activations, the input scaler and autoencoder scoring with
// per-channel reconstruction errors.
//
// It is the code on the gateway's per-sample path, so everything here is
// allocation-free once a model is built: buffers are allocated by the
// constructors and reused by every call. A Model is therefore not safe for
// concurrent use; give each goroutine its own (Clone).
//
// infer imports only the standard library. It does not read files or
// decode model formats (package firmware does) and it does not train
// (package infer/train does).
package infer
