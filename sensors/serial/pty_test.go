//go:build linux

package serial

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/vigil-edge/vigil/sensors"
)

// openPTY opens a pseudo-terminal pair with the terminal side in raw mode.
// Tests write to the master as a device would and read the terminal side
// through Open. Both stay open until the test ends (the terminal fd must
// outlive the Source that opened its path).
func openPTY(t *testing.T) (master *os.File, path string) {
	t.Helper()
	m, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { tty.Close(); m.Close() })
	fd := int(tty.Fd())
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	// cfmakeraw
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return m, tty.Name()
}

// openSource opens the terminal side of a pty through Open.
func openSource(t *testing.T, path string, opts Opts) *Source {
	t.Helper()
	opts.Device = path
	src, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// writeSlowly writes data to w in small chunks from another goroutine, as a
// device trickles bytes, and reports the first error on the returned
// channel.
func writeSlowly(w io.Writer, data []byte, chunk int) <-chan error {
	done := make(chan error, 1)
	go func() {
		for len(data) > 0 {
			n := min(chunk, len(data))
			if _, err := w.Write(data[:n]); err != nil {
				done <- err
				return
			}
			data = data[n:]
			time.Sleep(time.Millisecond)
		}
		done <- nil
	}()
	return done
}

// TestPTYTranscripts replays recorded transcripts through a real
// pseudo-terminal and go.bug.st/serial, and expects what NewReader makes of
// the same bytes (the golden files), minus the final EOF that a terminal
// never reports.
func TestPTYTranscripts(t *testing.T) {
	for _, tt := range transcripts {
		if !tt.pty {
			continue
		}
		t.Run(filepath.Base(tt.name), func(t *testing.T) {
			in, err := os.ReadFile(transcriptPath(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(goldenPath(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			wantText := strings.Replace(string(want), "error: EOF\n", "", 1)
			samples := strings.Count(wantText, "\n") - strings.Count(wantText[strings.Index(wantText, "stats:"):], "\n")

			master, path := openPTY(t)
			var logs bytes.Buffer
			opts := tt.opts
			opts.Logger = testLogger(&logs)
			opts.Now = newStepClock().Now
			opts.ReadTimeout = 20 * time.Millisecond
			src := openSource(t, path, opts)
			done := writeSlowly(master, in, 13)
			got := replay(t, src, &logs, samples)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got = strings.Replace(got, "device="+path, "device="+filepath.Base(tt.name), -1)
			if got != wantText {
				t.Errorf("pty replay of %s:\n%s\nwant:\n%s", tt.name, got, wantText)
			}
		})
	}
}

func TestPTYCancel(t *testing.T) {
	_, path := openPTY(t)
	src := openSource(t, path, Opts{Columns: []string{"a"}, Channels: []string{"a"}, ReadTimeout: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s := sensors.Sample{Values: make([]float32, 1)}
	start := time.Now()
	err := src.Read(ctx, &s)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read with nothing to read = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read took %v to notice its context", d)
	}
}

// TestPTYCancelKeepsPartialLine checks that a line split across a
// cancelled Read is still read whole by the next one.
func TestPTYCancelKeepsPartialLine(t *testing.T) {
	master, path := openPTY(t)
	src := openSource(t, path, Opts{Columns: []string{"datetime", "a"}, Channels: []string{"a"}, ReadTimeout: 10 * time.Millisecond})
	if _, err := master.Write([]byte("2020-02-08 13:30:47;4")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s := sensors.Sample{Values: make([]float32, 1)}
	if err := src.Read(ctx, &s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read of half a line = %v, want context.DeadlineExceeded", err)
	}
	if _, err := master.Write([]byte("2.5\n")); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := src.Read(ctx2, &s); err != nil || s.Values[0] != 42.5 {
		t.Errorf("Read = %v %v, want 42.5", err, s.Values)
	}
}

// TestPTYCloseUnblocks checks that Close from another goroutine ends a Read
// blocked on a silent device, long before its read timeout.
func TestPTYCloseUnblocks(t *testing.T) {
	_, path := openPTY(t)
	src := openSource(t, path, Opts{Columns: []string{"a"}, Channels: []string{"a"}, ReadTimeout: time.Hour})
	errc := make(chan error, 1)
	go func() {
		s := sensors.Sample{Values: make([]float32, 1)}
		errc <- src.Read(context.Background(), &s)
	}()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Read after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

// TestPTYOverlongAndRemap sends an overlong line, a header that reorders
// the columns and a line with an empty field through a pty.
func TestPTYOverlongAndRemap(t *testing.T) {
	master, path := openPTY(t)
	src := openSource(t, path, Opts{Columns: []string{"datetime", "a", "b"}, Channels: []string{"a", "b"}, MaxLine: 128, ReadTimeout: 10 * time.Millisecond})
	in := "2020-02-08 13:30:47;1;2\n" +
		strings.Repeat("9", 5000) + "\n" +
		"datetime;b;x;a\n" +
		"2020-02-08 13:30:48;3;;\n" +
		"2020-02-08 13:30:49;5;junk;6\n"
	done := writeSlowly(master, []byte(in), 512)
	want := [][]float32{{1, 2}, {nan(), 3}, {6, 5}}
	s := sensors.Sample{Values: make([]float32, 2)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, w := range want {
		if err := src.Read(ctx, &s); err != nil {
			t.Fatalf("Read %d = %v", i, err)
		}
		if !sameValues(s.Values, w) {
			t.Errorf("Read %d = %v, want %v", i, s.Values, w)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := src.Stats(); st != (Stats{Lines: 5, Bad: 1, Headers: 1}) {
		t.Errorf("Stats() = %+v, want 5 lines, 1 bad, 1 header", st)
	}
}

// TestPTYReadAllocs measures allocations per line through the whole stack:
// the kernel's pty, go.bug.st/serial and the framing.
func TestPTYReadAllocs(t *testing.T) {
	master, path := openPTY(t)
	src := openSource(t, path, Opts{Columns: []string{"datetime", "a", "b"}, Channels: []string{"a", "b"}})
	line := []byte("2020-02-08 13:30:47;1;2\n")
	const runs = 100
	done := writeSlowly(master, bytes.Repeat(line, runs+1), 4096)
	s := sensors.Sample{Values: make([]float32, 2)}
	ctx := context.Background()
	n := testing.AllocsPerRun(runs, func() {
		if err := src.Read(ctx, &s); err != nil {
			t.Fatal(err)
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("Read from a pty allocates %v times per line, want 0", n)
	}
}

// An adapter that is unplugged and plugged in again: Read reports the
// device absent (sensors.ErrAbsent) instead of failing for good, keeps
// trying, and reads the new device once udev's name points to it again.
func TestReopenAfterUnplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyUSB0") // as udev's /dev/serial/by-id names
	m1, p1 := openPTY(t)
	if err := os.Symlink(p1, link); err != nil {
		t.Fatal(err)
	}
	src := openSource(t, link, Opts{Channels: []string{"a"}, Columns: []string{"datetime", "a"}})
	ctx := context.Background()
	smp := sensors.Sample{Values: make([]float32, 1)}
	m1.WriteString("2024-01-01 00:00:00;1\n")
	if err := src.Read(ctx, &smp); err != nil || smp.Values[0] != 1 {
		t.Fatalf("first line: %v %v", err, smp.Values)
	}
	m1.Close() // unplugged: the terminal hangs up
	os.Remove(link)
	err := src.Read(ctx, &smp)
	if !errors.Is(err, sensors.ErrAbsent) || !strings.Contains(err.Error(), link) {
		t.Fatalf("Read after the unplug = %v, want an ErrAbsent error naming %s", err, link)
	}
	if err := src.Read(ctx, &smp); !errors.Is(err, sensors.ErrAbsent) || !strings.Contains(err.Error(), "still absent") {
		t.Fatalf("Read with no device = %v, want still absent", err)
	}
	m2, p2 := openPTY(t)
	if err := os.Symlink(p2, link); err != nil {
		t.Fatal(err)
	}
	m2.WriteString("2024-01-01 00:00:01;2\n")
	for {
		err := src.Read(ctx, &smp)
		if err == nil {
			break
		}
		if !errors.Is(err, sensors.ErrAbsent) {
			t.Fatalf("Read while the device returns = %v", err)
		}
	}
	if smp.Values[0] != 2 || src.Stats().Losses != 1 {
		t.Errorf("after the reopen: value %v, stats %+v; want 2 and one loss", smp.Values, src.Stats())
	}
	// Close during the wait between attempts ends Read at once.
	m2.Close()
	os.Remove(link)
	if err := src.Read(ctx, &smp); !errors.Is(err, sensors.ErrAbsent) {
		t.Fatalf("second unplug: %v", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); src.Close() }()
	if err := src.Read(ctx, &smp); !errors.Is(err, ErrClosed) {
		t.Errorf("Read while waiting to reopen, then Close = %v, want ErrClosed", err)
	}
}
