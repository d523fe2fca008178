package infer

// Layer is one step of a network: it maps an input vector onto an output
// vector. The implementations are Dense (float32 weights), DenseQ8
// (int8 weights with a float32 scale per output), DenseF16 (IEEE binary16
// weights), Conv1D and ConvTranspose1D; activations are float32
// throughout.
type Layer interface {
	// Shape returns the input and output lengths.
	Shape() (in, out int)
	// Forward writes the layer's output for x (len in) into dst (len out).
	// dst and x must not overlap. It does not allocate.
	Forward(dst, x []float32)
	// Params returns the number of stored parameters.
	Params() int
	// Validate checks the layer's sizes and activation.
	Validate() error
}

// DenseLayers returns ds as Layers (pointers into ds).
func DenseLayers(ds []Dense) []Layer {
	ls := make([]Layer, len(ds))
	for i := range ds {
		ls[i] = &ds[i]
	}
	return ls
}

// Size limits that keep a hostile or mistaken model from asking for huge
// buffers. Sizes are checked in 64-bit arithmetic so that they cannot
// wrap around on 32-bit ARM.
const (
	// MaxVector bounds every vector a model holds: a layer's input or
	// output, a feature vector, a window's ring buffer (4 MiB of float32).
	MaxVector = 1 << 20
	// MaxWeights bounds the weights of one layer.
	MaxWeights = 1 << 26
)

// sizeOK reports whether the product of dims, all positive, is at most
// limit, without overflowing.
func sizeOK(limit int64, dims ...int) bool {
	p := int64(1)
	for _, d := range dims {
		if d <= 0 || int64(d) > limit {
			return false
		}
		p *= int64(d)
		if p > limit {
			return false
		}
	}
	return true
}
