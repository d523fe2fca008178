package decide

import (
	"math"
	"testing"
	"time"
)

// FuzzDecider feeds random parameters, scores, faults, staleness,
// restores and sample times (forwards, equal and backwards) and checks
// the invariants: nothing panics, the state is always one of the five,
// the verdict counts match the window, Anomaly is never entered with
// fewer than K above (nor before MinDuration, nor on a window short of N
// after start-up, a fault or staleness), Normal never follows Anomaly
// while K are above, and Unknown never comes back.
func FuzzDecider(f *testing.F) {
	f.Add(uint16(6), uint16(8), 1.0, 1.0, int64(0), int64(0), int64(0), float32(1), []byte("\x00\x08\x05\x08\x05\x08\x05\x08\x00\x08\x09\x08\x0b\x00"))
	f.Add(uint16(2), uint16(3), 1.5, 0.8, int64(time.Second), int64(2*time.Second), int64(5*time.Second), float32(0.4),
		[]byte("\x05\x0a\x05\x0a\x05\x0a\x03\x0a\x01\x0a\x01\x0a\x01\x0a\x05\x60\x05\xff\x0c\x02\x05\x0a"))
	f.Add(uint16(1), uint16(1), 0.0, 0.0, int64(-1), int64(0), int64(0), float32(1), []byte{1, 2})
	f.Fuzz(func(t *testing.T, k, n uint16, enter, exit float64, minDur, cooldown, gap int64, threshold float32, ops []byte) {
		p := Params{K: int(k), N: int(n), Enter: enter, Exit: exit,
			MinDuration: time.Duration(minDur), Cooldown: time.Duration(cooldown), Gap: time.Duration(gap)}
		d, err := New(threshold, p)
		validThreshold := threshold > 0 && !math.IsInf(float64(threshold), 0)
		if (err == nil) != (p.Validate() == nil && validThreshold) {
			t.Fatalf("New(%v, %+v): %v; Validate: %v", threshold, p, err, p.Validate())
		}
		if err != nil {
			return
		}
		q := d.Params()
		scores := []float32{0, threshold / 2, float32(q.Exit) * threshold, float32((q.Exit+q.Enter)/2) * threshold,
			float32(q.Enter) * threshold, float32(2*q.Enter) * threshold, float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1))}
		at := t0
		left := false // the state has left Unknown
		for i := 0; i+1 < len(ops); i += 2 {
			op, step := ops[i]%16, ops[i+1]
			// Steps of 0 to 30 tenths of the gap (or of a second); 31 and
			// up go backwards.
			unit := max(q.Gap/10, 100*time.Millisecond)
			if step%32 < 31 {
				at = at.Add(time.Duration(step%32) * unit)
			} else {
				at = at.Add(-unit)
			}
			prev, wasFull := d.State(), d.full
			var st State
			var changed bool
			switch {
			case op < 9:
				d.Next(at)
				if d.State() != prev {
					t.Fatalf("step %d: Next changed the state from %v to %v", i, prev, d.State())
				}
				wasFull = d.full
				st, changed = d.Observe(at, scores[op])
				if st != d.State() {
					t.Fatalf("step %d: Observe returned %v, State() is %v", i, st, d.State())
				}
			case op < 11:
				d.Next(at)
				changed, st = d.Fault(at), d.State()
				if st != SensorFault {
					t.Fatalf("step %d: after Fault the state is %v", i, st)
				}
			case op == 11:
				changed, st = d.Stale(), d.State()
				if st != Stale {
					t.Fatalf("step %d: after Stale the state is %v", i, st)
				}
			default:
				d.Restore(State(step % 6))
				st = d.State()
				changed = st != prev
				if r := State(step % 6); r != Unknown && r <= Stale && st != r || (r == Unknown || r > Stale) && st != prev {
					t.Fatalf("step %d: Restore(%v) from %v gave %v", i, r, prev, st)
				}
			}
			if st > Stale {
				t.Fatalf("step %d: state %d is none of the five", i, st)
			}
			if changed != (st != prev) {
				t.Fatalf("step %d: changed %v, but the state went from %v to %v", i, changed, prev, st)
			}
			if st == Unknown && left {
				t.Fatalf("step %d: back to Unknown", i)
			}
			left = left || st != Unknown
			checkCounts(t, d)
			if op >= 9 || !changed {
				continue
			}
			if wasFull && d.held != q.N {
				t.Fatalf("step %d: %v → %v on %d verdicts, want a full window of %d", i, prev, st, d.held, q.N)
			}
			switch {
			case st == Anomaly && d.above < q.K:
				t.Fatalf("step %d: entered Anomaly with %d of %d above, want at least k=%d", i, d.above, d.held, q.K)
			case st == Anomaly && at.Sub(d.enterSince) < q.MinDuration:
				t.Fatalf("step %d: entered Anomaly %v after the entry condition began, want at least %v", i, at.Sub(d.enterSince), q.MinDuration)
			case st == Normal && prev == Anomaly && d.above >= q.K:
				t.Fatalf("step %d: left Anomaly with %d of %d above (k=%d)", i, d.above, d.held, q.K)
			case st == Normal && prev == Anomaly && !wasFull && (d.below < q.K || at.Sub(d.leaveSince) < q.Cooldown):
				t.Fatalf("step %d: left Anomaly with %d below for %v, want k=%d for %v", i, d.below, at.Sub(d.leaveSince), q.K, q.Cooldown)
			}
		}
	})
}

// checkCounts recounts the window.
func checkCounts(t *testing.T, d *Decider) {
	t.Helper()
	above, below, set := 0, 0, 0
	for _, v := range d.ring {
		if v&verdictAbove != 0 {
			above++
		}
		if v&verdictBelow != 0 {
			below++
		}
		if v == verdictAbove|verdictBelow {
			t.Fatalf("a verdict both above and below")
		}
		if v != 0 {
			set++
		}
	}
	if d.held > d.p.N || above != d.above || below != d.below || set > d.held {
		t.Fatalf("window: held %d of %d, above %d (counted %d), below %d (counted %d), %d set", d.held, d.p.N, d.above, above, d.below, below, set)
	}
}
