package eval

import "testing"

func TestEpisodes(t *testing.T) {
	tests := []struct {
		name                string
		labels              string
		preds               string
		raised, falseAlarms int
	}{
		{"none", "0011100", "0000000", 0, 0},
		{"one true alarm", "0011100", "0001110", 1, 0},
		{"chattering over one fault", "0011111100", "0010101000", 3, 0},
		{"false before, true after", "0000011100", "0110001100", 2, 1},
		{"an alarm spanning the fault's end is true", "0011000000", "0001111111", 1, 0},
		{"a false alarm running to the end", "1100000000", "1100000011", 2, 1},
		{"all normal, always on", "000", "111", 1, 1},
		{"empty", "", "", 0, 0},
	}
	for _, tc := range tests {
		labels := make([]uint8, len(tc.labels))
		preds := make([]bool, len(tc.preds))
		for i := range labels {
			labels[i] = tc.labels[i] - '0'
			preds[i] = tc.preds[i] == '1'
		}
		raised, f, err := Episodes(labels, preds)
		if err != nil || raised != tc.raised || f != tc.falseAlarms {
			t.Errorf("%s: Episodes(%s, %s) = %d, %d, %v; want %d, %d", tc.name, tc.labels, tc.preds, raised, f, err, tc.raised, tc.falseAlarms)
		}
	}
	if _, _, err := Episodes([]uint8{0, 2}, []bool{false, true}); err == nil {
		t.Error("label 2: no error")
	}
	if _, _, err := Episodes([]uint8{0}, []bool{false, true}); err == nil {
		t.Error("lengths differ: no error")
	}
}
