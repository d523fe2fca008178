package merge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/replay"
)

func poll(t *testing.T, name string, channels []string, every time.Duration, read sensors.ReadFunc) sensors.Source {
	p, err := sensors.NewPoll(read, sensors.PollOpts{Name: name, Channels: channels, Interval: every})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Two devices at their own paces make one sample; a device that stops
// answering reads NaN, by channel, until it answers again.
func TestMerge(t *testing.T) {
	var answering atomic.Bool
	answering.Store(true)
	fast := poll(t, "i2c adxl345", []string{"Accelerometer1RMS"}, 5*time.Millisecond,
		func(_ context.Context, v []float32) error { v[0] = 0.2; return nil })
	slow := poll(t, "modbus slave 1", []string{"Pressure", "Current"}, 20*time.Millisecond,
		func(_ context.Context, v []float32) error {
			if !answering.Load() {
				v[0], v[1] = float32(math.NaN()), float32(math.NaN())
				return errors.New("timeout")
			}
			v[0], v[1] = 1.5, 2.5
			return nil
		})
	m, err := New([]sensors.Source{fast, slow}, Opts{Interval: 10 * time.Millisecond, MaxAge: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := strings.Join(m.Channels(), ","); got != "Accelerometer1RMS,Pressure,Current" {
		t.Fatalf("channels %s", got)
	}
	s := sensors.Sample{Values: make([]float32, 3)}
	read := func() string {
		if err := m.Read(context.Background(), &s); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(s.Values)
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			if got := read(); got == want {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("merged sample %s, want %s within 5 s", got, want)
			}
		}
	}
	waitFor("[0.2 1.5 2.5]")
	answering.Store(false)
	waitFor("[0.2 NaN NaN]")
	answering.Store(true)
	waitFor("[0.2 1.5 2.5]")
	if !strings.Contains(m.String(), "modbus slave 1") {
		t.Errorf("String() = %s", m.String())
	}
}

func TestMergeDuplicateChannel(t *testing.T) {
	a := poll(t, "serial /dev/ttyUSB0", []string{"Pressure"}, time.Second, func(context.Context, []float32) error { return nil })
	b := poll(t, "modbus slave 2", []string{"Current", "Pressure"}, time.Second, func(context.Context, []float32) error { return nil })
	_, err := New([]sensors.Source{a, b}, Opts{})
	if err == nil || !strings.Contains(err.Error(), `"Pressure" comes from both serial /dev/ttyUSB0 and modbus slave 2`) {
		t.Errorf("New = %v", err)
	}
}

// The merge ends (io.EOF) when every source has ended; Close ends a Read.
func TestMergeEndAndClose(t *testing.T) {
	dir := t.TempDir()
	rec := func(name, ch string) sensors.Source {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("datetime;"+ch+"\n2024-01-01 00:00:00;1\n"), 0o600)
		s, err := replay.Open(replay.Opts{Path: p, Channels: []string{ch}, Fast: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	m, _ := New([]sensors.Source{rec("a.csv", "a"), rec("b.csv", "b")}, Opts{Interval: time.Millisecond})
	s := sensors.Sample{Values: make([]float32, 2)}
	var err error
	for range 1000 {
		if err = m.Read(context.Background(), &s); err != nil {
			break
		}
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("Read after both recordings ended = %v, want io.EOF", err)
	}
	m.Close()

	idle := poll(t, "idle", []string{"x"}, time.Hour, func(context.Context, []float32) error { return nil })
	m, _ = New([]sensors.Source{idle}, Opts{Interval: time.Hour})
	go func() { time.Sleep(20 * time.Millisecond); m.Close() }()
	if err := m.Read(context.Background(), &s); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read, then Close = %v, want fs.ErrClosed", err)
	}
}
