package decision

import (
	"strings"
	"testing"
)

// run feeds a script: '+' above, '-' below, 'x' fault. It returns the
// state after each step as a string of initials (u, n, a, f).
func run(d *Debouncer, script string) string {
	var b strings.Builder
	for _, c := range script {
		switch c {
		case '+':
			d.Observe(true)
		case '-':
			d.Observe(false)
		case 'x':
			d.Fault()
		}
		b.WriteByte(d.State().String()[0])
	}
	return strings.ReplaceAll(b.String(), "s", "f")
}

func TestDebouncer(t *testing.T) {
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
	}
	for _, tc := range tests {
		d, err := New(tc.k, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := run(d, tc.script); got != tc.want {
			t.Errorf("k=%d n=%d %s: states %s, want %s", tc.k, tc.n, tc.script, got, tc.want)
		}
	}
}

func TestChanged(t *testing.T) {
	d, _ := New(1, 2)
	steps := []struct {
		above   bool
		want    State
		changed bool
	}{{false, Unknown, false}, {false, Normal, true}, {false, Normal, false}, {true, Anomaly, true}, {true, Anomaly, false}, {false, Anomaly, false}, {false, Normal, true}}
	for i, s := range steps {
		if st, ch := d.Observe(s.above); st != s.want || ch != s.changed {
			t.Errorf("step %d: Observe(%v) = %v, %v; want %v, %v", i, s.above, st, ch, s.want, s.changed)
		}
	}
	if !d.Fault() || d.Fault() {
		t.Error("Fault: want changed once, then not")
	}
}

func TestNewRejects(t *testing.T) {
	for _, kn := range [][2]int{{0, 5}, {6, 5}, {1, 0}} {
		if _, err := New(kn[0], kn[1]); err == nil {
			t.Errorf("New(%d, %d) succeeded", kn[0], kn[1])
		}
	}
}

func TestObserveAllocs(t *testing.T) {
	d, _ := New(3, 5)
	i := 0
	if a := testing.AllocsPerRun(100, func() { i++; d.Observe(i%3 == 0) }); a != 0 {
		t.Errorf("Observe allocates %v times, want 0", a)
	}
}
