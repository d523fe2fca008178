package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/agent/config"
	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
)

// writeModel packs a zero-output model over channels into dir.
func writeModel(t *testing.T, dir string, channels ...string) string {
	m := &firmware.Model{Name: "t", Kind: firmware.KindAutoencoder,
		Scaler:    firmware.Scaler{Kind: "standard"},
		Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3}}
	n := len(channels)
	for _, c := range channels {
		m.Channels = append(m.Channels, firmware.Channel{Name: c})
		m.Scaler.Center = append(m.Scaler.Center, 0)
		m.Scaler.Scale = append(m.Scaler.Scale, 1)
	}
	m.Layers = firmware.FromDense([]infer.Dense{{In: n, Out: n, W: make([]float32, n*n), B: make([]float32, n)}})
	b, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "m.vgm")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunRefuses checks that the agent will not start on a model it
// cannot trust, and says why, before touching the source or the broker.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure", "Torque")
	tests := []struct {
		name, extra string
		want        []string
	}{
		{"channels differ", "  allow_unsigned: true\n", []string{`needs ["Torque"]`, `lists ["Voltage"]`, model}},
		{"unsigned", "", []string{"unsigned", "allow_unsigned"}},
	}
	for _, tc := range tests {
		conf := "site: s\ndevice: d\nchannels: [Current, Pressure, Voltage]\nmodel:\n  path: " + model + "\n" + tc.extra +
			"source:\n  serial: {device: /dev/does-not-exist}\n"
		cfg, err := config.Parse([]byte(conf))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = Run(context.Background(), cfg, Options{})
		if err == nil {
			t.Fatalf("%s: Run succeeded", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}
