package outbox

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// powerCut is one last transaction to cut: the file as it was before it
// (F1) and after it (F2), and what the outbox must hold in either case.
type powerCut struct {
	f1, f2        []byte
	before, after string // pending payloads, as names() lists them
	stBefore      string // LastState before and after
	stAfter       string
}

// cutScenarios builds the files. Every Append before F1 returned nil.
var cutScenarios = []struct {
	name string
	make func(t *testing.T, path string) powerCut
}{
	{"append a state and an alert", func(t *testing.T, path string) powerCut {
		ob := openT(t, path, Options{AckDelay: time.Hour})
		for i := range 12 {
			appendT(t, ob, alert(uint64(i+1)))
		}
		appendT(t, ob, state(1))
		f1 := readFile(t, path)
		before := names(drain(t, ob))
		appendT(t, ob, state(2), alert(13))
		f2 := readFile(t, path)
		after := names(drain(t, ob))
		ob.Close()
		return powerCut{f1, f2, before, after, "s1", "s2"}
	}},
	{"append into a multi-page tree", func(t *testing.T, path string) powerCut {
		// Enough records for a branch page over several leaves.
		ob := openT(t, path, Options{AckDelay: time.Hour})
		var recs []Record
		for i := range 400 {
			recs = append(recs, Record{Kind: KindAlert, Topic: "alert", AlertSeq: uint64(i + 1), Payload: fmt.Appendf(nil, "r%03d-%s", i, strings.Repeat("x", 40))})
		}
		for i := 0; i < len(recs); i += 50 {
			appendT(t, ob, recs[i:i+50]...)
		}
		f1 := readFile(t, path)
		before := names(drain(t, ob))
		appendT(t, ob, alert(401))
		f2 := readFile(t, path)
		after := names(drain(t, ob))
		ob.Close()
		return powerCut{f1, f2, before, after, "", ""}
	}},
	{"acknowledgements committed", func(t *testing.T, path string) powerCut {
		ob := openT(t, path, Options{AckDelay: time.Hour})
		for i := range 10 {
			appendT(t, ob, alert(uint64(i+1)))
		}
		f1 := readFile(t, path)
		before := names(drain(t, ob))
		if err := ob.Ack(7); err != nil {
			t.Fatal(err)
		}
		after := names(drain(t, ob))
		if err := ob.Close(); err != nil { // commits the removal
			t.Fatal(err)
		}
		return powerCut{f1, readFile(t, path), before, after, "", ""}
	}},
	{"append that grows the file", func(t *testing.T, path string) powerCut {
		ob := openT(t, path, Options{AckDelay: time.Hour})
		rng := rand.New(rand.NewPCG(7, 7))
		big := func(i int) Record {
			p := fmt.Appendf(nil, "big%d-", i)
			for range 100 << 10 {
				p = append(p, byte('a'+rng.IntN(26)))
			}
			return Record{Kind: KindAlert, Topic: "alert", AlertSeq: uint64(i), Payload: p}
		}
		for i := 1; ; i++ {
			f1 := readFile(t, path)
			before := names(drain(t, ob))
			appendT(t, ob, big(i))
			if f2 := readFile(t, path); len(f2) > len(f1) && len(f1) > 0 && i > 1 {
				after := names(drain(t, ob))
				ob.Close()
				return powerCut{f1, f2, before, after, "", ""}
			}
			if i > 100 {
				t.Fatal("the file never grew")
			}
		}
	}},
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metaVariant is what the power cut left of the last transaction's meta
// page.
type metaVariant struct {
	name      string
	build     func(old, new []byte) []byte
	newValid  bool // the new meta is intact: bbolt opens the new transaction
	recovered bool // the page is invalid: Open must report Recovered
}

var metaVariants = []metaVariant{
	{"not written", func(old, _ []byte) []byte { return old }, false, false},
	{"written", func(_, new []byte) []byte { return new }, true, false},
	// Sectors land in any order. The meta is in the first 80 bytes, so a
	// tear at half a page leaves it whole (new or old).
	{"first half written", func(old, new []byte) []byte { return splice(new, old, len(new)/2) }, true, false},
	{"second half written", func(old, new []byte) []byte { return splice(old, new, len(new)/2) }, false, false},
	// A tear inside the meta (not a sector boundary, but what a failing
	// card can do): every field new, the checksum old. The txid always
	// differs (T against T-2), so the checksum must fail. (A cut at an
	// earlier byte can recreate the old meta exactly: bbolt may give the
	// root the same page again.)
	{"torn inside the meta", func(old, new []byte) []byte { return splice(new, old, boltMetaEnd-8) }, false, true},
	{"zeroed", func(_, new []byte) []byte { return make([]byte, len(new)) }, false, true},
}

// splice returns a's first n bytes followed by the rest of b.
func splice(a, b []byte, n int) []byte { return append(append([]byte{}, a[:n]...), b[n:]...) }

// TestPowerCut cuts the writes of the last transaction at every page
// boundary: each page the transaction wrote is taken from before (F1) or
// after (F2) it, the meta page it wrote is missing, whole, torn or zeroed,
// and a file it grew is also cut back to its old length. Every such file
// must open, report Recovered exactly when a meta page is damaged, and
// hold exactly the records before the transaction, or after it when its
// meta page survived. Nothing appended before F1 may be lost.
func TestPowerCut(t *testing.T) {
	for _, sc := range cutScenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := sc.make(t, filepath.Join(dir, "outbox.db"))
			m1, err1 := parseBoltMeta(c.f2)
			if err1 != nil {
				t.Fatal(err1)
			}
			ps := int(m1.pageSize)
			f1 := c.f1
			if len(c.f2) > len(f1) { // a grown file reads as zeros where nothing was written
				f1 = append(append([]byte{}, f1...), make([]byte, len(c.f2)-len(f1))...)
			}
			if len(f1) != len(c.f2) {
				t.Fatalf("F2 (%d bytes) is shorter than F1 (%d)", len(c.f2), len(f1))
			}
			// The meta page the transaction wrote: the one with the
			// higher txid in F2.
			metaPage, txid := -1, uint64(0)
			for i := range 2 {
				if m, err := parseBoltMeta(c.f2[i*ps:]); err == nil && m.txid >= txid {
					metaPage, txid = i, m.txid
				}
			}
			var data []int // other pages the transaction wrote
			for p := 0; p < len(f1)/ps; p++ {
				if p != metaPage && !bytes.Equal(f1[p*ps:(p+1)*ps], c.f2[p*ps:(p+1)*ps]) {
					data = append(data, p)
				}
			}
			if bytes.Equal(f1[metaPage*ps:(metaPage+1)*ps], c.f2[metaPage*ps:(metaPage+1)*ps]) {
				t.Fatalf("the last transaction did not write meta page %d", metaPage)
			}
			// Subsets of the data pages: all of them when few, else a
			// fixed-seed sample plus none and all.
			var subsets [][]bool
			if len(data) <= 8 {
				for mask := 0; mask < 1<<len(data); mask++ {
					s := make([]bool, len(data))
					for i := range s {
						s[i] = mask&(1<<i) != 0
					}
					subsets = append(subsets, s)
				}
			} else {
				rng := rand.New(rand.NewPCG(1, uint64(len(data))))
				none, all := make([]bool, len(data)), make([]bool, len(data))
				for i := range all {
					all[i] = true
				}
				subsets = append(subsets, none, all)
				for range 40 {
					s := make([]bool, len(data))
					for i := range s {
						s[i] = rng.IntN(2) == 1
					}
					subsets = append(subsets, s)
				}
			}
			lengths := []int{len(c.f2)}
			if len(c.f1) < len(c.f2) {
				lengths = append(lengths, len(c.f1))
			}
			t.Logf("page size %d, meta page %d (txid %d), %d data pages written: %v; F1 %d bytes, F2 %d; %d subsets",
				ps, metaPage, txid, len(data), data, len(c.f1), len(c.f2), len(subsets))
			var opened, skipped int
			for _, mv := range metaVariants {
				for _, sub := range subsets {
					for _, length := range lengths {
						allNew := length == len(c.f2) && !slices.Contains(sub, false)
						truncatedAway := false
						for i, p := range data {
							if sub[i] && (p+1)*ps > length {
								truncatedAway = true
							}
						}
						if truncatedAway {
							continue // a page past the cut length was not written
						}
						if mv.newValid && !allNew {
							// The new meta is durable but a page it
							// points to is not: bbolt syncs the data
							// pages (tx.go Commit: write, fdatasync)
							// before it writes the meta page (writeMeta,
							// fdatasync), and grows the file with
							// truncate + fsync before either (db.go
							// grow). A disk that honours fsync cannot
							// produce this, so it is not tested.
							skipped++
							continue
						}
						img := append([]byte{}, f1...)
						for i, p := range data {
							if sub[i] {
								copy(img[p*ps:], c.f2[p*ps:(p+1)*ps])
							}
						}
						mp := img[metaPage*ps : (metaPage+1)*ps]
						copy(mp, mv.build(f1[metaPage*ps:(metaPage+1)*ps], c.f2[metaPage*ps:(metaPage+1)*ps]))
						img = img[:length]
						want, wantState := c.before, c.stBefore
						if mv.newValid {
							want, wantState = c.after, c.stAfter
						}
						name := fmt.Sprintf("meta %s, data pages %v, length %d", mv.name, pick(data, sub), length)
						checkCutFile(t, filepath.Join(dir, "cut.db"), img, name, want, wantState, mv.recovered)
						opened++
					}
				}
			}
			t.Logf("%d damaged files opened and checked, %d write-order violations skipped", opened, skipped)
		})
	}
}

func pick(pages []int, sub []bool) []int {
	var out []int
	for i, p := range pages {
		if sub[i] {
			out = append(out, p)
		}
	}
	return out
}

// checkCutFile writes img to path, opens it and checks what it holds, that
// it still works, and that bbolt finds it consistent afterwards.
func checkCutFile(t *testing.T, path string, img []byte, name, want, wantState string, recovered bool) {
	t.Helper()
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logBuf
	ob, err := Open(path, Options{Logger: logs.Logger()})
	if err != nil {
		t.Fatalf("%s: Open = %v", name, err)
	}
	got := names(drain(t, ob))
	if got != want || string(ob.LastState()) != wantState || ob.Recovered() != recovered || ob.Stats().Recovered != recovered {
		t.Errorf("%s: pending %.60q…, LastState %q, Recovered %v; want %.60q…, %q, %v", name, got, ob.LastState(), ob.Recovered(), want, wantState, recovered)
	}
	if recovered != strings.Contains(logs.String(), "interrupted and has been discarded") {
		t.Errorf("%s: Recovered %v but the log says:\n%s", name, recovered, logs.String())
	}
	// Open repaired the damaged meta page: reopening reports nothing.
	if err := ob.Close(); err != nil {
		t.Fatalf("%s: Close = %v", name, err)
	}
	if ob, err = Open(path, Options{}); err != nil || ob.Recovered() || names(drain(t, ob)) != want {
		t.Fatalf("%s: reopened at once: %v, Recovered %v", name, err, ob != nil && ob.Recovered())
	}
	// It keeps working: an append after the recovery survives a reopen.
	appendT(t, ob, Record{Kind: KindAlert, Topic: "alert", Payload: []byte("post")})
	if err := ob.Close(); err != nil {
		t.Fatalf("%s: Close = %v", name, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("%s: bbolt reopen = %v", name, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("%s: bbolt consistency check after recovery: %v", name, err)
	}
	ob, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("%s: second Open = %v", name, err)
	}
	wantPost := strings.TrimSpace(want + " post")
	if got := names(drain(t, ob)); got != wantPost || ob.Recovered() {
		t.Errorf("%s: after recovery and an append, reopened: %.60q… Recovered %v; want %.60q…", name, got, ob.Recovered(), wantPost)
	}
	ob.Close()
}

// TestMetaLayoutMatchesBbolt checks parseBoltMeta against bbolt's own view
// of a file: page size and the current transaction id.
func TestMetaLayoutMatchesBbolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openT(t, path, Options{})
	for i := range 5 {
		appendT(t, ob, alert(uint64(i+1)))
		var txid int
		var info *bolt.Info
		ob.db.View(func(tx *bolt.Tx) error { txid = tx.ID(); return nil })
		info = ob.db.Info()
		img := readFile(t, path)
		m0, err0 := parseBoltMeta(img)
		m1, err1 := parseBoltMeta(img[info.PageSize:])
		if err0 != nil || err1 != nil {
			t.Fatalf("meta pages: %v, %v", err0, err1)
		}
		if int(m0.pageSize) != info.PageSize || max(m0.txid, m1.txid) != uint64(txid) || m0.txid%2 != 0 || m1.txid%2 != 1 {
			t.Errorf("parsed page size %d, txids %d %d; bbolt says page size %d, txid %d", m0.pageSize, m0.txid, m1.txid, info.PageSize, txid)
		}
	}
}

func TestOpenDamagedFiles(t *testing.T) {
	good := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "good.db")
		ob := openT(t, path, Options{})
		appendT(t, ob, alert(1))
		ob.Close()
		return readFile(t, path)
	}(t)
	ps := int(must(parseBoltMeta(good)).pageSize)
	fresh := func(t *testing.T, path string) []byte { // what bbolt's init writes
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		b := readFile(t, path)
		os.Remove(path)
		return b
	}(t, filepath.Join(t.TempDir(), "init.db"))
	garbage := bytes.Repeat([]byte("not a database "), 2000)
	tests := []struct {
		name    string
		img     []byte
		err     string // "" : opens
		pending int
	}{
		{"zero length", []byte{}, "", 0},
		{"all zero", make([]byte, 4*ps), "", 0},
		{"creation cut after page 0", fresh[:ps], "", 0},
		{"creation cut before pages 2 and 3", append(append([]byte{}, fresh[:2*ps]...), make([]byte, 2*ps)...), "", 0},
		{"bbolt's init, never committed", fresh, "", 0},
		{"garbage", garbage, "neither bbolt meta page is valid", 0},
		{"both meta pages zeroed", append(make([]byte, 2*ps), good[2*ps:]...), "neither bbolt meta page is valid", 0},
		{"truncated", good[:3*ps], "it was truncated", 0},
		{"good", good, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.db")
			if err := os.WriteFile(path, tt.img, 0o600); err != nil {
				t.Fatal(err)
			}
			ob, err := Open(path, Options{})
			if tt.err != "" {
				if err == nil {
					ob.Close()
				}
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "mv "+path+" "+path+".damaged") {
					t.Fatalf("Open = %v, want ErrCorrupt saying %q and how to move the file aside", err, tt.err)
				}
				if !bytes.Equal(readFile(t, path), tt.img) {
					t.Errorf("Open changed a file it refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open = %v", err)
			}
			defer ob.Close()
			if n := ob.Stats().Pending; n != tt.pending {
				t.Errorf("pending %d, want %d", n, tt.pending)
			}
			appendT(t, ob, alert(2))
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
