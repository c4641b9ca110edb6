# -*- Python -*-
#===- lit.cfg.py - The stn lit suite ---------------------------------------===#
#
# Tests are `.stn` files (the kernel source is the test; RUN lines are `#`
# comments) and `.test` files (command-line behaviour). Each RUN line runs
# under /bin/sh (ShTest with an external shell) with these substitutions:
#
#   stn         the built tool, <build>/bin/stn
#   FileCheck   /usr/lib/llvm-19/bin/FileCheck
#   not         /usr/lib/llvm-19/bin/not (inverts the exit status)
#   count       /usr/lib/llvm-19/bin/count (checks the number of lines)
#   %python     the Python interpreter running lit (for Inputs/*.py helpers)
#   %inputs     this directory's Inputs/ (mknpy.py, npycat.py)
#   %examples   the source tree's dsl-examples/
#
# GPU tests add `REQUIRES: cuda-gpu`; that feature is on only when the
# environment has STN_TEST_GPU=1 (a machine with a CUDA device). Tests that
# assemble generated PTX add `REQUIRES: ptxas` (the CUDA toolkit is there).
#
#===----------------------------------------------------------------------===#

import os
import re
import sys

import lit.formats

config.name = "stn"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".stn", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "CMakeLists.txt",
                   "README.md"]

config.test_source_root = os.path.dirname(os.path.abspath(__file__))
if getattr(config, "stn_obj_root", None):
    config.test_exec_root = os.path.join(config.stn_obj_root, "test", "lit")
else:
    lit_config.fatal("run lit on the build tree (<build>/test/lit), whose "
                     "lit.site.cfg.py says where stn was built")


def tool_pattern(name):
    # A whole word not inside a path, a file name or an option
    # ("kernels.stn", "-stn-x", "/x/stn" stay as they are); lit.llvm's
    # ToolSubst uses the same rule.
    return r"(?<![-.^/\\<\w])\b" + re.escape(name) + r"\b(?![-.\w])"


llvm_tools = config.llvm_tools_dir
stn_tool = os.path.join(config.stn_tools_dir, "stn")
config.substitutions.append(("%python", '"%s"' % sys.executable))
config.substitutions.append(
    ("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(
    ("%examples", os.path.join(config.stn_src_root, "dsl-examples")))
config.substitutions.append((tool_pattern("stn"), stn_tool))
for name in ("FileCheck", "not", "count"):
    config.substitutions.append(
        (tool_pattern(name), os.path.join(llvm_tools, name)))

# The tools' directories first on PATH, so a bare name that escaped the
# substitutions still finds the right binary.
config.environment["PATH"] = os.pathsep.join(
    [config.stn_tools_dir, llvm_tools, config.environment.get("PATH", "")])
# Diagnostics and JSON are compared byte for byte: no colour, no locale.
config.environment["LC_ALL"] = "C"
# stn's own settings (STN_*) and what caches need reach the tests.
for var, value in os.environ.items():
    if var.startswith("STN_") or var in ("HOME", "TMPDIR"):
        config.environment[var] = value
# Compiled kernels are cached in the build tree, never in the user's
# ~/.cache/stn (tests of the cache itself set STN_CACHE_DIR to their own %t).
config.environment["STN_CACHE_DIR"] = os.path.join(config.test_exec_root,
                                                   "stn-cache")

if os.environ.get("STN_TEST_GPU") == "1":
    config.available_features.add("cuda-gpu")

# GPU code generation needs no GPU: tests that assemble the generated PTX
# with the CUDA toolkit's ptxas say `REQUIRES: ptxas` and run `%ptxas`
# (the toolkit also provides libdevice, which kernels calling math need).
cuda_home = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
ptxas = os.path.join(cuda_home, "bin", "ptxas")
if os.access(ptxas, os.X_OK) and os.path.exists(
        os.path.join(cuda_home, "nvvm", "libdevice", "libdevice.10.bc")):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
for var in ("CUDA_HOME", "CUDA_PATH"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
