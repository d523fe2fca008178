package agent

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/agent/update"
	"github.com/vigil-edge/vigil/firmware/slots"
)

// modelMain is vigil-agent model status|install FILE|rollback: the model
// store on this gateway. status reads the store without changing it;
// install and rollback hand the request to the running agent through
// model.drop_dir and wait for its answer.
func modelMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil-agent model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vigil-agent model [--config FILE] status | install [--rollback] [--wait D] FILE.vgm | rollback [--wait D]")
		fs.PrintDefaults()
	}
	path := fs.String("config", "/etc/vigil/agent.yaml", "configuration file")
	wait := fs.Duration("wait", 10*time.Minute, "how long install and rollback wait for the agent's answer (probation included)")
	older := fs.Bool("rollback", false, "install: accept a model not newer than the installed one")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// Flags may also follow the subcommand.
	cmd := fs.Arg(0)
	if err := fs.Parse(fs.Args()[min(1, fs.NArg()):]); err != nil {
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "vigil-agent:", err)
		return 1
	}
	if cfg.Model.Store == "" {
		fmt.Fprintf(stderr, "vigil-agent model: %s sets no model.store: this agent runs model.path %s and takes no updates\n", *path, cfg.Model.Path)
		return 1
	}
	switch {
	case cmd == "status" && fs.NArg() == 0:
		st, err := slots.ReadStatus(cfg.Model.Store)
		if err != nil {
			fmt.Fprintln(stderr, "vigil-agent model status:", err)
			return 1
		}
		fmt.Fprint(stdout, st.String())
		return 0
	case cmd == "install" && fs.NArg() == 1, cmd == "rollback" && fs.NArg() == 0:
	default:
		fs.Usage()
		return 2
	}
	if cfg.Model.DropDir == "" {
		fmt.Fprintf(stderr, "vigil-agent model %s: %s sets no model.drop_dir, through which the running agent takes local requests\n", cmd, *path)
		return 1
	}
	name, err := dropRequest(cfg.Model.DropDir, cmd, fs.Arg(0), *older)
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent model %s: %v\n", cmd, err)
		return 1
	}
	s, err := awaitResult(cfg.Model.DropDir, name, *wait, func(s update.Status) {
		fmt.Fprintf(stdout, "%s: %s %s\n", s.Result, s.Model, s.Reason)
	})
	if err != nil {
		fmt.Fprintf(stderr, "vigil-agent model %s: %v after %v: is vigil-agent running? The request waits in %s\n", cmd, err, *wait, cfg.Model.DropDir)
		return 1
	}
	if s.Result == update.Rejected || (cmd == "install" && s.Result == update.Reverted) {
		return 1
	}
	return 0
}

// dropRequest places a request in the drop directory and returns its
// name there: a copy of file (written to a hidden temporary name first,
// so the agent never reads half of it), or the rollback marker.
func dropRequest(dir, cmd, file string, older bool) (string, error) {
	name := dropBack
	var data []byte
	if cmd == "install" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return "", err
		}
		base := strings.TrimSuffix(filepath.Base(file), dropExt)
		base = strings.TrimSuffix(base, ".rollback")
		name = fmt.Sprintf("%s-%d%s", base, time.Now().UnixNano(), map[bool]string{false: dropExt, true: dropRollback}[older])
	}
	os.Remove(filepath.Join(dir, name+resultExt))
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return "", err
	}
	return name, os.Rename(tmp, filepath.Join(dir, name))
}

// awaitResult polls dir/name.result until it holds a final answer,
// calling show for each new answer, for at most wait.
func awaitResult(dir, name string, wait time.Duration, show func(update.Status)) (update.Status, error) {
	var last update.Status
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(dir, name+resultExt))
		if err != nil {
			continue
		}
		var s update.Status
		if json.Unmarshal(b, &s) != nil || s == last {
			continue
		}
		last = s
		show(s)
		if final(s.Result) {
			os.Remove(filepath.Join(dir, name+resultExt))
			return s, nil
		}
	}
	return last, errNoAnswer
}
