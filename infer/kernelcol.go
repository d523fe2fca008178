package infer

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// The column kernels (kernelcol_amd64.s, kernelcol_arm64.s) compute a dense layer's rows in
// blocks of colRows, whose sums stay in registers while the kernel walks
// the block's weights column by column: x[j] broadcast times the
// column's colRows weights. Each weight and each x[j] is then read once
// per block, where the row kernels read x again for every four rows: on
// the window shapes, whose weights stream from L2, that is a fifth fewer
// bytes (float32) to a third fewer (binary16), and no horizontal sums.
// They need the weights packed by block and column, a second copy that
// Prepare makes.

// colRows is the number of rows a column kernel holds: eight vectors of
// eight float32 on amd64, sixteen of four on arm64.
const colRows = 64

// colPlan holds a dense layer's weights packed for the column kernels:
// its first out/colRows whole blocks of colRows rows, each stored column
// by column, w[(k·in + j)·colRows + r] = W[(k·colRows + r)·in + j]. The
// rows after the last whole block are not packed.
type colPlan[T float32 | int8 | uint16] struct {
	src     []T // the weights packed, to tell when the layer's are replaced
	in, out int
	w       []T
}

// packCols packs the whole blocks of the out × in row-major weights w.
func packCols[T float32 | int8 | uint16](w []T, in, out int) *colPlan[T] {
	blocks := out / colRows
	p := &colPlan[T]{src: w, in: in, out: out, w: make([]T, blocks*colRows*in)}
	for k := range blocks {
		blk := p.w[k*colRows*in : (k+1)*colRows*in]
		for r := range colRows {
			row := w[(k*colRows+r)*in : (k*colRows+r+1)*in]
			for j, v := range row {
				blk[j*colRows+r] = v
			}
		}
	}
	return p
}

// sameBits reports whether a and b have the same bit pattern (so a NaN
// weight matches itself).
func sameBits[T float32 | int8 | uint16](a, b T) bool {
	if x, ok := any(a).(float32); ok {
		return math.Float32bits(x) == math.Float32bits(any(b).(float32))
	}
	return a == b
}

// matches reports whether p holds exactly the whole blocks of w, bit for
// bit.
func (p *colPlan[T]) matches(w []T) bool {
	for k := range p.out / colRows {
		blk := p.w[k*colRows*p.in : (k+1)*colRows*p.in]
		for r := range colRows {
			row := w[(k*colRows+r)*p.in : (k*colRows+r+1)*p.in]
			for j, v := range row {
				if !sameBits(blk[j*colRows+r], v) {
					return false
				}
			}
		}
	}
	return true
}

// loadCols returns the packing stored in slot if it was made from w (the
// same memory) for an out × in layer, else nil.
func loadCols[T float32 | int8 | uint16](slot *unsafe.Pointer, w []T, in, out int) *colPlan[T] {
	p := (*colPlan[T])(atomic.LoadPointer(slot))
	if p == nil || p.in != in || p.out != out || !sameSlice(p.src, w) {
		return nil
	}
	return p
}

// prepareCols stores in slot a packing of the out × in row-major weights
// w, unless the layer is too small for the column kernels (fewer than
// colRows rows), the build or CPU has none (!ok), or slot already holds
// exactly these weights. A new packing is published atomically, so
// goroutines running Forward meanwhile use the old one or the new one.
func prepareCols[T float32 | int8 | uint16](slot *unsafe.Pointer, w []T, in, out int, ok bool) {
	if !ok || out < colRows {
		return
	}
	if p := loadCols(slot, w, in, out); p != nil && p.matches(w) {
		return
	}
	atomic.StorePointer(slot, unsafe.Pointer(packCols(w, in, out)))
}
