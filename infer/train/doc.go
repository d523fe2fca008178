// Package train fits vigil's autoencoders: backward passes of infer's
// layers, the mean-squared-error loss, the Adam optimiser, mini-batches,
// a validation split and early stopping, and threshold calibration.
//
// It uses only the standard library so that it builds for the ARM
// gateways too (the agent may learn a machine's normal on site). It
// produces infer layers; it does not load data, draw plots or write model
// files (package tools and package firmware do).
package train
