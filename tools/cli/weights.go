package cli

import (
	"flag"

	"github.com/vigil-edge/vigil/firmware"
)

// weightsFlags are --int8 and --f16: how a command stores a model's
// weights.
type weightsFlags struct{ int8, f16 *bool }

// addWeightsFlags registers --int8 and --f16 on fs; what says what the
// command does with the weights ("store", "score with").
func addWeightsFlags(fs *flag.FlagSet, what string) weightsFlags {
	return weightsFlags{
		int8: fs.Bool("int8", false, what+" int8 weights (a float32 scale per output channel; a quarter of the bytes)"),
		f16:  fs.Bool("f16", false, what+" float16 weights in dense layers (half the bytes, about three significant digits;\nconvolutions stay float32)"),
	}
}

// kind names the weights chosen: "float32", "int8" or "f16"; both flags
// are a usage error.
func (w weightsFlags) kind() (string, error) {
	switch {
	case *w.int8 && *w.f16:
		return "", usagef("--int8 and --f16: choose one")
	case *w.int8:
		return "int8", nil
	case *w.f16:
		return "f16", nil
	}
	return "float32", nil
}

// convert stores m's weights as kind says.
func convertWeights(m *firmware.Model, kind string) error {
	switch kind {
	case "int8":
		return m.QuantizeInt8()
	case "f16":
		return m.HalfF16()
	}
	return nil
}
