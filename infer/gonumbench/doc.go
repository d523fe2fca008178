// Package gonumbench benchmarks infer against gonum's BLAS (blas32 Sgemv,
// with gonum's own assembly kernels) on the same autoencoder shapes, so
// "as fast as gonum" is measured, not assumed. It holds only benchmarks:
// gonum never enters the agent binary, which imports infer alone.
//
//	go test -run '^$' -bench . ./infer/gonumbench
//
// BenchmarkRatio reports ours/gonum per shape (below 1 means infer is
// faster).
package gonumbench
