package eval

import "fmt"

// Episodes counts the alarms a crew would see: an alarm is a maximal run
// of consecutive positive predictions. raised counts them all; falseAlarms
// counts those whose every sample is labelled 0 (the alarm began and
// ended in normal operation). An alarm that overlaps a labelled anomaly
// anywhere is not false, however long it lasts; one fault that raises
// several alarms (chattering) counts each of them in raised.
//
// Row-wise FAR and MAR weigh an alarm by its length; Episodes is the
// other view: how often the crew is paged, and how often for nothing.
//
// It returns an error if the lengths differ or a label is not 0 or 1.
func Episodes(labels []uint8, predictions []bool) (raised, falseAlarms int, err error) {
	if len(labels) != len(predictions) {
		return 0, 0, fmt.Errorf("eval: %d labels but %d predictions", len(labels), len(predictions))
	}
	inAlarm, touched := false, false
	for i, p := range predictions {
		if labels[i] > 1 {
			return 0, 0, fmt.Errorf("eval: label %d at index %d is not 0 or 1", labels[i], i)
		}
		switch {
		case p && !inAlarm:
			raised++
			inAlarm, touched = true, labels[i] == 1
		case p:
			touched = touched || labels[i] == 1
		case inAlarm:
			if !touched {
				falseAlarms++
			}
			inAlarm = false
		}
	}
	if inAlarm && !touched {
		falseAlarms++
	}
	return raised, falseAlarms, nil
}
