package slots

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Slot names one of the store's two slots.
type Slot string

// The two slots; their files are a.vgm and b.vgm.
const (
	SlotA Slot = "a"
	SlotB Slot = "b"
)

// Other returns the other slot.
func (s Slot) Other() Slot {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

// File returns the slot's file name inside the store directory.
func (s Slot) File() string { return string(s) + ".vgm" }

// StateFile is the name of the store's state file.
const StateFile = "state.json"

// stateFormat is the only state.json format this build reads and writes.
const stateFormat = 1

// maxStateSize bounds how much of state.json is read.
const maxStateSize = 64 << 10

// RollbackEvent records a switch away from a model: Revert, Rollback, or a
// repair by Open.
type RollbackEvent struct {
	// Reason says why, e.g. "agent restarted during probation".
	Reason string `json:"reason"`
	// At is when it happened (Options.Now, UTC).
	At time.Time `json:"at"`
	// From and FromVersion name the model left; From is empty when the
	// slot could not be read at all.
	From        Slot   `json:"from"`
	FromVersion uint64 `json:"from_version"`
	// To and ToVersion name the model made active; To is empty when no
	// slot held a working model.
	To        Slot   `json:"to"`
	ToVersion uint64 `json:"to_version"`
}

// slotRecord is what state.json knows of one slot file; an empty SHA256
// means the slot holds nothing known.
type slotRecord struct {
	Version   uint64    `json:"version"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Installed time.Time `json:"installed,omitzero"`
}

func (r slotRecord) empty() bool { return r.SHA256 == "" }

// state is the content of state.json. Active is the slot the agent runs
// ("" for none); Committed the slot that last passed probation, which is
// Active unless Active is on trial; Pending an installed slot not yet
// activated.
type state struct {
	Active       Slot           `json:"active"`
	Committed    Slot           `json:"committed"`
	Pending      Slot           `json:"pending"`
	A            slotRecord     `json:"a"`
	B            slotRecord     `json:"b"`
	ActivatedAt  time.Time      `json:"activated_at,omitzero"`
	CommittedAt  time.Time      `json:"committed_at,omitzero"`
	LastRollback *RollbackEvent `json:"last_rollback,omitempty"`
}

// stateFile is state.json's envelope: CRC is the CRC-32C (Castagnoli), in
// hex, of the compact JSON of State.
type stateFile struct {
	Format int             `json:"format"`
	CRC    string          `json:"crc32c"`
	State  json.RawMessage `json:"state"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// trial reports whether the active slot is on probation.
func (st *state) trial() bool { return st.Active != "" && st.Active != st.Committed }

// rec returns a pointer to the record of slot s.
func (st *state) rec(s Slot) *slotRecord {
	if s == SlotA {
		return &st.A
	}
	return &st.B
}

// installTarget is the slot Install writes: the inactive one, or slot a
// in a store without an active model.
func (st *state) installTarget() Slot {
	if st.Active == "" {
		return SlotA
	}
	return st.Active.Other()
}

// validate checks the relations between the fields.
func (st *state) validate() error {
	for _, f := range []struct {
		name string
		s    Slot
	}{{"active", st.Active}, {"committed", st.Committed}, {"pending", st.Pending}} {
		if f.s != "" && f.s != SlotA && f.s != SlotB {
			return fmt.Errorf("%s slot %q is neither %q nor %q", f.name, f.s, SlotA, SlotB)
		}
		if f.s != "" && st.rec(f.s).empty() {
			return fmt.Errorf("%s slot %s has no record", f.name, f.s)
		}
	}
	if st.Active == "" && st.Committed != "" {
		return fmt.Errorf("committed slot %s but no active slot", st.Committed)
	}
	if st.Pending != "" && (st.Pending == st.Active || st.Pending == st.Committed) {
		return fmt.Errorf("pending slot %s is also active or committed", st.Pending)
	}
	for _, s := range []Slot{SlotA, SlotB} {
		if d := st.rec(s).SHA256; d != "" && !isSHA256(d) {
			return fmt.Errorf("slot %s: sha256 %q is not 64 hex digits", s, d)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// encodeState returns the bytes of state.json for st.
func encodeState(st *state) ([]byte, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	f := stateFile{Format: stateFormat, CRC: crcHex(body), State: body}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func crcHex(b []byte) string { return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli)) }

var (
	// errNoState reports a missing state.json.
	errNoState = errors.New("no " + StateFile)
	// errStateDamaged reports a state.json that cannot be trusted.
	errStateDamaged = errors.New("damaged")
	// errTooLarge reports a file over its size limit.
	errTooLarge = errors.New("over the limit")
)

// readState reads and checks state.json in dir. It returns errNoState
// when there is none, an error wrapping errStateDamaged when its content
// cannot be trusted (with, if the committed slot could still be parsed,
// that slot as a hint for the rebuild), and other errors when the file
// cannot be read.
func readState(dir string) (st state, hint Slot, err error) {
	path := filepath.Join(dir, StateFile)
	data, err := readCapped(path, maxStateSize)
	if errors.Is(err, os.ErrNotExist) {
		return state{}, "", errNoState
	}
	if errors.Is(err, errTooLarge) {
		return state{}, "", fmt.Errorf("%w: %w", errStateDamaged, err)
	}
	if err != nil {
		return state{}, "", err
	}
	st, hint, err = decodeState(data)
	if err != nil {
		return state{}, hint, fmt.Errorf("%s %w: %w", path, errStateDamaged, err)
	}
	return st, "", nil
}

// decodeState parses and checks the bytes of state.json.
func decodeState(data []byte) (st state, hint Slot, err error) {
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return state{}, "", fmt.Errorf("not a state file: %w", err)
	}
	if f.Format != stateFormat {
		return state{}, "", fmt.Errorf("format %d, this build reads format %d", f.Format, stateFormat)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, f.State); err != nil {
		return state{}, "", fmt.Errorf("state: %w", err)
	}
	jsonErr := json.Unmarshal(compact.Bytes(), &st)
	if jsonErr == nil && (st.Committed == SlotA || st.Committed == SlotB) {
		hint = st.Committed
	}
	if got := crcHex(compact.Bytes()); got != f.CRC {
		return state{}, hint, fmt.Errorf("CRC-32C %s, want %s as written: the file is damaged", got, f.CRC)
	}
	if jsonErr != nil {
		return state{}, "", fmt.Errorf("state: %w", jsonErr)
	}
	if err := st.validate(); err != nil {
		return state{}, hint, err
	}
	return st, "", nil
}

// readCapped reads the file at path, refusing one over max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w of %d bytes", path, errTooLarge, max)
	}
	return data, nil
}

// tempPrefix and tempSuffix frame the names of temporary files: a
// temporary file for a.vgm is ".a.vgm.123456.tmp".
const (
	tempPrefix = "."
	tempSuffix = ".tmp"
)

// isTemp reports whether name is one of the store's temporary files.
func isTemp(name string) bool {
	if !strings.HasSuffix(name, tempSuffix) {
		return false
	}
	for _, f := range []string{SlotA.File(), SlotB.File(), StateFile} {
		if strings.HasPrefix(name, tempPrefix+f+".") {
			return true
		}
	}
	return false
}

// writeFile replaces dir/name with data: it writes a temporary file in
// dir, fsyncs it, renames it over name and fsyncs dir. step is called
// after each part, with names prefixed by what ("slot" or "state").
func writeFile(dir, name string, data []byte, what string, step func(string)) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix+name+".*"+tempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o640); err != nil {
		return err
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	step(what + "-temp-half-written")
	if _, err := f.Write(data[half:]); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	step(what + "-temp-written")
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	step(what + "-temp-synced")
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	step(what + "-renamed")
	if err := syncDir(dir); err != nil {
		return err
	}
	step(what + "-dir-synced")
	return nil
}

// syncDir fsyncs the directory dir, making renames in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
