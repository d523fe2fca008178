package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/firmware"
	"github.com/vigil-edge/vigil/firmware/slots"
	"github.com/vigil-edge/vigil/infer"
)

// pack returns a valid unsigned model file over channels at version v.
func pack(t *testing.T, v uint64, channels ...string) []byte {
	t.Helper()
	m := &firmware.Model{Name: "t", Version: v, Kind: firmware.KindAutoencoder, Scaler: firmware.Scaler{Kind: "standard"},
		Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3}}
	n := len(channels)
	for _, c := range channels {
		m.Channels = append(m.Channels, firmware.Channel{Name: c})
		m.Scaler.Center = append(m.Scaler.Center, float32(v)) // a different payload per version
		m.Scaler.Scale = append(m.Scaler.Scale, 1)
	}
	m.Layers = firmware.FromDense([]infer.Dense{{In: n, Out: n, W: make([]float32, n*n), B: make([]float32, n)}})
	b, err := firmware.Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loop stands in for the agent's sampling loop: Swap records the model
// and observer, and judge feeds the observer as scored samples would.
type loop struct {
	mu      sync.Mutex
	model   *firmware.Loaded
	observe func(scored, raised bool)
	swaps   int
}

func (l *loop) swap(_ context.Context, m *firmware.Loaded, observe func(bool, bool)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.model, l.observe = m, observe
	l.swaps++
	return nil
}

func (l *loop) judge(n int, scored bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range n {
		if l.observe != nil {
			l.observe(scored, false)
		}
	}
}

func (l *loop) version() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.model.Model.Version
}

type rig struct {
	t      *testing.T
	m      *Manager
	loop   *loop
	store  *slots.Store
	status chan Status
}

func load(data []byte) (*firmware.Loaded, error) {
	return firmware.Decode(data, firmware.LoadOptions{AllowUnsigned: true})
}

// newRig opens a store in a temporary directory with v1 committed and
// runs a Manager over it.
func newRig(t *testing.T) *rig {
	check := func(b []byte) (uint64, error) {
		l, err := load(b)
		if err != nil {
			return 0, err
		}
		return l.Model.Version, nil
	}
	st, err := slots.Open(t.TempDir(), slots.Options{Check: check})
	if err != nil {
		t.Fatal(err)
	}
	v1 := pack(t, 1, "a", "b")
	if _, err := st.Install(v1, slots.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Activate(); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	active, _ := load(v1)
	r := &rig{t: t, loop: &loop{model: active}, store: st, status: make(chan Status, 16)}
	r.m, err = New(active, Options{Store: st, Load: load, Compat: firmware.Compat{Channels: []string{"a", "b"}},
		Probation: slots.ProbationOptions{Samples: 5}, Swap: r.loop.swap, Report: func(s Status) { r.status <- s }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// next waits for the next status and checks its result and reason.
func (r *rig) next(result, reason string) Status {
	r.t.Helper()
	select {
	case s := <-r.status:
		if s.Result != result || !strings.Contains(s.Reason, reason) {
			r.t.Fatalf("status %+v, want %s with a reason containing %q", s, result, reason)
		}
		return s
	case <-time.After(10 * time.Second):
		r.t.Fatalf("no %s status within 10 s", result)
	}
	return Status{}
}

func TestInstallCommitsAfterProbation(t *testing.T) {
	r := newRig(t)
	r.m.Submit(Request{Data: pack(t, 2, "a", "b"), From: "mqtt"})
	s := r.next(Probation, "scoring 5 samples")
	if r.loop.version() != 2 || !r.store.Status().Trial {
		t.Fatalf("on probation: running v%d, store %v", r.loop.version(), r.store.Status())
	}
	r.loop.judge(5, true)
	r.next(Installed, "")
	if st := r.store.Status(); st.Trial || st.Active.Version != 2 || st.Other.Version != 1 {
		t.Errorf("after commit: %v", st)
	}
	// The same file again (a QoS 1 redelivery): nothing changes.
	r.m.Submit(Request{Data: pack(t, 2, "a", "b"), From: "mqtt"})
	if c := r.next(Current, ""); c.Model != s.Model {
		t.Errorf("repeat answered for %s, want %s", c.Model, s.Model)
	}
}

func TestFailedProbationRollsBack(t *testing.T) {
	r := newRig(t)
	r.m.Submit(Request{Data: pack(t, 2, "a", "b"), From: "drop v2.vgm"})
	r.next(Probation, "")
	r.loop.judge(1, false) // one sample that would not score
	s := r.next(Reverted, "failed probation: score failed")
	if r.loop.version() != 1 || s.Active == s.Model || r.store.Status().Active.Version != 1 {
		t.Errorf("after the rollback: running v%d, status %+v, store %v", r.loop.version(), s, r.store.Status())
	}
}

func TestRefusals(t *testing.T) {
	r := newRig(t)
	good := pack(t, 5, "a", "b")
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x04
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"garbage", Request{Data: []byte("not a model")}, "firmware"},
		{"truncated", Request{Data: good[:len(good)-9]}, "firmware"},
		{"bit flipped", Request{Data: flipped}, "firmware"},
		{"oversized", Request{Data: make([]byte, firmware.DefaultMaxBytes+1)}, "too large"},
		{"inf-producing", Request{Data: overflowing(t)}, "non-finite score"},
		{"channels", Request{Data: pack(t, 5, "a", "c")}, "channels"},
		{"downgrade", Request{Data: pack(t, 0, "a", "b")}, "not newer"},
		{"unreadable", Request{Err: errors.New("reading /drop/x.vgm: permission denied")}, "permission denied"},
	}
	for _, tt := range tests {
		r.m.Submit(tt.req)
		s := r.next(Rejected, "")
		if !strings.Contains(s.Reason, tt.want) {
			t.Errorf("%s: reason %q, want it to mention %q", tt.name, s.Reason, tt.want)
		}
	}
	if r.loop.swaps != 0 || r.store.Status().Active.Version != 1 {
		t.Errorf("refusals touched the running model: %d swaps, store %v", r.loop.swaps, r.store.Status())
	}
	// An explicit rollback may install an older version.
	r.m.Submit(Request{Data: pack(t, 0, "a", "b"), Rollback: true})
	r.next(Probation, "")
}

func TestOperatorRollback(t *testing.T) {
	r := newRig(t)
	r.m.Submit(Request{Data: pack(t, 2, "a", "b")})
	r.next(Probation, "")
	r.loop.judge(5, true)
	r.next(Installed, "")
	r.m.Submit(Request{Rollback: true, From: "local"})
	r.next(Reverted, "rolled back by the operator")
	if r.loop.version() != 1 || r.store.Status().Active.Version != 1 {
		t.Errorf("after the operator's rollback: running v%d, store %v", r.loop.version(), r.store.Status())
	}
}

// overflowing is a well-formed, intact model file whose weights (1e38)
// overflow every score: Pack would refuse it, so it is put together by
// hand, as a hostile or broken packer would.
func overflowing(t *testing.T) []byte {
	t.Helper()
	w := []float32{1e38, 1e38, 1e38, 1e38}
	m := &firmware.Model{Name: "t", Version: 9, Kind: firmware.KindAutoencoder,
		Scaler:    firmware.Scaler{Kind: "standard", Center: []float32{1, 1}, Scale: []float32{1, 1}},
		Channels:  []firmware.Channel{{Name: "a"}, {Name: "b"}},
		Threshold: firmware.Threshold{Value: 1, Method: "mean+ksigma", K: 3},
		Layers:    firmware.FromDense([]infer.Dense{{In: 2, Out: 2, W: w, B: make([]float32, 2)}})}
	m.Requires = m.FeaturesUsed()
	payload, err := m.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	env := firmware.Envelope{Magic: firmware.Magic, Format: firmware.FormatV2, Payload: payload, Digest: sum[:]}
	b, err := env.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
