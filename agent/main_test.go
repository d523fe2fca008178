package agent

import (
	"os"
	"strings"
	"testing"
	"time"
)

// agentChildEnv, when set in the environment, makes the test binary act
// as vigil-agent with the arguments it holds (separated by newlines):
// the chaos tests run the real agent as a process they can SIGKILL.
const agentChildEnv = "VIGIL_TEST_AGENT_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(agentChildEnv); ok {
		go exitWithParent()
		os.Exit(Main(strings.Split(args, "\n"), os.Stdout, os.Stderr, "test"))
	}
	os.Exit(m.Run())
}

// exitWithParent ends a child agent whose test binary has gone (killed by
// its timeout, say): left running, it would keep reopening its serial
// device by name and read the lines later tests feed to a terminal that
// reuses the name.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(200 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}
