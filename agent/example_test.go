package agent_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/agent"
)

// The agent compares the model's channels with the configured ones by
// name before it starts.
func ExampleCheckChannels() {
	model := []string{"Current", "Pressure", "Volume Flow RateRMS"}
	configured := []string{"Pressure", "Current", "Voltage"}
	fmt.Println(agent.CheckChannels(model, configured))
	// Output: model channels differ from the configured channels: the model needs ["Volume Flow RateRMS"], which the configuration lacks; the configuration lists ["Voltage"], which the model does not use
}
