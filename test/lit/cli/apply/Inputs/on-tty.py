#!/usr/bin/env python3
#===- on-tty.py - Run a command with stderr on a pseudo-terminal ---------===#
#
#   on-tty.py COMMAND [ARG...]
#
# Runs COMMAND with its stderr connected to a new pseudo-terminal (stdout
# stays a pipe) and prints what it wrote there, carriage returns and escape
# sequences shown as <CR> and <ESC>, then "exit N". The `stn apply` tests use
# it to see the progress bar that is only drawn on a terminal.
#
#===----------------------------------------------------------------------===#

import os
import pty
import subprocess
import sys

master, slave = pty.openpty()
proc = subprocess.Popen(sys.argv[1:], stderr=slave, stdout=subprocess.DEVNULL)
os.close(slave)
out = b""
while True:
    try:
        data = os.read(master, 65536)
    except OSError:  # EIO once the child has closed the terminal
        break
    if not data:
        break
    out += data
code = proc.wait()
text = out.decode("utf-8", "replace").replace("\r", "<CR>").replace("\x1b", "<ESC>")
print(text.replace("<CR><CR>", "<CR>"))
print("exit %d" % code)
