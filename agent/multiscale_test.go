package agent

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/infer"
	"github.com/vigil-edge/vigil/sensors"
)

// multiScaleModel fuses zscoreModel (norm 2) with a member that scores
// the mean squared z-score over a 4-sample window (norm 2): a sample far
// out raises both, and the fused score waits for the window to fill.
func multiScaleModel(t testing.TB, channels int) *infer.Autoencoder {
	cfg := zscoreModel(t, channels).Config()
	spec := infer.FeatureSpec{Window: 4, Stride: 1, Raw: true}
	f := spec.Len(channels)
	member := infer.Config{Scaler: cfg.Scaler, Features: spec,
		Layers: infer.DenseLayers([]infer.Dense{{In: f, Out: f, W: make([]float32, f*f), B: make([]float32, f)}})}
	cfg.Members, cfg.Norm = []infer.Member{{Config: member, Norm: 2}}, 2
	ae, err := infer.NewAutoencoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ae
}

// The pipeline runs a multi-scale model like any other: its fused score
// decides, an anomaly is raised and cleared, and a steady-state step
// allocates nothing.
func TestPipelineMultiScale(t *testing.T) {
	r := startRig(t, "ms/", "")
	rows := append(repeat("0.1;-0.2", 6), repeat("0.5;9", 6)...)
	rows = append(rows, repeat("0;0", 8)...)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	o := r.options(t, replaySource(t, rows...), "a", "b")
	o.Model, o.Threshold = multiScaleModel(t, 2), 1
	o.Now = func() time.Time { now = now.Add(time.Second); return now }
	p, err := NewPipeline(o)
	if err != nil {
		t.Fatal(err)
	}
	col := collect(t, r.url, "ms/#")
	col.wait(t, "status", 1)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := transitions(decodeAlerts(t, col.wait(t, "alert", 2))), "normal>anomaly anomaly>normal"; got != want {
		t.Errorf("alerts %q, want %q", got, want)
	}
	o2 := r.options(t, replaySource(t), "a", "b")
	o2.Model, o2.Threshold = multiScaleModel(t, 2), 1
	p, err = NewPipeline(o2)
	if err != nil {
		t.Fatal(err)
	}
	s := &sensors.Sample{Values: []float32{0.5, -0.5}, Time: now}
	for range 10 { // past start-up: windows full, the state decided
		s.Time = s.Time.Add(time.Second)
		p.Step(s)
	}
	if a := testing.AllocsPerRun(200, func() {
		s.Time = s.Time.Add(time.Second)
		p.Step(s)
	}); a != 0 {
		t.Errorf("Step allocates %v times per sample with a multi-scale model, want 0", a)
	}
}
