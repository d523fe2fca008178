package health

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	lim := map[string]Limits{
		"p": {Min: 0, Max: 16, Stuck: 3 * time.Second},
		"q": NoRange,
	}
	tests := []struct {
		at   time.Duration
		p, q float32
		want string // Describe of the faults
	}{
		{0, 4, 1, ""},
		{time.Second, 4, 2, ""},
		{2 * time.Second, 4, nan, "q missing"},
		{3 * time.Second, 4, inf, "p stuck at 4 for 3s; q infinite"},
		{4 * time.Second, 4.5, 3, ""}, // it moved: no longer stuck
		{5 * time.Second, -0.5, 3, "p below range (-0.5 < 0)"},
		{6 * time.Second, 20, 3, "p above range (20 > 16)"},
		{7 * time.Second, nan, 3, "p missing"},
		{8 * time.Second, 20, 3, "p above range (20 > 16)"}, // range wins over stuck
		{11 * time.Second, 20, 3, "p above range (20 > 16)"},
		{12 * time.Second, 15, 3, ""}, // q has no stuck check
	}
	c, err := New([]string{"p", "q"}, lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		s := sensors.Sample{Time: t0.Add(tc.at), Values: []float32{tc.p, tc.q}}
		n := c.Check(&s)
		if got := c.Describe(c.Faults()); got != tc.want || n != len(c.Faults()) {
			t.Errorf("at %v (%v, %v): %d faults %q, want %q", tc.at, tc.p, tc.q, n, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		lim  map[string]Limits
		want string
	}{
		{map[string]Limits{"x": NoRange}, `limits for "x"`},
		{map[string]Limits{"p": {Min: 5, Max: 1}}, "min 5 is above max 1"},
		{map[string]Limits{"p": {Min: math.Inf(-1), Max: 1}}, "finite bounds"},
		{map[string]Limits{"p": {Min: math.NaN(), Max: math.NaN(), Stuck: -time.Second}}, "stuck -1s"},
	}
	for _, tc := range tests {
		if _, err := New([]string{"p"}, tc.lim); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v) = %v, want an error with %q", tc.lim, err, tc.want)
		}
	}
}

func TestCheckAllocs(t *testing.T) {
	c, _ := New([]string{"p", "q"}, map[string]Limits{"p": {Min: 0, Max: 1, Stuck: time.Second}})
	s := sensors.Sample{Time: t0, Values: []float32{5, float32(math.NaN())}}
	if a := testing.AllocsPerRun(100, func() { s.Time = s.Time.Add(time.Second); c.Check(&s) }); a != 0 {
		t.Errorf("Check allocates %v times, want 0", a)
	}
}

func BenchmarkCheck(b *testing.B) {
	ch := sensors.SKABChannels
	lim := map[string]Limits{}
	for _, c := range ch {
		lim[c] = Limits{Min: -100, Max: 1000, Stuck: time.Minute}
	}
	c, _ := New(ch, lim)
	s := sensors.Sample{Time: t0, Values: []float32{0.2, 0.27, 2.5, 0.38, 90, 26, 238, 122}}
	b.ReportAllocs()
	for i := range b.N {
		s.Time = t0.Add(time.Duration(i) * time.Second)
		c.Check(&s)
	}
}
