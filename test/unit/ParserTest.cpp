//===- ParserTest.cpp - Tests of the diagnostics engine, lexer and parser -===//
//
// Most tests compare the AST printer's output (the same text that
// `stn ir --emit=ast` prints), which keeps them readable: the expected
// string is the tree. Error tests compare "line:col: message" so that the
// location of every message is pinned down as well as its wording.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Parser.h"

#include "llvm/Support/Casting.h"

#include <gtest/gtest.h>

#include <string>
#include <pthread.h>
#include <vector>

using namespace stn;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace {

struct Parsed {
  std::shared_ptr<SourceFile> file;
  DiagnosticEngine diags;
  std::unique_ptr<ast::Module> module;
};

std::unique_ptr<Parsed> parse(const std::string &src, const std::string &name = "t.stn") {
  auto p = std::make_unique<Parsed>();
  p->file = std::make_shared<SourceFile>(name, src);
  p->module = parseModule(p->file, p->diags);
  return p;
}

/// The printed module; fails the test if there were errors.
std::string printed(const std::string &src) {
  auto p = parse(src);
  EXPECT_FALSE(p->diags.hasErrors()) << p->diags.format();
  return ast::printModule(*p->module);
}

/// Parses `lines` as the body of `def f():` and prints the function.
std::string body(const std::string &lines) {
  std::string src = "def f():\n";
  size_t start = 0;
  while (start < lines.size()) {
    size_t nl = lines.find('\n', start);
    if (nl == std::string::npos)
      nl = lines.size();
    src += "    " + lines.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  auto p = parse(src);
  EXPECT_FALSE(p->diags.hasErrors()) << p->diags.format();
  if (p->module->functions.size() != 1)
    return "<no function>";
  return ast::printFunction(*p->module->functions[0], *p->file);
}

/// Parses a standalone expression (the signature-string entry point).
std::string expr(const std::string &src) {
  auto file = std::make_shared<SourceFile>("e", src);
  DiagnosticEngine diags;
  ast::ExprPtr e = parseExpression(file, diags, 0, static_cast<uint32_t>(src.size()));
  EXPECT_FALSE(diags.hasErrors()) << diags.format();
  return e ? ast::printExpr(*e) : "<null>";
}

/// The errors as "line:col: message" in report order.
std::vector<std::string> errors(const std::string &src) {
  auto p = parse(src);
  std::vector<std::string> out;
  for (const Diagnostic &d : p->diags.diagnostics()) {
    if (!d.file) {
      out.push_back(d.message);
      continue;
    }
    auto [line, col] = d.file->lineCol(d.range.begin);
    out.push_back(std::to_string(line) + ":" + std::to_string(col) + ": " + d.message);
  }
  return out;
}

std::string firstError(const std::string &src) {
  auto e = errors(src);
  return e.empty() ? "<no error>" : e.front();
}

std::string exprError(const std::string &src) {
  auto file = std::make_shared<SourceFile>("e", src);
  DiagnosticEngine diags;
  ast::ExprPtr e = parseExpression(file, diags, 0, static_cast<uint32_t>(src.size()));
  EXPECT_EQ(e, nullptr);
  if (diags.diagnostics().empty())
    return "<no error>";
  const Diagnostic &d = diags.diagnostics().front();
  auto [line, col] = file->lineCol(d.range.begin);
  return std::to_string(line) + ":" + std::to_string(col) + ": " + d.message;
}

std::string textOf(const SourceFile &f, SourceRange r) {
  return f.text().substr(r.begin, r.end - r.begin);
}

using Strings = std::vector<std::string>;

const char *kClosest = R"(import numpy as np
from numba import jit, prange
import math

@jit(nopython=True)
def closest(points):
    """Find the closest pair."""
    min_distance2 = 999999.
    mdp1, mdp2 = None, None
    for i in range(len(points)):
        for j in range(i+1, len(points)):
            distance2 = (points[i][0]-points[j][0])**2 + \
                        (points[i][1]-points[j][1])**2
            if distance2 < min_distance2:
               min_distance2 = distance2
               mdp1, mdp2 = points[i], points[j]
    return mdp1, mdp2, math.sqrt(min_distance2)
)";

/// Exercises most of the grammar; used for the robustness tests.
const char *kKitchenSink = R"(import numpy as np
import numba as nb
from numba import cuda, float32
from __future__ import print_function

# Threads per block.
TPB = 16
SCALE = -1.5e-3

@cuda.jit('void(f8[:,:], f8[:,:], f8[:,:])', fastmath=True)
def matmul(A: f8[:, :], B, C, n=3) -> None:
    """Multiply."""
    sA = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    x, y = cuda.grid(2)
    if x >= C.shape[0] and y >= C.shape[1]:
        return
    tmp = 0.
    for i in range(bpg):
        sA[tx, ty] = A[x, ty + i * TPB]
        cuda.syncthreads()
        for j in range(TPB):
            tmp += sA[tx, j] * sB[j, ty]
        else:
            pass
    while tmp > 1 or not (tmp < -1):
        tmp //= 2; tmp **= 1
        if tmp == 0: break
        elif tmp is not None: continue
        else:
            tmp = a[1:-1, ::2] if tmp in b else ~tmp << 2
    C[x, y] = tmp
    z = 2j + 0x1F - 0b101 * 0o17 % 1_000 @ q
    s = 'a' "b" r'\n' """c
d"""
    t = ()
    u = (1,)
    v = [1, 2, (3, 4)]
    w = a < b <= c != d
    return x, y
)";

} // namespace

//===----------------------------------------------------------------------===//
// SourceFile and diagnostics
//===----------------------------------------------------------------------===//

TEST(SourceFile, LineTable) {
  SourceFile f("a.stn", "ab\ncd\r\n\nlast");
  EXPECT_EQ(f.lineCol(0), std::make_pair(1u, 1u));
  EXPECT_EQ(f.lineCol(1), std::make_pair(1u, 2u));
  EXPECT_EQ(f.lineCol(2), std::make_pair(1u, 3u)); // the newline itself
  EXPECT_EQ(f.lineCol(3), std::make_pair(2u, 1u));
  EXPECT_EQ(f.lineCol(7), std::make_pair(3u, 1u));
  EXPECT_EQ(f.lineCol(8), std::make_pair(4u, 1u));
  EXPECT_EQ(f.lineCol(12), std::make_pair(4u, 5u)); // end of file
  EXPECT_EQ(f.lineCol(999), std::make_pair(4u, 5u)); // clamped
  EXPECT_EQ(f.lineText(1), "ab");
  EXPECT_EQ(f.lineText(2), "cd"); // CR stripped
  EXPECT_EQ(f.lineText(3), "");
  EXPECT_EQ(f.lineText(4), "last");
  EXPECT_EQ(f.lineText(5), "");
  EXPECT_EQ(f.lineText(0), "");
}

TEST(SourceFile, TrailingNewlineAndEmpty) {
  SourceFile f("a.stn", "x\n");
  EXPECT_EQ(f.lineCol(2), std::make_pair(2u, 1u));
  EXPECT_EQ(f.lineText(2), "");
  SourceFile e("e.stn", "");
  EXPECT_EQ(e.lineCol(0), std::make_pair(1u, 1u));
  EXPECT_EQ(e.lineText(1), "");
}

TEST(Diagnostics, FormatWithRange) {
  auto f = std::make_shared<SourceFile>("file.stn", "def f():\n    x = (a +\n");
  DiagnosticEngine d;
  d.error(f, SourceRange(17, 20), "expected ')' to close '(' opened at 2:9", "a hint");
  EXPECT_EQ(d.format(), "file.stn:2:9: error: expected ')' to close '(' opened at 2:9\n"
                        "    x = (a +\n"
                        "        ^~~\n"
                        "hint: a hint\n");
  EXPECT_TRUE(d.hasErrors());
  EXPECT_EQ(d.numErrors(), 1u);
}

TEST(Diagnostics, CaretOnlyForShortRanges) {
  auto f = std::make_shared<SourceFile>("f.stn", "abc\n");
  EXPECT_EQ(DiagnosticEngine::format({Severity::Error, f, {1, 2}, "m", ""}),
            "f.stn:1:2: error: m\nabc\n ^\n");
  EXPECT_EQ(DiagnosticEngine::format({Severity::Error, f, {1, 1}, "m", ""}),
            "f.stn:1:2: error: m\nabc\n ^\n");
  // A range that runs past the end of its line is cut at the line's end.
  EXPECT_EQ(DiagnosticEngine::format({Severity::Error, f, {1, 4}, "m", ""}),
            "f.stn:1:2: error: m\nabc\n ^~\n");
  // At the newline (end of the line's text).
  EXPECT_EQ(DiagnosticEngine::format({Severity::Error, f, {3, 3}, "m", ""}),
            "f.stn:1:4: error: m\nabc\n   ^\n");
}

TEST(Diagnostics, CaretLineKeepsTabs) {
  auto f = std::make_shared<SourceFile>("f.stn", "\tif x:\n\t\ty = $\n");
  DiagnosticEngine d;
  d.error(f, SourceRange(13, 14), "unexpected character '$'");
  EXPECT_EQ(d.format(), "f.stn:2:7: error: unexpected character '$'\n"
                        "\t\ty = $\n"
                        "\t\t    ^\n");
}

TEST(Diagnostics, MultiLineRangeUnderlinesFirstLine) {
  auto f = std::make_shared<SourceFile>("f.stn", "x = foo(a,\n        b)\n");
  DiagnosticEngine d;
  d.error(f, SourceRange(4, 20), "bad call");
  EXPECT_EQ(d.format(), "f.stn:1:5: error: bad call\n"
                        "x = foo(a,\n"
                        "    ^~~~~~\n");
}

TEST(Diagnostics, SeveritiesNoFileAndJoin) {
  auto f = std::make_shared<SourceFile>("f.stn", "abc\n");
  DiagnosticEngine d;
  d.warning(f, SourceRange(0, 3), "w");
  d.note(f, SourceRange(0, 1), "n");
  d.error(nullptr, SourceRange(), "no location", "try this");
  d.report(Severity::Error, nullptr, SourceRange(), "plain");
  EXPECT_EQ(d.numErrors(), 2u);
  EXPECT_EQ(d.format(), "f.stn:1:1: warning: w\nabc\n^~~\n"
                        "f.stn:1:1: note: n\nabc\n^\n"
                        "error: no location\nhint: try this\n"
                        "error: plain\n");
  d.clear();
  EXPECT_FALSE(d.hasErrors());
  EXPECT_EQ(d.format(), "");
}

TEST(Diagnostics, WarningsAreNotErrors) {
  DiagnosticEngine d;
  d.warning(nullptr, {}, "w");
  EXPECT_FALSE(d.hasErrors());
  EXPECT_EQ(d.diagnostics().size(), 1u);
}

TEST(Diagnostics, ClosestMatch) {
  Strings names = {"len", "range", "prange", "sqrt", "zeros", "ones_like"};
  EXPECT_EQ(closestMatch("lenn", names), "len");
  EXPECT_EQ(closestMatch("sqrtt", names), "sqrt");
  EXPECT_EQ(closestMatch("prnge", names), "prange");
  EXPECT_EQ(closestMatch("one_like", names), "ones_like");
  EXPECT_EQ(closestMatch("zros", names), "zeros");
  EXPECT_EQ(closestMatch("foo", names), "");
  // Swapped neighbours are one edit (optimal string alignment distance).
  EXPECT_EQ(closestMatch("rnage", names), "range");
  EXPECT_EQ(closestMatch("vlaues", {"values", "v"}), "values");
  EXPECT_EQ(closestMatch("ab", {"xy"}), ""); // 2 edits > limit 1
  EXPECT_EQ(closestMatch("x", {"y"}), "y");     // limit is at least 1
  EXPECT_EQ(closestMatch("x", {}), "");
  EXPECT_EQ(closestMatch("abc", {"abd", "abe"}), "abd"); // first of ties
}

//===----------------------------------------------------------------------===//
// The sample from the Numba course
//===----------------------------------------------------------------------===//

TEST(Parser, ClosestPairSample) {
  EXPECT_EQ(printed(kClosest),
            R"AST((module
  (import numpy as np)
  (from numba import jit prange)
  (import math)
  (def closest (params points)
    (decorators (call (name jit) (kw nopython (bool True))))
    (docstring "Find the closest pair.")
    (assign (name min_distance2) (float 999999))
    (assign (tuple (name mdp1) (name mdp2)) (tuple (none) (none)))
    (for (name i) (call (name range) (call (name len) (name points)))
      (for (name j) (call (name range) (binop + (name i) (int 1)) (call (name len) (name points)))
        (assign (name distance2) (binop + (binop ** (binop - (subscript (subscript (name points) (name i)) (int 0)) (subscript (subscript (name points) (name j)) (int 0))) (int 2)) (binop ** (binop - (subscript (subscript (name points) (name i)) (int 1)) (subscript (subscript (name points) (name j)) (int 1))) (int 2))))
        (if (compare (name distance2) < (name min_distance2))
          (assign (name min_distance2) (name distance2))
          (assign (tuple (name mdp1) (name mdp2)) (tuple (subscript (name points) (name i)) (subscript (name points) (name j)))))))
    (return (tuple (name mdp1) (name mdp2) (call (attr (name math) sqrt) (name min_distance2))))))
)AST");
}

TEST(Parser, ClosestPairStructure) {
  auto p = parse(kClosest);
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  const ast::Module &m = *p->module;
  ASSERT_EQ(m.imports.size(), 3u);
  EXPECT_EQ(m.imports[0]->module, "numpy");
  EXPECT_EQ(m.imports[0]->alias, "np");
  EXPECT_FALSE(m.imports[0]->isFrom());
  EXPECT_TRUE(m.imports[1]->isFrom());
  ASSERT_EQ(m.imports[1]->names.size(), 2u);
  EXPECT_EQ(m.imports[1]->names[1].first, "prange");
  ASSERT_EQ(m.functions.size(), 1u);
  const ast::FunctionDef *f = m.findFunction("closest");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(m.findFunction("nope"), nullptr);
  EXPECT_EQ(f->docstring, "Find the closest pair.");
  EXPECT_EQ(textOf(*p->file, f->nameRange), "closest");
  EXPECT_EQ(p->file->lineCol(f->range.begin), std::make_pair(6u, 1u));
  EXPECT_EQ(p->file->lineCol(f->range.end), std::make_pair(17u, 48u));
  ASSERT_EQ(f->params.size(), 1u);
  EXPECT_EQ(textOf(*p->file, f->params[0].range), "points");
  ASSERT_EQ(f->body.size(), 4u); // docstring is not part of the body
  // The continued assignment spans two lines.
  auto *outer = cast<ast::For>(f->body[2].get());
  auto *inner = cast<ast::For>(outer->body[0].get());
  auto *assign = cast<ast::Assign>(inner->body[0].get());
  EXPECT_EQ(p->file->lineCol(assign->range().begin), std::make_pair(12u, 13u));
  EXPECT_EQ(p->file->lineCol(assign->range().end), std::make_pair(13u, 55u));
  EXPECT_TRUE(m.other.empty());
  EXPECT_TRUE(m.globals.empty());
}

//===----------------------------------------------------------------------===//
// Module level
//===----------------------------------------------------------------------===//

TEST(Parser, Imports) {
  EXPECT_EQ(printed("import numpy as np\n"
                "import math\n"
                "import numba\n"
                "import numba as nb\n"
                "from numba import jit, njit, prange\n"
                "from numba import cuda, float32\n"
                "from __future__ import print_function\n"
                "import os.path, sys as system\n"
                "from numba import (jit as j,\n"
                "                   njit,)\n"
                "from . import x\n"
                "from ..pkg.mod import *\n"),
                "(module\n"
                "  (import numpy as np)\n"
                "  (import math)\n"
                "  (import numba)\n"
                "  (import numba as nb)\n"
                "  (from numba import jit njit prange)\n"
                "  (from numba import cuda float32)\n"
                "  (from __future__ import print_function)\n"
                "  (import os.path)\n"
                "  (import sys as system)\n"
                "  (from numba import jit as j njit)\n"
                "  (from . import x)\n"
                "  (from ..pkg.mod import *))\n");
}

TEST(Parser, ImportRanges) {
  auto p = parse("import a, b as c\n");
  ASSERT_EQ(p->module->imports.size(), 2u);
  EXPECT_EQ(textOf(*p->file, p->module->imports[0]->range()), "import a");
  EXPECT_EQ(textOf(*p->file, p->module->imports[1]->range()), "b as c");
}

TEST(Parser, GlobalsAndOtherStatements) {
  auto p = parse("TPB = 16\n"
                 "X: int = 3\n"
                 "A = B = 1\n"
                 "a, b = 1, 2\n"
                 "print(TPB)\n"
                 "if __name__ == '__main__':\n"
                 "    main()\n"
                 "for i in range(3): pass\n"
                 "class C: pass\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  ASSERT_EQ(p->module->globals.size(), 1u);
  EXPECT_EQ(p->module->globals[0].name, "TPB");
  EXPECT_EQ(textOf(*p->file, p->module->globals[0].range), "TPB = 16");
  EXPECT_EQ(p->module->other.size(), 7u);
  EXPECT_EQ(ast::printModule(*p->module),
            "(module\n"
            "  (global TPB (int 16))\n"
            "  (assign (name X) (int 3) (annotation (name int)))\n"
            "  (assign (name A) (name B) (int 1))\n"
            "  (assign (tuple (name a) (name b)) (tuple (int 1) (int 2)))\n"
            "  (expr (call (name print) (name TPB)))\n"
            "  (if (compare (name __name__) == (str \"__main__\"))\n"
            "    (expr (call (name main))))\n"
            "  (for (name i) (call (name range) (int 3))\n"
            "    (pass))\n"
            "  (unsupported-stmt \"classes\"))\n");
}

TEST(Parser, ModuleDocstringIsDropped) {
  EXPECT_EQ(printed("\"\"\"Kernels.\"\"\"\nx = 1\n'not a docstring'\n"),
            "(module\n  (global x (int 1))\n  (expr (str \"not a docstring\")))\n");
}

TEST(Parser, EmptyAndCommentOnlyFiles) {
  EXPECT_EQ(printed(""), "(module)\n");
  EXPECT_EQ(printed("\n\n   \n"), "(module)\n");
  EXPECT_EQ(printed("# just a comment\n    # indented comment\n"), "(module)\n");
  EXPECT_EQ(printed("# no newline"), "(module)\n");
}

TEST(Parser, SourceOrderIsKept) {
  EXPECT_EQ(printed("def a(): pass\nimport math\nX = 1\ndef b(): pass\n"),
            "(module\n"
            "  (def a (params)\n    (pass))\n"
            "  (import math)\n"
            "  (global X (int 1))\n"
            "  (def b (params)\n    (pass)))\n");
}

TEST(Parser, FindFunctionReturnsLastDefinition) {
  auto p = parse("def f(): return 1\ndef g(): pass\ndef f(): return 2\n");
  ASSERT_EQ(p->module->functions.size(), 3u);
  EXPECT_EQ(p->module->findFunction("f"), p->module->functions[2].get());
  EXPECT_EQ(p->module->findFunction("g"), p->module->functions[1].get());
}

//===----------------------------------------------------------------------===//
// Function definitions and decorators
//===----------------------------------------------------------------------===//

TEST(Parser, Decorators) {
  EXPECT_EQ(printed("@jit\n"
                "@numba.njit\n"
                "@jit(nopython=True, parallel=True)\n"
                "@cuda.jit('void(f8[:])', device=True)\n"
                "@jit(nb.float64(nb.int32, nb.int32))\n"
                "@jit([float64(float64), float32(float32)],)\n"
                "def f(x): return x\n"),
            "(module\n"
            "  (def f (params x)\n"
            "    (decorators (name jit) (attr (name numba) njit) "
            "(call (name jit) (kw nopython (bool True)) (kw parallel (bool True))) "
            "(call (attr (name cuda) jit) (str \"void(f8[:])\") (kw device (bool True))) "
            "(call (name jit) (call (attr (name nb) float64) (attr (name nb) int32) (attr (name nb) int32))) "
            "(call (name jit) (list (call (name float64) (name float64)) (call (name float32) (name float32)))))\n"
            "    (return (name x))))\n");
}

TEST(Parser, DecoratorSpanningLines) {
  EXPECT_EQ(printed("@cuda.jit(argtypes=[nb.float32,\n"
                "                    nb.uint8[:,:]],\n"
                "          device=True)\n"
                "def k(a, b):\n"
                "    pass\n"),
            "(module\n"
            "  (def k (params a b)\n"
            "    (decorators (call (attr (name cuda) jit) "
            "(kw argtypes (list (attr (name nb) float32) (subscript (attr (name nb) uint8) "
            "(tuple (slice _ _ _) (slice _ _ _))))) (kw device (bool True))))\n"
            "    (pass)))\n");
}

TEST(Parser, Parameters) {
  EXPECT_EQ(printed("def f(a, b: f64[:], c=1, d: int = 2,) -> f64:\n    pass\n"),
            "(module\n"
            "  (def f (params a (b : (subscript (name f64) (slice _ _ _))) (c = (int 1)) "
            "(d : (name int) = (int 2)))\n"
            "    (returns (name f64))\n"
            "    (pass)))\n");
  auto p = parse("def f(alpha, beta: int = 3):\n    pass\n");
  const auto &params = p->module->functions[0]->params;
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(textOf(*p->file, params[1].range), "beta");
  EXPECT_EQ(textOf(*p->file, params[1].annotation->range()), "int");
  EXPECT_EQ(textOf(*p->file, params[1].defaultValue->range()), "3");
  EXPECT_EQ(p->module->functions[0]->params[0].annotation, nullptr);
}

TEST(Parser, Docstrings) {
  auto p = parse("def f():\n"
                 "    \"\"\"\n"
                 "        Perform C = A * B.\n"
                 "    \"\"\"\n"
                 "    n = 1\n"
                 "def g():\n"
                 "    'single'\n"
                 "def h():\n"
                 "    x = 1\n"
                 "    'not a docstring'\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  const auto &fs = p->module->functions;
  EXPECT_EQ(fs[0]->docstring, "\n        Perform C = A * B.\n    ");
  EXPECT_EQ(fs[0]->body.size(), 1u);
  EXPECT_EQ(fs[1]->docstring, "single");
  EXPECT_TRUE(fs[1]->body.empty());
  EXPECT_EQ(fs[2]->docstring, "");
  EXPECT_EQ(fs[2]->body.size(), 2u);
}

TEST(Parser, SingleLineFunctionBody) {
  EXPECT_EQ(printed("def f(x): return x + 1\n"),
            "(module\n  (def f (params x)\n    (return (binop + (name x) (int 1)))))\n");
}

TEST(Parser, NestedFunctionsAreLifted) {
  // A def in a function, and one in that, move to the module under their
  // qualified names; h reads y of g and n of f, so g passes both to it and
  // f passes n to g; the defs leave a pass behind.
  auto p = parse("def f(n):\n"
                 "    def g(y):\n"
                 "        def h(): return y + n\n"
                 "        return h()\n"
                 "    return g(1)\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  const auto &fs = p->module->functions;
  ASSERT_EQ(fs.size(), 3u);
  EXPECT_EQ(fs[1]->name, "f.<locals>.g");
  EXPECT_EQ(fs[1]->enclosing, "f");
  EXPECT_EQ(fs[2]->name, "f.<locals>.g.<locals>.h");
  EXPECT_EQ(fs[2]->enclosing, "f.<locals>.g");
  EXPECT_EQ(fs[1]->captures, 1u);
  EXPECT_EQ(fs[2]->captures, 2u);
  EXPECT_EQ(fs[2]->writtenParams(), 0u);
  EXPECT_EQ(ast::printFunction(*fs[0], *p->file),
            "(def f (params n)\n"
            "  (pass)\n"
            "  (return (call (name f.<locals>.g) (int 1) (captured (name n)))))\n");
  EXPECT_EQ(ast::printFunction(*fs[1], *p->file),
            "(def f.<locals>.g (params y) (captures n)\n"
            "  (pass)\n"
            "  (return (call (name f.<locals>.g.<locals>.h) (captured (name y) (name n)))))\n");
  EXPECT_TRUE(isa<ast::Pass>(fs[0]->body[0].get()));
  EXPECT_EQ(p->file->lineCol(fs[1]->nameRange.begin), std::make_pair(2u, 9u));
}

TEST(Parser, LambdasAreLifted) {
  // A named lambda takes its name; an anonymous one is <lambda>, numbered
  // from the second on; one used as a value is a closure.
  auto p = parse("def f(n):\n"
                 "    sq = lambda x: x * x\n"
                 "    a = (lambda: n)() + sq(2)\n"
                 "    return sorted(a, key=lambda t: t + n)\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  const auto &fs = p->module->functions;
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(fs[1]->name, "f.<locals>.sq");
  EXPECT_EQ(fs[2]->name, "f.<locals>.<lambda>");
  EXPECT_EQ(fs[3]->name, "f.<locals>.<lambda#2>");
  EXPECT_EQ(ast::printFunction(*fs[0], *p->file),
            "(def f (params n)\n"
            "  (pass)\n"
            "  (assign (name a) (binop + (call (name f.<locals>.<lambda>) (captured (name n))) "
            "(call (name f.<locals>.sq) (int 2))))\n"
            "  (return (call (name sorted) (name a) (kw key (closure f.<locals>.<lambda#2> "
            "(name n))))))\n");
  EXPECT_EQ(ast::printFunction(*fs[3], *p->file),
            "(def f.<locals>.<lambda#2> (params t) (captures n)\n"
            "  (return (binop + (name t) (name n))))\n");
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

TEST(Parser, Assignments) {
  EXPECT_EQ(body("x = 1\n"
                 "a = b = 0\n"
                 "a, b = b, a\n"
                 "(a, b) = c\n"
                 "[a, b] = c\n"
                 "a, = c\n"
                 "x.y = 1\n"
                 "A[i, j] = 2\n"
                 "x: int = 3\n"
                 "y: f64\n"
                 "t = 1, 2\n"
                 "u = 1,\n"),
            "(def f (params)\n"
            "  (assign (name x) (int 1))\n"
            "  (assign (name a) (name b) (int 0))\n"
            "  (assign (tuple (name a) (name b)) (tuple (name b) (name a)))\n"
            "  (assign (tuple (name a) (name b)) (name c))\n"
            "  (assign (list (name a) (name b)) (name c))\n"
            "  (assign (tuple (name a)) (name c))\n"
            "  (assign (attr (name x) y) (int 1))\n"
            "  (assign (subscript (name A) (tuple (name i) (name j))) (int 2))\n"
            "  (assign (name x) (int 3) (annotation (name int)))\n"
            "  (assign (name y) _ (annotation (name f64)))\n"
            "  (assign (name t) (tuple (int 1) (int 2)))\n"
            "  (assign (name u) (tuple (int 1))))\n");
}

TEST(Parser, AugmentedAssignments) {
  EXPECT_EQ(body("a += 1\na -= 1\na *= 1\na /= 1\na //= 1\na %= 1\na **= 1\n"
                 "a &= 1\na |= 1\na ^= 1\na <<= 1\na >>= 1\na @= b\nx[i] += 1, 2\n"),
            "(def f (params)\n"
            "  (aug-assign += (name a) (int 1))\n"
            "  (aug-assign -= (name a) (int 1))\n"
            "  (aug-assign *= (name a) (int 1))\n"
            "  (aug-assign /= (name a) (int 1))\n"
            "  (aug-assign //= (name a) (int 1))\n"
            "  (aug-assign %= (name a) (int 1))\n"
            "  (aug-assign **= (name a) (int 1))\n"
            "  (aug-assign &= (name a) (int 1))\n"
            "  (aug-assign |= (name a) (int 1))\n"
            "  (aug-assign ^= (name a) (int 1))\n"
            "  (aug-assign <<= (name a) (int 1))\n"
            "  (aug-assign >>= (name a) (int 1))\n"
            "  (aug-assign @= (name a) (name b))\n"
            "  (aug-assign += (subscript (name x) (name i)) (tuple (int 1) (int 2))))\n");
  auto p = parse("def f():\n    tmp  += A[i, k]*B[k, j]\n");
  auto *aug = cast<ast::AugAssign>(p->module->functions[0]->body[0].get());
  EXPECT_EQ(textOf(*p->file, aug->opRange), "+=");
  EXPECT_EQ(textOf(*p->file, aug->range()), "tmp  += A[i, k]*B[k, j]");
}

TEST(Parser, IfElifElse) {
  EXPECT_EQ(body("if a:\n"
                 "    x = 1\n"
                 "elif b:\n"
                 "    x = 2\n"
                 "elif c: x = 3\n"
                 "else:\n"
                 "    x = 4\n"
                 "if d: pass\n"),
            "(def f (params)\n"
            "  (if (name a)\n"
            "    (assign (name x) (int 1))\n"
            "    (else\n"
            "      (if (name b)\n"
            "        (assign (name x) (int 2))\n"
            "        (else\n"
            "          (if (name c)\n"
            "            (assign (name x) (int 3))\n"
            "            (else\n"
            "              (assign (name x) (int 4))))))))\n"
            "  (if (name d)\n"
            "    (pass)))\n");
}

TEST(Parser, LoopsWithElseBreakContinue) {
  EXPECT_EQ(body("for i, j in zip(a, b):\n"
                 "    if i: break\n"
                 "    continue\n"
                 "else:\n"
                 "    pass\n"
                 "while n > 0:\n"
                 "    n -= 1\n"
                 "else: n = 5\n"
                 "for x in a, b: pass\n"
                 "for (i, j) in p: pass\n"),
            "(def f (params)\n"
            "  (for (tuple (name i) (name j)) (call (name zip) (name a) (name b))\n"
            "    (if (name i)\n"
            "      (break))\n"
            "    (continue)\n"
            "    (else\n"
            "      (pass)))\n"
            "  (while (compare (name n) > (int 0))\n"
            "    (aug-assign -= (name n) (int 1))\n"
            "    (else\n"
            "      (assign (name n) (int 5))))\n"
            "  (for (name x) (tuple (name a) (name b))\n"
            "    (pass))\n"
            "  (for (tuple (name i) (name j)) (name p)\n"
            "    (pass)))\n");
}

TEST(Parser, ReturnForms) {
  EXPECT_EQ(body("return\nreturn x\nreturn a, b\nreturn (a, b)\n"),
            "(def f (params)\n"
            "  (return)\n"
            "  (return (name x))\n"
            "  (return (tuple (name a) (name b)))\n"
            "  (return (tuple (name a) (name b))))\n");
}

TEST(Parser, SemicolonsAndExpressionStatements) {
  EXPECT_EQ(body("x = 1; y = 2;\ncuda.syncthreads()\nprint(x, y); pass\n"),
            "(def f (params)\n"
            "  (assign (name x) (int 1))\n"
            "  (assign (name y) (int 2))\n"
            "  (expr (call (attr (name cuda) syncthreads)))\n"
            "  (expr (call (name print) (name x) (name y)))\n"
            "  (pass))\n");
}

TEST(Parser, StatementRanges) {
  auto p = parse("def f():\n"
                 "    if x:  # comment\n"
                 "        y = 1\n"
                 "    return  a ,  b\n");
  const auto &b = p->module->functions[0]->body;
  EXPECT_EQ(textOf(*p->file, b[0]->range()), "if x:  # comment\n        y = 1");
  EXPECT_EQ(textOf(*p->file, b[1]->range()), "return  a ,  b");
  auto *ret = cast<ast::Return>(b[1].get());
  EXPECT_EQ(textOf(*p->file, ret->value->range()), "a ,  b");
  EXPECT_EQ(textOf(*p->file, p->module->functions[0]->range),
            "def f():\n    if x:  # comment\n        y = 1\n    return  a ,  b");
}

TEST(Parser, UnsupportedStatements) {
  auto p = parse("def f():\n"
                 "    class C(Base):\n"
                 "        x = 1\n"
                 "        def m(self): pass\n"
                 "    try:\n"
                 "        x = 1\n"
                 "    except (A, B) as e:\n"
                 "        pass\n"
                 "    except:\n"
                 "        pass\n"
                 "    else:\n"
                 "        pass\n"
                 "    finally:\n"
                 "        pass\n"
                 "    with open(p) as f, g:\n"
                 "        pass\n"
                 "    global a, b\n"
                 "    nonlocal c\n"
                 "    del a[0], b\n"
                 "    raise ValueError('x') from e\n"
                 "    assert x > 0, 'msg'\n"
                 "    yield x\n"
                 "    lambda q: q\n"
                 "    async def g(): pass\n"
                 "    match command.split():\n"
                 "        case [action]:\n"
                 "            pass\n"
                 "        case _:\n"
                 "            pass\n"
                 "    match = 3\n"
                 "    match(x)\n"
                 "    x = await y\n"
                 "    return 0\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  Strings whats;
  for (const ast::StmtPtr &s : p->module->functions[0]->body)
    if (auto *u = dyn_cast<ast::UnsupportedStmt>(s.get()))
      whats.push_back(u->what);
  EXPECT_EQ(whats, (Strings{"classes", "try/except", "with statements", "global declarations",
                            "nonlocal declarations", "del of a variable",
                            "'raise ... from' (exception chaining)", "generators (yield)",
                            "async functions", "match statements"}));
  const auto &b = p->module->functions[0]->body;
  ASSERT_EQ(b.size(), 17u);
  // `del a[0], b` is a.__delitem__(0), then an unsupported `del b`.
  EXPECT_EQ(ast::printModule(*p->module).find(
                "(expr (call (attr (name a) __delitem__) (int 0)))") != std::string::npos,
            true);
  // assert is a statement of its own (Sema checks it).
  EXPECT_TRUE(isa<ast::Assert>(b[8].get()));
  EXPECT_EQ(textOf(*p->file, b[1]->range()).substr(0, 4), "try:");
  EXPECT_EQ(textOf(*p->file, b[1]->range()).substr(textOf(*p->file, b[1]->range()).size() - 4),
            "pass");
  EXPECT_EQ(ast::printModule(*p->module).find("(assign (name match) (int 3))") !=
                std::string::npos,
            true);
  EXPECT_TRUE(isa<ast::Return>(b.back().get()));
}

TEST(Parser, UnsupportedAtModuleLevel) {
  auto p = parse("class A:\n    pass\n@dataclass\nclass B: pass\nasync def g(): pass\n"
                 "def f(): pass\n");
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  ASSERT_EQ(p->module->other.size(), 3u);
  EXPECT_EQ(cast<ast::UnsupportedStmt>(p->module->other[0].get())->what, "classes");
  EXPECT_EQ(cast<ast::UnsupportedStmt>(p->module->other[1].get())->what, "classes");
  EXPECT_EQ(cast<ast::UnsupportedStmt>(p->module->other[2].get())->what, "async functions");
  EXPECT_EQ(p->module->functions.size(), 1u);
}

//===----------------------------------------------------------------------===//
// Layout: indentation, continuation, comments
//===----------------------------------------------------------------------===//

TEST(Layout, OddButConsistentIndentation) {
  EXPECT_EQ(printed("def f():\n"
                "  if a:\n"
                "               x = 1\n"
                "               y = 2\n"
                "  z = 3\n"),
            "(module\n"
            "  (def f (params)\n"
            "    (if (name a)\n"
            "      (assign (name x) (int 1))\n"
            "      (assign (name y) (int 2)))\n"
            "    (assign (name z) (int 3))))\n");
}

TEST(Layout, MultipleDedentsAtOnce) {
  EXPECT_EQ(printed("def f():\n"
                "    for i in a:\n"
                "        for j in b:\n"
                "            if c:\n"
                "                pass\n"
                "x = 1\n"),
            "(module\n"
            "  (def f (params)\n"
            "    (for (name i) (name a)\n"
            "      (for (name j) (name b)\n"
            "        (if (name c)\n"
            "          (pass)))))\n"
            "  (global x (int 1)))\n");
}

TEST(Layout, BlankLinesAndCommentsAnywhere) {
  EXPECT_EQ(printed("def f():\n"
                "\n"
                "    x = 1   # trailing\n"
                "# column 0 comment inside the block\n"
                "        # deeper comment\n"
                "  \t  \n"
                "    y = 2\n"
                "\n"
                "\n"),
            "(module\n"
            "  (def f (params)\n"
            "    (assign (name x) (int 1))\n"
            "    (assign (name y) (int 2))))\n");
}

TEST(Layout, TabsAdvanceToMultiplesOfEight) {
  // A tab and eight spaces are the same indentation.
  EXPECT_EQ(printed("def f():\n\tx = 1\n        y = 2\n  \tz = 3\n"),
            "(module\n"
            "  (def f (params)\n"
            "    (assign (name x) (int 1))\n"
            "    (assign (name y) (int 2))\n"
            "    (assign (name z) (int 3))))\n");
}

TEST(Layout, CrlfAndNoTrailingNewline) {
  std::string expected = "(module\n"
                         "  (def f (params)\n"
                         "    (if (name x)\n"
                         "      (return (int 1)))\n"
                         "    (return (int 2))))\n";
  EXPECT_EQ(printed("def f():\r\n    if x:\r\n        return 1\r\n    return 2\r\n"), expected);
  EXPECT_EQ(printed("def f():\n    if x:\n        return 1\n    return 2"), expected);
  EXPECT_EQ(printed("def f():\r\n    if x:\r\n        return 1\r\n    return 2"), expected);
  EXPECT_EQ(printed("def f():\n    if x:\n        return 1\n    return 2\n    # c"), expected);
}

TEST(Layout, ByteOrderMarkIsIgnored) {
  EXPECT_EQ(printed("\xEF\xBB\xBFimport math\nx = 1\n"),
            "(module\n  (import math)\n  (global x (int 1)))\n");
  auto file = std::make_shared<SourceFile>("e", "\xEF\xBB\xBF f8[:]");
  DiagnosticEngine d;
  EXPECT_NE(parseExpression(file, d, 0, static_cast<uint32_t>(file->text().size())), nullptr);
}

TEST(Layout, BackslashContinuation) {
  EXPECT_EQ(body("x = 1 + \\\n        2\nif a and \\\n   b:\n    pass\n"),
            "(def f (params)\n"
            "  (assign (name x) (binop + (int 1) (int 2)))\n"
            "  (if (and (name a) (name b))\n"
            "    (pass)))\n");
  EXPECT_EQ(body("x = 1 + \\\r\n  2\n"),
            "(def f (params)\n  (assign (name x) (binop + (int 1) (int 2))))\n");
}

TEST(Layout, ImplicitJoiningInsideBrackets) {
  EXPECT_EQ(printed("x = foo(1,\n"
                "  2,  # comment\n"
                "\n"
                "        3\n"
                ")\n"
                "y = [\n"
                "1, 2,\n"
                "]\n"
                "z = {\n"
                "}\n"),
            "(module\n"
            "  (global x (call (name foo) (int 1) (int 2) (int 3)))\n"
            "  (global y (list (int 1) (int 2)))\n"
            "  (global z (dict)))\n");
}

TEST(Layout, CommentAfterColonThenBlock) {
  EXPECT_EQ(body("if x:   # why\n    pass\n"), "(def f (params)\n  (if (name x)\n    (pass)))\n");
}

//===----------------------------------------------------------------------===//
// Literals
//===----------------------------------------------------------------------===//

TEST(Literals, Integers) {
  EXPECT_EQ(expr("0"), "(int 0)");
  EXPECT_EQ(expr("00"), "(int 0)");
  EXPECT_EQ(expr("0_0"), "(int 0)");
  EXPECT_EQ(expr("42"), "(int 42)");
  EXPECT_EQ(expr("1_000_000"), "(int 1000000)");
  EXPECT_EQ(expr("0x1F"), "(int 31)");
  EXPECT_EQ(expr("0XdeadBEEF"), "(int 3735928559)");
  EXPECT_EQ(expr("0o17"), "(int 15)");
  EXPECT_EQ(expr("0O17"), "(int 15)");
  EXPECT_EQ(expr("0b101"), "(int 5)");
  EXPECT_EQ(expr("0b_1010_1010"), "(int 170)");
  EXPECT_EQ(expr("0x_ff"), "(int 255)");
  EXPECT_EQ(expr("9223372036854775807"), "(int 9223372036854775807)");
  EXPECT_EQ(expr("9223372036854775808"), "(int 9223372036854775808 unsigned)");
  EXPECT_EQ(expr("18446744073709551615"), "(int 18446744073709551615 unsigned)");
  EXPECT_EQ(expr("0xFFFFFFFFFFFFFFFF"), "(int 18446744073709551615 unsigned)");
  EXPECT_EQ(expr("-9223372036854775808"), "(unary - (int 9223372036854775808 unsigned))");
  auto file = std::make_shared<SourceFile>("e", "9223372036854775808");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, 19);
  ASSERT_TRUE(e);
  EXPECT_TRUE(cast<ast::IntLit>(*e).isUnsigned);
  EXPECT_EQ(cast<ast::IntLit>(*e).value, 9223372036854775808ull);
}

TEST(Literals, Floats) {
  EXPECT_EQ(expr("1."), "(float 1)");
  EXPECT_EQ(expr(".5"), "(float 0.5)");
  EXPECT_EQ(expr("1e-3"), "(float 0.001)");
  EXPECT_EQ(expr("1E5"), "(float 100000)");
  EXPECT_EQ(expr("1.5e+3"), "(float 1500)");
  EXPECT_EQ(expr("1_000.5"), "(float 1000.5)");
  EXPECT_EQ(expr("1.e2"), "(float 100)");
  EXPECT_EQ(expr("0.1"), "(float 0.1)");
  EXPECT_EQ(expr("3.141592653589793"), "(float 3.141592653589793)");
  EXPECT_EQ(expr("1e100"), "(float 1e+100)");
  EXPECT_EQ(expr("1e400"), "(float inf)");
  EXPECT_EQ(expr("1e-400"), "(float 0)");
  EXPECT_EQ(expr("0777.5"), "(float 777.5)"); // leading zeros are fine in floats
  auto file = std::make_shared<SourceFile>("e", "0.1");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, 3);
  EXPECT_EQ(cast<ast::FloatLit>(*e).value, 0.1);
}

TEST(Literals, Imaginary) {
  EXPECT_EQ(expr("2j"), "(imag 2)");
  EXPECT_EQ(expr("1.5J"), "(imag 1.5)");
  EXPECT_EQ(expr("1e3j"), "(imag 1000)");
  EXPECT_EQ(expr("0.0j"), "(imag 0)");
  EXPECT_EQ(expr("1 + 2j"), "(binop + (int 1) (imag 2))");
}

TEST(Literals, Constants) {
  EXPECT_EQ(expr("True"), "(bool True)");
  EXPECT_EQ(expr("False"), "(bool False)");
  EXPECT_EQ(expr("None"), "(none)");
}

TEST(Literals, Strings) {
  EXPECT_EQ(expr("'abc'"), "(str \"abc\")");
  EXPECT_EQ(expr("\"abc\""), "(str \"abc\")");
  EXPECT_EQ(expr("'a\"b'"), "(str \"a\\\"b\")");
  EXPECT_EQ(expr("'a\\'b'"), "(str \"a'b\")");
  EXPECT_EQ(expr("'\\n\\t\\\\\\\"'"), "(str \"\\n\\t\\\\\\\"\")");
  EXPECT_EQ(expr("'\\x41\\101\\u00e9'"), "(str \"AA\xc3\xa9\")");
  EXPECT_EQ(expr("'\\d'"), "(str \"\\\\d\")"); // unknown escapes stay
  EXPECT_EQ(expr("r'\\n'"), "(str \"\\\\n\")");
  EXPECT_EQ(expr("R'\\''"), "(str \"\\\\'\")");
  EXPECT_EQ(expr("b'bytes'"), "(str \"bytes\")");
  EXPECT_EQ(expr("u'text'"), "(str \"text\")");
  EXPECT_EQ(expr("Rb'x'"), "(str \"x\")");
  EXPECT_EQ(expr("'a' \"b\"  'c'"), "(str \"abc\")");
  EXPECT_EQ(expr("'''one\ntwo'''"), "(str \"one\\ntwo\")");
  EXPECT_EQ(expr("\"\"\"it's \"quoted\" \"\"\""), "(str \"it's \\\"quoted\\\" \")");
  EXPECT_EQ(expr("'''a\r\nb'''"), "(str \"a\\nb\")");
  EXPECT_EQ(expr("'a\\\nb'"), "(str \"ab\")");
  EXPECT_EQ(expr("''"), "(str \"\")");
  EXPECT_EQ(expr("'caf\xc3\xa9'"), "(str \"caf\xc3\xa9\")");
}

TEST(Literals, FStringsAreCallsOfTheirParts) {
  // Text parts are string literals (escapes decoded unless raw; {{ and }}
  // are braces), fields `f-string field(x, spec, conversion)`; `{x=}`
  // puts the expression's text before its field.
  auto field = [](const std::string &x, const std::string &spec = "",
                  const std::string &conv = "") {
    return "(call (name f-string field) " + x + " (str \"" + spec + "\") (str \"" + conv +
           "\"))";
  };
  EXPECT_EQ(expr("f'{x}'"), "(call (name f-string) " + field("(name x)") + ")");
  EXPECT_EQ(expr("F\"a\" 'b'"), "(call (name f-string) (str \"ab\"))");
  EXPECT_EQ(expr("rf'{x}\\n'"),
            "(call (name f-string) " + field("(name x)") + " (str \"\\\\n\"))");
  EXPECT_EQ(expr("f'{x!r} {y=:>4} {{}}'"),
            "(call (name f-string) " + field("(name x)", "", "r") + " (str \" y=\") " +
                field("(name y)", ">4") + " (str \" {}\"))");
  EXPECT_EQ(expr("f'a\\tb{q[1]:.2f}'"),
            "(call (name f-string) (str \"a\\tb\") " +
                field("(subscript (name q) (int 1))", ".2f") + ")");
  EXPECT_EQ(expr("f'{a[\"k\"]}{x==y}{x!=y}'"),
            "(call (name f-string) " + field("(subscript (name a) (str \"k\"))") + " " +
                field("(compare (name x) == (name y))") + " " +
                field("(compare (name x) != (name y))") + ")");
  EXPECT_EQ(exprError("f'{}'"), "1:3: f-string: empty expression not allowed");
  EXPECT_EQ(exprError("f'}'"), "1:3: f-string: single '}' is not allowed");
  EXPECT_EQ(exprError("f'{x!q}'"),
            "1:5: f-string: invalid conversion character: expected 's', 'r', or 'a'");
  EXPECT_EQ(exprError("f'{x'"), "1:3: f-string: expecting '}'");
  EXPECT_EQ(exprError("f'{x:{y}}'"),
            "1:6: f-string: a format spec with a nested field ({...}) is not supported");
  EXPECT_EQ(exprError("f'{x!r:>3}'"), "1:7: f-string: a format spec after !r is not supported");
  EXPECT_EQ(exprError("f'{x +}'"), "1:7: expected expression");
}

TEST(Literals, NumberFollowedByKeyword) {
  EXPECT_EQ(expr("1if x else 2"), "(ifexp (name x) (int 1) (int 2))");
  EXPECT_EQ(exprError("0x1for"), "1:1: invalid hexadecimal literal");
}

//===----------------------------------------------------------------------===//
// Expressions and precedence
//===----------------------------------------------------------------------===//

TEST(Expressions, ArithmeticPrecedence) {
  EXPECT_EQ(expr("a + b * c"), "(binop + (name a) (binop * (name b) (name c)))");
  EXPECT_EQ(expr("a - b - c"), "(binop - (binop - (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a / b // c % d @ e"),
            "(binop @ (binop % (binop // (binop / (name a) (name b)) (name c)) (name d)) (name e))");
  EXPECT_EQ(expr("(a + b) * c"), "(binop * (binop + (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a << b + c"), "(binop << (name a) (binop + (name b) (name c)))");
  EXPECT_EQ(expr("a & b << c"), "(binop & (name a) (binop << (name b) (name c)))");
  EXPECT_EQ(expr("a ^ b & c"), "(binop ^ (name a) (binop & (name b) (name c)))");
  EXPECT_EQ(expr("a | b ^ c"), "(binop | (name a) (binop ^ (name b) (name c)))");
  EXPECT_EQ(expr("a >> 1 | 2"), "(binop | (binop >> (name a) (int 1)) (int 2))");
}

TEST(Expressions, PowerAndUnary) {
  EXPECT_EQ(expr("-2**2"), "(unary - (binop ** (int 2) (int 2)))");
  EXPECT_EQ(expr("2**-1"), "(binop ** (int 2) (unary - (int 1)))");
  EXPECT_EQ(expr("a**b**c"), "(binop ** (name a) (binop ** (name b) (name c)))");
  EXPECT_EQ(expr("-a * b"), "(binop * (unary - (name a)) (name b))");
  EXPECT_EQ(expr("~+-x"), "(unary ~ (unary + (unary - (name x))))");
  EXPECT_EQ(expr("-x.y[0]"), "(unary - (subscript (attr (name x) y) (int 0)))");
  EXPECT_EQ(expr("x**2 + y"), "(binop + (binop ** (name x) (int 2)) (name y))");
}

TEST(Expressions, Comparisons) {
  EXPECT_EQ(expr("a < b < c"), "(compare (name a) < (name b) < (name c))");
  EXPECT_EQ(expr("a == b != c <= d >= e > f"),
            "(compare (name a) == (name b) != (name c) <= (name d) >= (name e) > (name f))");
  EXPECT_EQ(expr("a in b"), "(compare (name a) in (name b))");
  EXPECT_EQ(expr("a not in b"), "(compare (name a) not in (name b))");
  EXPECT_EQ(expr("a is b"), "(compare (name a) is (name b))");
  EXPECT_EQ(expr("a is not None"), "(compare (name a) is not (none))");
  EXPECT_EQ(expr("a + 1 < b * 2"),
            "(compare (binop + (name a) (int 1)) < (binop * (name b) (int 2)))");
  EXPECT_EQ(expr("a | b == c"), "(compare (binop | (name a) (name b)) == (name c))");
}

TEST(Expressions, BooleanOperators) {
  EXPECT_EQ(expr("not a == b"), "(unary not (compare (name a) == (name b)))");
  EXPECT_EQ(expr("not not a"), "(unary not (unary not (name a)))");
  EXPECT_EQ(expr("a and b and c"), "(and (name a) (name b) (name c))");
  EXPECT_EQ(expr("a or b and c"), "(or (name a) (and (name b) (name c)))");
  EXPECT_EQ(expr("a and not b or c"), "(or (and (name a) (unary not (name b))) (name c))");
  EXPECT_EQ(expr("(a or b) and c"), "(and (or (name a) (name b)) (name c))");
}

TEST(Expressions, Conditional) {
  EXPECT_EQ(expr("a if b else c"), "(ifexp (name b) (name a) (name c))");
  EXPECT_EQ(expr("a if b else c if d else e"),
            "(ifexp (name b) (name a) (ifexp (name d) (name c) (name e)))");
  EXPECT_EQ(expr("a or b if c and d else e"),
            "(ifexp (and (name c) (name d)) (or (name a) (name b)) (name e))");
  EXPECT_EQ(expr("(a if b else c) + 1"),
            "(binop + (ifexp (name b) (name a) (name c)) (int 1))");
}

TEST(Expressions, PrimaryChains) {
  EXPECT_EQ(expr("np.linalg.norm(x)"),
            "(call (attr (attr (name np) linalg) norm) (name x))");
  EXPECT_EQ(expr("a[0][1]"), "(subscript (subscript (name a) (int 0)) (int 1))");
  EXPECT_EQ(expr("cuda.threadIdx.x"), "(attr (attr (name cuda) threadIdx) x)");
  EXPECT_EQ(expr("f()()"), "(call (call (name f)))");
  EXPECT_EQ(expr("x.shape[0]"), "(subscript (attr (name x) shape) (int 0))");
  EXPECT_EQ(expr("f(a)[b].c"), "(attr (subscript (call (name f) (name a)) (name b)) c)");
  EXPECT_EQ(expr("(1).real"), "(attr (int 1) real)");
  EXPECT_EQ(expr("'a'.join"), "(attr (str \"a\") join)");
}

TEST(Expressions, Calls) {
  EXPECT_EQ(expr("f()"), "(call (name f))");
  EXPECT_EQ(expr("f(a, b,)"), "(call (name f) (name a) (name b))");
  EXPECT_EQ(expr("f(a, k=1, j=b + 1)"),
            "(call (name f) (name a) (kw k (int 1)) (kw j (binop + (name b) (int 1))))");
  EXPECT_EQ(expr("f(*a, **k)"),
            "(call (name f) (unsupported \"argument unpacking\") (unsupported \"argument unpacking\"))");
  EXPECT_EQ(expr("sum(x for x in y)"),
            "(call (name sum) (genexpr (name x@1) (for (name x@1) (name y))))");
  EXPECT_EQ(expr("f(a == b)"), "(call (name f) (compare (name a) == (name b)))");
  auto file = std::make_shared<SourceFile>("e", "f(a,  key = 2)");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, static_cast<uint32_t>(file->text().size()));
  auto &call = cast<ast::Call>(*e);
  EXPECT_EQ(textOf(*file, call.keywords[0].nameRange), "key");
  EXPECT_EQ(textOf(*file, call.keywords[0].value->range()), "2");
  EXPECT_EQ(textOf(*file, call.range()), "f(a,  key = 2)");
}

TEST(Expressions, SubscriptsAndSlices) {
  EXPECT_EQ(expr("a[i]"), "(subscript (name a) (name i))");
  EXPECT_EQ(expr("a[i, j]"), "(subscript (name a) (tuple (name i) (name j)))");
  EXPECT_EQ(expr("a[i,]"), "(subscript (name a) (tuple (name i)))");
  EXPECT_EQ(expr("a[(i, j)]"), "(subscript (name a) (tuple (name i) (name j)))");
  EXPECT_EQ(expr("a[:]"), "(subscript (name a) (slice _ _ _))");
  EXPECT_EQ(expr("a[1:]"), "(subscript (name a) (slice (int 1) _ _))");
  EXPECT_EQ(expr("a[:n]"), "(subscript (name a) (slice _ (name n) _))");
  EXPECT_EQ(expr("a[::2]"), "(subscript (name a) (slice _ _ (int 2)))");
  EXPECT_EQ(expr("a[1:-1:]"), "(subscript (name a) (slice (int 1) (unary - (int 1)) _))");
  EXPECT_EQ(expr("a[1:-1, ::2]"),
            "(subscript (name a) (tuple (slice (int 1) (unary - (int 1)) _) (slice _ _ (int 2))))");
  EXPECT_EQ(expr("a[i + 1:j * 2:k]"),
            "(subscript (name a) (slice (binop + (name i) (int 1)) (binop * (name j) (int 2)) (name k)))");
  EXPECT_EQ(expr("a[..., 0]"),
            "(subscript (name a) (tuple (ellipsis) (int 0)))");
  auto file = std::make_shared<SourceFile>("e", "a[1:-1, ::2]");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, 12);
  auto &sub = cast<ast::Subscript>(*e);
  auto &tup = cast<ast::Tuple>(*sub.index);
  EXPECT_EQ(textOf(*file, tup.range()), "1:-1, ::2");
  EXPECT_EQ(textOf(*file, tup.elts[0]->range()), "1:-1");
  EXPECT_EQ(textOf(*file, tup.elts[1]->range()), "::2");
}

TEST(Expressions, TuplesAndLists) {
  EXPECT_EQ(expr("()"), "(tuple)");
  EXPECT_EQ(expr("(a,)"), "(tuple (name a))");
  EXPECT_EQ(expr("(a, b)"), "(tuple (name a) (name b))");
  EXPECT_EQ(expr("(a)"), "(name a)");
  EXPECT_EQ(expr("((a))"), "(name a)");
  EXPECT_EQ(expr("[]"), "(list)");
  EXPECT_EQ(expr("[a, [b, c],]"), "(list (name a) (list (name b) (name c)))");
  EXPECT_EQ(expr("a, b"), "(tuple (name a) (name b))");
  EXPECT_EQ(expr("a,"), "(tuple (name a))");
}

TEST(Expressions, UnsupportedForms) {
  // A lambda is parsed (liftLocalFunctions moves it to the module).
  EXPECT_EQ(expr("lambda x, y=(1, 2): x + y"), "(lambda (params x y) (binop + (name x) (name y)))");
  EXPECT_EQ(expr("lambda: 0"), "(lambda (params) (int 0))");
  // Dict displays and comprehensions are parsed; `**` unpacking is not.
  EXPECT_EQ(expr("{}"), "(dict)");
  EXPECT_EQ(expr("{1: a, (b, 2): c + 1,}"),
            "(dict ((int 1) (name a)) ((tuple (name b) (int 2)) (binop + (name c) (int 1))))");
  EXPECT_EQ(expr("{'a': 1, **b}"), "(unsupported \"dict unpacking with '**'\")");
  // Set displays (decorator options take one too: fastmath={...}) and set
  // comprehensions.
  EXPECT_EQ(expr("{1, 2}"), "(set (int 1) (int 2))");
  EXPECT_EQ(expr("{\"nnan\", \"ninf\",}"), "(set (str \"nnan\") (str \"ninf\"))");
  EXPECT_EQ(expr("{a[1:2]}"), "(set (subscript (name a) (slice (int 1) (int 2) _)))");
  EXPECT_EQ(expr("[x async for x in y]"), "(unsupported \"asynchronous comprehensions\")");
  EXPECT_EQ(expr("{k: v for k, v in d}"),
            "(dictcomp (name k@1) (name v@2) (for (tuple (name k@1) (name v@2)) (name d)))");
  EXPECT_EQ(expr("{x for x in [1, 2]}"),
            "(setcomp (name x@1) (for (name x@1) (list (int 1) (int 2))))");
  EXPECT_EQ(expr("{(x, y) for x in a if x for y in b}"),
            "(setcomp (tuple (name x@2) (name y@1)) (for (name x@2) (name a) (if (name x@2))) "
            "(for (name y@1) (name b)))");
  EXPECT_EQ(expr("(y := 3)"), "(unsupported \"assignment expressions (:=)\")");
  EXPECT_EQ(expr("*a"), "(unsupported \"starred expressions\")");
  EXPECT_EQ(expr("[*a, b]"), "(list (unsupported \"starred expressions\") (name b))");
  EXPECT_EQ(expr("await f(x)"), "(unsupported \"await\")");
  EXPECT_EQ(expr("f(lambda t: t)"), "(call (name f) (lambda (params t) (name t)))");
  EXPECT_EQ(expr("g({1: [x for x in y]}) + 1"),
            "(binop + (call (name g) (dict ((int 1) (listcomp (name x@1) (for (name x@1) "
            "(name y)))))) (int 1))");
  // The unsupported node covers the whole construct.
  auto file = std::make_shared<SourceFile>("e", "f([i async for i in (1, 2)], z)");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, static_cast<uint32_t>(file->text().size()));
  auto &call = cast<ast::Call>(*e);
  EXPECT_EQ(textOf(*file, call.args[0]->range()), "[i async for i in (1, 2)]");
  EXPECT_EQ(textOf(*file, call.args[1]->range()), "z");
}

TEST(Expressions, Comprehensions) {
  // Targets are renamed name@N in their scope (ListComp).
  EXPECT_EQ(expr("[x * 2 for x in y if x]"),
            "(listcomp (binop * (name x@1) (int 2)) (for (name x@1) (name y) (if (name x@1))))");
  EXPECT_EQ(expr("(x for x in y)"), "(genexpr (name x@1) (for (name x@1) (name y)))");
  EXPECT_EQ(expr("f(x for x in y)"),
            "(call (name f) (genexpr (name x@1) (for (name x@1) (name y))))");
  // The first iterable is read outside: `x` there is the enclosing one.
  EXPECT_EQ(expr("[x for x in x]"), "(listcomp (name x@1) (for (name x@1) (name x)))");
  EXPECT_EQ(expr("[(a, b) for a, b in z]"),
            "(listcomp (tuple (name a@1) (name b@2)) (for (tuple (name a@1) (name b@2)) "
            "(name z)))");
  // A generator expression's range leaves out the call's parentheses.
  auto file = std::make_shared<SourceFile>("e", "sum(v * v for v in a)");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, static_cast<uint32_t>(file->text().size()));
  EXPECT_EQ(textOf(*file, cast<ast::Call>(*e).args[0]->range()), "v * v for v in a");
  // Errors.
  EXPECT_EQ(exprError("f(x for x in y, 1)"),
            "1:15: a generator expression must be parenthesized when it is not the only "
            "argument");
  EXPECT_EQ(exprError("f(1, x for x in y)"),
            "1:6: a generator expression must be parenthesized when it is not the only "
            "argument");
  EXPECT_EQ(exprError("[x for x in]"), "1:12: expected expression");
  EXPECT_EQ(exprError("[x for 1 in y]"), "1:8: cannot assign to literal");
}

TEST(Expressions, UnsupportedInStatements) {
  EXPECT_EQ(body("x = [i async for i in y]\nif (n := 10) > 5: pass\nx = yield\n"),
            "(def f (params)\n"
            "  (assign (name x) (unsupported \"asynchronous comprehensions\"))\n"
            "  (if (compare (unsupported \"assignment expressions (:=)\") > (int 5))\n"
            "    (pass))\n"
            "  (assign (name x) (unsupported \"generators (yield)\")))\n");
  EXPECT_EQ(body("a, *b = c\n"),
            "(def f (params)\n"
            "  (assign (tuple (name a) (unsupported \"starred expressions\")) (name c)))\n");
}

TEST(Expressions, Ranges) {
  auto file = std::make_shared<SourceFile>("e", "(a + b) * np.sqrt(c)  <  d is not e");
  DiagnosticEngine d;
  auto e = parseExpression(file, d, 0, static_cast<uint32_t>(file->text().size()));
  ASSERT_TRUE(e);
  auto &cmp = cast<ast::Compare>(*e);
  EXPECT_EQ(textOf(*file, cmp.range()), file->text());
  EXPECT_EQ(textOf(*file, cmp.opRanges[0]), "<");
  EXPECT_EQ(textOf(*file, cmp.opRanges[1]), "is not");
  auto &mul = cast<ast::BinOp>(*cmp.operands[0]);
  EXPECT_EQ(textOf(*file, mul.range()), "(a + b) * np.sqrt(c)");
  EXPECT_EQ(textOf(*file, mul.opRange), "*");
  EXPECT_EQ(textOf(*file, mul.lhs->range()), "a + b"); // a group keeps its inner range
  auto &call = cast<ast::Call>(*mul.rhs);
  auto &attr = cast<ast::Attribute>(*call.func);
  EXPECT_EQ(textOf(*file, attr.range()), "np.sqrt");
  EXPECT_EQ(textOf(*file, attr.attrRange), "sqrt");
  EXPECT_EQ(textOf(*file, attr.value->range()), "np");
}

//===----------------------------------------------------------------------===//
// parseExpression on signature strings
//===----------------------------------------------------------------------===//

TEST(Signatures, NumbaSignatureStrings) {
  EXPECT_EQ(expr("f8[:,:](f8[:,:])"),
            "(call (subscript (name f8) (tuple (slice _ _ _) (slice _ _ _))) "
            "(subscript (name f8) (tuple (slice _ _ _) (slice _ _ _))))");
  EXPECT_EQ(expr("Tuple((float64[:], float64[:], float64))(float64[:,:])"),
            "(call (call (name Tuple) (tuple (subscript (name float64) (slice _ _ _)) "
            "(subscript (name float64) (slice _ _ _)) (name float64))) "
            "(subscript (name float64) (tuple (slice _ _ _) (slice _ _ _))))");
  EXPECT_EQ(expr("void(i4, f8[::1])"),
            "(call (name void) (name i4) (subscript (name f8) (slice _ _ (int 1))))");
  EXPECT_EQ(expr("f64[:,:], f64[:,:]"),
            "(tuple (subscript (name f64) (tuple (slice _ _ _) (slice _ _ _))) "
            "(subscript (name f64) (tuple (slice _ _ _) (slice _ _ _))))");
  EXPECT_EQ(expr("  u1[:, :] ,"), "(tuple (subscript (name u1) (tuple (slice _ _ _) (slice _ _ _))))");
  EXPECT_EQ(expr("f8\n(\ni4)"), "(call (name f8) (name i4))"); // newlines are whitespace
}

TEST(Signatures, SubrangeOfAFileKeepsAbsoluteOffsets) {
  std::string src = "@jit('f8(f8[:], i4)')\ndef f(a, n): pass\n";
  auto file = std::make_shared<SourceFile>("s.stn", src);
  DiagnosticEngine d;
  uint32_t begin = static_cast<uint32_t>(src.find("f8("));
  uint32_t end = static_cast<uint32_t>(src.find("')"));
  auto e = parseExpression(file, d, begin, end);
  ASSERT_TRUE(e) << d.format();
  auto &call = cast<ast::Call>(*e);
  EXPECT_EQ(call.range().begin, begin);
  EXPECT_EQ(call.range().end, end);
  EXPECT_EQ(textOf(*file, call.args[1]->range()), "i4");
  EXPECT_EQ(file->lineCol(call.args[1]->range().begin), std::make_pair(1u, 17u));
}

TEST(Signatures, Errors) {
  EXPECT_EQ(exprError(""), "1:1: expected expression");
  EXPECT_EQ(exprError("   "), "1:4: expected expression");
  EXPECT_EQ(exprError("f8[:,:](f8[:,:]"), "1:8: '(' was never closed");
  EXPECT_EQ(exprError("f8 f8"), "1:4: invalid syntax");
  EXPECT_EQ(exprError("f8[:]("), "1:6: '(' was never closed");
  EXPECT_EQ(exprError("f8)"), "1:3: unmatched ')'");
  EXPECT_EQ(exprError("f8 $"), "1:4: unexpected character '$'");
  EXPECT_EQ(exprError("a +"), "1:4: expected expression");
  // An error in a subrange is reported at its position in the file.
  std::string src = "x = 1\n@jit('f8(f8[:] i4)')\n";
  auto file = std::make_shared<SourceFile>("s.stn", src);
  DiagnosticEngine d;
  uint32_t begin = static_cast<uint32_t>(src.find("f8("));
  uint32_t end = static_cast<uint32_t>(src.find("')"));
  EXPECT_EQ(parseExpression(file, d, begin, end), nullptr);
  ASSERT_EQ(d.diagnostics().size(), 1u);
  EXPECT_EQ(d.format(), "s.stn:2:16: error: expected ')' to close '(' opened at 2:9\n"
                        "@jit('f8(f8[:] i4)')\n"
                        "               ^~\n"
                        "hint: perhaps you forgot a comma?\n");
}

//===----------------------------------------------------------------------===//
// Syntax errors: message and location
//===----------------------------------------------------------------------===//

TEST(Errors, MissingColon) {
  EXPECT_EQ(firstError("def f():\n    if x\n        pass\n"),
            "2:9: expected ':' after 'if' condition");
  EXPECT_EQ(firstError("def f():\n    if x == 1  # c\n        pass\n"),
            "2:14: expected ':' after 'if' condition");
  EXPECT_EQ(firstError("def f():\n    if x: pass\n    elif y\n        pass\n"),
            "3:11: expected ':' after 'elif' condition");
  EXPECT_EQ(firstError("def f():\n    if x: pass\n    else\n        pass\n"),
            "3:9: expected ':' after 'else'");
  EXPECT_EQ(firstError("def f():\n    while x\n        pass\n"),
            "2:12: expected ':' after 'while' condition");
  EXPECT_EQ(firstError("def f():\n    for i in range(3)\n        pass\n"),
            "2:22: expected ':' after 'for' iterable");
  EXPECT_EQ(firstError("def f(x)\n    pass\n"), "1:9: expected ':' after function signature");
  EXPECT_EQ(firstError("def f(x) -> int\n    pass\n"),
            "1:16: expected ':' after function signature");
  auto p = parse("def f():\n    if x = 1:\n        pass\n");
  ASSERT_EQ(p->diags.diagnostics().size(), 1u);
  EXPECT_EQ(p->diags.format(), "t.stn:2:10: error: expected ':' after 'if' condition\n"
                               "    if x = 1:\n"
                               "         ^\n"
                               "hint: maybe you meant '==' instead of '='?\n");
}

TEST(Errors, IndentedBlocks) {
  EXPECT_EQ(errors("def f():\nreturn 1\n"),
            (Strings{"2:1: expected an indented block after function definition on line 1"}));
  EXPECT_EQ(errors("def f():\n    if x:\n    y = 1\n"),
            (Strings{"3:5: expected an indented block after 'if' statement on line 2"}));
  EXPECT_EQ(errors("def f():\n    for i in x:\n\n    # c\n    y = 1\n"),
            (Strings{"5:5: expected an indented block after 'for' statement on line 2"}));
  EXPECT_EQ(errors("def f():\n    while x:\ny = 1\n"),
            (Strings{"3:1: expected an indented block after 'while' statement on line 2"}));
  EXPECT_EQ(errors("def f():\n    if x:\n        pass\n    else:\n    y = 1\n"),
            (Strings{"5:5: expected an indented block after 'else' statement on line 4"}));
  EXPECT_EQ(errors("def f():\n    if x: pass\n    elif y:\n    z = 1\n"),
            (Strings{"4:5: expected an indented block after 'elif' statement on line 3"}));
  // At the end of the file, the error points at the end of the header line.
  EXPECT_EQ(errors("def f():\n    if x:\n"),
            (Strings{"2:10: expected an indented block after 'if' statement on line 2"}));
  EXPECT_EQ(errors("def f():"),
            (Strings{"1:9: expected an indented block after function definition on line 1"}));
  EXPECT_EQ(errors("def f():\n    class C:\n    pass\n"),
            (Strings{"3:5: expected an indented block after class definition on line 2"}));
  EXPECT_EQ(errors("def f():\n    try:\n        pass\n    except:\n    x = 1\n"),
            (Strings{"5:5: expected an indented block after 'except' statement on line 4"}));
}

TEST(Errors, UnexpectedIndentAndBadDedent) {
  EXPECT_EQ(errors("x = 1\n    y = 2\nz = 3\n"), (Strings{"2:5: unexpected indent"}));
  EXPECT_EQ(errors("def f():\n    x = 1\n        y = 2\n    return x\n"),
            (Strings{"3:9: unexpected indent"}));
  EXPECT_EQ(errors("def f():\n    if x:\n        y = 1\n      z = 2\n    return z\n"),
            (Strings{"4:7: unindent does not match any outer indentation level"}));
  // The badly dedented line counts as part of the enclosing block, so the
  // lines after it are fine.
  auto p = parse("def f():\n    if x:\n        y = 1\n  z = 2\n  w = 3\nv = 4\n");
  EXPECT_EQ(p->diags.diagnostics().size(), 1u) << p->diags.format();
  EXPECT_EQ(p->module->globals.size(), 3u);
}

TEST(Errors, UnclosedBrackets) {
  EXPECT_EQ(errors("x = (a +\n"), (Strings{"1:5: '(' was never closed"}));
  EXPECT_EQ(errors("x = [1, 2\n"), (Strings{"1:5: '[' was never closed"}));
  EXPECT_EQ(errors("x = {1: 2\n"), (Strings{"1:5: '{' was never closed"}));
  EXPECT_EQ(errors("x = f(a, [b, c\n"), (Strings{"1:10: '[' was never closed"}));
  EXPECT_EQ(errors("x = (a +\ny = 2\n"), (Strings{"1:5: '(' was never closed"}));
  // On the bracket's own line, the parser's error is the better one.
  EXPECT_EQ(errors("def g(:\n    pass\n"), (Strings{"1:7: expected parameter name"}));
  auto p = parse("def f(a, b):\n    x = (a +\n    return x\n");
  ASSERT_EQ(p->diags.diagnostics().size(), 1u);
  EXPECT_EQ(p->diags.format(), "t.stn:2:9: error: '(' was never closed\n"
                               "    x = (a +\n"
                               "        ^\n");
}

TEST(Errors, UnclosedBracketRecoversAtNextStatement) {
  // The lexer closes the logical line when a statement keyword starts a
  // line, so the rest of the file is still parsed.
  auto p = parse("def f(a):\n"
                 "    x = foo(a, b\n"
                 "    if x > 0:\n"
                 "        return 1\n"
                 "    y = $\n"
                 "def g(): pass\n");
  EXPECT_EQ(errors("def f(a):\n    x = foo(a, b\n    if x > 0:\n        return 1\n    y = $\n"
                   "def g(): pass\n"),
            (Strings{"2:12: '(' was never closed", "5:9: unexpected character '$'"}));
  ASSERT_EQ(p->module->functions.size(), 2u);
  EXPECT_EQ(p->module->functions[0]->body.size(), 1u); // the if statement
  EXPECT_EQ(p->module->functions[1]->name, "g");
}

TEST(Errors, MismatchedClosers) {
  EXPECT_EQ(errors("x = (1]\n"),
            (Strings{"1:7: closing parenthesis ']' does not match opening parenthesis '('"}));
  EXPECT_EQ(errors("x = (1,\n  2]\n"),
            (Strings{"2:4: closing parenthesis ']' does not match opening parenthesis '(' "
                     "on line 1"}));
  EXPECT_EQ(errors("x = 1)\n"), (Strings{"1:6: unmatched ')'"}));
  EXPECT_EQ(errors("x = 1)\ny = 2]\n"), (Strings{"1:6: unmatched ')'", "2:6: unmatched ']'"}));
}

TEST(Errors, ExpectedCloser) {
  EXPECT_EQ(firstError("x = f(a b)\n"), "1:9: expected ')' to close '(' opened at 1:6");
  EXPECT_EQ(firstError("x = [a b]\n"), "1:8: expected ']' to close '[' opened at 1:5");
  EXPECT_EQ(firstError("x = a[1 2]\n"), "1:9: expected ']' to close '[' opened at 1:6");
  EXPECT_EQ(firstError("x = (a b)\n"), "1:8: expected ')' to close '(' opened at 1:5");
  auto p = parse("x = f(a b)\n");
  EXPECT_EQ(p->diags.diagnostics()[0].hint, "perhaps you forgot a comma?");
}

TEST(Errors, Tokens) {
  EXPECT_EQ(errors("x = $y\n"), (Strings{"1:5: unexpected character '$'"}));
  EXPECT_EQ(errors("x = a ? b\n"), (Strings{"1:7: unexpected character '?'"}));
  EXPECT_EQ(errors("x = a ! b\n"), (Strings{"1:7: unexpected character '!'"}));
  EXPECT_EQ(errors("x = `a`\n"),
            (Strings{"1:5: unexpected character '`'", "1:7: unexpected character '`'"}));
  EXPECT_EQ(errors("x = \x01\n"), (Strings{"1:5: invalid non-printable character U+0001"}));
  EXPECT_EQ(errors(std::string("x = \0\n", 6)),
            (Strings{"1:5: source code cannot contain null bytes"}));
  EXPECT_EQ(errors("\xce\xb1 = 1\n"), (Strings{"1:1: unexpected character '\xce\xb1' (U+03B1)"}));
  EXPECT_EQ(errors("x = 'abc\n"), (Strings{"1:5: unterminated string literal"}));
  EXPECT_EQ(errors("x = \"abc"), (Strings{"1:5: unterminated string literal"}));
  EXPECT_EQ(errors("x = '''abc\n\n"), (Strings{"1:5: unterminated triple-quoted string literal"}));
  EXPECT_EQ(errors("x = 1 \\ 2\n"),
            (Strings{"1:7: unexpected character after line continuation character"}));
  EXPECT_EQ(errors("x = '\\x4'\n"), (Strings{"1:6: truncated \\xXX escape"}));
  // A rejected character at the start of the next statement is not blamed
  // on the end of the previous line.
  EXPECT_EQ(errors("def f():\n    y = $\n    $ = 1\n    return y\n"),
            (Strings{"2:9: unexpected character '$'", "3:5: unexpected character '$'"}));
}

TEST(Errors, NumberLiterals) {
  EXPECT_EQ(errors("x = 18446744073709551616\n"), (Strings{"1:5: integer literal too large"}));
  EXPECT_EQ(errors("x = 0x1_0000_0000_0000_0000\n"),
            (Strings{"1:5: integer literal too large"}));
  EXPECT_EQ(errors("x = 1abc\n"), (Strings{"1:5: invalid decimal literal"}));
  EXPECT_EQ(errors("x = 1_\n"), (Strings{"1:5: invalid decimal literal"}));
  EXPECT_EQ(errors("x = 1__0\n"), (Strings{"1:5: invalid decimal literal"}));
  EXPECT_EQ(errors("x = 1e\n"), (Strings{"1:5: invalid decimal literal"}));
  EXPECT_EQ(errors("x = 0777\n"),
            (Strings{"1:5: leading zeros in decimal integer literals are not permitted; use an "
                     "0o prefix for octal integers"}));
  EXPECT_EQ(errors("x = 0o78\n"), (Strings{"1:8: invalid digit '8' in octal literal"}));
  EXPECT_EQ(errors("x = 0b102\n"), (Strings{"1:9: invalid digit '2' in binary literal"}));
  EXPECT_EQ(errors("x = 0x\n"), (Strings{"1:5: invalid hexadecimal literal"}));
  EXPECT_EQ(errors("x = 0xfg\n"), (Strings{"1:5: invalid hexadecimal literal"}));
  EXPECT_EQ(errors("x = 0o\n"), (Strings{"1:5: invalid octal literal"}));
  EXPECT_EQ(errors("x = 0b\n"), (Strings{"1:5: invalid binary literal"}));
  auto p = parse("x = 18446744073709551616\n");
  EXPECT_EQ(p->diags.format(), "t.stn:1:5: error: integer literal too large\n"
                               "x = 18446744073709551616\n"
                               "    ^~~~~~~~~~~~~~~~~~~~\n"
                               "hint: integer literals must fit in 64 bits (at most "
                               "18446744073709551615)\n");
}

TEST(Errors, ExpectedExpression) {
  EXPECT_EQ(errors("x = \n"), (Strings{"1:4: expected expression"}));
  EXPECT_EQ(errors("x = a +\n"), (Strings{"1:8: expected expression"}));
  EXPECT_EQ(errors("x = f(,)\n"), (Strings{"1:7: expected expression"}));
  EXPECT_EQ(errors("x = a[]\n"), (Strings{"1:7: expected expression"}));
  EXPECT_EQ(errors("x = a if b\n"), (Strings{"1:11: expected 'else' after 'if' expression"}));
  EXPECT_EQ(errors("x = a.\n"), (Strings{"1:7: expected attribute name after '.'"}));
  EXPECT_EQ(errors("x = a.1\n"), (Strings{"1:6: invalid syntax"}));
  EXPECT_EQ(errors("def f():\n    return )\n"),
            (Strings{"2:12: unmatched ')'"}));
}

TEST(Errors, InvalidSyntax) {
  EXPECT_EQ(errors("x = 1 2\n"), (Strings{"1:7: invalid syntax"}));
  EXPECT_EQ(errors("x y\n"), (Strings{"1:3: invalid syntax"}));
  auto p = parse("print 'hello'\n");
  ASSERT_EQ(p->diags.diagnostics().size(), 1u);
  EXPECT_EQ(p->diags.diagnostics()[0].message, "invalid syntax");
  EXPECT_EQ(p->diags.diagnostics()[0].hint,
            "missing parentheses in call to 'print'; did you mean print(...)?");
  EXPECT_EQ(errors("if x: for y in z: pass\n"), (Strings{"1:7: invalid syntax"}));
  EXPECT_EQ(errors("def f():\n    else:\n        pass\n"),
            (Strings{"2:5: 'else' without a matching 'if', 'for' or 'while'"}));
  EXPECT_EQ(errors("elif x:\n    pass\n"), (Strings{"1:1: 'elif' without a matching 'if'"}));
  EXPECT_EQ(errors("except E:\n    pass\n"), (Strings{"1:1: 'except' without a matching 'try'"}));
  EXPECT_EQ(errors("finally:\n    pass\n"), (Strings{"1:1: 'finally' without a matching 'try'"}));
  EXPECT_EQ(errors("def f():\n    for x y:\n        pass\n"),
            (Strings{"2:11: expected 'in' after 'for' target"}));
  EXPECT_EQ(errors("from numba jit\n"), (Strings{"1:12: expected 'import' after module name"}));
  EXPECT_EQ(errors("import\n"), (Strings{"1:7: expected module name"}));
  EXPECT_EQ(errors("import a as\n"), (Strings{"1:12: expected name after 'as'"}));
  EXPECT_EQ(errors("from numba import jit,\n"),
            (Strings{"1:22: trailing comma not allowed without surrounding parentheses"}));
  EXPECT_EQ(errors("from numba import\n"), (Strings{"1:18: expected name to import"}));
  EXPECT_EQ(errors("@jit\nx = 1\n"), (Strings{"2:1: expected 'def' after decorator"}));
  EXPECT_EQ(errors("@jit x\ndef f(): pass\n"), (Strings{"1:6: expected newline after decorator"}));
  EXPECT_EQ(errors("def (x): pass\n"), (Strings{"1:5: expected function name after 'def'"}));
  EXPECT_EQ(errors("def f: pass\n"), (Strings{"1:6: expected '(' after function name"}));
  EXPECT_EQ(errors("def f(1): pass\n"), (Strings{"1:7: expected parameter name"}));
  EXPECT_EQ(errors("x = lambda x\n"), (Strings{"1:13: expected ':' after lambda parameters"}));
  EXPECT_EQ(errors("async x\n"), (Strings{"1:7: expected 'def', 'for' or 'with' after 'async'"}));
  EXPECT_EQ(errors("global 1\n"), (Strings{"1:8: expected a name"}));
}

TEST(Errors, AssignmentTargets) {
  EXPECT_EQ(errors("f() = 1\n"), (Strings{"1:1: cannot assign to function call"}));
  EXPECT_EQ(errors("a + 1 = 2\n"), (Strings{"1:1: cannot assign to expression"}));
  EXPECT_EQ(errors("1 = x\n"), (Strings{"1:1: cannot assign to literal"}));
  EXPECT_EQ(errors("None = x\n"), (Strings{"1:1: cannot assign to None"}));
  EXPECT_EQ(errors("a, f() = x\n"), (Strings{"1:4: cannot assign to function call"}));
  EXPECT_EQ(errors("x = a < b = 1\n"), (Strings{"1:5: cannot assign to comparison"}));
  EXPECT_EQ(errors("def f():\n    for f() in x: pass\n"),
            (Strings{"2:9: cannot assign to function call"}));
  EXPECT_EQ(errors("f() += 1\n"),
            (Strings{"1:1: 'function call' is an illegal expression for augmented assignment"}));
  EXPECT_EQ(errors("a, b += 1\n"),
            (Strings{"1:1: 'tuple' is an illegal expression for augmented assignment"}));
  EXPECT_EQ(errors("a, b: int = 1\n"),
            (Strings{"1:1: only single target (not tuple) can be annotated"}));
  EXPECT_EQ(errors("f(): int\n"), (Strings{"1:1: illegal target for annotation"}));
  auto p = parse("a + 1 = 2\n");
  EXPECT_EQ(p->diags.diagnostics()[0].hint, "maybe you meant '==' instead of '='?");
  EXPECT_EQ(p->diags.format(), "t.stn:1:1: error: cannot assign to expression\n"
                               "a + 1 = 2\n"
                               "^~~~~\n"
                               "hint: maybe you meant '==' instead of '='?\n");
}

TEST(Errors, Parameters) {
  EXPECT_EQ(errors("def f(a, *args): pass\n"),
            (Strings{"1:10: variadic parameters are not supported in stn kernels"}));
  EXPECT_EQ(errors("def f(a, **kw): pass\n"),
            (Strings{"1:10: variadic parameters are not supported in stn kernels"}));
  EXPECT_EQ(errors("def f(a, *, b): pass\n"),
            (Strings{"1:10: variadic parameters are not supported in stn kernels"}));
  EXPECT_EQ(errors("def f(a, /, b): pass\n"),
            (Strings{"1:10: variadic parameters are not supported in stn kernels"}));
  EXPECT_EQ(errors("def f(*a: int, **k): pass\n"),
            (Strings{"1:7: variadic parameters are not supported in stn kernels",
                     "1:16: variadic parameters are not supported in stn kernels"}));
  EXPECT_EQ(errors("def f(a, a): pass\n"),
            (Strings{"1:10: duplicate argument 'a' in function definition"}));
  EXPECT_EQ(errors("def f(a=1, b): pass\n"),
            (Strings{"1:12: parameter without a default follows parameter with a default"}));
  auto p = parse("def f(a, *args): pass\n");
  EXPECT_EQ(p->diags.format(), "t.stn:1:10: error: variadic parameters are not supported in "
                               "stn kernels\n"
                               "def f(a, *args): pass\n"
                               "         ^~~~~\n");
  // The function is still there, with its remaining parameters.
  ASSERT_EQ(p->module->functions.size(), 1u);
  EXPECT_EQ(p->module->functions[0]->params.size(), 1u);
}

TEST(Errors, CallArguments) {
  EXPECT_EQ(errors("f(a=1, b)\n"), (Strings{"1:8: positional argument follows keyword argument"}));
  EXPECT_EQ(errors("f(a=1, a=2)\n"), (Strings{"1:8: keyword argument repeated: a"}));
}

TEST(Errors, RecoveryReportsSeveralErrors) {
  auto p = parse("import numpy as np\n"
                 "\n"
                 "@jit\n"
                 "def f(a, b):\n"
                 "    x = a +\n"
                 "    y = (b * 2\n"
                 "    return x y\n"
                 "\n"
                 "def g(n)\n"
                 "    for i in range(n):\n"
                 "        n += $\n"
                 "    return n\n"
                 "\n"
                 "def h():\n"
                 "    return 1\n");
  EXPECT_EQ(errors("import numpy as np\n\n@jit\ndef f(a, b):\n    x = a +\n    y = (b * 2\n"
                   "    return x y\n\ndef g(n)\n    for i in range(n):\n        n += $\n"
                   "    return n\n\ndef h():\n    return 1\n"),
            (Strings{"5:12: expected expression", "6:9: '(' was never closed",
                     "7:14: invalid syntax", "9:9: expected ':' after function signature",
                     "11:14: unexpected character '$'"}));
  // All three functions are there, and the healthy one is complete.
  ASSERT_EQ(p->module->functions.size(), 3u);
  EXPECT_EQ(ast::printFunction(*p->module->functions[2], *p->file),
            "(def h (params)\n  (return (int 1)))\n");
  EXPECT_EQ(p->module->imports.size(), 1u);
}

TEST(Errors, DiagnosticsAreInSourceOrder) {
  // The lexer finds the bad character on line 3 before the parser finds the
  // missing colon on line 1; the report still reads top to bottom.
  EXPECT_EQ(errors("if x\n    pass\ny = 'a\n"),
            (Strings{"1:5: expected ':' after 'if' condition", "3:5: unterminated string literal"}));
}

TEST(Errors, OneErrorPerBrokenStatement) {
  EXPECT_EQ(errors("x = ((a +) * (b +))\n"), (Strings{"1:10: expected expression"}));
  EXPECT_EQ(errors("def f():\n    if x == :\n        y = )(\n"),
            (Strings{"2:13: expected expression", "3:13: unmatched ')'",
                     "3:14: '(' was never closed"}));
}

TEST(Errors, ErrorLimit) {
  std::string src;
  for (int i = 0; i < 80; ++i)
    src += "x = $\n";
  auto p = parse(src);
  const auto &d = p->diags.diagnostics();
  ASSERT_EQ(d.size(), 51u);
  EXPECT_EQ(p->file->lineCol(d[49].range.begin), std::make_pair(50u, 5u));
  EXPECT_EQ(d[50].file, nullptr);
  EXPECT_EQ(DiagnosticEngine::format(d[50]), "error: too many errors emitted, stopping now\n");
}

TEST(Errors, NestingLimit) {
  std::string deep(1000, '(');
  auto errs = errors("x = " + deep + "1" + std::string(1000, ')') + "\ny = 2\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "1:205: expression nested too deeply");
  // 100 levels are fine.
  EXPECT_EQ(printed("x = " + std::string(100, '(') + "1" + std::string(100, ')') + "\n"),
            "(module\n  (global x (int 1)))\n");
  EXPECT_EQ(errors("x = " + std::string(5000, '-') + "1\n").size(), 1u);
  EXPECT_EQ(errors("x = " + std::string(5000, '~') + "1\n").size(), 1u);
  std::string nots;
  for (int i = 0; i < 5000; ++i)
    nots += "not ";
  EXPECT_EQ(errors("x = " + nots + "1\n").size(), 1u);
  std::string pows = "x = 2";
  for (int i = 0; i < 5000; ++i)
    pows += "**2";
  EXPECT_EQ(errors(pows + "\n").size(), 1u);
  std::string ifs = "x = 1";
  for (int i = 0; i < 5000; ++i)
    ifs += " if a else 1";
  EXPECT_EQ(errors(ifs + "\n").size(), 1u);
  std::string lambdas = "x = ";
  for (int i = 0; i < 5000; ++i)
    lambdas += "lambda: ";
  EXPECT_EQ(errors(lambdas + "1\n").size(), 1u);
  std::string subs = "x = a";
  for (int i = 0; i < 5000; ++i)
    subs += "[a";
  EXPECT_FALSE(errors(subs + "\n").empty());
  std::string calls = "x = ";
  for (int i = 0; i < 5000; ++i)
    calls += "f(";
  EXPECT_FALSE(errors(calls + "\n").empty());
  // A long operator chain is parsed by a loop, but it builds a left-deep
  // tree that later stages walk recursively: up to the height limit it is
  // fine, beyond it one error (not one per operator).
  std::string sum = "x = 1";
  for (int i = 0; i < 200; ++i)
    sum += " + 1";
  EXPECT_TRUE(errors(sum + "\n").empty());
  for (int i = 0; i < 20000; ++i)
    sum += " + 1";
  Strings sumErrors = errors(sum + "\n");
  ASSERT_EQ(sumErrors.size(), 1u);
  EXPECT_NE(sumErrors[0].find("expression too complex"), std::string::npos) << sumErrors[0];
  std::string chain = "x = a";
  for (int i = 0; i < 400; ++i)
    chain += " < a";
  EXPECT_EQ(errors(chain + "\n").size(), 1u);
  std::string ands = "x = a";
  for (int i = 0; i < 400; ++i)
    ands += " and a";
  EXPECT_EQ(errors(ands + "\n").size(), 1u);
}

TEST(Errors, IndentationLimit) {
  std::string src = "def f():\n";
  for (int i = 1; i <= 150; ++i)
    src += std::string(i, ' ') + "if x:\n";
  src += std::string(151, ' ') + "pass\n";
  // One error, not one per deeper line; code after the deep region is
  // checked again.
  EXPECT_EQ(errors(src + "def g():\n    return )\n"),
            (Strings{"101:101: too many levels of indentation", "154:12: unmatched ')'"}));
  EXPECT_EQ(errors(src + "    x = (\n"),
            (Strings{"101:101: too many levels of indentation", "153:9: '(' was never closed"}));
}

//===----------------------------------------------------------------------===//
// Printer details
//===----------------------------------------------------------------------===//

TEST(Printer, StringsAreEscaped) {
  EXPECT_EQ(expr("'a\\tb\\x01\\x7f\"\\\\'"), "(str \"a\\tb\\x01\\x7f\\\"\\\\\")");
}

TEST(Printer, Spellings) {
  EXPECT_STREQ(ast::spelling(ast::BinOpKind::FloorDiv), "//");
  EXPECT_STREQ(ast::spelling(ast::BinOpKind::MatMul), "@");
  EXPECT_STREQ(ast::spelling(ast::UnaryOpKind::Not), "not");
  EXPECT_STREQ(ast::spelling(ast::UnaryOpKind::Invert), "~");
  EXPECT_STREQ(ast::spelling(ast::CmpOpKind::IsNot), "is not");
  EXPECT_STREQ(ast::spelling(ast::CmpOpKind::NotIn), "not in");
  EXPECT_STREQ(ast::spelling(ast::BoolOpKind::And), "and");
  EXPECT_STREQ(ast::spelling(ast::BoolOpKind::Or), "or");
}

TEST(Printer, HandBuiltNodesWithNulls) {
  // Later stages may build nodes by hand; null children print as '_'.
  ast::Slice s(SourceRange(), nullptr, nullptr, nullptr);
  EXPECT_EQ(ast::printExpr(s), "(slice _ _ _)");
  ast::FunctionDef f;
  f.name = "k";
  SourceFile file("f", "");
  EXPECT_EQ(ast::printFunction(f, file), "(def k (params))\n");
  ast::Module m;
  EXPECT_EQ(ast::printModule(m), "(module)\n");
}

TEST(Printer, KitchenSink) {
  EXPECT_EQ(printed(kKitchenSink),
            R"AST((module
  (import numpy as np)
  (import numba as nb)
  (from numba import cuda float32)
  (from __future__ import print_function)
  (global TPB (int 16))
  (global SCALE (unary - (float 0.0015)))
  (def matmul (params (A : (subscript (name f8) (tuple (slice _ _ _) (slice _ _ _)))) B C (n = (int 3)))
    (decorators (call (attr (name cuda) jit) (str "void(f8[:,:], f8[:,:], f8[:,:])") (kw fastmath (bool True))))
    (returns (none))
    (docstring "Multiply.")
    (assign (name sA) (call (attr (attr (name cuda) shared) array) (kw shape (tuple (name TPB) (name TPB))) (kw dtype (name float32))))
    (assign (tuple (name x) (name y)) (call (attr (name cuda) grid) (int 2)))
    (if (and (compare (name x) >= (subscript (attr (name C) shape) (int 0))) (compare (name y) >= (subscript (attr (name C) shape) (int 1))))
      (return))
    (assign (name tmp) (float 0))
    (for (name i) (call (name range) (name bpg))
      (assign (subscript (name sA) (tuple (name tx) (name ty))) (subscript (name A) (tuple (name x) (binop + (name ty) (binop * (name i) (name TPB))))))
      (expr (call (attr (name cuda) syncthreads)))
      (for (name j) (call (name range) (name TPB))
        (aug-assign += (name tmp) (binop * (subscript (name sA) (tuple (name tx) (name j))) (subscript (name sB) (tuple (name j) (name ty)))))
        (else
          (pass))))
    (while (or (compare (name tmp) > (int 1)) (unary not (compare (name tmp) < (unary - (int 1)))))
      (aug-assign //= (name tmp) (int 2))
      (aug-assign **= (name tmp) (int 1))
      (if (compare (name tmp) == (int 0))
        (break)
        (else
          (if (compare (name tmp) is not (none))
            (continue)
            (else
              (assign (name tmp) (ifexp (compare (name tmp) in (name b)) (subscript (name a) (tuple (slice (int 1) (unary - (int 1)) _) (slice _ _ (int 2)))) (binop << (unary ~ (name tmp)) (int 2)))))))))
    (assign (subscript (name C) (tuple (name x) (name y))) (name tmp))
    (assign (name z) (binop - (binop + (imag 2) (int 31)) (binop @ (binop % (binop * (int 5) (int 15)) (int 1000)) (name q))))
    (assign (name s) (str "ab\\nc\nd"))
    (assign (name t) (tuple))
    (assign (name u) (tuple (int 1)))
    (assign (name v) (list (int 1) (int 2) (tuple (int 3) (int 4))))
    (assign (name w) (compare (name a) < (name b) <= (name c) != (name d)))
    (return (tuple (name x) (name y)))))
)AST");
}

//===----------------------------------------------------------------------===//
// Robustness: the parser must never crash, hang or recurse without bound
//===----------------------------------------------------------------------===//

namespace {
/// Parses `src` and checks the invariants every parse must keep.
void parseAndCheck(const std::string &src) {
  auto file = std::make_shared<SourceFile>("fuzz.stn", src);
  DiagnosticEngine diags;
  auto m = parseModule(file, diags);
  ASSERT_NE(m, nullptr);
  // Printing walks the whole tree: no null where a node is required.
  std::string printed = ast::printModule(*m);
  ASSERT_FALSE(printed.empty());
  for (const Diagnostic &d : diags.diagnostics()) {
    ASSERT_LE(d.range.begin, src.size());
    ASSERT_LE(d.range.end, src.size() + 1);
    ASSERT_FALSE(d.message.empty());
    ASSERT_FALSE(DiagnosticEngine::format(d).empty());
  }
  for (const auto &f : m->functions) {
    ASSERT_LE(f->range.begin, f->range.end);
    ASSERT_LE(f->range.end, src.size());
  }
  // parseExpression over the same bytes must be just as robust.
  DiagnosticEngine exprDiags;
  ast::ExprPtr e = parseExpression(file, exprDiags, 0, static_cast<uint32_t>(src.size()));
  if (e)
    ASSERT_FALSE(ast::printExpr(*e).empty());
  else
    ASSERT_TRUE(exprDiags.hasErrors());
}
} // namespace

TEST(Robustness, EveryPrefixOfTheSamples) {
  for (const char *sample : {kClosest, kKitchenSink}) {
    std::string src = sample;
    for (size_t len = 0; len <= src.size(); ++len)
      parseAndCheck(src.substr(0, len));
  }
}

TEST(Robustness, EverySuffixOfTheSamples) {
  std::string src = kKitchenSink;
  for (size_t start = 0; start <= src.size(); ++start)
    parseAndCheck(src.substr(start));
}

TEST(Robustness, SingleByteMutations) {
  // Deterministic pseudo-random edits: replace, delete or insert one byte
  // from a set of "interesting" characters.
  const std::string interesting = "()[]{}:,;.=+-*/\\'\"#\n\r\t @!$0x_eja";
  std::string base = kKitchenSink;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string src = base;
    size_t pos = next() % src.size();
    char c = interesting[next() % interesting.size()];
    switch (next() % 3) {
    case 0: src[pos] = c; break;
    case 1: src.erase(pos, 1); break;
    default: src.insert(pos, 1, c); break;
    }
    parseAndCheck(src);
  }
}

TEST(Robustness, PathologicalInputs) {
  parseAndCheck(std::string(100000, '('));
  parseAndCheck(std::string(100000, ')'));
  parseAndCheck(std::string(100000, '['));
  parseAndCheck(std::string(100000, '{'));
  parseAndCheck("x = " + std::string(100000, '{'));
  parseAndCheck(std::string(10000, '\n'));
  parseAndCheck(std::string(10000, ' ') + "x\n");
  parseAndCheck(std::string(10000, '\t'));
  parseAndCheck(std::string(10000, '\\'));
  parseAndCheck(std::string(10000, '"'));
  parseAndCheck(std::string(10000, '\''));
  parseAndCheck(std::string(10000, '@'));
  parseAndCheck(std::string(10000, ':'));
  parseAndCheck(std::string(10000, '.'));
  parseAndCheck(std::string(10000, '\0'));
  parseAndCheck(std::string(10000, '\xff'));
  parseAndCheck("'''" + std::string(1000, '\n'));
  std::string defs;
  for (int i = 0; i < 2000; ++i)
    defs += "def\n";
  parseAndCheck(defs);
  std::string stairs;
  for (int i = 0; i < 500; ++i)
    stairs += std::string(i, ' ') + "if x:\n";
  parseAndCheck(stairs);
  std::string downstairs;
  for (int i = 500; i > 0; --i)
    downstairs += std::string(i, ' ') + "x\n";
  parseAndCheck(downstairs);
  std::string brackets;
  for (int i = 0; i < 3000; ++i)
    brackets += "([{";
  parseAndCheck("x = " + brackets);
  std::string lines;
  for (int i = 0; i < 3000; ++i)
    lines += "return (\n";
  parseAndCheck(lines);
}

TEST(Robustness, LongElifChain) {
  auto chain = [](int n) {
    std::string src = "def f(x):\n    if x == 0:\n        return 0\n";
    for (int i = 1; i < n; ++i)
      src += "    elif x == " + std::to_string(i) + ":\n        return " + std::to_string(i) + "\n";
    return src + "    else:\n        return -1\n";
  };
  // The parser loops over elif clauses instead of recursing.
  auto p = parse(chain(20000));
  ASSERT_FALSE(p->diags.hasErrors()) << p->diags.format();
  const ast::Stmt *s = p->module->functions[0]->body[0].get();
  for (int i = 0; i < 19999; ++i)
    s = cast<ast::If>(s)->orelse[0].get();
  // The innermost If spans from its 'elif' to the end of the chain.
  EXPECT_EQ(textOf(*p->file, s->range()), "elif x == 19999:\n        return 19999\n    else:\n"
                                          "        return -1");
  // The printer walks the chain too (its output grows quadratically with
  // the indentation, so print a shorter one).
  std::string out = printed(chain(1000));
  EXPECT_NE(out.find("(return (int 999))"), std::string::npos);
  EXPECT_NE(out.find("(return (unary - (int 1)))"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 6), ")))))\n");
}

TEST(Robustness, DeepNestingOnASmallStack) {
  // Hosts may compile on worker threads with smaller stacks than main's;
  // the nesting cap keeps the parser well inside 1 MiB (measured: 384 KiB
  // for 200 nested '(' in the release build). AddressSanitizer's redzones
  // make the same frames about 8 times larger (3 MiB measured), so the
  // sanitizer builds (CMakePresets.json) get a proportionally larger stack.
  size_t stackSize = size_t(1) << 20;
#if defined(__SANITIZE_ADDRESS__)
  stackSize *= 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  stackSize *= 8;
#endif
#endif
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stackSize);
  pthread_t thread;
  auto run = [](void *) -> void * {
    for (const char *open : {"(", "[", "f(", "-", "not ", "a[", "lambda:", "1 if 1 else "}) {
      std::string src = "x = ";
      for (int i = 0; i < 10000; ++i)
        src += open;
      auto file = std::make_shared<SourceFile>("deep.stn", src + "1\n");
      DiagnosticEngine diags;
      parseModule(file, diags);
    }
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, nullptr), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}
