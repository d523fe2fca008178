package periph

import (
	"errors"
	"math"
	"strings"
	"testing"
)

var (
	loop250 = Scaling{Transmitter: Loop4to20mA, Shunt: 250, Lo: 0, Hi: 10}    // 0..10 bar, 1–5 V
	loop150 = Scaling{Transmitter: Loop4to20mA, Shunt: 150, Lo: -50, Hi: 150} // −50..150 °C, 0.6–3.0 V
	volt3   = Scaling{Transmitter: Volt0to10, Divider: 3, Lo: 0, Hi: 200}     // 0..200 L/min
	reverse = Scaling{Transmitter: Loop4to20mA, Shunt: 250, Lo: 100, Hi: 0}   // reverse acting
)

var applyTests = []struct {
	s       Scaling
	volts   float64
	want    float64
	wantErr error
}{
	{Scaling{}, 1.234, 1.234, nil},
	// 4–20 mA through 250 Ω: 1 V = 4 mA = Lo, 5 V = 20 mA = Hi, 3 V = 12 mA = mid.
	{loop250, 1.0, 0, nil},
	{loop250, 3.0, 5, nil},
	{loop250, 5.0, 10, nil},
	// NE43: 3.8 mA and 20.5 mA are under/over range but still measurements.
	{loop250, 0.95, -0.125, nil},
	{loop250, 5.125, 10.3125, nil},
	// NE43 limits themselves are still measurements …
	{loop250, 0.9, -0.25, nil},
	{loop250, 5.25, 10.625, nil},
	// … just beyond them is a fault.
	{loop250, 0.8999, math.NaN(), ErrLoopBroken},
	{loop250, 0, math.NaN(), ErrLoopBroken},
	{loop250, -0.1, math.NaN(), ErrLoopBroken},
	{loop250, 5.2501, math.NaN(), ErrLoopHigh},
	// 150 Ω: 0.6 V = 4 mA, 1.8 V = 12 mA, 3.0 V = 20 mA.
	{loop150, 0.6, -50, nil},
	{loop150, 1.8, 50, nil},
	{loop150, 3.0, 150, nil},
	{loop150, 0.5, math.NaN(), ErrLoopBroken},
	{reverse, 1.0, 100, nil},
	{reverse, 5.0, 0, nil},
	// 0–10 V through a ÷3 divider: 0 V = Lo, 1.6667 V = 5 V = mid, 3.3333 V = 10 V = Hi.
	{volt3, 0, 0, nil},
	{volt3, 5.0 / 3, 100, nil},
	{volt3, 10.0 / 3, 200, nil},
	{volt3, 3.5, 210, nil},
	{volt3, 3.6, math.NaN(), ErrOutOfRange},
	{volt3, -0.2, math.NaN(), ErrOutOfRange},
}

func TestScalingApply(t *testing.T) {
	for _, tt := range applyTests {
		got, err := tt.s.Apply(tt.volts)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%+v.Apply(%v) error = %v, want %v", tt.s, tt.volts, err, tt.wantErr)
		}
		if math.IsNaN(tt.want) != math.IsNaN(got) || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%+v.Apply(%v) = %v, want %v", tt.s, tt.volts, got, tt.want)
		}
	}
}

func TestScalingCheck(t *testing.T) {
	tests := []struct {
		s    Scaling
		want string // "" for valid
	}{
		{Scaling{}, ""},
		{loop250, ""},
		{volt3, ""},
		{Scaling{Transmitter: Loop4to20mA, Lo: 0, Hi: 1}, "Shunt 0 Ω"},
		{Scaling{Transmitter: Loop4to20mA, Shunt: math.NaN(), Hi: 1}, "Shunt NaN Ω"},
		{Scaling{Transmitter: Volt0to10, Divider: 0.5, Hi: 1}, "Divider 0.5"},
		{Scaling{Transmitter: Volt0to10, Divider: 2, Lo: 3, Hi: 3}, "Lo = Hi = 3"},
		{Scaling{Transmitter: 9}, "Transmitter 9: unknown"},
	}
	for _, tt := range tests {
		err := tt.s.Check()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tt.want == "") != (err == nil) || (tt.want != "" && !strings.Contains(got, tt.want)) {
			t.Errorf("%+v.Check() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestScalingApplyAllocs(t *testing.T) {
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		for _, tt := range applyTests {
			v, _ := tt.s.Apply(tt.volts)
			sink += v
		}
	})
	if allocs != 0 {
		t.Errorf("Scaling.Apply allocates %v times per table, want 0", allocs)
	}
}
