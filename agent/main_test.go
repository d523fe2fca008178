package agent

import (
	"os"
	"strings"
	"testing"
)

// agentChildEnv, when set in the environment, makes the test binary act
// as vigil-agent with the arguments it holds (separated by newlines):
// the chaos tests run the real agent as a process they can SIGKILL.
const agentChildEnv = "VIGIL_TEST_AGENT_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(agentChildEnv); ok {
		os.Exit(Main(strings.Split(args, "\n"), os.Stdout, os.Stderr, "test"))
	}
	os.Exit(m.Run())
}
