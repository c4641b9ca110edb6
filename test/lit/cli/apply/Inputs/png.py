#!/usr/bin/env python3
#===- png.py - Write and read small PNG files for the `stn apply` tests ----===#
#
# An independent PNG codec for the lit tests, standard library only (zlib,
# struct): stn reads and writes PNGs with libpng, and these tests check its
# files against this code, not against stn itself.
#
#   png.py make OUT.png W H DEPTH CHANNELS SEED
#       pseudo-random samples (DEPTH 8 or 16; CHANNELS 1 gray, 2 gray+alpha,
#       3 RGB, 4 RGBA)
#   png.py values OUT.png W H DEPTH CHANNELS V [V...]
#       the given samples, in C order (row, column, channel)
#   png.py show IN.png
#       "W x H, DEPTH-bit, C channel(s)" and the samples in C order
#   png.py smooth-check IN_DIR OUT_DIR
#       the seed's 3x3 smooth (integer mean, 0 on the border) of every 8-bit
#       gray PNG of IN_DIR compared with OUT_DIR/<same name>; prints
#       "ok: N images" or the first difference (exit status 1)
#
# Reading handles every filter type, bit depths 8 and 16, color types 0, 2,
# 4 and 6, no interlacing: what libpng writes by default.
#
#===----------------------------------------------------------------------===#

import os
import struct
import sys
import zlib

COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
CHANNELS = {v: k for k, v in COLOR_TYPES.items()}


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def write_png(path, width, height, depth, channels, samples):
    assert len(samples) == width * height * channels, "wrong number of samples"
    fmt = ">%d%s" % (width * channels, "H" if depth == 16 else "B")
    raw = b""
    for y in range(height):
        row = samples[y * width * channels:(y + 1) * width * channels]
        raw += b"\x00" + struct.pack(fmt, *row)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, COLOR_TYPES[channels], 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("%s: not a PNG" % path)
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise SystemExit("%s: bad CRC in %s" % (path, kind))
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = ihdr
    if interlace or ctype not in CHANNELS or depth not in (8, 16):
        raise SystemExit("%s: unsupported PNG layout" % path)
    channels = CHANNELS[ctype]
    bpp = channels * depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    prev = bytearray(stride)
    samples = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            line[i] = (line[i] + pred) & 0xff
        fmt = ">%d%s" % (width * channels, "H" if depth == 16 else "B")
        samples += struct.unpack(fmt, bytes(line))
        prev = line
    return width, height, depth, channels, samples


def lcg_samples(n, depth, seed):
    state = seed * 2862933555777941757 + 3037000493
    out = []
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append((state >> 33) % (1 << depth))
    return out


def smooth(width, height, px):
    out = [0] * (width * height)
    for y in range(1, height - 1):
        for x in range(1, width - 1):
            s = sum(px[(y + dy) * width + x + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
            out[y * width + x] = s // 9
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "make":
        path, w, h, depth, ch, seed = argv[2], *map(int, argv[3:8])
        write_png(path, w, h, depth, ch, lcg_samples(w * h * ch, depth, seed))
    elif cmd == "values":
        path, w, h, depth, ch = argv[2], *map(int, argv[3:7])
        write_png(path, w, h, depth, ch, [int(v) for v in argv[7:]])
    elif cmd == "show":
        w, h, depth, ch, samples = read_png(argv[2])
        print("%d x %d, %d-bit, %d channel%s" % (w, h, depth, ch, "" if ch == 1 else "s"))
        print(" ".join(str(v) for v in samples))
    elif cmd == "smooth-check":
        names = sorted(n for n in os.listdir(argv[2]) if n.endswith(".png"))
        for name in names:
            w, h, depth, ch, px = read_png(os.path.join(argv[2], name))
            ow, oh, odepth, och, got = read_png(os.path.join(argv[3], name))
            if (ow, oh, odepth, och) != (w, h, 8, 1):
                print("%s: %d x %d, %d-bit, %d channels" % (name, ow, oh, odepth, och))
                return 1
            want = smooth(w, h, px)
            for i, (g, e) in enumerate(zip(got, want)):
                if g != e:
                    print("%s: pixel (%d, %d) is %d, expected %d" % (name, i // w, i % w, g, e))
                    return 1
        print("ok: %d images" % len(names))
    else:
        raise SystemExit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
