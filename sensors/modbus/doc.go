// Package modbus is a Modbus master (client): it reads registers and bits
// from Modbus slaves over RTU (a serial line, RS-485 or RS-232) or TCP, and
// polls a fixed register map into a caller-owned []float32 of engineering
// values.
//
// The package has three layers:
//
//   - the PDU layer (AppendReadRequest, AppendWriteSingleRegister,
//     AppendWriteMultipleRegisters, DecodeResponse): function code + data,
//     built into caller-owned buffers and checked strictly, the same for
//     every transport;
//   - transports carrying one PDU to one slave and back (Client): RTU
//     (OpenRTU, NewRTU: slave address + PDU + CRC-16, 3.5 character times
//     of silence before each request) and TCP (DialTCP: MBAP header + PDU);
//   - Poller: a validated register map, planned once into as few requests
//     as the Modbus limits allow, polled without allocating.
//
// Every byte from the line is treated as hostile: frames are limited to
// the Modbus maxima (256 bytes RTU, 260 TCP), responses must echo the
// request's function and carry exactly the byte count the request asked
// for. Expected failures wrap the sentinels ErrTimeout, ErrCRC and ErrFrame
// or are an *ExceptionError; messages read
// "modbus: slave 3 function 3: …".
//
// Supported function codes: 1, 2, 3, 4 (reads), 6 and 16 (register writes).
// This package is not a Modbus slave (server), does not speak Modbus ASCII
// or UDP, does not write coils, and does not know about vigil's sensors or
// models: the agent wraps a Poller as a sensors.Source.
package modbus
