#!/usr/bin/env python3
#===- badnpy.py - Write a malformed .npy file ------------------------------===#
#
# Usage: badnpy.py OUT HEADER      a version 1.0 file whose header is HEADER
#                                  (padded like NumPy's, no data)
#        badnpy.py OUT --raw BYTES the file is BYTES, a Python bytes literal
#                                  body such as '\x93NUMPY\x01\x00'
#
#===----------------------------------------------------------------------===#
import ast
import struct
import sys

out = sys.argv[1]
if sys.argv[2] == "--raw":
    data = ast.literal_eval("b'" + sys.argv[3] + "'")
else:
    header = sys.argv[2].encode("latin-1")
    header += b" " * ((-(10 + len(header) + 1)) % 64) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
with open(out, "wb") as f:
    f.write(data)
