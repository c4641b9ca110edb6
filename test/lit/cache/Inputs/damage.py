#!/usr/bin/env python3
#===- damage.py - Damage an entry of the kernel cache for the lit tests ---===#
#
#   damage.py truncate DIR KERNEL        cut KERNEL's entry to 100 bytes
#   damage.py flip DIR KERNEL            flip one bit in the middle of it
#   damage.py swap DIR KERNEL OTHER      overwrite it with OTHER's entry
#
# Entries are found by the `kernel=NAME` line of their header (the format is
# described in runtime/lib/Cache.cpp, serializeEntry).
#
#===----------------------------------------------------------------------===#

import glob
import os
import struct
import sys


def kernel_of(path):
    # "STNCACHE", u32 version, u32 flags, u64 header length, header lines.
    data = open(path, "rb").read()
    length = struct.unpack_from("<Q", data, 16)[0]
    for line in data[24:24 + length].decode().splitlines():
        if line.startswith("kernel="):
            return line[len("kernel="):]
    return None


def entry_of(directory, kernel):
    found = [p for p in glob.glob(os.path.join(directory, "*.stnk"))
             if kernel_of(p) == kernel]
    if len(found) != 1:
        sys.exit("damage.py: %d entries for %s in %s" % (len(found), kernel, directory))
    return found[0]


def main():
    action, directory, kernel = sys.argv[1:4]
    path = entry_of(directory, kernel)
    data = bytearray(open(path, "rb").read())
    if action == "truncate":
        data = data[:100]
    elif action == "flip":
        data[len(data) // 2] ^= 0x01
    elif action == "swap":
        data = open(entry_of(directory, sys.argv[4]), "rb").read()
    else:
        sys.exit("damage.py: unknown action " + action)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
