package infer

import "math"

// Share is one channel's part of a sample's reconstruction error.
type Share struct {
	Channel int     // index into the model's channels
	Share   float32 // fraction of the summed error, 0..1
}

// TopShares writes the channels with the largest errors into dst, largest
// first, as fractions of the summed error, and returns dst[:k] where k is
// min(cap(dst), len(perChannel)). It does not allocate. If every error is
// zero, every share is zero; if some errors overflowed (infinite or NaN),
// they share the whole error equally. Shares are always finite.
func TopShares(dst []Share, perChannel []float32) []Share {
	var sum float32
	huge := 0 // channels whose error is infinite or NaN
	for _, e := range perChannel {
		sum += e
		if !(e <= math.MaxFloat32) {
			huge++
		}
	}
	dst = dst[:0]
	for i, e := range perChannel {
		s := float32(0)
		switch {
		case huge > 0: // an overflowed error outweighs every finite one
			if !(e <= math.MaxFloat32) {
				s = 1 / float32(huge)
			}
		case sum > 0:
			s = e / sum
		}
		// Insertion into the sorted prefix; k is tiny (a handful).
		if len(dst) < cap(dst) {
			dst = append(dst, Share{})
		} else if s <= dst[len(dst)-1].Share {
			continue
		}
		j := len(dst) - 1
		for j > 0 && dst[j-1].Share < s {
			dst[j] = dst[j-1]
			j--
		}
		dst[j] = Share{Channel: i, Share: s}
	}
	return dst
}
