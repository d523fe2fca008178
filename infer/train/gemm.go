package train

// The matrix products of the batched backward passes. Matrices are
// row-major views into larger buffers: element (i, j) of a matrix with
// row stride ld is at [i*ld+j], so a window of a time-major signal, or
// one time step across the samples of a batch, is a matrix too.
//
// Every element of a product is summed in order of the shared index,
// starting from the element's old value, with one multiply and one add
// per term, each rounded to float32 — the order the per-sample loops
// these replaced used, so training with them gives the same bits (on
// amd64 as built by default, where Go does not fuse a multiply and an
// add). Blocking only decides which elements are computed together: 4×8
// blocks in the SSE micro-kernel kernel4x8 on amd64 (each lane one
// element, MULPS then ADDPS), and 2×4 register blocks in Go for the
// edges and on other architectures, whose float32(x*y) conversions keep
// the compiler from fusing there too (arm64, GOAMD64=v3), so that every
// path and architecture rounds alike.

// gemmNN adds A·B to C's m×n elements: C[i][j] += Σ_p A[i][p]·B[p][j],
// A being m×k and B k×n; lda, ldb and ldc are the row strides. C must
// not overlap A or B.
func gemmNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	// The last elements touched: the kernel does not check bounds.
	_, _, _ = c[(m-1)*ldc+n-1], a[(m-1)*lda+k-1], b[(k-1)*ldb+n-1]
	m4, n8 := 0, 0
	if haveKernel {
		m4, n8 = m&^3, n&^7
		for i := 0; i < m4; i += 4 {
			for j := 0; j < n8; j += 8 {
				kernel4x8(&c[i*ldc+j], ldc, &a[i*lda], lda, 1, &b[j], ldb, k)
			}
		}
	}
	if m4 > 0 && n8 < n {
		gemmNNGo(c[n8:], ldc, a, lda, b[n8:], ldb, m4, n-n8, k)
	}
	if m4 < m {
		gemmNNGo(c[m4*ldc:], ldc, a[m4*lda:], lda, b, ldb, m-m4, n, k)
	}
}

// gemmTN adds Aᵀ·B to C's m×n elements: C[i][j] += Σ_p A[p][i]·B[p][j],
// A being k×m and B k×n (the weight gradient of a layer from its output
// gradients A and inputs B, p running over samples or time steps). C must
// not overlap A or B.
func gemmTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	_, _, _ = c[(m-1)*ldc+n-1], a[(k-1)*lda+m-1], b[(k-1)*ldb+n-1]
	m4, n8 := 0, 0
	if haveKernel {
		m4, n8 = m&^3, n&^7
		for i := 0; i < m4; i += 4 {
			for j := 0; j < n8; j += 8 {
				kernel4x8(&c[i*ldc+j], ldc, &a[i], 1, lda, &b[j], ldb, k)
			}
		}
	}
	if m4 > 0 && n8 < n {
		gemmTNGo(c[n8:], ldc, a, lda, b[n8:], ldb, m4, n-n8, k)
	}
	if m4 < m {
		gemmTNGo(c[m4*ldc:], ldc, a[m4:], lda, b, ldb, m-m4, n, k)
	}
}

// gemmNNGo is gemmNN in Go.
func gemmNNGo(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*lda : i*lda+k]
		a1 := a[(i+1)*lda : (i+1)*lda+k]
		c0 := c[i*ldc : i*ldc+n]
		c1 := c[(i+1)*ldc : (i+1)*ldc+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			nn2x4(c0[j:j+4], c1[j:j+4], a0, a1, b[j:], ldb)
		}
		for ; j < n; j++ {
			s0, s1 := c0[j], c1[j]
			for p, v0 := range a0 {
				bv := b[p*ldb+j]
				s0 += float32(v0 * bv)
				s1 += float32(a1[p] * bv)
			}
			c0[j], c1[j] = s0, s1
		}
	}
	if i < m {
		a0 := a[i*lda : i*lda+k]
		c0 := c[i*ldc : i*ldc+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			nn1x4(c0[j:j+4], a0, b[j:], ldb)
		}
		for ; j < n; j++ {
			s := c0[j]
			for p, v := range a0 {
				s += float32(v * b[p*ldb+j])
			}
			c0[j] = s
		}
	}
}

// nn2x4 adds two rows × four columns of gemmNNGo: c0 and c1 are the
// rows' four elements, a0 and a1 the rows of A (k long), b the top-left
// of B's four columns.
func nn2x4(c0, c1, a0, a1, b []float32, ldb int) {
	c0, c1 = c0[:4], c1[:4]
	a1 = a1[:len(a0)]
	s00, s01, s02, s03 := c0[0], c0[1], c0[2], c0[3]
	s10, s11, s12, s13 := c1[0], c1[1], c1[2], c1[3]
	off := 0
	for p, v0 := range a0 {
		bp := b[off : off+4]
		off += ldb
		v1 := a1[p]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		s00 += float32(v0 * b0)
		s01 += float32(v0 * b1)
		s02 += float32(v0 * b2)
		s03 += float32(v0 * b3)
		s10 += float32(v1 * b0)
		s11 += float32(v1 * b1)
		s12 += float32(v1 * b2)
		s13 += float32(v1 * b3)
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}

// nn1x4 is nn2x4 for one row.
func nn1x4(c0, a0, b []float32, ldb int) {
	c0 = c0[:4]
	s0, s1, s2, s3 := c0[0], c0[1], c0[2], c0[3]
	off := 0
	for _, v := range a0 {
		bp := b[off : off+4]
		off += ldb
		s0 += float32(v * bp[0])
		s1 += float32(v * bp[1])
		s2 += float32(v * bp[2])
		s3 += float32(v * bp[3])
	}
	c0[0], c0[1], c0[2], c0[3] = s0, s1, s2, s3
}

// gemmTNGo is gemmTN in Go.
func gemmTNGo(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	i := 0
	for ; i+2 <= m; i += 2 {
		c0 := c[i*ldc : i*ldc+n]
		c1 := c[(i+1)*ldc : (i+1)*ldc+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			tn2x4(c0[j:j+4], c1[j:j+4], a[i:], lda, b[j:], ldb, k)
		}
		for ; j < n; j++ {
			s0, s1 := c0[j], c1[j]
			for p := 0; p < k; p++ {
				bv := b[p*ldb+j]
				s0 += float32(a[p*lda+i] * bv)
				s1 += float32(a[p*lda+i+1] * bv)
			}
			c0[j], c1[j] = s0, s1
		}
	}
	if i < m {
		c0 := c[i*ldc : i*ldc+n]
		for j := range c0 {
			s := c0[j]
			for p := 0; p < k; p++ {
				s += float32(a[p*lda+i] * b[p*ldb+j])
			}
			c0[j] = s
		}
	}
}

// tn2x4 adds two rows × four columns of gemmTNGo: a starts at A's column
// for row c0 (the next column is c1's), b at B's first of four columns.
func tn2x4(c0, c1, a []float32, lda int, b []float32, ldb int, k int) {
	c0, c1 = c0[:4], c1[:4]
	s00, s01, s02, s03 := c0[0], c0[1], c0[2], c0[3]
	s10, s11, s12, s13 := c1[0], c1[1], c1[2], c1[3]
	ao, bo := 0, 0
	for p := 0; p < k; p++ {
		ap := a[ao : ao+2]
		bp := b[bo : bo+4]
		ao += lda
		bo += ldb
		v0, v1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		s00 += float32(v0 * b0)
		s01 += float32(v0 * b1)
		s02 += float32(v0 * b2)
		s03 += float32(v0 * b3)
		s10 += float32(v1 * b0)
		s11 += float32(v1 * b1)
		s12 += float32(v1 * b2)
		s13 += float32(v1 * b3)
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}
