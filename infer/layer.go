package infer

// Layer is one step of a network: it maps an input vector onto an output
// vector. The implementations are Dense (float32 weights) and DenseQ8
// (int8 weights with a float32 scale per output); activations are float32
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
