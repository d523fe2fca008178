// Package cli implements the vigil desktop command: train, inspect, sim,
// broker and watch. Each subcommand parses its own flag.FlagSet and runs
// against the context, arguments and output streams it is given, so tests
// call it directly; main only wires the process to it.
package cli

import (
	"strings"

	"github.com/vigil-edge/vigil/tools/dataset"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
)

// Env is what a subcommand may touch of the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	// Version is the tool's version, printed by vigil version.
	Version string
}

type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

var commands = map[string]command{
	"train":   {"train an autoencoder on CSV recordings and pack it", runTrain},
	"inspect": {"print a summary of a model file", runInspect},
	"keygen":  {"make an ed25519 key pair for signing model files", runKeygen},
	"sign":    {"sign a model file with a private key", runSign},
	"verify":  {"check a model file's signature against trusted public keys", runVerify},
	"push":    {"send a model file to a gateway over MQTT and wait for its answer", runPush},
	"version": {"print the tool's version", func(_ context.Context, env Env, _ []string) error {
		fmt.Fprintln(env.Stdout, "vigil", orDefault(env.Version, "dev"))
		return nil
	}},
	"pack":   {"repack a model file (int8 or float16 weights, version, name), comparing both on data", runPack},
	"sim":    {"simulate a water pump, writing CSV lines", runSim},
	"broker": {"run an embedded MQTT broker on loopback", runBroker},
	"watch":  {"print state changes published by agents", runWatch},
	"eval":   {"score labelled recordings with a model: F1, FAR, MAR, AUCs, NAB, delay", runEval},
	"bench":  {"the SKAB leaderboard protocol: vigil bench skab --data DIR", runBench},
	"modbus": {"Modbus tools for commissioning: vigil modbus scan lists the slaves that answer", runModbus},
}

// Main runs the subcommand named by args[0] and returns the process exit
// code: 0 on success, 1 on failure, 2 on a usage error.
func Main(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "vigil: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return 2
	}
	err := cmd.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(env.Stderr, "vigil %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "vigil %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vigil <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'vigil <command> -h' for a command's flags.")
}

// usageError is a bad command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(env Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: vigil %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; flag errors are usage errors (already printed).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// addStrictFlag registers --strict, which makes a missing or non-finite
// value in a recording an error instead of a row left out.
func addStrictFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("strict", false, "fail on a missing or non-finite value, naming file, line and column\n(default: leave such rows out, and say how many and where)")
}

// backwardsNote tells w where time goes backwards in tab, if anywhere:
// windows and decisions restart there, as after a gap.
func backwardsNote(w io.Writer, tab *dataset.Table) {
	back := tab.Backwards
	if len(back) == 0 {
		return
	}
	fmt.Fprintf(w, "time goes backwards at %d rows (%s, column %q): windows and the decision restart there, as after a gap\n",
		len(back), firstCells(back, false), back[0].Column)
}

// firstCells lists the first three cells as file:line, each with its
// column if withColumn, and "…" after them if there are more.
func firstCells(cells []dataset.Cell, withColumn bool) string {
	var first []string
	for _, c := range cells[:min(3, len(cells))] {
		s := fmt.Sprintf("%s:%d", c.Path, c.Line)
		if withColumn {
			s += fmt.Sprintf(" (%s)", c.Column)
		}
		first = append(first, s)
	}
	if len(cells) > 3 {
		first = append(first, "…")
	}
	return strings.Join(first, ", ")
}

// invalidRows reports the rows of tab with a missing or non-finite
// value: with strict the first is the error; otherwise w is told how
// many there are, the first few, and what becomes of them (fate).
func invalidRows(w io.Writer, tab *dataset.Table, strict bool, fate string) error {
	backwardsNote(w, tab)
	bad := tab.Invalid
	if len(bad) == 0 {
		return nil
	}
	if strict {
		return fmt.Errorf("%w (%d such rows; without --strict they are %s)", bad[0], len(bad), fate)
	}
	fmt.Fprintf(w, "%d rows with a missing or non-finite value are %s: %s (--strict fails instead)\n", len(bad), fate, firstCells(bad, true))
	return nil
}
