package periph

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	// The Linux kernel's own interfaces only: I²C through /dev/i2c-*
	// (sysfs) and GPIO through the /dev/gpiochip* character devices
	// (gpioioctl), which work on every Pi (the Pi 5's RP1 included) for a
	// user in groups i2c and gpio, without root. periph's SoC drivers
	// (memory-mapped registers, /dev/mem) are left out: they need root
	// and add size.
	_ "periph.io/x/host/v3/gpioioctl"
	_ "periph.io/x/host/v3/sysfs"
)

// initHost registers the drivers imported above, once per process.
func initHost() error {
	_, err := driverreg.Init()
	return err
}

// i2cHint is how to get an I²C bus on a Raspberry Pi, for errors.
const i2cHint = "on a Raspberry Pi enable I²C with dtparam=i2c_arm=on in /boot/firmware/config.txt and reboot, " +
	"load the i2c-dev kernel module (modprobe i2c-dev; list it in /etc/modules to keep it), " +
	"and add the agent's user to group i2c"

// gpioHint is how to get GPIO access on a Raspberry Pi, for errors.
const gpioHint = "on a Raspberry Pi name the pin as GPIO17 (BCM numbering) and add the agent's user to group gpio"

// OpenI2C initialises periph's host drivers and opens the I²C bus named
// busName ("1" for /dev/i2c-1, the Pi's header bus; "" for the first bus
// found). The caller owns the bus and closes it after the devices on it.
//
// On a machine without that bus it returns an error naming the bus and
// saying how to enable it on a Raspberry Pi; it never panics.
// It is safe for concurrent use; periph's driver registry is initialised
// once per process.
func OpenI2C(busName string) (i2c.BusCloser, error) {
	if err := initHost(); err != nil {
		return nil, fmt.Errorf("periph: I²C bus %q: initialising host drivers: %v; %s", busName, err, i2cHint)
	}
	refs := i2creg.All()
	if len(refs) == 0 {
		// i2creg's own message blames a missing Init, which was done.
		return nil, fmt.Errorf("periph: I²C bus %q: no I²C bus on this machine (no /dev/i2c-*); %s", busName, i2cHint)
	}
	bus, err := i2creg.Open(busName)
	if err != nil {
		names := make([]string, len(refs))
		for i, r := range refs {
			names[i] = r.Name
		}
		return nil, fmt.Errorf("periph: I²C bus %q: %v (buses here: %s); %s", busName, err, strings.Join(names, ", "), i2cHint)
	}
	return bus, nil
}

// OpenGPIO initialises periph's host drivers and returns the GPIO pin
// named name ("GPIO17", or its number "17"). Pins need no closing; Halt
// stops a pending edge wait.
//
// On a machine without that pin it returns an error naming the pin.
func OpenGPIO(name string) (gpio.PinIO, error) {
	if err := initHost(); err != nil {
		return nil, fmt.Errorf("periph: GPIO %q: initialising host drivers: %v; %s", name, err, gpioHint)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("periph: GPIO %q: no such pin on this machine; %s", name, gpioHint)
	}
	return p, nil
}
