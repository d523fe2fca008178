package infer

import (
	"fmt"
	"math"
	"strings"
)

// Stat is a per-channel statistic over a window of samples.
type Stat uint8

// The window statistics.
const (
	Mean  Stat = iota // arithmetic mean
	Std               // population standard deviation
	Min               // smallest value
	Max               // largest value
	RMS               // root mean square
	Slope             // least-squares slope per sample
)

var statNames = [...]string{Mean: "mean", Std: "std", Min: "min", Max: "max", RMS: "rms", Slope: "slope"}

// String returns the statistic's name as stored in model files.
func (s Stat) String() string {
	if int(s) < len(statNames) {
		return statNames[s]
	}
	return fmt.Sprintf("Stat(%d)", uint8(s))
}

// ParseStat returns the statistic named s.
func ParseStat(s string) (Stat, error) {
	for i, n := range statNames {
		if n == s {
			return Stat(i), nil
		}
	}
	return 0, fmt.Errorf("infer: unknown window statistic %q (want %s)", s, strings.Join(statNames[:], ", "))
}

// FeatureSpec says how scaled samples become a model's input vector. The
// zero value, like Window 1 with Raw set, feeds each sample on its own.
//
// Layout of the feature vector for C channels: first, if Raw, the window
// flattened in time order, oldest sample first, channels within a sample
// (W·C values); then, for each statistic in Stats, that statistic of every
// channel (C values each). Feature i therefore always belongs to channel
// i mod C.
type FeatureSpec struct {
	Window int    // samples per window, W ≥ 1 (0 means 1)
	Stride int    // a feature vector every Stride samples once full (0 means 1)
	Raw    bool   // include the flattened window
	Stats  []Stat // per-channel statistics over the window
}

// MaxWindow bounds FeatureSpec.Window.
const MaxWindow = 1 << 16

// normalized returns s with its defaults filled in: Window and Stride 1,
// and Raw when nothing else is asked for.
func (s FeatureSpec) normalized() FeatureSpec {
	s.Window, s.Stride = max(s.Window, 1), max(s.Stride, 1)
	if len(s.Stats) == 0 {
		s.Raw = true
	}
	return s
}

// Validate checks the spec.
func (s FeatureSpec) Validate() error {
	switch {
	case s.Window < 0 || s.Window > MaxWindow:
		return fmt.Errorf("features: window %d, want 1 to %d", s.Window, MaxWindow)
	case s.Stride < 0 || s.Stride > MaxWindow:
		return fmt.Errorf("features: stride %d, want 1 to %d", s.Stride, MaxWindow)
	}
	seen := 0
	for _, st := range s.Stats {
		if int(st) >= len(statNames) {
			return fmt.Errorf("features: invalid statistic %v", st)
		}
		if seen&(1<<st) != 0 {
			return fmt.Errorf("features: statistic %v listed twice", st)
		}
		seen |= 1 << st
	}
	return nil
}

// Len returns the length of the feature vector for channels channels.
func (s FeatureSpec) Len(channels int) int {
	s = s.normalized()
	n := len(s.Stats) * channels
	if s.Raw {
		n += s.Window * channels
	}
	return n
}

// Window keeps the last W scaled samples of C channels in a ring buffer
// and computes feature vectors from them. It is not safe for concurrent
// use.
type Window struct {
	spec  FeatureSpec
	c     int
	ring  []float32    // W samples of C values; the oldest at head
	head  int          // index (in samples) of the oldest sample
	count int          // samples held, up to W
	since int          // samples pushed since the last feature vector
	acc   [5][]float64 // per-channel sums for the statistics
}

// NewWindow returns an empty window for samples of channels values.
func NewWindow(spec FeatureSpec, channels int) (*Window, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.normalized()
	if !sizeOK(MaxVector, spec.Window, channels) || !sizeOK(MaxVector, spec.Len(channels)) {
		return nil, fmt.Errorf("features: a window of %d samples of %d channels (%d features): want at least one channel and at most %d values", spec.Window, channels, spec.Len(channels), MaxVector)
	}
	w := &Window{spec: spec, c: channels, ring: make([]float32, spec.Window*channels)}
	for i := range w.acc {
		w.acc[i] = make([]float64, channels)
	}
	return w, nil
}

// Len returns the feature vector's length.
func (w *Window) Len() int { return w.spec.Len(w.c) }

// Reset forgets every sample, as after a gap in the data: the next
// feature vector comes once the window has filled again.
func (w *Window) Reset() { w.head, w.count, w.since = 0, 0, 0 }

// Push adds one sample (len C, copied) and reports whether a feature
// vector is due: the window is full and Stride samples have arrived since
// the last one (the first is due as soon as the window fills).
func (w *Window) Push(x []float32) bool {
	W := w.spec.Window
	slot := (w.head + w.count) % W
	if w.count == W {
		slot = w.head
		w.head = (w.head + 1) % W
	} else {
		w.count++
	}
	copy(w.ring[slot*w.c:slot*w.c+w.c], x[:w.c])
	if w.count < W {
		return false
	}
	w.since++
	if w.since == 1 || w.since > w.spec.Stride {
		w.since = 1
		return true
	}
	return false
}

// Features writes the feature vector of the samples held into dst (len
// Len()). It does not allocate.
func (w *Window) Features(dst []float32) {
	W, C := w.spec.Window, w.c
	dst = dst[:w.Len()]
	n := 0
	if w.spec.Raw {
		older := w.ring[w.head*C:]
		n += copy(dst, older)
		n += copy(dst[n:], w.ring[:w.head*C])
	}
	if len(w.spec.Stats) == 0 {
		return
	}
	// Statistics over the window in time order: the ring from head to
	// its end holds the oldest samples, then its start up to head. The
	// sums run channel by channel side by side (independent chains).
	tMean := float64(W-1) / 2
	tVar := float64(W) * (float64(W)*float64(W) - 1) / 12 // Σ (t - tMean)², in float64: W*W overflows a 32-bit int from W = 46341
	sum, sq, cov, lo, hi := w.acc[0][:C], w.acc[1][:C], w.acc[2][:C], w.acc[3][:C], w.acc[4][:C]
	clear(sum)
	clear(sq)
	clear(cov)
	for c := range lo {
		lo[c], hi[c] = math.Inf(1), math.Inf(-1)
	}
	t := 0
	for _, seg := range [2][]float32{w.ring[w.head*C:], w.ring[:w.head*C]} {
		for ; len(seg) >= C; seg = seg[C:] {
			dt := float64(t) - tMean
			for c, v32 := range seg[:C] {
				v := float64(v32)
				sum[c] += v
				sq[c] += v * v
				cov[c] += dt * v
				lo[c], hi[c] = min(lo[c], v), max(hi[c], v)
			}
			t++
		}
	}
	for c := 0; c < C; c++ {
		mean := sum[c] / float64(W)
		for i, st := range w.spec.Stats {
			var f float64
			switch st {
			case Mean:
				f = mean
			case Std:
				f = math.Sqrt(max(sq[c]/float64(W)-mean*mean, 0))
			case Min:
				f = lo[c]
			case Max:
				f = hi[c]
			case RMS:
				f = math.Sqrt(sq[c] / float64(W))
			case Slope:
				if tVar > 0 {
					f = cov[c] / tVar
				}
			}
			dst[n+i*C+c] = float32(f)
		}
	}
}

// Sequence runs a Window over consecutive scaled samples (rows in time
// order, no gaps) and returns every feature vector it produces, with the
// index of the row each ends at. The trainer and the evaluation use it so
// that they compute features exactly as the gateway does.
func Sequence(spec FeatureSpec, rows [][]float32) (features [][]float32, ends []int, err error) {
	if len(rows) == 0 {
		return nil, nil, nil
	}
	w, err := NewWindow(spec, len(rows[0]))
	if err != nil {
		return nil, nil, err
	}
	for i, r := range rows {
		if len(r) != w.c {
			return nil, nil, fmt.Errorf("features: row %d has %d values, want %d", i, len(r), w.c)
		}
		if w.Push(r) {
			f := make([]float32, w.Len())
			w.Features(f)
			features = append(features, f)
			ends = append(ends, i)
		}
	}
	return features, ends, nil
}
