package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/tools/dataset"
)

// run calls Main like the shell would and returns exit code and output.
func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{nil, 2, "usage: vigil"},
		{[]string{"help"}, 0, "commands:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"train"}, 2, "no training data"},
		{[]string{"train", "--data", "x.csv"}, 2, "--out is required"},
		{[]string{"train", "--hidden", "4,-1", "--data", "x.csv", "--out", "m"}, 2, "--hidden"},
		{[]string{"train", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"train", "--enter", "0.6", "--data", "x.csv", "--out", "m"}, 2, "--enter 0.6 --exit 0.7"},
		{[]string{"bench", "skab", "--data", "x", "--exit", "1.5"}, 2, "exit ≤ enter"},
		{[]string{"bench", "skab", "--data", "x", "--max-far", "8"}, 2, "go with --cv fault-type"},
		{[]string{"bench", "skab", "--data", "x", "--cv", "fault-type", "--max-mar", "101"}, 2, "--max-mar 101"},
		{[]string{"train", "-h"}, 0, "usage: vigil train"},
		{[]string{"sim", "--fast"}, 2, "--fast needs --for"},
		{[]string{"sim", "--fault", "valve-open@1s"}, 2, "valve-open"},
		{[]string{"sim", "--link", "x"}, 2, "--link needs --pty"},
		{[]string{"sim", "--sep", "|"}, 2, "--sep"},
		{[]string{"inspect"}, 2, "exactly one model file"},
		{[]string{"inspect", "does-not-exist.vgm"}, 1, "does-not-exist.vgm"},
	}
	for _, tc := range tests {
		code, _, stderr := run(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("vigil %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestSimTrainInspect runs the model-building path a user follows:
// simulate, train, inspect, and checks what each step produced.
func TestSimTrainInspect(t *testing.T) {
	dir := t.TempDir()
	code, csv, stderr := run("sim", "--fast", "--for", "40m", "--rate", "1", "--seed", "3", "--labels", "--fault", "valve-closed@30m+2m")
	if code != 0 {
		t.Fatalf("sim: exit %d: %s", code, stderr)
	}
	data := filepath.Join(dir, "rec.csv")
	os.WriteFile(data, []byte(csv), 0o600)
	tab, err := dataset.ReadFiles([]string{data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 2400 || len(tab.Channels) != 8 || tab.Labels == nil {
		t.Fatalf("sim wrote %d rows of %d channels, labels %v; want 2400 of 8, labelled", len(tab.Rows), len(tab.Channels), tab.Labels != nil)
	}
	faulty := 0
	for _, l := range tab.Labels {
		faulty += int(l)
	}
	if faulty != 120 {
		t.Errorf("%d rows labelled anomalous, want 120 (2 minutes at 1 Hz)", faulty)
	}

	model := filepath.Join(dir, "m.vgm")
	code, out, stderr := run("train", "--epochs", "5", "--hidden", "16,3,16", "--data", data, "--out", model, "--name", "pump-a", "--version", "4")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"read 2400 rows (2280 normal)", "epoch   5/5", "threshold", "decision: anomaly once", "wrote " + model} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	l, err := firmware.ReadFile(model, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	m := l.Model
	if m.Name != "pump-a" || m.Version != 4 || len(m.Layers) != 4 || m.Layers[1].Out != 3 || m.Channels[3].Name != "Pressure" || m.Channels[3].Unit != "bar" {
		t.Errorf("model %+v", m)
	}
	if m.Threshold.Method != "mean+ksigma×1.2" || m.Threshold.K != 3 || m.Training.Rows != 2280 || m.Training.DatasetDigest != tab.Digest ||
		m.Decision.K < 1 || m.Decision.K > m.Decision.N || m.Decision.Gap != int64(5*time.Second) ||
		m.Decision.Enter != defaults.Enter || m.Decision.Exit != defaults.Exit || defaults.Enter <= 1 || defaults.Exit >= 1 {
		t.Errorf("threshold %+v training %+v decision %+v", m.Threshold, m.Training, m.Decision)
	}
	// The threshold is 1.2 × (mean + 3σ) of the calibration scores it records.
	if got, want := float64(m.Threshold.Value), 1.2*(m.Threshold.Mean+3*m.Threshold.Std); got-want > 1e-5 || want-got > 1e-5 {
		t.Errorf("threshold %v, want 1.2 × (mean + 3σ) = %v", got, want)
	}
	// 38 minutes do not cover the simulated pump's thermal wandering
	// (time constant 10 minutes): those two channels are widened, and
	// nothing else.
	if w := m.Training.Widened; strings.Join(w, ",") != "Temperature,Thermocouple" || m.Training.WidenFactor != 50 ||
		!strings.Contains(out, "drifting over the training rows, scale ×50: Temperature, Thermocouple") {
		t.Errorf("widened %v ×%v; train output:\n%s", w, m.Training.WidenFactor, out)
	}

	code, out, stderr = run("inspect", model)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"pump-a (id " + l.ID + ", version 4)", "Volume Flow RateRMS", "L/min", "relu", "mean + 3σ of the validation scores, ×1.2", "(drifted in training: scale ×50)",
		fmt.Sprintf("k of n %d of %d, enter %g× and exit %g× the threshold, min duration 0s, cooldown 0s, gap 5s", m.Decision.K, m.Decision.N, defaults.Enter, defaults.Exit)} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}

	// int8 weights: a smaller file, and the change is reported.
	model8 := filepath.Join(dir, "m8.vgm")
	code, out, stderr = run("train", "--epochs", "5", "--hidden", "16,3,16", "--scaler", "standard", "--int8", "--data", data, "--out", model8)
	if code != 0 || !strings.Contains(out, "int8 weights: scores change by") {
		t.Fatalf("train --int8: exit %d, out %s, err %s", code, out, stderr)
	}
	l8, err := firmware.ReadFile(model8, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(model)
	st8, _ := os.Stat(model8)
	if !l8.Model.Int8() || l8.Model.Scaler.Kind != "standard" || st8.Size() >= st.Size()*2/3 {
		t.Errorf("int8 model: int8 %v, scaler %q, %d bytes vs float32 %d", l8.Model.Int8(), l8.Model.Scaler.Kind, st8.Size(), st.Size())
	}
	if code, out, _ = run("inspect", model8); code != 0 || !strings.Contains(out, "int8") {
		t.Errorf("inspect of an int8 model: %s", out)
	}
	if code, _, stderr = run("train", "--scaler", "log", "--data", data, "--out", model8); code != 2 || !strings.Contains(stderr, "--scaler") {
		t.Errorf("--scaler log: exit %d, %s", code, stderr)
	}

	// A windowed model: the gateway's window code builds the training
	// matrix, and the model file carries the spec.
	modelW := filepath.Join(dir, "mw.vgm")
	code, out, stderr = run("train", "--epochs", "3", "--hidden", "16,4,16", "--window", "10", "--stride", "5", "--features", "raw,mean,slope", "--data", data, "--out", modelW)
	if code != 0 {
		t.Fatalf("train --window: exit %d: %s", code, stderr)
	}
	// Windows touching the 120 labelled rows (1800-1919) are left out:
	// (2399-9)/5+1 = 479 windows end at 9, 14, …; the 25 ending at 1804…1924 touch the fault.
	if !strings.Contains(out, "454 windows of 10 samples (96 features each)") {
		t.Errorf("train --window output:\n%s", out)
	}
	lw, err := firmware.ReadFile(modelW, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := lw.Model.Features; f.Window != 10 || f.Stride != 5 || !f.Raw || strings.Join(f.Stats, ",") != "mean,slope" || lw.Autoencoder.Features() != 96 {
		t.Errorf("windowed model features %+v, %d inputs", f, lw.Autoencoder.Features())
	}
	if code, out, _ = run("inspect", modelW); code != 0 || !strings.Contains(out, "window 10, stride 5") {
		t.Errorf("inspect of a windowed model:\n%s", out)
	}
	for _, bad := range [][]string{{"--window", "0"}, {"--features", "raw,median"}, {"--stride", "-1"}} {
		if code, _, stderr = run(append([]string{"train", "--data", data, "--out", modelW}, bad...)...); code != 2 {
			t.Errorf("train %q: exit %d, want 2 (%s)", bad, code, stderr)
		}
	}

	// A convolutional autoencoder over 16-sample windows (reading the raw
	// window without being told), with the regularisers, RMSprop and
	// int8 weights.
	modelC := filepath.Join(dir, "mc.vgm")
	code, out, stderr = run("train", "--epochs", "2", "--window", "16", "--stride", "4", "--conv", "8,4", "--kernel", "5",
		"--optimizer", "rmsprop", "--dropout", "0.1", "--noise", "0.05", "--weight-decay", "1e-4", "--int8", "--data", data, "--out", modelC)
	if code != 0 {
		t.Fatalf("train --conv: exit %d: %s\n%s", code, stderr, out)
	}
	lc, err := firmware.ReadFile(modelC, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Model.Layers) != 4 || lc.Model.Layers[0].Kind != firmware.LayerConv1D || lc.Model.Layers[3].Kind != firmware.LayerConvTranspose1D || !lc.Model.Int8() {
		t.Errorf("conv model layers %+v", lc.Model.Layers[0])
	}
	if code, out, _ = run("inspect", modelC); code != 0 || !strings.Contains(out, "8→4 ch, k5 s2, 8 steps") {
		t.Errorf("inspect of a conv model:\n%s", out)
	}
	for _, bad := range [][]string{{"--window", "1"}, {"--features", "raw,mean"}} {
		if code, _, stderr = run(append([]string{"train", "--conv", "8", "--data", data, "--out", modelC}, bad...)...); code != 2 || !strings.Contains(stderr, "--conv needs") {
			t.Errorf("--conv %q: exit %d, %s", bad, code, stderr)
		}
	}

	// A variational autoencoder trained on BCE over min-max scaled rows.
	modelV := filepath.Join(dir, "mv.vgm")
	code, out, stderr = run("train", "--epochs", "3", "--vae", "3", "--beta", "0.5", "--hidden", "16,8", "--loss", "bce",
		"--output", "sigmoid", "--scaler", "minmax", "--data", data, "--out", modelV)
	if code != 0 {
		t.Fatalf("train --vae: exit %d: %s\n%s", code, stderr, out)
	}
	lv, err := firmware.ReadFile(modelV, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if lv.Model.Kind != firmware.KindVAE || len(lv.Model.Decoder) != 3 || lv.Model.KLWeight != 0.5 || lv.Model.Layers[2].Out != 6 {
		t.Errorf("VAE model: kind %q, %d decoder layers, KL weight %v, head %d", lv.Model.Kind, len(lv.Model.Decoder), lv.Model.KLWeight, lv.Model.Layers[2].Out)
	}
	if code, out, _ = run("inspect", modelV); code != 0 || !strings.Contains(out, "KL weight 0.5, 3 decoder layers") {
		t.Errorf("inspect of a VAE:\n%s", out)
	}
	for _, bad := range [][]string{{"--loss", "hinge"}, {"--output", "softmax"}, {"--vae", "2", "--beta", "-1"}} {
		if code, _, stderr = run(append([]string{"train", "--data", data, "--out", modelV}, bad...)...); code == 0 {
			t.Errorf("train %q succeeded: %s", bad, stderr)
		}
	}

	// The other threshold methods, recorded in the model.
	for _, tc := range []struct{ flags, method string }{{"--threshold percentile --percentile 99", "percentile×1.2"}, {"--threshold pot --risk 0.005", "pot×1.2"}, {"--threshold-factor 1.5", "mean+ksigma×1.5"}, {"--threshold-factor 1", "mean+ksigma"}} {
		p := filepath.Join(dir, "t.vgm")
		args := append([]string{"train", "-q", "--epochs", "2", "--data", data, "--out", p}, strings.Fields(tc.flags)...)
		if code, out, stderr = run(args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.flags, code, stderr)
		}
		lt, err := firmware.ReadFile(p, firmware.LoadOptions{AllowUnsigned: true})
		if err != nil || lt.Model.Threshold.Method != tc.method {
			t.Errorf("%s: model threshold %+v, %v", tc.flags, lt.Model.Threshold, err)
		}
	}
	// Absolute error, calibrated on every training window: recorded, and
	// the int8 report still pairs validation rows with their scores. The
	// default 5-sample windows that hold only normal rows: 2396 end at
	// rows 4…2399, less the 124 that touch the fault's 120 rows.
	pa := filepath.Join(dir, "abs.vgm")
	if code, out, stderr = run("train", "-q", "--epochs", "2", "--error", "absolute", "--calibrate-on", "all", "--int8", "--data", data, "--out", pa); code != 0 {
		t.Fatalf("--error absolute: exit %d: %s", code, stderr)
	}
	if la, err := firmware.ReadFile(pa, firmware.LoadOptions{AllowUnsigned: true}); err != nil || la.Model.Error != "absolute" || la.Model.Threshold.N != 2272 {
		t.Errorf("absolute-error model: error %q, calibrated on %d scores (want 2272, every normal window), %v", la.Model.Error, la.Model.Threshold.N, err)
	}
	if !strings.Contains(out, " of 454 validation decisions differ") {
		t.Errorf("int8 report should cover the 454 validation windows:\n%s", out)
	}
	for _, bad := range [][]string{{"--error", "cubic"}, {"--calibrate-on", "test"}} {
		if code, _, _ = run(append([]string{"train", "--data", data, "--out", pa}, bad...)...); code != 2 {
			t.Errorf("train %q: exit %d, want 2", bad, code)
		}
	}
	if code, _, stderr = run("train", "--threshold", "magic", "--data", data, "--out", modelV); code != 2 {
		t.Errorf("--threshold magic: exit %d, %s", code, stderr)
	}

	// Same data, flags and seed: the same weights, so the same payload
	// apart from the creation time.
	model2 := filepath.Join(dir, "m2.vgm")
	run("train", "--epochs", "5", "--hidden", "16,3,16", "--data", data, "--out", model2, "--name", "pump-a", "--version", "4")
	l2, err := firmware.ReadFile(model2, firmware.LoadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if l2.Model.Layers[0].Weights[5] != m.Layers[0].Weights[5] || l2.Model.Threshold.Value != m.Threshold.Value {
		t.Error("two trainings with the same seed differ")
	}
}

func TestTrainBadRow(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(data, []byte("datetime;Pressure;Current\n2020-01-01 00:00:00;0.1;2.3\n2020-01-01 00:00:01;0.1;two\n"), 0o600)
	code, _, stderr := run("train", "--data", data, "--out", filepath.Join(t.TempDir(), "m.vgm"))
	if code != 1 || !strings.Contains(stderr, data+":3:") || !strings.Contains(stderr, "Current") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming %s:3 and column Current", code, stderr, data)
	}
}

// An empty or non-finite cell leaves its row out of training (named, and
// counted), or with --strict fails naming file, line and column.
func TestTrainInvalidCells(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("datetime;Pressure;Current\n")
	for i := range 300 {
		p, c := fmt.Sprint(0.1+float64(i%7)/100), fmt.Sprint(2.3+float64(i%5)/10)
		switch i {
		case 40:
			p = ""
		case 41:
			c = "NaN"
		case 200:
			c = "Inf"
		case 201:
			p = ""
		}
		fmt.Fprintf(&b, "2020-01-01 00:%02d:%02d;%s;%s\n", i/60, i%60, p, c)
	}
	data := filepath.Join(dir, "gaps.csv")
	os.WriteFile(data, []byte(b.String()), 0o600)
	code, out, stderr := run("train", "-q", "--epochs", "3", "--data", data, "--out", filepath.Join(dir, "m.vgm"))
	if code != 0 || !strings.Contains(out, "4 rows with a missing or non-finite value are left out of training") ||
		!strings.Contains(out, data+":42 (Pressure), "+data+":43 (Current), "+data+":202 (Current), …") || !strings.Contains(out, "read 300 rows (296 normal)") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = run("train", "--strict", "--data", data, "--out", filepath.Join(dir, "m.vgm"))
	if code != 1 || !strings.Contains(stderr, data+`:42: column "Pressure": missing or non-finite value`) || !strings.Contains(stderr, "4 such rows") {
		t.Errorf("--strict: exit %d, %s", code, stderr)
	}
}

func TestPrintMessage(t *testing.T) {
	tests := []struct {
		payload string
		want    []string
	}{
		{`{"state":"anomaly","score":2.5,"threshold":0.5,"top":[{"channel":"Pressure","share":0.61},{"channel":"Current","share":0.22},{"channel":"Voltage","share":0.005}],"time":"2024-05-01T12:00:00Z"}`,
			[]string{"vigil/s/d", "ANOMALY", "score 2.5 (threshold 0.5)", "Pressure 61%, Current 22%\n"}},
		{`{"state":"sensor-fault","fault":["Pressure"],"threshold":0.5,"time":"2024-05-01T12:00:00Z"}`,
			[]string{"SENSOR-FAULT", "missing/invalid: Pressure"}},
		{`{"id":"a-1","from":"normal","state":"anomaly","score":1,"threshold":0.5,"time":"2024-05-01T12:00:00Z"}`,
			[]string{"normal → ANOMALY", "[a-1]"}},
		{`{"state":"anomaly","score":0.45,"threshold":0.5,"alarm_above":0.6,"normal_at":0.35,"time":"2024-05-01T12:00:00Z"}`,
			[]string{"score 0.45 (threshold 0.5; it ends at or below 0.35)"}},
		{`{"state":"normal","score":0.55,"threshold":0.5,"alarm_above":0.6,"normal_at":0.35,"time":"2024-05-01T12:00:00Z"}`,
			[]string{"score 0.55 (threshold 0.5; an alarm starts above 0.6)"}},
		{`{"state":"anomaly","score":0.9,"threshold":0.5,"alarm_above":0.6,"normal_at":0.35,"time":"2024-05-01T12:00:00Z"}`,
			[]string{"score 0.9 (threshold 0.5)\n"}}, // the levels add nothing here
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		printMessage(&out, &errb, "vigil/s/d/state", []byte(tc.payload), false)
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("printMessage(%s) = %q, want %q in it", tc.payload, out.String(), w)
			}
		}
	}
	var out, errb bytes.Buffer
	printMessage(&out, &errb, "vigil/s/d/state", []byte("not json"), false)
	if out.Len() != 0 || !strings.Contains(errb.String(), "vigil/s/d/state") {
		t.Errorf("bad payload: out %q err %q; want nothing printed and the topic named", out.String(), errb.String())
	}
}

// FuzzPrintMessage: no payload from the broker crashes watch.
func FuzzPrintMessage(f *testing.F) {
	f.Add([]byte(`{"state":"anomaly","score":2.5,"top":[{"channel":"P","share":0.6}]}`))
	f.Add([]byte(`{"score":null,"fault":[1]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var out, errb bytes.Buffer
		printMessage(&out, &errb, "x", payload, false)
	})
}

// A clock that goes back is named, not refused: windows restart there.
func TestTimeGoesBackwards(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	for i := range 200 {
		s := i
		if i >= 120 {
			s = i - 30 // the clock is set back 30 s at row 120 (line 122)
		}
		fmt.Fprintf(&b, "2021-03-01T00:%02d:%02dZ,%v\n", s/60, s%60, 10+float64(i%9)/10)
	}
	data := filepath.Join(dir, "back.csv")
	os.WriteFile(data, []byte(b.String()), 0o600)
	code, out, stderr := run("train", "-q", "--epochs", "2", "--data", data, "--out", filepath.Join(dir, "m.vgm"))
	if want := "time goes backwards at 1 rows (" + data + `:122, column "timestamp"): windows and the decision restart there`; code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want %q in\n%s%s", code, want, out, stderr)
	}
}
