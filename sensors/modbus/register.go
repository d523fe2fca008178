package modbus

import (
	"fmt"
	"math"
)

// Table is the Modbus data table a register lives in.
type Table uint8

// Tables. The zero value is the holding registers.
const (
	Holding  Table = iota // read with function 3
	Input                 // read with function 4
	Coil                  // read with function 1
	Discrete              // discrete inputs, read with function 2
)

var tableNames = [...]string{"holding", "input", "coil", "discrete"}

// String returns the table's name: holding, input, coil or discrete.
func (t Table) String() string {
	if int(t) < len(tableNames) {
		return tableNames[t]
	}
	return fmt.Sprintf("table %d", uint8(t))
}

func (t Table) function() Function {
	return [...]Function{FuncReadHoldingRegisters, FuncReadInputRegisters, FuncReadCoils, FuncReadDiscreteInputs}[t]
}

func (t Table) bits() bool { return t == Coil || t == Discrete }

// Type is how a register table value is interpreted. Bit tables (Coil,
// Discrete) ignore it: their value is 0 or 1.
type Type uint8

// Types. The zero value is Uint16.
const (
	Uint16  Type = iota // one register
	Int16               // one register, two's complement
	Uint32              // two registers
	Int32               // two registers, two's complement
	Float32             // two registers, IEEE 754 binary32
)

var typeNames = [...]string{"uint16", "int16", "uint32", "int32", "float32"}

// String returns the type's name, e.g. "float32".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// ParseTable returns the Table named s (holding, input, coil, discrete).
func ParseTable(s string) (Table, error) {
	for i, n := range tableNames {
		if s == n {
			return Table(i), nil
		}
	}
	return 0, fmt.Errorf("modbus: table %q: want holding, input, coil or discrete", s)
}

// ParseType returns the Type named s (uint16, int16, uint32, int32,
// float32).
func ParseType(s string) (Type, error) {
	for i, n := range typeNames {
		if s == n {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("modbus: type %q: want uint16, int16, uint32, int32 or float32", s)
}

// ParseOrder returns the Order named "big" or "little".
func ParseOrder(s string) (Order, error) {
	switch s {
	case "big":
		return BigEndian, nil
	case "little":
		return LittleEndian, nil
	}
	return 0, fmt.Errorf("modbus: order %q: want big or little", s)
}

// width is the number of registers a value of type t takes.
func (t Type) width() int {
	if t >= Uint32 {
		return 2
	}
	return 1
}

// Order is a byte or word order. The zero value, BigEndian, is the Modbus
// standard (high byte first in a register; for 32-bit values most devices
// also send the high word first).
type Order uint8

// Orders.
const (
	BigEndian    Order = iota // high word in the lower address / high byte first
	LittleEndian              // high word in the higher address / low byte first
)

// Register is one value in a slave's register map.
type Register struct {
	Name      string  // unique within a Poller
	Slave     uint8   // slave address (RTU) or unit id (TCP)
	Table     Table   // data table
	Address   uint16  // 0-based protocol address (register 40001 is Holding 0)
	Type      Type    // register tables only
	WordOrder Order   // 32-bit types: which register holds the high word (BigEndian: the first)
	ByteOrder Order   // byte order within each register (BigEndian: high byte first)
	Scale     float64 // engineering value = raw*Scale + Offset; 0 means 1
	Offset    float64
}

// width returns how many table items (registers or bits) r occupies.
func (r *Register) width() int {
	if r.Table.bits() {
		return 1
	}
	return r.Type.width()
}

func (r *Register) validate() error {
	switch {
	case r.Table > Discrete:
		return fmt.Errorf("modbus: register %q: unknown table %d", r.Name, r.Table)
	case r.Type > Float32:
		return fmt.Errorf("modbus: register %q: unknown type %d", r.Name, r.Type)
	case r.WordOrder > LittleEndian || r.ByteOrder > LittleEndian:
		return fmt.Errorf("modbus: register %q: unknown word or byte order", r.Name)
	case int(r.Address)+r.width() > 65536:
		return fmt.Errorf("modbus: register %q: %s at address %d runs past 65535", r.Name, r.Type, r.Address)
	case math.IsNaN(r.Scale) || math.IsInf(r.Scale, 0) || math.IsNaN(r.Offset) || math.IsInf(r.Offset, 0):
		return fmt.Errorf("modbus: register %q: Scale %v, Offset %v: want finite numbers", r.Name, r.Scale, r.Offset)
	}
	return nil
}

// decodeRaw returns the raw value of a register-table value of type t
// from the registers at the start of data (big-endian on the wire), which
// must hold t.width() registers.
func decodeRaw(data []byte, t Type, word, byteOrder Order) float64 {
	reg := func(i int) uint32 {
		hi, lo := data[2*i], data[2*i+1]
		if byteOrder == LittleEndian {
			hi, lo = lo, hi
		}
		return uint32(hi)<<8 | uint32(lo)
	}
	switch t {
	case Uint16:
		return float64(reg(0))
	case Int16:
		return float64(int16(reg(0)))
	}
	hi, lo := reg(0), reg(1)
	if word == LittleEndian {
		hi, lo = lo, hi
	}
	u := hi<<16 | lo
	switch t {
	case Uint32:
		return float64(u)
	case Int32:
		return float64(int32(u))
	}
	return float64(math.Float32frombits(u))
}
