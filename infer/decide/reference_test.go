package decide

// reference is agent/decision's Debouncer as it was when infer/decide
// replaced it, kept as the reference the Decider must match with Enter =
// Exit = 1 and no delays (TestMatchesDebouncer).
type reference struct {
	k, n  int
	ring  []bool // last n verdicts, true = above
	next  int    // ring index to write
	held  int    // verdicts held, up to n
	above int    // how many held verdicts are true
	state State
}

func newReference(k, n int) *reference {
	return &reference{k: k, n: n, ring: make([]bool, n)}
}

func (d *reference) State() State { return d.state }

func (d *reference) Observe(above bool) (State, bool) {
	if d.held == d.n && d.ring[d.next] {
		d.above--
	}
	d.ring[d.next] = above
	if above {
		d.above++
	}
	d.next = (d.next + 1) % d.n
	d.held = min(d.held+1, d.n)

	s := d.state
	switch {
	case d.above >= d.k && (s != Unknown && s != SensorFault || d.held == d.n):
		s = Anomaly
	case d.held == d.n && (s == Unknown || s == SensorFault):
		s = Normal
	case s == Anomaly && d.held-d.above >= d.k:
		s = Normal
	}
	changed := s != d.state
	d.state = s
	return s, changed
}

func (d *reference) Fault() bool {
	clear(d.ring)
	d.next, d.held, d.above = 0, 0, 0
	changed := d.state != SensorFault
	d.state = SensorFault
	return changed
}
