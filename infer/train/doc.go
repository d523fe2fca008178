// Package train fits vigil's models: the backward passes of infer's
// dense, Conv1D and ConvTranspose1D layers, mean-squared-error and
// binary-cross-entropy losses, autoencoders and variational autoencoders
// (reparameterisation, β-weighted KL), Adam and RMSprop, mini-batches, a
// validation split in time order, early stopping with the best weights
// restored, weight decay, dropout and denoising input noise — and the
// threshold calibration that follows: mean + kσ, percentile,
// peaks-over-threshold, and the k-of-n debounce.
//
// It uses only the standard library so that it builds for the ARM
// gateways too (the agent may learn a machine's normal on site). It
// produces infer layers; it does not load data, draw plots or write model
// files (package tools and package firmware do).
package train
