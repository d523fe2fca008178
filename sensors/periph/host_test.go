package periph

import (
	"os"
	"strings"
	"testing"
)

// TestOpenI2CMissing runs on machines without I²C (CI, laptops): opening a
// bus must fail with an error that names the bus and says how to enable it.
func TestOpenI2CMissing(t *testing.T) {
	if _, err := os.Stat("/dev/i2c-1"); err == nil {
		t.Skip("/dev/i2c-1 exists: this machine has the bus")
	}
	bus, err := OpenI2C("1")
	if err == nil {
		bus.Close()
		t.Fatal(`OpenI2C("1") = nil error on a machine without /dev/i2c-1`)
	}
	for _, want := range []string{`I²C bus "1"`, "no I²C bus on this machine", "dtparam=i2c_arm=on", "/boot/firmware/config.txt", "i2c-dev", "group i2c"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("OpenI2C(\"1\") error %q does not mention %q", err, want)
		}
	}
}

func TestOpenGPIOMissing(t *testing.T) {
	p, err := OpenGPIO("NO_SUCH_PIN")
	if err == nil {
		t.Fatalf("OpenGPIO(NO_SUCH_PIN) = %v, nil; want an error", p)
	}
	if !strings.Contains(err.Error(), `"NO_SUCH_PIN"`) {
		t.Errorf("OpenGPIO error %q does not name the pin", err)
	}
}
