#!/usr/bin/env python3
#===- npycat.py - Print an .npy file for FileCheck without NumPy -----------===#
#
# Used by the lit tests to check arrays that `stn run` wrote; standard library
# only. Prints three lines:
#
#   dtype: float64
#   shape: (2, 3)
#   values: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
#
# Values are in C order whatever the file's order, printed with Python's repr
# (floats always show a '.', bools as True/False, complex as (1+2j)).
# Exits with status 1 and a message on stderr if the file is not a valid .npy.
#
#===----------------------------------------------------------------------===#

import ast
import struct
import sys

KINDS = {
    "b1": ("bool", "?", 1),
    "i1": ("int8", "b", 1), "i2": ("int16", "h", 1),
    "i4": ("int32", "i", 1), "i8": ("int64", "q", 1),
    "u1": ("uint8", "B", 1), "u2": ("uint16", "H", 1),
    "u4": ("uint32", "I", 1), "u8": ("uint64", "Q", 1),
    "f4": ("float32", "f", 1), "f8": ("float64", "d", 1),
    "c8": ("complex64", "f", 2), "c16": ("complex128", "d", 2),
}


def fail(message):
    sys.stderr.write("npycat.py: %s\n" % message)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: npycat.py FILE.npy")
    path = sys.argv[1]
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:6] != b"\x93NUMPY":
        fail("%s: not an .npy file" % path)
    major = raw[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", raw[8:10]), 10
    else:
        (hlen,), start = struct.unpack("<I", raw[8:12]), 12
    header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))
    descr, shape, fortran = header["descr"], header["shape"], header["fortran_order"]
    order, kind = descr[0], descr[1:]
    if kind not in KINDS:
        fail("%s: unsupported dtype %r" % (path, descr))
    name, code, parts = KINDS[kind]
    endian = ">" if order == ">" else "<"
    count = 1
    for d in shape:
        count *= d
    item = struct.calcsize("<" + code) * parts
    data = raw[start + hlen:]
    if len(data) < count * item:
        fail("%s: truncated" % path)
    flat = []
    for i in range(count):
        chunk = data[i * item:(i + 1) * item]
        if parts == 2:
            re, im = struct.unpack(endian + code * 2, chunk)
            flat.append(complex(re, im))
        else:
            flat.append(struct.unpack(endian + code, chunk)[0])
    if fortran and len(shape) > 1:
        # Reorder column-major storage into C order.
        c_order = [None] * count
        for fpos in range(count):
            idx, rest = [], fpos
            for d in shape:
                idx.append(rest % d)
                rest //= d
            cpos = 0
            for i, d in zip(idx, shape):
                cpos = cpos * d + i
            c_order[cpos] = flat[fpos]
        flat = c_order
    print("dtype: %s" % name)
    print("shape: %s" % (tuple(shape),))
    print("values: [%s]" % ", ".join(repr(v) for v in flat))


if __name__ == "__main__":
    main()
