package periph

import (
	"errors"
	"fmt"
	"math"
)

var nan64 = math.NaN()

// Transmitter says what an analog input carries and so how its voltage
// becomes an engineering value.
type Transmitter uint8

const (
	// Volts reports the voltage at the ADC input, in V, unscaled.
	Volts Transmitter = iota
	// Loop4to20mA is a 4–20 mA current-loop transmitter read as the
	// voltage V across a shunt of Shunt Ω:
	//
	//	I   = V / Shunt · 1000                 (mA)
	//	value = Lo + (I − 4) / 16 · (Hi − Lo)
	//
	// so 4 mA reads Lo and 20 mA reads Hi. With 250 Ω the loop spans
	// 1–5 V; with 150 Ω, 0.6–3.0 V. Following NAMUR NE43, a current below
	// LoopFaultLow (3.6 mA: broken wire, dead transmitter) or above
	// LoopFaultHigh (21 mA: short circuit, transmitter failure) is not a
	// measurement: the value is NaN and Read returns an error naming the
	// channel. Currents between 3.6 and 3.8 mA and between 20.5 and 21 mA
	// are the transmitter saying "under/over range" and are reported as
	// the extrapolated value.
	Loop4to20mA
	// Volt0to10 is a 0–10 V transmitter read through a resistive divider
	// that divides by Divider (R_top+R_bottom)/R_bottom, e.g. 3.0 for
	// 20 kΩ over 10 kΩ:
	//
	//	U   = V · Divider                      (V at the transmitter)
	//	value = Lo + U / 10 · (Hi − Lo)
	//
	// A 0–10 V signal has no live zero, so a broken wire reads as Lo and
	// cannot be told from a real zero; only U below −0.5 V (reversed
	// wiring) or above 10.5 V (over range) is a fault: NaN and an error.
	Volt0to10
)

// NAMUR NE43 limits of a 4–20 mA loop, in mA: a current outside
// [LoopFaultLow, LoopFaultHigh] signals a failure, not a measurement.
const (
	LoopFaultLow  = 3.6
	LoopFaultHigh = 21.0
)

// Limits of a 0–10 V signal at the transmitter, in V, outside which
// Volt0to10 reports a fault.
const (
	VoltFaultLow  = -0.5
	VoltFaultHigh = 10.5
)

// Errors wrapped by Read for a value that is a signalled fault rather than
// a measurement. Match them with errors.Is.
var (
	// ErrLoopBroken: a 4–20 mA loop carries less than LoopFaultLow.
	ErrLoopBroken = errors.New("loop current below 3.6 mA (NAMUR NE43: broken loop or transmitter failure)")
	// ErrLoopHigh: a 4–20 mA loop carries more than LoopFaultHigh.
	ErrLoopHigh = errors.New("loop current above 21 mA (NAMUR NE43: short circuit or transmitter failure)")
	// ErrOutOfRange: a 0–10 V signal is outside [VoltFaultLow, VoltFaultHigh].
	ErrOutOfRange = errors.New("signal outside −0.5..10.5 V")
)

// Scaling converts the voltage at an ADC input to an engineering value.
// The zero Scaling reports volts.
type Scaling struct {
	// Transmitter selects the conversion.
	Transmitter Transmitter
	// Shunt is the loop's shunt resistor in Ω (Loop4to20mA only).
	Shunt float64
	// Divider is the input divider's ratio, ≥ 1 (Volt0to10 only). 10.5 V
	// divided by it must stay below the ADC's supply: ≥ 3.2 for an ADS1115
	// on 3.3 V.
	Divider float64
	// Lo and Hi are the engineering values at 4 mA / 0 V and at 20 mA /
	// 10 V, in the channel's unit (bar, °C, L/min); Hi < Lo is allowed
	// for reverse-acting transmitters.
	Lo, Hi float64
}

// Check returns an error naming the field at fault, or nil.
func (s Scaling) Check() error {
	switch s.Transmitter {
	case Volts:
		return nil
	case Loop4to20mA:
		if !(s.Shunt > 0) {
			return fmt.Errorf("Shunt %v Ω: want a positive resistance (e.g. 150 or 250)", s.Shunt)
		}
	case Volt0to10:
		if !(s.Divider >= 1) {
			return fmt.Errorf("Divider %v: want a ratio ≥ 1 (1 for no divider)", s.Divider)
		}
	default:
		return fmt.Errorf("Transmitter %d: unknown", s.Transmitter)
	}
	if s.Lo == s.Hi {
		return fmt.Errorf("Lo = Hi = %v: want a span", s.Lo)
	}
	return nil
}

// maxInput is the highest voltage, in V, the ADC input must read without
// clipping: the fault limit, so that faults are seen as faults.
func (s Scaling) maxInput(fullScale float64) float64 {
	switch s.Transmitter {
	case Loop4to20mA:
		return LoopFaultHigh / 1000 * s.Shunt
	case Volt0to10:
		return VoltFaultHigh / s.Divider
	}
	return fullScale
}

// Apply converts v volts at the ADC input to the engineering value. For
// a signalled fault it returns NaN and one of ErrLoopBroken, ErrLoopHigh
// or ErrOutOfRange. It does not allocate.
func (s Scaling) Apply(v float64) (float64, error) {
	switch s.Transmitter {
	case Loop4to20mA:
		mA := v / s.Shunt * 1000
		switch {
		case mA < LoopFaultLow:
			return nan64, ErrLoopBroken
		case mA > LoopFaultHigh:
			return nan64, ErrLoopHigh
		}
		return s.Lo + (mA-4)/16*(s.Hi-s.Lo), nil
	case Volt0to10:
		u := v * s.Divider
		if u < VoltFaultLow || u > VoltFaultHigh {
			return nan64, ErrOutOfRange
		}
		return s.Lo + u/10*(s.Hi-s.Lo), nil
	}
	return v, nil
}
