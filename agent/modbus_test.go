package agent

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sv "github.com/simonvetter/modbus"

	"github.com/vigil-edge/vigil/agent/config"
)

// holdingBank serves holding registers of unit 1 through simonvetter's
// Modbus TCP server, an implementation independent of vigil's.
type holdingBank struct {
	mu   sync.Mutex
	regs [8]uint16
}

func (h *holdingBank) set(addr int, vals ...uint16) {
	h.mu.Lock()
	defer h.mu.Unlock()
	copy(h.regs[addr:], vals)
}

func (h *holdingBank) HandleHoldingRegisters(r *sv.HoldingRegistersRequest) ([]uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.UnitId != 1 {
		return nil, sv.ErrGWTargetFailedToRespond
	}
	if int(r.Addr)+int(r.Quantity) > len(h.regs) || r.IsWrite {
		return nil, sv.ErrIllegalDataAddress
	}
	return append([]uint16(nil), h.regs[r.Addr:int(r.Addr)+int(r.Quantity)]...), nil
}

func (h *holdingBank) HandleCoils(*sv.CoilsRequest) ([]bool, error) {
	return nil, sv.ErrIllegalFunction
}
func (h *holdingBank) HandleDiscreteInputs(*sv.DiscreteInputsRequest) ([]bool, error) {
	return nil, sv.ErrIllegalFunction
}
func (h *holdingBank) HandleInputRegisters(*sv.InputRegistersRequest) ([]uint16, error) {
	return nil, sv.ErrIllegalFunction
}

// A pump read over Modbus TCP: pressure as a float32 in two registers and
// current as counts scaled to amperes. An excursion raises an anomaly; a
// gateway that stops answering is a sensor fault naming the source, and
// the agent carries on when it answers again.
func TestRunModbusTCP(t *testing.T) {
	url := startMosquitto(t)
	dir := t.TempDir()
	model := writeModel(t, dir, "Current", "Pressure")
	bank := &holdingBank{}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv, err := sv.NewServer(&sv.ServerConfiguration{URL: "tcp://" + addr, MaxClients: 4}, bank)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	float := func(v float32) []uint16 { b := math.Float32bits(v); return []uint16{uint16(b >> 16), uint16(b)} }
	bank.set(0, float(0.1)...)
	bank.set(2, 5) // 0.05 A at 0.01 A per count
	cfg, err := config.Parse([]byte(fmt.Sprintf(`site: mb
device: pump
channels: [Current, Pressure]
model: {path: %s, allow_unsigned: true}
source:
  modbus:
    address: %s
    interval: 20ms
    timeout: 200ms
    registers:
      - {channel: Pressure, slave: 1, address: 0, type: float32}
      - {channel: Current, slave: 1, address: 2, scale: 0.01}
mqtt: {broker: %q}
outbox: {path: %s}
decision: {k: 2, n: 3}
`, model, addr, url, filepath.Join(dir, "outbox.db"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	col := collect(t, url, "vigil/mb/pump/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Options{}) }()
	col.wait(t, "state", 1) // normal
	bank.set(0, float(9)...)
	alerts := decodeAlerts(t, col.wait(t, "alert", 1))
	if a := alerts[0]; a.State != "anomaly" || a.Top[0].Channel != "Pressure" {
		t.Fatalf("alert %+v: want an anomaly led by Pressure", a)
	}
	bank.set(0, float(0.1)...)
	col.wait(t, "alert", 2)
	srv.Stop() // the gateway goes away
	alerts = decodeAlerts(t, col.wait(t, "alert", 3))
	if a := alerts[2]; a.State != "sensor-fault" || len(a.Fault) != 2 || a.Reason == "" {
		t.Fatalf("alert %+v: want a sensor fault of both channels with the reason", a)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	alerts = decodeAlerts(t, col.wait(t, "alert", 4))
	if transitions(alerts) != "normal>anomaly anomaly>normal normal>sensor-fault sensor-fault>normal" {
		t.Errorf("alerts %q", transitions(alerts))
	}
	t.Logf("sensor fault reason: %s", alerts[2].Reason)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop")
	}
}
