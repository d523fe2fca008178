package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's file layout as of go.etcd.io/bbolt v1.4.3, read here before
// bbolt opens the file. Pages 0 and 1 are meta pages; a commit writes its
// meta to page txid%2 after the data pages are synced (tx.go Commit, then
// writeMeta), and bbolt opens the valid meta with the higher txid (db.go
// meta). Each meta page is a 16-byte page header (internal/common/page.go
// Page: id u64, flags u16, count u16, overflow u32) followed by the meta
// (internal/common/meta.go Meta: magic u32, version u32, pageSize u32,
// flags u32, root {pgid u64, sequence u64}, freelist u64, pgid u64,
// txid u64, checksum u64), written by casting the struct onto the page, so
// in the machine's byte order. The checksum is FNV-64a over the meta bytes
// before it (Meta.Sum64).
const (
	boltPageHeader = 16
	boltMetaEnd    = boltPageHeader + 64
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltNoFreelist = ^uint64(0)
)

// boltMeta is a decoded bbolt meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high water mark: pages below it exist
	txid     uint64
}

// parseBoltMeta decodes the meta in the first boltMetaEnd bytes of a page
// and validates it as bbolt's Meta.Validate does.
func parseBoltMeta(p []byte) (boltMeta, error) {
	var m boltMeta
	if len(p) < boltMetaEnd {
		return m, fmt.Errorf("only %d bytes of the page are in the file", len(p))
	}
	ne := binary.NativeEndian
	b := p[boltPageHeader:boltMetaEnd]
	if magic := ne.Uint32(b[0:]); magic != boltMagic {
		if allZero(p[:boltMetaEnd]) {
			return m, errors.New("all zero")
		}
		return m, fmt.Errorf("magic %#08x, want %#08x", magic, uint32(boltMagic))
	}
	if v := ne.Uint32(b[4:]); v != boltVersion {
		return m, fmt.Errorf("bbolt format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(b[:56])
	if sum, stored := h.Sum64(), ne.Uint64(b[56:]); sum != stored {
		return m, fmt.Errorf("checksum %016x, stored %016x", sum, stored)
	}
	m.pageSize = ne.Uint32(b[8:])
	m.root = ne.Uint64(b[16:])
	m.freelist = ne.Uint64(b[32:])
	m.pgid = ne.Uint64(b[40:])
	m.txid = ne.Uint64(b[48:])
	return m, nil
}

// fileCheck is what checkFile found.
type fileCheck struct {
	fresh     bool // empty, or its creation never completed: let bbolt start anew
	recovered bool // exactly one meta page was valid
	why       string
	pageSize  int
	bad       int   // the invalid meta page, when recovered
	badErr    error // why it is invalid
	txid      uint64
}

// checkFile inspects the meta pages of the bbolt file f (size bytes)
// before bbolt opens it. It returns an error wrapping ErrCorrupt when bbolt
// could not open the file or would open it at a state that cannot exist.
func checkFile(f *os.File, size int64) (fileCheck, error) {
	var c fileCheck
	if size == 0 {
		c.fresh, c.why = true, "empty"
		return c, nil
	}
	read := func(off int64) []byte {
		buf := make([]byte, boltMetaEnd)
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return nil
		}
		return buf[:n]
	}
	var (
		metas [2]boltMeta
		errs  [2]error
	)
	metas[0], errs[0] = parseBoltMeta(read(0))
	switch {
	case errs[0] == nil:
		c.pageSize = int(metas[0].pageSize)
		metas[1], errs[1] = parseBoltMeta(read(int64(c.pageSize)))
	default:
		// Page 0 is unreadable: find page 1 the way bbolt does
		// (db.go getPageSizeFromSecondMeta), trying 1 KiB to 16 MiB.
		errs[1] = errors.New("not found at any page size from 1 KiB to 16 MiB")
		for i := 0; i <= 14; i++ {
			off := int64(1024) << i
			if off >= size {
				break
			}
			if m, err := parseBoltMeta(read(off)); err == nil && int64(m.pageSize) == off {
				metas[1], errs[1], c.pageSize = m, nil, int(off)
				break
			}
		}
	}
	if c.pageSize != 0 && (c.pageSize < 512 || c.pageSize&(c.pageSize-1) != 0) {
		return c, fmt.Errorf("%w: page size %d in the meta page is not a power of two ≥ 512", ErrCorrupt, c.pageSize)
	}
	cur := -1
	for i := range 2 {
		if errs[i] == nil && (cur < 0 || metas[i].txid > metas[cur].txid) {
			cur = i
		}
	}
	if cur < 0 {
		if size <= 1<<20 && fileIsZero(f, size) {
			c.fresh, c.why = true, fmt.Sprintf("its %d bytes are all zero", size)
			return c, nil
		}
		return c, fmt.Errorf("%w: neither bbolt meta page is valid (page 0: %v; page 1: %v): not an outbox file, or damaged beyond what bbolt can recover", ErrCorrupt, errs[0], errs[1])
	}
	m := metas[cur]
	c.txid = m.txid
	// bbolt's init writes meta txids 0 and 1; the first commit (Open's,
	// which creates the buckets) is txid 2. A file that never got past
	// txid 1 holds no record: its creation was interrupted.
	if m.txid <= 1 {
		c.fresh, c.why = true, fmt.Sprintf("no transaction was ever committed (txid %d)", m.txid)
		return c, nil
	}
	// bbolt would fault (SIGBUS on the mapped file) or panic on these.
	ps := uint64(c.pageSize)
	if m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != boltNoFreelist) {
		return c, fmt.Errorf("%w: meta page %d (txid %d) has root page %d, freelist page %d at or past its high water mark %d", ErrCorrupt, cur, m.txid, m.root, m.freelist, m.pgid)
	}
	if m.pgid > uint64(size)/ps {
		return c, fmt.Errorf("%w: meta page %d (txid %d) uses %d pages of %d bytes, but the file has %d bytes: it was truncated", ErrCorrupt, cur, m.txid, m.pgid, ps, size)
	}
	if bad := 1 - cur; errs[bad] != nil {
		c.recovered, c.bad, c.badErr = true, bad, errs[bad]
	}
	return c, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// fileIsZero reports whether the first size bytes of f are all zero.
func fileIsZero(f *os.File, size int64) bool {
	buf := make([]byte, 64<<10)
	for off := int64(0); off < size; {
		n, err := f.ReadAt(buf, off)
		if !allZero(buf[:n]) {
			return false
		}
		off += int64(n)
		if err != nil {
			return err == io.EOF && off >= size
		}
	}
	return true
}
