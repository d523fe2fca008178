package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/infer"
)

// keygen, sign, verify and inspect, as a field engineer runs them: a
// signed file verifies against its key and not another's, a damaged one
// not at all, and inspect names the signer.
func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.vgm")
	m := &firmware.Model{Name: "t", Version: 3, Kind: firmware.KindAutoencoder, Scaler: firmware.Scaler{Kind: "standard", Center: []float32{0, 0}, Scale: []float32{1, 1}},
		Channels: []firmware.Channel{{Name: "a"}, {Name: "b"}}, Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3},
		Layers: firmware.FromDense([]infer.Dense{{In: 2, Out: 2, W: make([]float32, 4), B: make([]float32, 2)}})}
	packed, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(model, packed, 0o600)
	for _, name := range []string{"release", "other"} {
		if code, out, errOut := run("keygen", "--name", name, "--out", dir); code != 0 || !strings.Contains(out, "key "+name+", id ") {
			t.Fatalf("keygen %s: exit %d %q %q", name, code, out, errOut)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "release.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, %v", st, err)
	}
	if code, _, errOut := run("keygen", "--name", "release", "--out", dir); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("keygen over an existing key: exit %d %q", code, errOut)
	}
	signed := filepath.Join(dir, "signed.vgm")
	if code, out, errOut := run("sign", "--key", filepath.Join(dir, "release.key"), "--out", signed, model); code != 0 || !strings.Contains(out, `signed by "release"`) {
		t.Fatalf("sign: exit %d %q %q", code, out, errOut)
	}
	tests := []struct {
		name, file, key string
		code            int
		want            string
	}{
		{"good", signed, "release.pub", 0, `good signature by "release"`},
		{"other key", signed, "other.pub", 1, "not among the 1 trusted keys"},
		{"unsigned", model, "release.pub", 1, "unsigned"},
	}
	for _, tt := range tests {
		code, out, errOut := run("verify", "--key", filepath.Join(dir, tt.key), tt.file)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("verify %s: exit %d, out %q, err %q; want exit %d mentioning %q", tt.name, code, out, errOut, tt.code, tt.want)
		}
	}
	b, _ := os.ReadFile(signed)
	b[len(b)/2] ^= 0x10
	damaged := filepath.Join(dir, "damaged.vgm")
	os.WriteFile(damaged, b, 0o600)
	if code, _, errOut := run("verify", "--key", filepath.Join(dir, "release.pub"), damaged); code != 1 || errOut == "" {
		t.Errorf("verify of a damaged file: exit %d %q", code, errOut)
	}
	if code, out, _ := run("inspect", signed); code != 0 || !strings.Contains(out, "signed with key id") || !strings.Contains(out, "format 2") {
		t.Errorf("inspect of a signed file: exit %d\n%s", code, out)
	}
}

func TestInspectSigner(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := run("keygen", "--name", "plant", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	m := &firmware.Model{Name: "t", Version: 7, Kind: firmware.KindAutoencoder, Scaler: firmware.Scaler{Kind: "standard", Center: []float32{0}, Scale: []float32{1}},
		Channels: []firmware.Channel{{Name: "a"}}, Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3},
		Decision: firmware.Decision{K: 2, N: 3},
		Layers:   firmware.FromDense([]infer.Dense{{In: 1, Out: 1, W: make([]float32, 1), B: make([]float32, 1)}})}
	packed, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.vgm")
	os.WriteFile(model, packed, 0o600)
	if code, _, errOut := run("sign", "--key", filepath.Join(dir, "plant.key"), model); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := run("inspect", "--key", filepath.Join(dir, "plant.pub"), model)
	for _, want := range []string{`signed by "plant"`, "signature good", "version 7", "2 of 3"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("inspect --key: exit %d, output lacks %q:\n%s%s", code, want, out, errOut)
		}
	}
}

func TestThresholdRule(t *testing.T) {
	for _, tc := range []struct {
		method string
		k      float64
		want   string
	}{
		{"mean+ksigma×1.2", 3, "mean + 3σ of the validation scores, ×1.2"},
		{"mean+ksigma", 4, "mean + 4σ of the validation scores"},
		{"percentile", 99.5, "99.5th percentile of the validation scores"},
		{"pot×1.5", 0.005, "peaks over threshold at risk 0.005, ×1.5"},
	} {
		if got := thresholdRule(tc.method, tc.k); got != tc.want {
			t.Errorf("thresholdRule(%q, %g) = %q, want %q", tc.method, tc.k, got, tc.want)
		}
	}
}
