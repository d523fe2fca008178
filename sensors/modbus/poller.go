package modbus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// PollerOpts configures a Poller.
type PollerOpts struct {
	// MaxGap is how many unused registers (or bits) may lie between two
	// registers of the same slave and table for them to be read in one
	// request. 0 merges only adjacent ones. Reading a gap can make a slave
	// answer "illegal data address" if the gap is not mapped.
	MaxGap int
}

// DefaultPollerOpts merges adjacent registers only.
var DefaultPollerOpts = PollerOpts{}

// request is one planned read.
type request struct {
	slave uint8
	fn    Function
	addr  uint16
	qty   uint16
	pdu   [5]byte
	first int // index into Poller.slots
	n     int // number of slots
}

// slot places one register within its request's response.
type slot struct {
	reg    int // index into regs and dst
	pos    int // in registers or bits from the request's address
	t      Type
	word   Order
	byteO  Order
	bit    bool
	scale  float64
	offset float64
}

// SlaveStats counts one slave's requests since the Poller was made.
type SlaveStats struct {
	Slave      uint8
	Requests   uint64 // requests sent
	Timeouts   uint64 // no complete response in time
	CRCErrors  uint64 // RTU frames with a bad CRC
	Exceptions uint64 // exception responses
	FrameErrs  uint64 // malformed responses
	OtherErrs  uint64 // I/O and connection errors
}

type counters struct {
	requests, timeouts, crc, exceptions, frame, other atomic.Uint64
}

// Poller reads a fixed register map from one Client, planned once into as
// few requests as the Modbus limits and PollerOpts.MaxGap allow. Poll may
// be called from several goroutines (calls are serialised); Stats may be
// called at any time.
type Poller struct {
	mu     sync.Mutex // held for a whole Poll
	client Client
	regs   []Register
	reqs   []request
	slots  []slot
	buf    [MaxPDU]byte
	errs   []error
	slaves []uint8
	stats  [256]counters
}

// NewPoller validates regs (names non-empty and unique, tables, types and
// orders known, each value within addresses 0..65535, finite Scale and
// Offset) and plans the requests: registers of one slave and table whose
// gap is at most opts.MaxGap are read together, up to 125 registers or
// 2000 bits per request. regs is copied.
func NewPoller(client Client, regs []Register, opts PollerOpts) (*Poller, error) {
	if client == nil {
		return nil, errors.New("modbus: NewPoller: nil Client")
	}
	if len(regs) == 0 {
		return nil, errors.New("modbus: NewPoller: no registers")
	}
	if opts.MaxGap < 0 || opts.MaxGap > MaxReadBits {
		return nil, fmt.Errorf("modbus: PollerOpts.MaxGap %d: want 0..%d", opts.MaxGap, MaxReadBits)
	}
	seen := make(map[string]bool, len(regs))
	for i := range regs {
		r := &regs[i]
		if r.Name == "" {
			return nil, fmt.Errorf("modbus: register %d: empty Name", i)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("modbus: register %q: name used twice", r.Name)
		}
		seen[r.Name] = true
		if err := r.validate(); err != nil {
			return nil, err
		}
	}
	p := &Poller{client: client, regs: slices.Clone(regs)}
	p.plan(opts.MaxGap)
	p.errs = make([]error, 0, len(p.reqs))
	for _, q := range p.reqs {
		if !slices.Contains(p.slaves, q.slave) {
			p.slaves = append(p.slaves, q.slave)
		}
	}
	slices.Sort(p.slaves)
	return p, nil
}

func (p *Poller) plan(maxGap int) {
	order := make([]int, len(p.regs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ra, rb := &p.regs[a], &p.regs[b]
		return cmp.Or(cmp.Compare(ra.Slave, rb.Slave), cmp.Compare(ra.Table, rb.Table), cmp.Compare(ra.Address, rb.Address))
	})
	for _, i := range order {
		r := &p.regs[i]
		limit := MaxReadRegs
		if r.Table.bits() {
			limit = MaxReadBits
		}
		start, end := int(r.Address), int(r.Address)+r.width()
		if k := len(p.reqs) - 1; k >= 0 {
			q := &p.reqs[k]
			qEnd := int(q.addr) + int(q.qty)
			if q.slave == r.Slave && q.fn == r.Table.function() && start-qEnd <= maxGap && max(end, qEnd)-int(q.addr) <= limit {
				q.qty = uint16(max(end, qEnd) - int(q.addr))
				p.addSlot(q, i)
				continue
			}
		}
		p.reqs = append(p.reqs, request{slave: r.Slave, fn: r.Table.function(), addr: r.Address, qty: uint16(end - start), first: len(p.slots)})
		p.addSlot(&p.reqs[len(p.reqs)-1], i)
	}
	for k := range p.reqs {
		q := &p.reqs[k]
		b, _ := AppendReadRequest(q.pdu[:0], q.fn, q.addr, q.qty) // valid by construction
		copy(q.pdu[:], b)
	}
}

func (p *Poller) addSlot(q *request, i int) {
	r := &p.regs[i]
	scale := r.Scale
	if scale == 0 {
		scale = 1
	}
	p.slots = append(p.slots, slot{reg: i, pos: int(r.Address) - int(q.addr), t: r.Type, word: r.WordOrder, byteO: r.ByteOrder, bit: r.Table.bits(), scale: scale, offset: r.Offset})
	q.n++
}

// Requests returns how many requests one Poll sends.
func (p *Poller) Requests() int { return len(p.reqs) }

// Poll reads every register once and writes its engineering value
// (raw*Scale + Offset) to dst[i] for regs[i]; len(dst) must be at least
// the number of registers. Registers whose request failed get NaN, and the
// returned error joins one error per failed request, each naming the
// slave, function, address and count. In steady state (no failures) Poll
// does not allocate.
func (p *Poller) Poll(ctx context.Context, dst []float32) error {
	if len(dst) < len(p.regs) {
		return fmt.Errorf("modbus: Poll: dst has %d values, want %d", len(dst), len(p.regs))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = p.errs[:0]
	for k := range p.reqs {
		q := &p.reqs[k]
		slots := p.slots[q.first : q.first+q.n]
		data, err := p.read(ctx, q)
		if err != nil {
			for _, s := range slots {
				dst[s.reg] = float32(math.NaN())
			}
			p.errs = append(p.errs, fmt.Errorf("%w (address %d, count %d)", err, q.addr, q.qty))
			continue
		}
		for _, s := range slots {
			var raw float64
			if s.bit {
				raw = float64(data[s.pos/8] >> (s.pos % 8) & 1)
			} else {
				raw = decodeRaw(data[2*s.pos:], s.t, s.word, s.byteO)
			}
			dst[s.reg] = float32(raw*s.scale + s.offset)
		}
	}
	if len(p.errs) == 0 {
		return nil
	}
	return errors.Join(p.errs...)
}

func (p *Poller) read(ctx context.Context, q *request) ([]byte, error) {
	c := &p.stats[q.slave]
	c.requests.Add(1)
	resp, err := p.client.RoundTrip(ctx, q.slave, q.pdu[:], p.buf[:])
	var data []byte
	if err == nil {
		data, err = DecodeResponse(q.slave, q.pdu[:], resp)
	}
	if err != nil {
		var ex *ExceptionError
		switch {
		case errors.Is(err, ErrTimeout):
			c.timeouts.Add(1)
		case errors.Is(err, ErrCRC):
			c.crc.Add(1)
		case errors.As(err, &ex):
			c.exceptions.Add(1)
		case errors.Is(err, ErrFrame):
			c.frame.Add(1)
		default:
			c.other.Add(1)
		}
	}
	return data, err
}

// Stats returns a snapshot of the counters of every slave the Poller
// reads, ordered by slave. Safe to call concurrently with Poll; the
// counters of one slave may be from slightly different instants.
func (p *Poller) Stats() []SlaveStats {
	out := make([]SlaveStats, len(p.slaves))
	for i, s := range p.slaves {
		c := &p.stats[s]
		out[i] = SlaveStats{Slave: s, Requests: c.requests.Load(), Timeouts: c.timeouts.Load(), CRCErrors: c.crc.Load(),
			Exceptions: c.exceptions.Load(), FrameErrs: c.frame.Load(), OtherErrs: c.other.Load()}
	}
	return out
}

// Scan probes the slave addresses from..to (inclusive) of client with a
// read of holding register 0 (count 1) each and returns those that
// answered, with a normal or an exception response, in ascending order.
// A gateway's exceptions 10 and 11 (no path, target did not respond) say
// that no slave has that address, and do not count.
// Each silent address costs the client's timeout. Address 0 (broadcast)
// is skipped. Scan stops early when ctx ends.
func Scan(ctx context.Context, client Client, from, to uint8) []uint8 {
	var found []uint8
	req, _ := AppendReadRequest(nil, FuncReadHoldingRegisters, 0, 1)
	buf := make([]byte, MaxPDU)
	for id := int(max(from, 1)); id <= int(to); id++ {
		if ctx.Err() != nil {
			break
		}
		resp, err := client.RoundTrip(ctx, uint8(id), req, buf)
		if err == nil {
			_, err = DecodeResponse(uint8(id), req, resp)
		}
		var ex *ExceptionError
		gateway := errors.As(err, &ex) && (ex.Code == ExGatewayPathUnavailable || ex.Code == ExGatewayTargetNoResponse)
		if err == nil || ex != nil && !gateway {
			found = append(found, uint8(id))
		}
	}
	return found
}
