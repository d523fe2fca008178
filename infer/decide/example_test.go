package decide_test

import (
	"fmt"
	"time"

	"github.com/vigil-edge/vigil/infer/decide"
)

// Three of the last five scores above 1.2×threshold make an anomaly, for
// at least two seconds of sample time; three at or below the threshold
// end it. A single high score does nothing, scores between the two
// factors count toward neither, and a gap of more than a minute forgets
// the window (the caller restarts its feature window too).
func ExampleDecider() {
	p := decide.Params{K: 3, N: 5, Enter: 1.2, Exit: 1, MinDuration: 2 * time.Second, Gap: time.Minute}
	d, err := decide.New(0.5, p)
	if err != nil {
		panic(err)
	}
	start := time.Date(2020, 3, 9, 10, 0, 0, 0, time.UTC)
	scores := []float32{0.1, 0.2, 0.1, 0.1, 0.9, 0.1, 0.2, 0.8, 0.9, 0.7, 0.8, 0.55, 0.58, 0.3, 0.2, 0.1,
		0.9, 0.9, 0.9, 0.9, 0.9} // after an hour's silence
	for i, s := range scores {
		t := start.Add(time.Duration(i) * time.Second) // one sample a second
		if i >= 16 {
			t = t.Add(time.Hour)
		}
		if d.Next(t) {
			fmt.Printf("%2ds: gap, window restarted\n", int(t.Sub(start).Seconds()))
		}
		if state, changed := d.Observe(t, s); changed {
			fmt.Printf("%2ds: %v (score %v)\n", int(t.Sub(start).Seconds()), state, s)
		}
	}
	// Output:
	//  4s: normal (score 0.9)
	// 10s: anomaly (score 0.8)
	// 15s: normal (score 0.1)
	// 3616s: gap, window restarted
	// 3620s: anomaly (score 0.9)
}
