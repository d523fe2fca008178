package decide

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// t0 is the sample time scripts count from.
var t0 = time.Date(2020, 3, 9, 10, 0, 0, 0, time.UTC)

var initials = [...]byte{Unknown: 'u', Normal: 'n', Anomaly: 'a', SensorFault: 'f', Stale: 's'}

// play runs a script of space-separated steps "<seconds><op>" through d
// (threshold 1). Each step but 's' first calls Next at t0 + seconds, then
// does op: '+' scores 2, '-' 0.5, '~' 1.2, 'n' NaN, 'x' is a Fault, 's'
// is Stale. It returns the state's initial (u, n, a, f, s) after each
// step, preceded by '|' where Next reported a gap.
func play(t *testing.T, d *Decider, script string) string {
	t.Helper()
	var b strings.Builder
	for _, step := range strings.Fields(script) {
		op := step[len(step)-1]
		secs, err := strconv.ParseFloat(step[:len(step)-1], 64)
		if err != nil {
			t.Fatalf("bad step %q in script %q", step, script)
		}
		at := t0.Add(time.Duration(secs * float64(time.Second)))
		if op != 's' && d.Next(at) {
			b.WriteByte('|')
		}
		switch op {
		case '+':
			d.Observe(at, 2)
		case '-':
			d.Observe(at, 0.5)
		case '~':
			d.Observe(at, 1.2)
		case 'n':
			d.Observe(at, float32(math.NaN()))
		case 'x':
			d.Fault(at)
		case 's':
			d.Stale()
		default:
			t.Fatalf("bad op %q in script %q", op, script)
		}
		b.WriteByte(initials[d.State()])
	}
	return b.String()
}

// timed spreads a compact script ("+-x") one second apart.
func timed(compact string) string {
	var b strings.Builder
	for i, c := range compact {
		fmt.Fprintf(&b, "%d%c ", i, c)
	}
	return b.String()
}

func newDecider(t testing.TB, p Params) *Decider {
	t.Helper()
	d, err := New(1, p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The debouncer's table from agent/decision, unchanged: with Enter = Exit
// = 1 and no delays the Decider decides exactly as it did.
func TestKofN(t *testing.T) {
	tests := []struct {
		k, n         int
		script, want string
	}{
		{3, 5, "-----", "uuuun"},
		{3, 5, "+++++", "uuuua"},
		{3, 5, "-----+-+-+", "uuuunnnnna"},       // third above in the window
		{3, 5, "-----+-+--", "uuuunnnnnn"},       // two of five: no
		{3, 5, "-----+++--+--", "uuuunnnaaaann"}, // leaves when the window +--+- holds 3 below
		{1, 1, "-+-+", "nana"},
		{3, 5, "-----x", "uuuunf"},
		{3, 5, "-----x----", "uuuunfffff"},
		{3, 5, "-----x-----", "uuuunfffffn"},
		{3, 5, "-----x+++++", "uuuunfffffa"},
		{2, 3, "---++---", "uunnaann"},
		// Stale behaves like a fault.
		{3, 5, "-----s-----", "uuuunsssssn"},
		{3, 5, "+++++s++++-", "uuuuasssssa"}, // a full window again
		// NaN counts as above.
		{2, 3, "---nn", "uunna"},
	}
	for _, tc := range tests {
		d := newDecider(t, Params{K: tc.k, N: tc.n})
		if got := play(t, d, timed(tc.script)); got != tc.want {
			t.Errorf("k=%d n=%d %s: states %s, want %s", tc.k, tc.n, tc.script, got, tc.want)
		}
	}
}

func TestChanged(t *testing.T) {
	d := newDecider(t, Params{K: 1, N: 2})
	steps := []struct {
		score   float32
		want    State
		changed bool
	}{{0.5, Unknown, false}, {0.5, Normal, true}, {0.5, Normal, false}, {2, Anomaly, true}, {2, Anomaly, false}, {0.5, Anomaly, false}, {0.5, Normal, true}}
	for i, s := range steps {
		at := t0.Add(time.Duration(i) * time.Second)
		d.Next(at)
		if st, ch := d.Observe(at, s.score); st != s.want || ch != s.changed {
			t.Errorf("step %d: Observe(%v) = %v, %v; want %v, %v", i, s.score, st, ch, s.want, s.changed)
		}
	}
	if !d.Fault(t0) || d.Fault(t0) {
		t.Error("Fault: want changed once, then not")
	}
	if !d.Stale() || d.Stale() {
		t.Error("Stale: want changed once, then not")
	}
}

// With Exit < Enter a score between Exit×T and Enter×T ('~', 1.2 with T
// = 1) counts toward neither entering nor leaving.
func TestHysteresis(t *testing.T) {
	tests := []struct {
		k, n         int
		enter, exit  float64
		script, want string
	}{
		// Without hysteresis 1.2 is above.
		{2, 3, 1, 1, "---~~", "uunna"},
		{2, 3, 1.5, 1, "---~~~~", "uunnnnn"},     // never enters on in-between scores
		{2, 3, 1.5, 1, "---++~~~~", "uunnaaaaa"}, // nor leaves
		{2, 3, 1.5, 1, "---++~--", "uunnaaan"},   // two below leave
		{2, 3, 1.5, 1, "---++~-~-~", "uunnaaaann"},
		{1, 1, 1.5, 0.8, "+~-~+", "aanna"},
		// From a full window after start-up: in-between scores are not
		// above, so the decision is Normal.
		{2, 3, 1.5, 1, "~~~", "uun"},
		{2, 3, 1.5, 1, "~++", "uua"},
		// Exit 0.3: 0.5 is in between too.
		{2, 3, 1.5, 0.3, "+++--~~~", "uuaaaaaa"},
	}
	for _, tc := range tests {
		d := newDecider(t, Params{K: tc.k, N: tc.n, Enter: tc.enter, Exit: tc.exit})
		if got := play(t, d, timed(tc.script)); got != tc.want {
			t.Errorf("k=%d n=%d enter %v exit %v %s: states %s, want %s", tc.k, tc.n, tc.enter, tc.exit, tc.script, got, tc.want)
		}
	}
}

// MinDuration and Cooldown count sample time, not samples.
func TestDelays(t *testing.T) {
	tests := []struct {
		name         string
		p            Params
		script, want string
	}{
		{"on-delay", Params{K: 1, N: 1, MinDuration: 3 * time.Second},
			"0- 1+ 2+ 3+ 4+ 5-", "nnnnan"},
		{"on-delay restarts when the entry condition lapses", Params{K: 1, N: 1, MinDuration: 3 * time.Second},
			"0- 1+ 2+ 3- 4+ 5+ 6+ 7+", "nnnnnnna"},
		{"on-delay in sample time, however few samples", Params{K: 1, N: 1, MinDuration: 10 * time.Second},
			"0- 1+ 100+", "nna"},
		{"on-delay after start-up: normal while pending", Params{K: 2, N: 3, MinDuration: 2 * time.Second},
			"0+ 1+ 2+ 3+", "uuna"},
		{"on-delay met at the full window", Params{K: 2, N: 3, MinDuration: time.Second},
			"0+ 1+ 2+", "uua"},
		{"on-delay with k of n: a below score that keeps k above does not interrupt", Params{K: 2, N: 3, MinDuration: 3 * time.Second},
			"0- 1- 2- 3+ 4+ 5- 6+ 7+", "uunnnnna"},
		{"off-delay", Params{K: 1, N: 1, Cooldown: 3 * time.Second},
			"0+ 1- 2- 3- 4- 5+", "aaaana"},
		{"off-delay: an entry in between keeps the same anomaly", Params{K: 1, N: 1, Cooldown: 3 * time.Second},
			"0+ 1- 2- 3+ 4- 5- 6- 7-", "aaaaaaan"},
		{"off-delay: in-between scores interrupt it", Params{K: 1, N: 1, Enter: 1.5, Cooldown: 3 * time.Second},
			"0+ 1- 2- 3~ 4- 5- 6- 7-", "aaaaaaan"},
		{"both", Params{K: 2, N: 3, MinDuration: 2 * time.Second, Cooldown: 2 * time.Second},
			"0- 1- 2- 3+ 4+ 5+ 6+ 7- 8- 9- 10- 11+", "uunnnnaaaann"},
		{"a fault restarts the on-delay", Params{K: 1, N: 1, MinDuration: 2 * time.Second},
			"0- 1+ 2x 3+ 4+ 5+", "nnfnna"},
	}
	for _, tc := range tests {
		d := newDecider(t, tc.p)
		if got := play(t, d, tc.script); got != tc.want {
			t.Errorf("%s: %+v %q: states %s, want %s", tc.name, tc.p, tc.script, got, tc.want)
		}
	}
}

// A gap clears the verdicts and keeps the state; Next reports it.
func TestGap(t *testing.T) {
	tests := []struct {
		name         string
		p            Params
		script, want string
	}{
		{"no gap", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0- 1- 2- 3+ 8+", "uunna"},
		{"gap: the history is gone, the state stays", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0- 1- 2- 3+ 10+ 11+", "uunn|na"},
		{"no rule: the same samples enter at once", Params{K: 2, N: 3},
			"0- 1- 2- 3+ 10+ 11+", "uunnaa"},
		{"gap in an anomaly: leaving takes k below", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0+ 1+ 2+ 10- 11- 12-", "uua|ann"},
		{"gap before the first decision: still a full window", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0+ 1+ 10+ 11+ 12+", "uu|uua"},
		{"time going backwards is a gap", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0- 1- 2- 3+ 2.5+ 3+", "uunn|na"},
		{"not without the gap rule", Params{K: 2, N: 3},
			"0- 1- 2- 3+ 2.5+ 3+", "uunnaa"},
		{"equal times are no gap", Params{K: 2, N: 3, Gap: 5 * time.Second},
			"0- 0- 0- 0+ 0+", "uunna"},
		{"a gap interrupts the cooldown", Params{K: 1, N: 1, Gap: 5 * time.Second, Cooldown: 3 * time.Second},
			"0+ 1- 2- 3- 10- 11- 12- 13-", "aaaa|aaan"},
		{"faulty samples count for the gap rule", Params{K: 1, N: 1, Gap: 5 * time.Second},
			"0- 1x 5x 11- 17+", "nff|n|a"},
	}
	for _, tc := range tests {
		d := newDecider(t, tc.p)
		if got := play(t, d, tc.script); got != tc.want {
			t.Errorf("%s: %+v %q: states %s, want %s", tc.name, tc.p, tc.script, got, tc.want)
		}
	}
}

// A restored state needs a full window, and staying in it is no change.
func TestRestore(t *testing.T) {
	tests := []struct {
		restore      State
		p            Params
		script, want string
		changes      int
	}{
		{Anomaly, Params{K: 2, N: 3}, "0+ 1+ 2+", "aaa", 0},
		{Anomaly, Params{K: 2, N: 3}, "0- 1- 2-", "aan", 1},
		{Anomaly, Params{K: 2, N: 3}, "0- 1+ 2+", "aaa", 0},
		{Anomaly, Params{K: 2, N: 3, MinDuration: time.Hour}, "0+ 1+ 2+", "aaa", 0},            // confirmed before the restart
		{Anomaly, Params{K: 2, N: 3, Cooldown: time.Hour}, "0- 1- 2-", "aaa", 0},               // as a running anomaly would
		{Anomaly, Params{K: 2, N: 3, Cooldown: 2 * time.Second}, "0- 1- 2- 3- 4-", "aaann", 1}, // the exit condition holds from 1 s on
		// Between the exit and entry levels: neither, so the anomaly goes on.
		{Anomaly, Params{K: 2, N: 3, Enter: 1.2, Exit: 0.8}, "0= 1= 2= 3= 4=", "aaaaa", 0},
		{Normal, Params{K: 1, N: 3}, "0+ 1+ 2+", "nna", 1}, // no entry before the window is full
		{Normal, Params{K: 1, N: 3}, "0- 1- 2-", "nnn", 0},
		{SensorFault, Params{K: 1, N: 2}, "0x 1- 2-", "ffn", 1},
		{Stale, Params{K: 1, N: 2}, "0s 1- 2-", "ssn", 1},
		{Unknown, Params{K: 1, N: 2}, "0- 1-", "un", 1},
		{State(9), Params{K: 1, N: 2}, "0- 1-", "un", 1},
	}
	for _, tc := range tests {
		d := newDecider(t, tc.p)
		d.Restore(tc.restore)
		var b strings.Builder
		changes := 0
		for _, step := range strings.Fields(tc.script) {
			at := t0.Add(time.Duration(step[0]-'0') * time.Second)
			d.Next(at)
			changed := false
			switch step[1] {
			case '+':
				_, changed = d.Observe(at, 2)
			case '-':
				_, changed = d.Observe(at, 0.5)
			case '=':
				_, changed = d.Observe(at, 1)
			case 'x':
				changed = d.Fault(at)
			case 's':
				changed = d.Stale()
			}
			if changed {
				changes++
			}
			b.WriteByte(initials[d.State()])
		}
		if got := b.String(); got != tc.want || changes != tc.changes {
			t.Errorf("Restore(%v) %+v %q: states %s with %d changes, want %s with %d", tc.restore, tc.p, tc.script, got, changes, tc.want, tc.changes)
		}
	}
}

// With the defaults the Decider is the old debouncer (reference_test.go),
// on random scripts of scores around the threshold and faults.
func TestMatchesDebouncer(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scores := []float32{0, 0.5, 0.999, 1, 1.001, 2, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for run := range 2000 {
		n := 1 + r.IntN(12)
		k := 1 + r.IntN(n)
		threshold := float32(1)
		d, err := New(threshold, Params{K: k, N: n, Enter: float64(r.IntN(2)), Exit: float64(r.IntN(2))}) // 0 or 1: both mean 1
		if err != nil {
			t.Fatal(err)
		}
		ref := newReference(k, n)
		for i := range 200 {
			at := t0.Add(time.Duration(i) * time.Second)
			d.Next(at)
			var got, want State
			var gotCh, wantCh bool
			if r.IntN(20) == 0 {
				gotCh, wantCh = d.Fault(at), ref.Fault()
				got, want = d.State(), ref.State()
			} else {
				s := scores[r.IntN(len(scores))]
				got, gotCh = d.Observe(at, s)
				want, wantCh = ref.Observe(!(s <= threshold))
			}
			if got != want || gotCh != wantCh {
				t.Fatalf("run %d (k=%d n=%d) step %d: state %v changed %v, debouncer %v changed %v", run, k, n, i, got, gotCh, want, wantCh)
			}
		}
	}
}

func TestStateNames(t *testing.T) {
	for s := Unknown; s <= Stale; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
		b, err := s.MarshalText()
		var back State
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Errorf("%v: MarshalText %q, %v; back %v", s, b, err, back)
		}
	}
	if got := State(7).String(); got != "State(7)" {
		t.Errorf("State(7).String() = %q", got)
	}
	if _, err := State(7).MarshalText(); err == nil {
		t.Error("State(7).MarshalText succeeded")
	}
	for _, bad := range []string{"", "Anomaly", "fault", "sensor_fault"} {
		_, err := ParseState(bad)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) || !strings.Contains(err.Error(), "sensor-fault or stale") {
			t.Errorf("ParseState(%q): error %v, want one naming the value and the states", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p    Params
		want string // substring of the error; "" for none
	}{
		{DefaultParams(), ""},
		{Params{K: 1, N: 1}, ""},
		{Params{K: 1000, N: 1000, Enter: 2, Exit: 0.5, MinDuration: time.Second, Cooldown: time.Minute, Gap: time.Hour}, ""},
		{Params{K: 2, N: 3, Enter: 1.5}, ""}, // exit 0 means 1
		{Params{K: 0, N: 8}, "decide: k=0 n=8, want 1 <= k <= n <= 1000"},
		{Params{K: 9, N: 8}, "k=9 n=8"},
		{Params{K: 1, N: 1001}, "k=1 n=1001"},
		{Params{K: 1, N: 0}, "k=1 n=0"},
		{Params{K: 1, N: 1, Exit: 1.2}, "decide: exit 1.2 > enter 1"},
		{Params{K: 1, N: 1, Enter: 0.8}, "exit 1 > enter 0.8"},
		{Params{K: 1, N: 1, Enter: -1}, "enter -1"},
		{Params{K: 1, N: 1, Exit: math.NaN()}, "exit NaN"},
		{Params{K: 1, N: 1, Enter: math.Inf(1)}, "enter +Inf"},
		{Params{K: 1, N: 1, MinDuration: -time.Second}, "min duration -1s, want 0 or more"},
		{Params{K: 1, N: 1, Cooldown: -1}, "cooldown -1ns"},
		{Params{K: 1, N: 1, Gap: -time.Minute}, "gap -1m0s"},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", tc.p, err, tc.want)
		}
		if _, nerr := New(1, tc.p); (nerr == nil) != (err == nil) {
			t.Errorf("New(1, %+v): %v, Validate: %v", tc.p, nerr, err)
		}
	}
}

func TestNew(t *testing.T) {
	for _, thr := range []float32{0, -1, float32(math.NaN()), float32(math.Inf(1))} {
		if _, err := New(thr, DefaultParams()); err == nil || !strings.Contains(err.Error(), "threshold") {
			t.Errorf("New(%v): error %v, want one about the threshold", thr, err)
		}
	}
	d, err := New(0.25, Params{K: 2, N: 4})
	if err != nil {
		t.Fatal(err)
	}
	if d.State() != Unknown || d.Threshold() != 0.25 || d.Params() != (Params{K: 2, N: 4, Enter: 1, Exit: 1}) {
		t.Errorf("New: state %v threshold %v params %+v", d.State(), d.Threshold(), d.Params())
	}
}

func TestObserveAllocs(t *testing.T) {
	d, _ := New(1, Params{K: 3, N: 5, Enter: 1.2, Exit: 0.8, MinDuration: time.Second, Cooldown: time.Second, Gap: time.Second})
	i := 0
	at := t0
	if a := testing.AllocsPerRun(1000, func() {
		i++
		at = at.Add(time.Duration(i%4) * 400 * time.Millisecond)
		d.Next(at)
		d.Observe(at, float32(i%3))
	}); a != 0 {
		t.Errorf("Next+Observe allocate %v times, want 0", a)
	}
}

func BenchmarkObserve(b *testing.B) {
	d, _ := New(1, Params{K: 6, N: 8, Enter: 1.2, Exit: 0.8, MinDuration: time.Second, Cooldown: time.Second, Gap: time.Minute})
	scores := []float32{0.5, 2, 1, 0.1, 3, 0.9, 1.1}
	at := t0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at = at.Add(100 * time.Millisecond)
		d.Next(at)
		d.Observe(at, scores[i%len(scores)])
	}
}
