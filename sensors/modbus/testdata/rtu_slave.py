#!/usr/bin/python3
"""An independent Modbus RTU slave for sensors/modbus tests (pymodbus 3.0).

Usage: rtu_slave.py PORT BAUD PARITY

Needs Debian python3-pymodbus and python3-serial-asyncio (only recommended
by python3-pymodbus, so install it explicitly).

Serves on the serial device PORT (one end of a socat pty pair):
  unit 1: holding 0..9 = 100..109, input 0..4 = 200..204,
          coils 0..7 = 1,0,1,0,0,0,0,1, discrete inputs 0..7 = 0,1,1,0,0,0,0,0
  unit 2: holding 0..3 = float32 12.5 (ABCD), int32 -70000 (CDAB, low word first)
  unit 3: one holding register (0 = 7): reads beyond it get exception 2
Addresses are 0-based protocol addresses (zero_mode=True).
"""
import logging
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartSerialServer
from pymodbus.transaction import ModbusRtuFramer


def block(values):
    return ModbusSequentialDataBlock(0, values)


def main():
    port, baud, parity = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    logging.basicConfig(level=logging.WARNING)
    unit1 = ModbusSlaveContext(
        hr=block([100 + i for i in range(10)]),
        ir=block([200 + i for i in range(5)]),
        co=block([1, 0, 1, 0, 0, 0, 0, 1]),
        di=block([0, 1, 1, 0, 0, 0, 0, 0]),
        zero_mode=True)
    # 12.5 = 0x41480000; -70000 = 0xFFFEEE90, low word first
    unit2 = ModbusSlaveContext(hr=block([0x4148, 0x0000, 0xEE90, 0xFFFE]),
                               zero_mode=True)
    unit3 = ModbusSlaveContext(hr=block([7]), ir=block([7]), co=block([0]),
                               di=block([0]), zero_mode=True)
    context = ModbusServerContext(slaves={1: unit1, 2: unit2, 3: unit3},
                                  single=False)
    print("rtu_slave: serving", port, flush=True)
    StartSerialServer(context=context, framer=ModbusRtuFramer, port=port,
                      baudrate=baud, parity=parity, stopbits=1, bytesize=8,
                      timeout=0.005)


if __name__ == "__main__":
    main()
