//go:build !purego

package infer

// mv4x2F32 computes, for each of pairs pairs of vectors (vector m at
// x + m·xstride) and each block of four rows of w (rows is a multiple of
// 4, row o at w + o·wstride), the dot products over n elements (a multiple
// of 8), and stores vector m's into dst + m·dstStride, finished as
// f(b[o] + s[o]·dot): s and b skipped when nil, f ReLU with relu and the
// identity otherwise. Each block of weights loaded serves both vectors.
//
//go:noescape
func mv4x2F32(w *float32, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)

// mv4x2Q8 is mv4x2F32 with int8 weights, converted to float32 eight at a
// time.
//
//go:noescape
func mv4x2Q8(w *int8, wstride int, x *float32, xstride int, n int, dst *float32, dstStride int, rows int, pairs int, b *float32, s *float32, relu bool)
