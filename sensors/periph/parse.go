package periph

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/devices/v3/ads1x15"
)

// The text forms of this package's settings, as configuration files
// write them. Each Parse… function returns an error listing the
// accepted forms.

var inputs = []struct {
	name string
	ch   ads1x15.Channel
}{
	{"0", ads1x15.Channel0}, {"1", ads1x15.Channel1}, {"2", ads1x15.Channel2}, {"3", ads1x15.Channel3},
	{"0-1", ads1x15.Channel0Minus1}, {"0-3", ads1x15.Channel0Minus3},
	{"1-3", ads1x15.Channel1Minus3}, {"2-3", ads1x15.Channel2Minus3},
}

// ParseInput parses an ADS1115 input: "0" to "3" for AINx against GND,
// or a differential pair "0-1", "0-3", "1-3" or "2-3".
func ParseInput(s string) (ads1x15.Channel, error) {
	s = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "AIN")
	for _, in := range inputs {
		if in.name == s {
			return in.ch, nil
		}
	}
	return 0, fmt.Errorf("input %q: want 0, 1, 2 or 3 (single-ended) or 0-1, 0-3, 1-3 or 2-3 (differential)", s)
}

// ParseTransmitter parses what an ADC input carries: "volts", "4-20mA"
// or "0-10V" (case does not matter).
func ParseTransmitter(s string) (Transmitter, error) {
	switch strings.ToLower(s) {
	case "volts", "v", "":
		return Volts, nil
	case "4-20ma":
		return Loop4to20mA, nil
	case "0-10v":
		return Volt0to10, nil
	}
	return 0, fmt.Errorf("transmitter %q: want 4-20mA, 0-10V or volts", s)
}

// ParsePull parses a GPIO input's bias: "up", "down" or "none".
func ParsePull(s string) (gpio.Pull, error) {
	switch s {
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "none", "float":
		return gpio.Float, nil
	}
	return 0, fmt.Errorf("pull %q: want up, down or none", s)
}

// ParseEdge parses the edge a pulse counter counts: "falling", "rising"
// or "both".
func ParseEdge(s string) (gpio.Edge, error) {
	switch s {
	case "falling":
		return gpio.FallingEdge, nil
	case "rising":
		return gpio.RisingEdge, nil
	case "both":
		return gpio.BothEdges, nil
	}
	return 0, fmt.Errorf("edge %q: want falling, rising or both", s)
}
