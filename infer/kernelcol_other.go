//go:build purego || !(amd64 || arm64)

package infer

// useCols is false: this build has no column kernels (they exist for
// amd64 and arm64 only, and the purego tag leaves every assembly kernel
// out), so Prepare packs nothing and the dense layers run on the row
// kernels.
const useCols = false

// denseColsF32 is never reached in this build (nothing is packed); it
// computes no rows, so the caller's row kernels compute them all.
func denseColsF32(dst []float32, p *colPlan[float32], x, b []float32, act Activation) int { return 0 }

// denseColsF16 is denseColsF32 with binary16 weights.
func denseColsF16(dst []float32, p *colPlan[uint16], x, b []float32, act Activation) int { return 0 }

// denseColsQ8 is denseColsF32 with int8 weights.
func denseColsQ8(dst []float32, p *colPlan[int8], x, b, s []float32, act Activation) int { return 0 }
