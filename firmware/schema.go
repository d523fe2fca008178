package firmware

// Limits. msgp allocates a slice as soon as it reads an array header, so
// Decode first walks the whole file (see walk.go) and refuses any length
// that the bytes left cannot hold; these limits are a second line. The
// global array limit (arrays of numbers and byte strings: the payload,
// the weights) is HardMaxBytes, so no file within LoadOptions.MaxBytes is
// refused by msgp; the per-field limits below bound arrays of structs and
// strings, whose elements cost more memory than bytes in the file, and
// equal the limits the walk checks by name (schemaLimits).
//
//msgp:limit arrays:67108864 maps:64

// Envelope is the outermost structure of a model file. Decode parses it
// field by field (parseEnvelope) rather than with UnmarshalMsg; Pack and
// Sign write its fields in this order, which for format 2 is the only
// order Decode accepts.
type Envelope struct {
	// Magic is always "vigil-model": it tells a model file from other
	// MessagePack data.
	Magic string `msg:"magic"`
	// Format is the file's format version (FormatV1 or FormatV2).
	Format uint16 `msg:"format"`
	// Payload is the MessagePack encoding of a Model.
	Payload []byte `msg:"payload"`
	// Digest is the SHA-256 of Payload (format 2; absent in format 1).
	Digest []byte `msg:"digest,limit=32"`
	// KeyID names the key that signed the file: the first 8 bytes of the
	// SHA-256 of its ed25519 public key, in hex. Empty when unsigned.
	KeyID string `msg:"key_id"`
	// Signature is the ed25519 signature of Magic, Format (2 bytes, big
	// endian) and Payload, concatenated (see SignedMessage); empty when
	// unsigned.
	Signature []byte `msg:"sig,limit=64"`
}

// Model is the payload of a model file (formats 1 and 2): everything the
// gateway needs to turn samples into scores and decisions.
type Model struct {
	// Name is a human label; the model's identity is its payload digest.
	Name string `msg:"name"`
	// Version increases with every model published for a device.
	Version uint64 `msg:"version"`
	// Created is the packing time in Unix seconds.
	Created int64 `msg:"created"`
	// Kind is the model family: "ae" (autoencoder) or "vae" (variational
	// autoencoder, scored through the latent means).
	Kind string `msg:"kind"`
	// Requires lists the features (SupportedFeatures) a program needs to
	// run the model correctly, such as "int8-weights"; Decode refuses a
	// model requiring one it does not support. Pack fills it in from
	// what the model uses (FeaturesUsed).
	Requires []string `msg:"requires,limit=64"`
	// Channels lists the inputs the model needs, in input order.
	Channels []Channel `msg:"channels,limit=256"`
	Scaler   Scaler    `msg:"scaler"`
	// Features turns scaled samples into the network's input; absent in
	// per-sample models.
	Features Features `msg:"features"`
	// Layers run in order, the first taking the feature vector. In a
	// "vae" they are the encoder, ending in 2·latent outputs (μ, log σ²).
	Layers []Layer `msg:"layers,limit=64"`
	// Decoder maps the latent means back to the features ("vae" only).
	Decoder []Layer `msg:"decoder,limit=64"`
	// KLWeight weighs the KL term in a "vae"'s score; 0 leaves it out.
	KLWeight float32 `msg:"kl_weight"`
	// Error is "squared" (the default when empty) or "absolute".
	Error     string    `msg:"error"`
	Threshold Threshold `msg:"threshold"`
	// Decision is the debounce calibrated with the threshold; zero when
	// the model does not suggest one.
	Decision Decision `msg:"decision"`
	Training Training `msg:"training"`
	// Members make a multi-scale model: further networks over the same
	// channels, usually over longer windows, whose scores are fused with
	// the model's own (infer.Member says how). Threshold and Decision
	// then apply to the fused score. Absent in a single model.
	Members []Member `msg:"members,omitempty,limit=4"`
	// Norm, in a multi-scale model, divides the model's own score in the
	// fusion: its own calibrated threshold. Absent otherwise.
	Norm float32 `msg:"norm,omitempty"`
}

// Member is one further network of a multi-scale model: the fields of a
// Model that describe a network, with its own scaler and window. Its
// score is divided by its own Threshold.Value in the fusion.
type Member struct {
	// Kind is "ae" or "vae", as in Model.
	Kind     string   `msg:"kind"`
	Scaler   Scaler   `msg:"scaler"`
	Features Features `msg:"features"`
	Layers   []Layer  `msg:"layers,limit=64"`
	Decoder  []Layer  `msg:"decoder,limit=64"`
	KLWeight float32  `msg:"kl_weight"`
	Error    string   `msg:"error"`
	// Threshold is the member's own calibration.
	Threshold Threshold `msg:"threshold"`
}

// Decision suggests the agent's decision (infer/decide.Params): anomaly
// once K of the last N scores are above Enter×threshold, normal again once
// K are at or below Exit×threshold. Every field may be zero: K and N
// both 0 suggest no k of n; Enter and Exit 0 mean 1; zero durations turn
// their rules off. Files written before a field existed decode with it
// zero.
type Decision struct {
	K uint32 `msg:"k"`
	N uint32 `msg:"n"`
	// Enter and Exit are the hysteresis factors of the threshold.
	Enter float64 `msg:"enter"`
	Exit  float64 `msg:"exit"`
	// MinDuration is the on-delay in nanoseconds of sample time: how long
	// the entry condition must hold before an anomaly is raised.
	MinDuration int64 `msg:"min_duration_ns"`
	// Cooldown is the off-delay in nanoseconds of sample time: how long
	// the exit condition must hold before an anomaly ends.
	Cooldown int64 `msg:"cooldown_ns"`
	// Gap in nanoseconds: samples further apart than this in sample time
	// restart the feature window and the verdicts (the training data's
	// own gap rule).
	Gap int64 `msg:"gap_ns"`
}

// Channel is one model input.
type Channel struct {
	Name string `msg:"name"`
	Unit string `msg:"unit"`
}

// Scaler maps raw values to model inputs: (x - Center) / Scale.
type Scaler struct {
	// Kind is how Center and Scale were fitted: "standard" (mean and
	// standard deviation), "minmax" (minimum and range) or "robust"
	// (median and interquartile range).
	Kind   string    `msg:"kind"`
	Center []float32 `msg:"center,limit=256"`
	Scale  []float32 `msg:"scale,limit=256"`
}

// Features is infer.FeatureSpec in the file: a window of samples, the
// stride between scores, the flattened window and/or per-channel
// statistics over it (names: mean, std, min, max, rms, slope).
type Features struct {
	Window uint32   `msg:"window"`
	Stride uint32   `msg:"stride"`
	Raw    bool     `msg:"raw"`
	Stats  []string `msg:"stats,limit=16"`
}

// Layer is one layer of the network.
type Layer struct {
	// Kind is "dense", "conv1d" or "convtranspose1d".
	Kind string `msg:"kind"`
	// In and Out are a dense layer's sizes.
	In  uint32 `msg:"in"`
	Out uint32 `msg:"out"`
	// The shape of a convolution over the time axis (see infer.Conv1D
	// and infer.ConvTranspose1D for the weight layouts).
	InChannels    uint32 `msg:"cin"`
	OutChannels   uint32 `msg:"cout"`
	Kernel        uint32 `msg:"kernel"`
	Stride        uint32 `msg:"stride"`
	Padding       uint32 `msg:"padding"`
	OutputPadding uint32 `msg:"output_padding"`
	Length        uint32 `msg:"length"`
	// Activation is an infer activation name ("relu", "linear", ...).
	Activation string `msg:"act"`
	// Weights are Out rows of In float32 values; empty in an int8 layer.
	Weights []float32 `msg:"w"`
	// WeightsQ8 are Out rows of In int8 values (two's complement bytes,
	// one byte each) and Scales one float32 per row (weight = scale ·
	// int8), in place of Weights.
	WeightsQ8 []byte    `msg:"wq"`
	Scales    []float32 `msg:"ws"`
	Bias      []float32 `msg:"b"`
	// WeightsF16 are a dense layer's Out rows of In IEEE 754 binary16
	// values, two bytes each, little-endian, in place of Weights; absent
	// otherwise.
	WeightsF16 []byte `msg:"wh,omitempty"`
}

// Threshold is the score above which a sample counts as anomalous, and
// how it was chosen.
type Threshold struct {
	Value float32 `msg:"value"`
	// Method is how Value was chosen, e.g. "mean+ksigma", with its
	// parameter K.
	Method string  `msg:"method"`
	K      float64 `msg:"k"`
	// Mean, Std and N describe the normal scores it was calibrated on.
	Mean float64 `msg:"mean"`
	Std  float64 `msg:"std"`
	N    uint64  `msg:"n"`
}

// Training records where the model came from.
type Training struct {
	// DatasetDigest is the SHA-256 of the training data, hex.
	DatasetDigest string   `msg:"dataset_digest"`
	Sources       []string `msg:"sources,limit=1024"`
	Rows          uint64   `msg:"rows"`
	Epochs        uint32   `msg:"epochs"`
	BestEpoch     uint32   `msg:"best_epoch"`
	TrainLoss     float64  `msg:"train_loss"`
	ValLoss       float64  `msg:"val_loss"`
	Seed          uint64   `msg:"seed"`
	Tool          string   `msg:"tool"`
	// Widened names the slow channels whose scale training multiplied
	// by WidenFactor (see infer/train.WidenSlow); Scaler.Scale already
	// includes it.
	Widened     []string `msg:"widened,limit=256"`
	WidenFactor float32  `msg:"widen_factor"`
}
