package eval

import (
	"fmt"
	"math"
)

// DetectionDelay measures how late a detector flags labelled anomalies. A
// segment is a maximal run of consecutive samples labelled 1. For each
// segment that holds at least one positive prediction, the delay is the
// number of samples from the segment's first sample to its first flagged
// sample (0 when the first anomalous sample is flagged). meanSamples is the
// mean delay over the detected segments, NaN when none was detected;
// detected counts them and segments counts all segments, so
// segments−detected were missed. Alarms before a segment or outside any
// segment do not count as detections.
//
// Delays are in samples, not seconds: with uneven sampling convert with the
// recording's timestamps if time matters. [NAB] is the time-based,
// changepoint-anchored counterpart used by SKAB.
//
// It returns an error if the lengths differ or a label is not 0 or 1.
func DetectionDelay(labels []uint8, predictions []bool) (meanSamples float64, detected, segments int, err error) {
	if len(labels) != len(predictions) {
		return 0, 0, 0, fmt.Errorf("eval: %d labels but %d predictions", len(labels), len(predictions))
	}
	sum := 0
	for i := 0; i < len(labels); {
		if labels[i] > 1 {
			return 0, 0, 0, fmt.Errorf("eval: label %d at index %d is not 0 or 1", labels[i], i)
		}
		if labels[i] == 0 {
			i++
			continue
		}
		segments++
		start, found := i, false
		for ; i < len(labels) && labels[i] == 1; i++ {
			if !found && predictions[i] {
				found = true
				detected++
				sum += i - start
			}
		}
	}
	if detected == 0 {
		return math.NaN(), 0, segments, nil
	}
	return float64(sum) / float64(detected), detected, segments, nil
}
