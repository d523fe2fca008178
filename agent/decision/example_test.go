package decision_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/agent/decision"
)

// Three of the last five scores above the threshold make an anomaly; a
// single high score does not.
func ExampleDebouncer() {
	d, _ := decision.New(3, 5)
	for _, above := range []bool{false, false, false, false, true, false, false, true, true, true} {
		if state, changed := d.Observe(above); changed {
			fmt.Println(state)
		}
	}
	// Output:
	// normal
	// anomaly
}
