#!/usr/bin/env python3
#===- mknpy.py - Write a small .npy file without NumPy ---------------------===#
#
# Used by the lit tests to make array arguments for `stn run` (NumPy is not
# reliably installed for the Python that runs lit); standard library only.
#
#   mknpy.py [--fortran] [--big-endian] [--version 1|2|3] OUT.npy DTYPE SHAPE
#            [VALUE...]
#
# DTYPE is a NumPy name (float64, int8, uint16, complex64, bool, ...). SHAPE
# is comma-separated extents: "3", "2,3", "" or "()" for a 0-d array. VALUEs
# are Python literals (1, -2.5, inf, nan, True, 1+2j) in C order: none gives
# zeros, one fills the whole array, otherwise there must be one per element.
# --fortran stores the elements in Fortran order (fortran_order True).
#
#===----------------------------------------------------------------------===#

import argparse
import ast
import struct
import sys

# name -> (descr kind+size, struct code, components per element)
DTYPES = {
    "bool": ("b1", "?", 1),
    "int8": ("i1", "b", 1), "int16": ("i2", "h", 1),
    "int32": ("i4", "i", 1), "int64": ("i8", "q", 1),
    "uint8": ("u1", "B", 1), "uint16": ("u2", "H", 1),
    "uint32": ("u4", "I", 1), "uint64": ("u8", "Q", 1),
    "float32": ("f4", "f", 1), "float64": ("f8", "d", 1),
    "complex64": ("c8", "f", 2), "complex128": ("c16", "d", 2),
}


def parse_value(text):
    low = text.strip().lower()
    if low in ("inf", "+inf", "-inf", "nan", "+nan", "-nan"):
        return float(low)
    if low in ("true", "false"):
        return low == "true"
    return ast.literal_eval(text)


def main():
    p = argparse.ArgumentParser(description="Write a small .npy file.")
    p.add_argument("--fortran", action="store_true")
    p.add_argument("--big-endian", action="store_true")
    p.add_argument("--version", type=int, default=1, choices=(1, 2, 3))
    p.add_argument("out")
    p.add_argument("dtype", choices=sorted(DTYPES))
    p.add_argument("shape")
    p.add_argument("values", nargs="*")
    args = p.parse_args()

    kind, code, parts = DTYPES[args.dtype]
    shape_text = args.shape.strip().strip("()").strip()
    shape = tuple(int(d) for d in shape_text.split(",") if d.strip())
    count = 1
    for d in shape:
        count *= d
    values = [parse_value(v) for v in args.values]
    if not values:
        values = [0] * count
    elif len(values) == 1:
        values = values * count
    if len(values) != count:
        sys.exit("mknpy.py: %d values for shape %s (%d elements)"
                 % (len(values), shape, count))
    if args.fortran and len(shape) > 1:
        # values are in C order; store element (i0, i1, ...) at its
        # column-major position.
        strides_c = []
        s = 1
        for d in reversed(shape):
            strides_c.insert(0, s)
            s *= d
        fortran = []
        for flat in range(count):
            idx, rest = [], flat
            for d in shape:  # column-major index decomposition
                idx.append(rest % d)
                rest //= d
            fortran.append(values[sum(i * st for i, st in zip(idx, strides_c))])
        values = fortran

    order = ">" if args.big_endian else "<"
    if kind in ("b1", "i1", "u1"):
        order = "|"
    shape_repr = "(%s)" % "".join("%d, " % d for d in shape).rstrip(" ")
    if len(shape) != 1:
        shape_repr = shape_repr.replace(",)", ")")
    header = "{'descr': '%s%s', 'fortran_order': %s, 'shape': %s, }" % (
        order, kind, "True" if args.fortran else "False", shape_repr)
    pre = 10 if args.version == 1 else 12
    total = (pre + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - pre - len(header) - 1) + "\n"

    fmt = (">" if args.big_endian else "<") + code
    data = bytearray()
    for v in values:
        if parts == 2:
            c = complex(v)
            data += struct.pack(fmt, c.real) + struct.pack(fmt, c.imag)
        elif code == "?":
            data += struct.pack(fmt, bool(v))
        elif code in "fd":
            data += struct.pack(fmt, float(v))
        else:
            data += struct.pack(fmt, int(v))

    with open(args.out, "wb") as f:
        f.write(b"\x93NUMPY" + bytes([args.version, 0]))
        if args.version == 1:
            f.write(struct.pack("<H", len(header)))
        else:
            f.write(struct.pack("<I", len(header)))
        f.write(header.encode("latin1"))
        f.write(bytes(data))


if __name__ == "__main__":
    main()
