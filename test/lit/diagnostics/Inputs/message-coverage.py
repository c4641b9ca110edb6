#!/usr/bin/env python3
#===- message-coverage.py - Every diagnostic message has a lit test -------===#
#
# Usage: message-coverage.py SOURCE_ROOT [--list]
#
# Extracts the user-facing error and warning messages from the compiler, the
# runtime and the stn tool, and fails, listing them, if a message is checked
# by no CHECK line under test/lit. This keeps "every diagnostic message has a
# lit test" true as messages are added.
#
# Extraction is mechanical, from the source text:
#   - the message argument of the reporting calls: error(range, MSG, ...),
#     warning(range, MSG, ...), Diags.error/warning(file, range, MSG, ...),
#     stn::Error(MSG), argError(index, MSG), usageError(MSG), raise(MSG);
#   - messages built away from the report and passed through a variable:
#     `error = MSG;`, `err = MSG;`, `msg = MSG;` (Types.cpp's operator
#     checks, Sema's layout parser).
# In MSG, each run of adjacent string literals is one message (a ternary
# holds two; literals that are values of a fmt::format are not messages). A
# fmt pattern ("{} takes {} arguments") or a literal glued to runtime text
# is matched by its longest fixed fragment, whose first 24 characters must
# occur in a CHECK line (any check prefix: `# CHECK:`, `# ROUND-NEXT:`, ...).
#
# A message reported with a source location (the compiler's diagnostics)
# must be checked together with its location: the CHECK line that holds the
# fragment must also match `:LINE:COL:` (digits or [[@LINE]] forms).
#
# ALLOWLIST names the messages no user can trigger (internal errors, host
# API misuse that no .stn file or stn command line can reach: those have
# GoogleTest tests), each with the reason.
#
#===----------------------------------------------------------------------===#

import os
import re
import sys

# Calls whose argument number N (0-based) is a message: (name regex, N,
# located), where `located` says the message carries a source location.
COMPILER = [
    (r"(?<![\w.>:])error", 1, True),        # Lexer/Parser/Sema error(range, msg)
    (r"(?<![\w.>:])warning", 1, True),
    (r"\b[Dd]iags\s*\.\s*error", 2, True),   # DiagnosticEngine::error(file, range, msg)
    (r"\b[Dd]iags\s*\.\s*warning", 2, True),
]
HOST = [
    (r"\b(?:stn::)?Error", 0, False),        # throw stn::Error(msg)
    (r"\bargError", 1, False),               # stn.cpp: argument N: msg
]

# Files scanned, relative to the source root, with their reporting calls.
SOURCES = {
    "compiler/lib/Frontend/Lexer.cpp": COMPILER,
    "compiler/lib/Frontend/Parser.cpp": COMPILER,
    "compiler/lib/Frontend/LocalFunctions.cpp": COMPILER,
    "compiler/lib/Sema/Sema.cpp": COMPILER,
    "compiler/lib/Sema/Types.cpp": COMPILER,
    "compiler/lib/Sema/GpuRegions.cpp": COMPILER,
    "compiler/lib/CodeGen/MLIRGen.cpp": COMPILER,
    "compiler/lib/Driver/Pipeline.cpp": COMPILER,
    "runtime/lib/Engine.cpp": HOST,
    "runtime/lib/CallChecks.cpp": HOST,
    "runtime/lib/KernelRuntime.cpp": HOST,
    # The cache's warnings (CacheSession::warn, configuration problems).
    "runtime/lib/Cache.cpp": HOST + [(r"\bwarn", 0, False),
                                     (r"problems\.push_back", 0, False)],
    # The .npy reader: fail(path, msg), and error(msg) in its header parser.
    "runtime/lib/Npy.cpp": [(r"\bfail", 1, False), (r"(?<![\w.>:])error", 0, False)],
    "tools/stn/stn.cpp": HOST,
}
# Messages built away from the report and passed through a variable.
ASSIGNED = re.compile(r"(?<![\w.>])(?:error|err|msg|message)\s*=(?!=)")
# Functions that build a message (noSignatureMessage, operandError): what
# they return is a message.
BUILDER = re.compile(r"std::string\s+\w*(?:Message|Error)\s*\([^;{]*\)\s*\{")

# Where a message may be checked: lit CHECK lines, and for the .npy reader
# (whose inputs are files, built in the test itself) its GoogleTest test.
UNIT_COVERAGE = {
    "runtime/lib/Npy.cpp": ["test/unit/NpyTest.cpp"],
}

# key fragment -> why no lit test checks it.
ALLOWLIST = {
    # Internal compiler errors: a bug in stn, not a user mistake.
    "internal compiler error": "internal errors (bugs), not user mistakes",
    "unknown operator": "Types.cpp default case: the parser produces no other operators",
    # The back end cannot be missing or broken in a test run.
    "cannot detect the host CPU": "LLVM cannot fail to describe the host it runs on",
    "cannot create the host target machine": "as above",
    "the host target cannot emit this file type": "as above",
    "cannot initialize the JIT": "LLVM's JIT always starts on supported hosts",
    # Host API misuse: unreachable from a .stn file or the stn tool (which
    # always builds well-formed views); GoogleTest covers them
    # (test/unit/CallErrorsTest.cpp, EngineTest.cpp).
    "0-dimensional arrays are not supported": "host API only (CallErrorsTest)",
    "arrays of more than 8 dimensions are not": "host API only (CallErrorsTest)",
    "strides given for": "host API only (CallErrorsTest)",
    "negative extent": "host API only (CallErrorsTest)",
    "is not a multiple of the item size": "host API only (CallErrorsTest)",
    "null data pointer": "host API only (CallErrorsTest)",
    "data pointer is not aligned to": "host API only (CallErrorsTest)",
    "optLevel must be between 0 and 3": "host API only (EngineTest)",
    "does not take the keyword argument": "host API only (CallErrorsTest): the CLI has no keyword arguments",
    "must be an array": "host API only (CallErrorsTest)",
    "is read-only": "host API only (CallErrorsTest): the CLI maps .npy files writable",
    "but the result has shape": "host API only (CallErrorsTest): the CLI has no out=",
    "pass a separate output array": "host API only (CallErrorsTest): the CLI has no out=",
    "cannot convert a complex number to": "host API only (EngineTest): the CLI types literals by the signature",
    "a GPU call needs at least one array argument":
        "host API only (GpuTest): Kernel::call and stn run compute a target=\"cuda\" ufunc of "
        "scalars on the CPU; only Kernel::callOnDevice gets here",
    "callOnDevice runs those": "host API only (GpuTest): the CLI has no callOnDevice",
    "callWithDeviceArrays runs those":
        "host API only (GpuTest): the CLI has no DeviceArrays",
    "does not take out= (it is a @jit kernel)": "host API only: the CLI has no callOnDevice",
    "which callOnDevice drops": "host API only (GpuTest JitCudaDeviceArraysStayOnTheDevice)",
    # Defensive checks behind earlier ones that reject the same mistake.
    "() is not supported here": "default of the builtin switches: every builtin is handled above",
    "appears in no input, so its size is unknown":
        "CallChecks: the layout is rejected when the module loads (load-errors.stn)",
    "unknown stage": "stn ir: CLI11 rejects an unknown --emit before stn sees it (cli/usage-errors.test)",
    "unsupported type": "stn.cpp: default of a switch over every dtype",
    "cannot write an array view with": "host API only (NpyTest): writeNpy of a malformed view",
    # The file system or the linker failing under the cache.
    "cannot read file": "an I/O error on a file that opened (NpyTest fakes none)",
    "cannot read the header": "an I/O error after the size was read",
    "cannot write file": "an I/O error while writing (NpyTest covers opening)",
    "cannot remove '": "stn cache clear on a file the user cannot delete (root runs the tests)",
    "it could not be loaded": "a cached kernel whose checksum is right but that dlopen rejects",
}


# Messages of features still being written by other engineers (parallel
# prange loops, GPU kernels, fast-math flag sets), without lit tests yet:
# listed as "pending" and not failed, so that the check can be in the suite
# meanwhile. Each must move to a lit test; empty this list when they have.
PENDING = [
    "GPU", "cuda", "shared memory",
    "is a value, not a function", "is a function: call it",
    "() got an unexpected keyword argument", "() is missing the argument",
    "() takes a constant 1, 2 or 3", "must be positive integer constants",
    "supports 1 to 4 dimensions", "() updates an element of an array",
    "() is not supported on arrays of", "-dimensional array in",
    "() takes a real number here", "--grid", "three positive integers",
]


def strip_comments(text):
    """Blanks out // and /* */ comments, keeping string literals and offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or (c == "'" and not text[i - 1:i].isalnum()):
            j = skip_literal(text, i)
            out.append(text[i:j])
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_literal(text, i):
    """The offset after the string or character literal starting at i."""
    q = text[i]
    j = i + 1
    while j < len(text) and text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def call_args(text, open_paren):
    """Top-level arguments of the call whose '(' is at open_paren."""
    args, depth, start, i = [], 0, open_paren + 1, open_paren
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[start:i])
                return args
        elif c == "," and depth == 1:
            args.append(text[start:i])
            start = i + 1
        i += 1
    return args


def statement_rhs(text, start):
    """The expression from start to the ';' that ends it."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            return text[start:i]
        i += 1
    return text[start:]


LITERAL_RUN = re.compile(r'"(?:[^"\\]|\\.)*"(?:\s*"(?:[^"\\]|\\.)*")*')


def decode(run):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', run)
    s = "".join(parts)
    return (s.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t")
            .replace("\\\\", "\\"))


def key_of(message):
    """The longest fixed fragment of a message (fmt fields split it)."""
    frags = re.split(r"\{[^{}]*\}|\n", message)
    frags = [f.strip(" :") for f in frags]
    # "error: " / "stn: error: " prefixes are formatting, not the message.
    frags = [re.sub(r"^(stn: )?error: ", "", f) for f in frags]
    best = max(frags, key=len) if frags else ""
    return best if sum(ch.isalpha() for ch in best) >= 4 else None


def format_fields(expr):
    """Spans of the values of fmt::format calls in expr: literals there
    ("break" in format("'{}' outside a loop", b ? "break" : "continue")) are
    parts of a message, not messages."""
    spans = []
    for m in re.finditer(r"fmt::format\s*\(", expr):
        args = call_args(expr, m.end() - 1)
        if len(args) > 1:
            start = m.end() + len(args[0]) + 1
            end = start + sum(len(a) + 1 for a in args[1:])
            spans.append((start, end))
    return spans


def matching_brace(text, open_brace):
    depth, i = 0, open_brace
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


def messages(root):
    """(file, line, key, located, message) for every message in SOURCES."""
    found = []
    for rel, reporters in SOURCES.items():
        path = os.path.join(root, rel)
        text = strip_comments(open(path, encoding="utf-8").read())

        def add(pos, expr, located):
            line = text.count("\n", 0, pos) + 1
            fields = format_fields(expr)
            for m in LITERAL_RUN.finditer(expr):
                if any(b <= m.start() < e for b, e in fields):
                    continue
                message = decode(m.group(0))
                key = key_of(message)
                if key:
                    found.append((rel, line, key, located, message))

        for name, index, located in reporters:
            for m in re.finditer(name + r"\s*\(", text):
                args = call_args(text, m.end() - 1)
                if len(args) <= index:
                    continue
                # A report without a file (`nullptr`) has no location.
                loc = located and not (index == 2 and args[0].strip() in
                                       ("nullptr", "{}"))
                add(m.start(), args[index], loc)
        for m in ASSIGNED.finditer(text):
            add(m.start(), statement_rhs(text, m.end()), False)
        for m in BUILDER.finditer(text):
            body_end = matching_brace(text, m.end() - 1)
            for r in re.finditer(r"\breturn\b", text[m.end():body_end]):
                add(m.end() + r.start(), statement_rhs(text, m.end() + r.end()), False)
    return found


LOCATION = re.compile(r":(\d+|\[\[@LINE[^\]]*\]\]|\{\{[^}]*\}\}):(\d+|\{\{[^}]*\}\}):")
CHECK = re.compile(r"^[#;/\s]*[A-Z][A-Z0-9_-]*(?:-NEXT|-SAME|-NOT|-DAG|-LABEL)?:\s?(.*)$")


def check_lines(root):
    lines = []
    litdir = os.path.join(root, "test", "lit")
    for dirpath, _, files in os.walk(litdir):
        for f in files:
            if not (f.endswith(".stn") or f.endswith(".test")):
                continue
            with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                for l in fh:
                    m = CHECK.match(l)
                    if m and not l.lstrip("#; ").startswith("RUN"):
                        # FileCheck regexes ({{...}}) are not message text.
                        lines.append(m.group(1))
    return lines


def unit_text(root, rel, cache={}):
    if rel not in cache:
        with open(os.path.join(root, rel), encoding="utf-8") as fh:
            # C++ string literals escape quotes and backslashes.
            cache[rel] = decode_cpp(fh.read())
    return cache[rel]


def decode_cpp(text):
    return text.replace('\\"', '"').replace("\\\\", "\\")


def main():
    root = sys.argv[1]
    msgs = messages(root)
    checks = check_lines(root)
    if "--list" in sys.argv:
        for rel, line, key, located, _ in msgs:
            print(f"{rel}:{line}: {'L ' if located else '  '}{key}")
        return 0
    missing, unlocated, pending = [], [], []
    for rel, line, key, located, message in msgs:
        if any(a in message for a in ALLOWLIST):
            continue
        if any(p in message for p in PENDING):
            if not any(key.strip("'\" ")[:24] in c for c in checks):
                pending.append((rel, line, key))
            continue
        # A check may stop early ("'2:bool' is not a bool"): the start of
        # the key is enough.
        probe = key.strip("'\" ")[:24]
        hits = [c for c in checks if probe in c]
        if not hits and any(key in unit_text(root, u)
                            for u in UNIT_COVERAGE.get(rel, [])):
            continue
        if not hits:
            missing.append((rel, line, key))
        elif located and not any(LOCATION.search(c) for c in hits):
            unlocated.append((rel, line, key))
    for rel, line, key in missing:
        print(f"{rel}:{line}: no lit test checks: {key}")
    for rel, line, key in unlocated:
        print(f"{rel}:{line}: no lit test checks the location of: {key}")
    for rel, line, key in pending:
        print(f"{rel}:{line}: pending (no lit test yet): {key}")
    print(f"{len(msgs)} messages, {len(missing)} unchecked, "
          f"{len(unlocated)} checked without their location, {len(pending)} pending")
    return 1 if missing or unlocated else 0


if __name__ == "__main__":
    sys.exit(main())
