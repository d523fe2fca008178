package release

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-edge/vigil/tools/cli"
)

// TrainOptions say how to train a model on the simulated pump.
type TrainOptions struct {
	Dir    string // work directory: the recording and the model go here
	Hours  int    // simulated hours of healthy data, one sample a second
	Epochs int    // 0: vigil train's default (early stopping)
	Name   string
}

// DemoModel is the model `make demo` trains: ten simulated hours, the
// trainer's defaults.
var DemoModel = TrainOptions{Hours: 10, Name: "demo-pump"}

// TrainModel simulates healthy pump data and trains a model on it with
// the desktop tool, as examples/demo/demo.sh does, and returns the
// model's path.
func TrainModel(ctx context.Context, o TrainOptions) (string, error) {
	data := filepath.Join(o.Dir, "normal.csv")
	f, err := os.Create(data)
	if err != nil {
		return "", err
	}
	err = vigil(ctx, f, "sim", "--fast", "--for", fmt.Sprintf("%dh", o.Hours), "--rate", "1", "--seed", "7")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	model := filepath.Join(o.Dir, "pump.vgm")
	args := []string{"train", "-q", "--data", data, "--out", model}
	if o.Epochs > 0 {
		args = append(args, "--epochs", fmt.Sprint(o.Epochs))
	}
	if o.Name != "" {
		args = append(args, "--name", o.Name)
	}
	return model, vigil(ctx, io.Discard, args...)
}

// vigil runs the desktop tool in-process.
func vigil(ctx context.Context, stdout io.Writer, args ...string) error {
	var stderr strings.Builder
	if code := cli.Main(ctx, cli.Env{Stdout: stdout, Stderr: &stderr}, args); code != 0 {
		return fmt.Errorf("vigil %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return nil
}
