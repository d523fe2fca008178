// Command vigil is vigil's desktop tool: it trains and inspects models,
// simulates a pump, and runs a demo broker and a watcher. See
// package tools/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-edge/vigil/tools/cli"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Version: version}, os.Args[1:])
	stop()
	os.Exit(code)
}
