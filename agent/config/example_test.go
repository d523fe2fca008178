package config_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/agent/config"
)

func ExampleParse() {
	_, err := config.Parse([]byte("site: plant-1\ndevice: pump-3\nchanels: [Pressure]\n"))
	fmt.Println(err)
	// Output: line 3: field chanels not found in type config.Config
}
