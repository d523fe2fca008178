package outbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// childEnv names the outbox file for TestDiskFullChild when the parent
// runs this test binary again as a child.
const childEnv = "VIGIL_OUTBOX_DISKFULL_CHILD"

// TestDiskFull runs TestDiskFullChild in a child process and, while the
// child appends, lowers the child's RLIMIT_FSIZE to the current size of
// the outbox file: bbolt's next file growth fails with EFBIG (the kernel
// also sends SIGXFSZ, which the Go runtime installs a handler for and
// drops: runtime/sigtab_linux_generic.go lists SIGXFSZ as _SigNotify
// only, so the process is not killed). Then it raises the limit again.
// The child reports each step on stdout and waits for "go" on stdin.
func TestDiskFull(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("running as the child")
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDiskFullChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var report []string
	// expect reads child lines until one starts with prefix.
	expect := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			l := lines.Text()
			report = append(report, l)
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
			if strings.HasPrefix(l, "--- FAIL") || strings.HasPrefix(l, "FAIL") {
				break
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		t.Fatalf("child did not report %q; it said:\n%s\nstderr:\n%s", prefix, strings.Join(report, "\n"), stderr.String())
		return ""
	}
	setLimit := func(cur uint64) {
		t.Helper()
		lim := unix.Rlimit{Cur: cur, Max: unix.RLIM_INFINITY}
		if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
			t.Fatalf("prlimit(child %d, RLIMIT_FSIZE, %d): %v", cmd.Process.Pid, cur, err)
		}
	}

	size, err := strconv.ParseUint(expect("READY size="), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	setLimit(size)
	fmt.Fprintln(stdin, "go")
	t.Logf("child: %s", expect("FAILING "))
	t.Logf("child: %s", expect("INORDER "))
	setLimit(unix.RLIM_INFINITY)
	fmt.Fprintln(stdin, "go")
	t.Logf("child: %s", expect("RECOVERED "))
	t.Logf("child: %s", expect("REOPENED "))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s\nstderr:\n%s", err, strings.Join(report, "\n"), stderr.String())
	}
}

// TestDiskFullChild is the child of TestDiskFull; it skips unless run as
// one.
func TestDiskFullChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only run by TestDiskFull")
	}
	in := bufio.NewScanner(os.Stdin)
	wait := func() {
		if !in.Scan() {
			t.Fatal("parent went away")
		}
	}
	ob, err := Open(path, Options{AckDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	payload := func(i int) []byte {
		return fmt.Appendf(nil, "%06d-%s", i, strings.Repeat("p", 50<<10))
	}
	rec := func(i int) Record {
		return Record{Kind: KindAlert, Topic: "alert", AlertSeq: uint64(i), Payload: payload(i)}
	}
	n := 0
	for ; n < 3; n++ {
		if err := ob.Append(rec(n + 1)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY size=%d\n", info.Size())
	wait() // the parent lowered the file size limit

	// Append until the file has to grow, then some more.
	var firstErr error
	durable := n
	for n < 200 && ob.Stats().MemoryOnly < 5 {
		n++
		err := ob.Append(rec(n))
		switch {
		case err == nil && firstErr == nil:
			durable = n
		case err == nil:
			t.Fatalf("Append %d succeeded after an earlier one failed, with the limit still low", n)
		case !errors.Is(err, ErrNotDurable):
			t.Fatalf("Append %d = %v, want ErrNotDurable", n, err)
		case firstErr == nil:
			firstErr = err
		}
	}
	if firstErr == nil {
		t.Fatalf("%d Appends never failed under a file size limit of %d", n, info.Size())
	}
	efbig := errors.Is(firstErr, syscall.EFBIG) || strings.Contains(firstErr.Error(), syscall.EFBIG.Error())
	if !efbig {
		t.Fatalf("Append failed with %v, want EFBIG (%q)", firstErr, syscall.EFBIG.Error())
	}
	st := ob.Stats()
	if st.MemoryOnly != n-durable || st.Pending != n || st.DiskErr == nil {
		t.Fatalf("Stats while failing = %+v, want %d in memory, %d pending", st, n-durable, n)
	}
	fmt.Printf("FAILING %d durable, %d in memory; Append returned: %v\n", durable, st.MemoryOnly, firstErr)

	checkOrder := func(ob *Outbox, want int) string {
		var after uint64
		for i := 1; i <= want; i++ {
			r, ok := ob.Next(after)
			if !ok || r.Seq != uint64(i) || string(r.Payload) != string(payload(i)) {
				t.Fatalf("Next(%d) = seq %d ok %v payload %.10q, want record %d", after, r.Seq, ok, r.Payload, i)
			}
			after = r.Seq
		}
		if r, ok := ob.Next(after); ok {
			t.Fatalf("Next(%d) = %d, want nothing more", after, r.Seq)
		}
		return fmt.Sprintf("records 1..%d", want)
	}
	fmt.Printf("INORDER Next offers %s in order while the disk fails\n", checkOrder(ob, n))
	wait() // the parent raised the limit

	n++
	if err := ob.Append(rec(n)); err != nil {
		t.Fatalf("Append after the limit was raised = %v", err)
	}
	if st := ob.Stats(); st.MemoryOnly != 0 || st.DiskErr != nil || st.Pending != n {
		t.Fatalf("Stats after the limit was raised = %+v", st)
	}
	fmt.Printf("RECOVERED Append returned nil, Stats().MemoryOnly = 0, %d pending\n", n)
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	ob, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	msg := checkOrder(ob, n)
	if err := ob.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt consistency check after the failed writes: %v", err)
	}
	fmt.Printf("REOPENED %s present in order; bbolt's consistency check passes\n", msg)
}
