#!/usr/bin/env python3
"""npytool.py - make and inspect small NumPy .npy files without NumPy.

Used by tools/quickstart.sh and the dsl-examples/ run commands; needs only
the Python standard library (struct, ast, random).

  npytool.py zeros DTYPE DIM [DIM...] OUT.npy   zero array, e.g. zeros uint8 24 64 img.npy
  npytool.py rand DIM [DIM...] OUT.npy [--seed S] float64 uniform in [0, 1)
  npytool.py points N OUT.npy [--seed S]        N x 2 float64 uniform in [-1, 1)
  npytool.py show IN.npy                        dtype, shape and (first) values
  npytool.py ascii IN.npy [--max M]             a 2-D integer image as ASCII art
  npytool.py closest IN.npy                     brute-force closest pair (reference)
  npytool.py dot A.npy B.npy I J                sum_k A[I,k]*B[k,J] (reference)
"""

import ast
import math
import random
import struct
import sys

MAGIC = b"\x93NUMPY"

# descr kind+size -> (struct code, components per element)
CODES = {
    "b1": ("?", 1), "i1": ("b", 1), "u1": ("B", 1), "i2": ("h", 1), "u2": ("H", 1),
    "i4": ("i", 1), "u4": ("I", 1), "i8": ("q", 1), "u8": ("Q", 1),
    "f4": ("f", 1), "f8": ("d", 1), "c8": ("f", 2), "c16": ("d", 2),
}
NAMES = {
    "bool": "b1", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
    "int32": "i4", "uint32": "u4", "int64": "i8", "uint64": "u8",
    "float32": "f4", "float64": "f8", "complex64": "c8", "complex128": "c16",
}


class NpyError(Exception):
    pass


def product(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def read_npy(path):
    """Returns (descr, shape, flat values in C order)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != MAGIC:
        raise NpyError(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", data, 8)
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack_from("<I", data, 8)
        start = 12
    else:
        raise NpyError(f"{path}: unsupported .npy version {major}")
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    descr, fortran, shape = header["descr"], header["fortran_order"], tuple(header["shape"])
    if not isinstance(descr, str) or descr[1:] not in CODES:
        raise NpyError(f"{path}: unsupported dtype {descr!r}")
    order = {"<": "<", ">": ">", "|": "<", "=": "="}[descr[0]]
    code, comps = CODES[descr[1:]]
    count = product(shape)
    raw = struct.unpack_from(f"{order}{count * comps}{code}", data, start + hlen)
    if comps == 2:
        raw = [complex(raw[2 * i], raw[2 * i + 1]) for i in range(count)]
    values = list(raw)
    if fortran and len(shape) > 1:
        values = fortran_to_c(values, shape)
    return descr[1:], shape, values


def fortran_to_c(values, shape):
    out = [None] * len(values)
    rank = len(shape)
    c_strides = [product(shape[d + 1:]) for d in range(rank)]
    f_strides = [product(shape[:d]) for d in range(rank)]
    for ci in range(len(values)):
        rem, fi = ci, 0
        for d in range(rank):
            idx, rem = divmod(rem, c_strides[d])
            fi += idx * f_strides[d]
        out[ci] = values[fi]
    return out


def write_npy(path, kind, shape, values):
    code, comps = CODES[kind]
    order = "|" if kind in ("b1", "i1", "u1") else "<"
    shape_txt = "(" + "".join(f"{d}, " for d in shape)
    shape_txt = (shape_txt[:-2] + ",)") if len(shape) == 1 else (shape_txt[:-2] + ")")
    if not shape:
        shape_txt = "()"
    header = f"{{'descr': '{order}{kind}', 'fortran_order': False, 'shape': {shape_txt}, }}"
    # Pad so that magic + version + length + header + '\n' is a multiple of 64.
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    flat = []
    for v in values:
        flat.extend((v.real, v.imag) if comps == 2 else (v,))
    with open(path, "wb") as f:
        f.write(MAGIC + bytes([1, 0]) + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack(f"<{len(flat)}{code}", *flat))


def parse_kind(name):
    if name in NAMES:
        return NAMES[name]
    if name in CODES:
        return name
    raise NpyError(f"unknown dtype {name!r} (use e.g. uint8, float64)")


def take_seed(args):
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
        return seed
    return 12345


def cmd_zeros(args):
    kind = parse_kind(args[0])
    shape = [int(a) for a in args[1:-1]]
    zero = 0j if CODES[kind][1] == 2 else (False if kind == "b1" else 0)
    write_npy(args[-1], kind, shape, [zero] * product(shape))


def cmd_rand(args):
    rng = random.Random(take_seed(args))
    shape, out = [int(a) for a in args[:-1]], args[-1]
    write_npy(out, "f8", shape, [rng.random() for _ in range(product(shape))])


def cmd_points(args):
    rng = random.Random(take_seed(args))
    n, out = int(args[0]), args[1]
    write_npy(out, "f8", [n, 2], [rng.uniform(-1.0, 1.0) for _ in range(2 * n)])


def cmd_show(args):
    kind, shape, values = read_npy(args[0])
    head = values[:16]
    more = " ..." if len(values) > len(head) else ""
    print(f"{args[0]}: dtype {kind}, shape {list(shape)}: {head}{more}")


def cmd_ascii(args):
    limit = None
    if "--max" in args:
        i = args.index("--max")
        limit = int(args[i + 1])
        del args[i:i + 2]
    kind, shape, values = read_npy(args[0])
    if len(shape) != 2:
        raise NpyError(f"{args[0]}: expected a 2-D array, got shape {list(shape)}")
    height, width = shape
    top = limit if limit is not None else max(max(values), 1)
    ramp = " .:-=+*%@"
    for y in range(height):
        row = []
        for x in range(width):
            v = values[y * width + x]
            if v >= top:
                row.append("#")  # never escaped: inside the set
            else:  # escaped after v iterations: sqrt spreads the small counts
                level = int(math.sqrt(max(v, 0) / top) * len(ramp))
                row.append(ramp[min(level, len(ramp) - 1)])
        print("".join(row).rstrip())


def cmd_closest(args):
    _, shape, v = read_npy(args[0])
    n = shape[0]
    best, bi, bj = 999999.0, -1, -1
    for i in range(n):
        xi, yi = v[2 * i], v[2 * i + 1]
        for j in range(i + 1, n):
            d2 = (xi - v[2 * j]) ** 2 + (yi - v[2 * j + 1]) ** 2
            if d2 < best:
                best, bi, bj = d2, i, j
    print(f"python reference: points {bi} and {bj}: "
          f"[{v[2 * bi]!r}, {v[2 * bi + 1]!r}] [{v[2 * bj]!r}, {v[2 * bj + 1]!r}], "
          f"distance {best ** 0.5!r}")


def cmd_dot(args):
    _, sa, a = read_npy(args[0])
    _, sb, b = read_npy(args[1])
    i, j = int(args[2]), int(args[3])
    acc = 0.0
    for k in range(sa[1]):
        acc += a[i * sa[1] + k] * b[k * sb[1] + j]
    print(repr(acc))


COMMANDS = {
    "zeros": cmd_zeros, "rand": cmd_rand, "points": cmd_points, "show": cmd_show,
    "ascii": cmd_ascii, "closest": cmd_closest, "dot": cmd_dot,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        COMMANDS[argv[1]](list(argv[2:]))
    except (NpyError, OSError, IndexError, ValueError, KeyError) as e:
        print(f"npytool: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
