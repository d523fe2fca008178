// Command vigil-agent is vigil's gateway daemon: it reads machine sensors,
// scores every sample with an autoencoder and publishes anomaly states over
// MQTT. See package agent and the README's configuration reference.
package main

import (
	"os"

	"github.com/vigil-edge/vigil/agent"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(agent.Main(os.Args[1:], os.Stdout, os.Stderr, version))
}
