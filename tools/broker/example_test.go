package broker_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/tools/broker"
)

// Start a broker on a free loopback port for a test or a demo.
func ExampleStart() {
	b, err := broker.Start("127.0.0.1:0", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	fmt.Println(b.URL() != "")
	// Output: true
}
