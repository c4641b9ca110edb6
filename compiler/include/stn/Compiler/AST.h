//===- AST.h - Abstract syntax tree of .stn files ---------------*- C++ -*-===//
//
// The parser's output: a Python-like syntax tree in which every node keeps
// the byte range it was parsed from. No MLIR in here (Toy's rule: the front
// end does not depend on the code generator). Nodes use LLVM-style RTTI
// (`llvm::isa/dyn_cast` work through `classof`).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_AST_H
#define STN_COMPILER_AST_H

#include "stn/Compiler/Diagnostics.h"

#include "llvm/Support/Casting.h"

#include <complex>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stn::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

enum class BinOpKind {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow, // + - * / // % **
  BitAnd, BitOr, BitXor, LShift, RShift,  // & | ^ << >>
  MatMul                                  // @ (parsed, rejected later)
};
enum class UnaryOpKind { Neg, Pos, Invert, Not }; // - + ~ not
enum class CmpOpKind { Eq, Ne, Lt, Le, Gt, Ge, Is, IsNot, In, NotIn };
enum class BoolOpKind { And, Or };

const char *spelling(BinOpKind k);
const char *spelling(UnaryOpKind k);
const char *spelling(CmpOpKind k);
const char *spelling(BoolOpKind k);

class Expr {
public:
  enum class Kind {
    IntLit, FloatLit, ImagLit, BoolLit, NoneLit, EllipsisLit, StrLit,
    Name, Attribute, Subscript, Slice, Call,
    BinOp, UnaryOp, Compare, BoolOp, IfExp, Tuple, List, ListComp, Dict,
    Lambda,     // only until liftLocalFunctions() (LocalFunctions.h)
    Closure,    // a local function used as a value (`key=f`)
    Unsupported // a Python construct stn rejects (yield, starred, ...)
  };
  Expr(Kind k, SourceRange r) : TheKind(k), Range(r) {}
  virtual ~Expr() = default;
  Kind kind() const { return TheKind; }
  SourceRange range() const { return Range; }
  /// How deep the recursive walks of later stages go into this expression:
  /// 1 for a leaf, 1 + the highest child for most nodes, the highest
  /// operand + the number of operators for comparison chains and and/or
  /// (the code generator nests one branch per operand). Set by the parser,
  /// which rejects expressions higher than a fixed limit (Parser.cpp,
  /// kMaxHeight) so that long operator chains cannot exhaust the stack.
  unsigned height() const { return Height; }
  void setHeight(unsigned h) { Height = h; }

private:
  Kind TheKind;
  uint32_t Height = 1;
  SourceRange Range;
};
using ExprPtr = std::unique_ptr<Expr>;

/// Integer literal. Values that do not fit in int64 but fit in uint64 are
/// kept with `isUnsigned`; larger literals are a parse error.
class IntLit : public Expr {
public:
  IntLit(SourceRange r, uint64_t v, bool isUnsigned = false)
      : Expr(Kind::IntLit, r), value(v), isUnsigned(isUnsigned) {}
  uint64_t value;
  bool isUnsigned;
  static bool classof(const Expr *e) { return e->kind() == Kind::IntLit; }
};

class FloatLit : public Expr {
public:
  FloatLit(SourceRange r, double v) : Expr(Kind::FloatLit, r), value(v) {}
  double value;
  static bool classof(const Expr *e) { return e->kind() == Kind::FloatLit; }
};

/// Imaginary literal such as `2j` or `0.5J` (value is the imaginary part).
class ImagLit : public Expr {
public:
  ImagLit(SourceRange r, double v) : Expr(Kind::ImagLit, r), value(v) {}
  double value;
  static bool classof(const Expr *e) { return e->kind() == Kind::ImagLit; }
};

class BoolLit : public Expr {
public:
  BoolLit(SourceRange r, bool v) : Expr(Kind::BoolLit, r), value(v) {}
  bool value;
  static bool classof(const Expr *e) { return e->kind() == Kind::BoolLit; }
};

class NoneLit : public Expr {
public:
  explicit NoneLit(SourceRange r) : Expr(Kind::NoneLit, r) {}
  static bool classof(const Expr *e) { return e->kind() == Kind::NoneLit; }
};

/// `...`: valid only as an index of an array subscript (every axis it
/// stands for, taken whole).
class EllipsisLit : public Expr {
public:
  explicit EllipsisLit(SourceRange r) : Expr(Kind::EllipsisLit, r) {}
  static bool classof(const Expr *e) { return e->kind() == Kind::EllipsisLit; }
};

/// String literal (decorator arguments, signatures, dtype names, docstrings).
/// Adjacent literals are concatenated by the parser.
class StrLit : public Expr {
public:
  StrLit(SourceRange r, std::string v) : Expr(Kind::StrLit, r), value(std::move(v)) {}
  std::string value;
  static bool classof(const Expr *e) { return e->kind() == Kind::StrLit; }
};

/// A parameter of a `def` or a `lambda`.
struct Param {
  std::string name;
  SourceRange range;
  ExprPtr annotation; ///< may be null
  ExprPtr defaultValue; ///< may be null (KernelDecl::defaults)
};

class Name : public Expr {
public:
  Name(SourceRange r, std::string id) : Expr(Kind::Name, r), id(std::move(id)) {}
  std::string id;
  static bool classof(const Expr *e) { return e->kind() == Kind::Name; }
};

/// `value.attr`
class Attribute : public Expr {
public:
  Attribute(SourceRange r, ExprPtr value, std::string attr, SourceRange attrRange)
      : Expr(Kind::Attribute, r), value(std::move(value)), attr(std::move(attr)),
        attrRange(attrRange) {}
  ExprPtr value;
  std::string attr;
  SourceRange attrRange;
  static bool classof(const Expr *e) { return e->kind() == Kind::Attribute; }
};

/// `value[index]`; a multi-index `a[i, j]` has a Tuple as its index.
class Subscript : public Expr {
public:
  Subscript(SourceRange r, ExprPtr value, ExprPtr index)
      : Expr(Kind::Subscript, r), value(std::move(value)), index(std::move(index)) {}
  ExprPtr value;
  ExprPtr index;
  static bool classof(const Expr *e) { return e->kind() == Kind::Subscript; }
};

/// The index components of `a[i]` / `a[i, j:k]`: one per axis written.
inline std::vector<const Expr *> subscriptIndices(const Subscript &s);

/// `lower:upper:step` inside a subscript; absent parts are null.
class Slice : public Expr {
public:
  Slice(SourceRange r, ExprPtr lower, ExprPtr upper, ExprPtr step)
      : Expr(Kind::Slice, r), lower(std::move(lower)), upper(std::move(upper)),
        step(std::move(step)) {}
  ExprPtr lower, upper, step;
  static bool classof(const Expr *e) { return e->kind() == Kind::Slice; }
};

struct Keyword {
  std::string name;
  SourceRange nameRange;
  ExprPtr value;
};

/// `func(args..., name=value...)`
class Call : public Expr {
public:
  Call(SourceRange r, ExprPtr func, std::vector<ExprPtr> args,
       std::vector<Keyword> keywords)
      : Expr(Kind::Call, r), func(std::move(func)), args(std::move(args)),
        keywords(std::move(keywords)) {}
  ExprPtr func;
  std::vector<ExprPtr> args;
  std::vector<Keyword> keywords;
  /// A call of a local function (a nested `def` or a lambda, lifted to the
  /// module by liftLocalFunctions): the last `captured` of `args` are the
  /// values of the enclosing function's variables it reads, passed to its
  /// last parameters (FunctionDef::captures); the others are as written.
  unsigned captured = 0;
  static bool classof(const Expr *e) { return e->kind() == Kind::Call; }
};

/// An operator written as a NumPy ufunc call: `np.add(a, b)` is parsed as
/// `a + b` (`np.logical_and(a, b)` as `(a != 0) & (b != 0)`), with the
/// module name and the ufunc kept here: Sema checks that the module is
/// numpy. Empty for an operator written as one.
struct UfuncSpelling {
  std::string module, name;
  SourceRange range; ///< `np.add`
  bool empty() const { return name.empty(); }
};

class BinOp : public Expr {
public:
  BinOp(SourceRange r, BinOpKind op, SourceRange opRange, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::BinOp, r), op(op), opRange(opRange), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  BinOpKind op;
  SourceRange opRange;
  ExprPtr lhs, rhs;
  /// Written as a NumPy ufunc call (`np.add(a, b)`, UfuncSpelling).
  UfuncSpelling ufunc;
  static bool classof(const Expr *e) { return e->kind() == Kind::BinOp; }
};

class UnaryOp : public Expr {
public:
  UnaryOp(SourceRange r, UnaryOpKind op, ExprPtr operand)
      : Expr(Kind::UnaryOp, r), op(op), operand(std::move(operand)) {}
  UnaryOpKind op;
  ExprPtr operand;
  UfuncSpelling ufunc; ///< `np.negative(a)`
  static bool classof(const Expr *e) { return e->kind() == Kind::UnaryOp; }
};

/// A comparison chain `a < b <= c`: operands.size() == ops.size() + 1.
class Compare : public Expr {
public:
  Compare(SourceRange r, std::vector<CmpOpKind> ops, std::vector<SourceRange> opRanges,
          std::vector<ExprPtr> operands)
      : Expr(Kind::Compare, r), ops(std::move(ops)), opRanges(std::move(opRanges)),
        operands(std::move(operands)) {}
  std::vector<CmpOpKind> ops;
  std::vector<SourceRange> opRanges;
  std::vector<ExprPtr> operands;
  UfuncSpelling ufunc; ///< `np.less(a, b)`
  static bool classof(const Expr *e) { return e->kind() == Kind::Compare; }
};

/// `a and b and c` / `a or b`: values.size() >= 2.
class BoolOp : public Expr {
public:
  BoolOp(SourceRange r, BoolOpKind op, std::vector<ExprPtr> values)
      : Expr(Kind::BoolOp, r), op(op), values(std::move(values)) {}
  BoolOpKind op;
  std::vector<ExprPtr> values;
  static bool classof(const Expr *e) { return e->kind() == Kind::BoolOp; }
};

/// `body if cond else orelse`
class IfExp : public Expr {
public:
  IfExp(SourceRange r, ExprPtr cond, ExprPtr body, ExprPtr orelse)
      : Expr(Kind::IfExp, r), cond(std::move(cond)), body(std::move(body)),
        orelse(std::move(orelse)) {}
  ExprPtr cond, body, orelse;
  static bool classof(const Expr *e) { return e->kind() == Kind::IfExp; }
};

/// `(a, b)` or `a, b` (also the index of `x[i, j]`).
class Tuple : public Expr {
public:
  Tuple(SourceRange r, std::vector<ExprPtr> elts)
      : Expr(Kind::Tuple, r), elts(std::move(elts)) {}
  std::vector<ExprPtr> elts;
  static bool classof(const Expr *e) { return e->kind() == Kind::Tuple; }
};

/// The elements of `e` where it is a tuple display, else `e` alone.
inline std::vector<const Expr *> tupleItems(const Expr &e) {
  std::vector<const Expr *> items;
  if (auto *t = llvm::dyn_cast<Tuple>(&e))
    for (auto &x : t->elts)
      items.push_back(x.get());
  else
    items.push_back(&e);
  return items;
}

inline std::vector<const Expr *> subscriptIndices(const Subscript &s) {
  return tupleItems(*s.index);
}

/// `[a, b]` (decorator signature lists, shapes).
class List : public Expr {
public:
  List(SourceRange r, std::vector<ExprPtr> elts, bool braces = false)
      : Expr(Kind::List, r), elts(std::move(elts)), braces(braces) {}
  std::vector<ExprPtr> elts;
  /// A set display `{a, b}` rather than a list: only decorator options
  /// accept one (fastmath={"nnan", "ninf"}); kernels reject it.
  bool braces = false;
  static bool classof(const Expr *e) { return e->kind() == Kind::List; }
};

/// `{k: v, ...}` and `{}`: a dict display (keys[i] maps to values[i]).
class Dict : public Expr {
public:
  Dict(SourceRange r, std::vector<ExprPtr> keys, std::vector<ExprPtr> values)
      : Expr(Kind::Dict, r), keys(std::move(keys)), values(std::move(values)) {}
  std::vector<ExprPtr> keys;
  std::vector<ExprPtr> values; ///< as many as keys
  static bool classof(const Expr *e) { return e->kind() == Kind::Dict; }
};

/// `lambda params: body`. The parser makes it; liftLocalFunctions turns
/// it into a function of the module, so later stages never see one.
class Lambda : public Expr {
public:
  Lambda(SourceRange r, std::vector<Param> params, ExprPtr body)
      : Expr(Kind::Lambda, r), params(std::move(params)), body(std::move(body)) {}
  std::vector<Param> params;
  ExprPtr body;
  static bool classof(const Expr *e) { return e->kind() == Kind::Lambda; }
};

/// A local function (lifted to the module as `function`) used as a value
/// rather than called: `sorted(xs, key=lambda p: p[1])`. `captures` are the
/// values it reads from the functions around it, as in a call's last
/// arguments (Call::captured).
class Closure : public Expr {
public:
  Closure(SourceRange r, std::string function, std::vector<ExprPtr> captures)
      : Expr(Kind::Closure, r), function(std::move(function)),
        captures(std::move(captures)) {}
  std::string function;
  std::vector<ExprPtr> captures;
  static bool classof(const Expr *e) { return e->kind() == Kind::Closure; }
};

/// One `for target in iter [if cond]...` clause of a comprehension.
struct Comprehension {
  ExprPtr target; ///< a Name or a Tuple of Names (renamed: see ListComp)
  ExprPtr iter;
  std::vector<ExprPtr> ifs;
};

/// `[elt for target in iter if cond ...]`, or the generator expression
/// `(elt for ...)` (`generator`), which the kernels use as the list of its
/// items where it is consumed (`sum(x * x for x in a)`). As in Python 3,
/// the targets are local to the comprehension: the parser renames each (and
/// the names in its scope that read it) to `name@N`, a name no source can
/// spell, unique in the file; `sourceName` gives back what was written.
/// A dict comprehension `{k: v for ...}` is one with a `value`: `elt` is
/// then the key. A set comprehension `{x for ...}` is one with `set`.
class ListComp : public Expr {
public:
  ListComp(SourceRange r, ExprPtr elt, std::vector<Comprehension> generators,
           bool generator = false)
      : Expr(Kind::ListComp, r), elt(std::move(elt)), generators(std::move(generators)),
        generator(generator) {}
  ExprPtr elt;
  std::vector<Comprehension> generators; ///< at least one, outermost first
  bool generator;
  ExprPtr value; ///< a dict comprehension's value, else null
  bool set = false; ///< a set comprehension
  bool isDict() const { return value != nullptr; }
  bool isSet() const { return set; }
  static bool classof(const Expr *e) { return e->kind() == Kind::ListComp; }
};

/// The name as written in the source: `x` for a comprehension's `x@3`.
inline std::string_view sourceName(std::string_view id) {
  return id.substr(0, id.find('@'));
}

/// Whether `id` is a comprehension's target (`x@3`), bound only inside it.
inline bool isComprehensionTarget(std::string_view id) {
  return id.find('@') != std::string_view::npos;
}

/// Calls `fn` on the slot (the ExprPtr) of each direct sub-expression of
/// `e` in source order (a call's function, arguments, then keyword values;
/// absent slice bounds are skipped), for walks that treat every child alike
/// and may replace one.
template <class Fn> void forEachChildSlot(Expr &e, Fn &&fn) {
  auto one = [&](ExprPtr &c) {
    if (c)
      fn(c);
  };
  auto all = [&](std::vector<ExprPtr> &cs) {
    for (auto &c : cs)
      one(c);
  };
  switch (e.kind()) {
  case Expr::Kind::Attribute:
    one(static_cast<Attribute &>(e).value);
    break;
  case Expr::Kind::Subscript:
    one(static_cast<Subscript &>(e).value);
    one(static_cast<Subscript &>(e).index);
    break;
  case Expr::Kind::Slice: {
    auto &s = static_cast<Slice &>(e);
    one(s.lower);
    one(s.upper);
    one(s.step);
    break;
  }
  case Expr::Kind::Call: {
    auto &c = static_cast<Call &>(e);
    one(c.func);
    all(c.args);
    for (auto &k : c.keywords)
      one(k.value);
    break;
  }
  case Expr::Kind::BinOp:
    one(static_cast<BinOp &>(e).lhs);
    one(static_cast<BinOp &>(e).rhs);
    break;
  case Expr::Kind::UnaryOp:
    one(static_cast<UnaryOp &>(e).operand);
    break;
  case Expr::Kind::Compare:
    all(static_cast<Compare &>(e).operands);
    break;
  case Expr::Kind::BoolOp:
    all(static_cast<BoolOp &>(e).values);
    break;
  case Expr::Kind::IfExp: {
    auto &i = static_cast<IfExp &>(e);
    one(i.cond);
    one(i.body);
    one(i.orelse);
    break;
  }
  case Expr::Kind::Tuple:
    all(static_cast<Tuple &>(e).elts);
    break;
  case Expr::Kind::List:
    all(static_cast<List &>(e).elts);
    break;
  case Expr::Kind::ListComp: {
    // In evaluation order: each clause's iterable, target and conditions,
    // then the element.
    auto &l = static_cast<ListComp &>(e);
    for (auto &g : l.generators) {
      one(g.iter);
      one(g.target);
      all(g.ifs);
    }
    one(l.elt);
    one(l.value);
    break;
  }
  case Expr::Kind::Dict: {
    auto &d = static_cast<Dict &>(e);
    for (size_t i = 0; i < d.keys.size(); ++i) {
      one(d.keys[i]);
      one(d.values[i]);
    }
    break;
  }
  case Expr::Kind::Closure:
    all(static_cast<Closure &>(e).captures);
    break;
  default:
    break;
  }
}

/// Calls `fn` on each direct sub-expression of `e`, in forEachChildSlot's
/// order.
template <class Fn> void forEachChild(const Expr &e, Fn &&fn) {
  forEachChildSlot(const_cast<Expr &>(e),
                   [&](ExprPtr &c) { fn(static_cast<const Expr &>(*c)); });
}

/// A Python expression form that stn does not support (lambda, dict, set,
/// comprehension, f-string, walrus, starred, yield, await). The parser
/// consumes it whole and records what it was; later stages report it.
class Unsupported : public Expr {
public:
  Unsupported(SourceRange r, std::string what)
      : Expr(Kind::Unsupported, r), what(std::move(what)) {}
  std::string what; ///< e.g. "lambda expressions"
  static bool classof(const Expr *e) { return e->kind() == Kind::Unsupported; }
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt {
public:
  enum class Kind {
    ExprStmt, Assign, AugAssign, If, For, While, Break, Continue, Return,
    Raise, Assert, Pass, Import, LocalDef, Unsupported
  };
  Stmt(Kind k, SourceRange r) : TheKind(k), Range(r) {}
  virtual ~Stmt() = default;
  Kind kind() const { return TheKind; }
  SourceRange range() const { return Range; }

private:
  Kind TheKind;
  SourceRange Range;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

class ExprStmt : public Stmt {
public:
  ExprStmt(SourceRange r, ExprPtr value) : Stmt(Kind::ExprStmt, r), value(std::move(value)) {}
  ExprPtr value;
  static bool classof(const Stmt *s) { return s->kind() == Kind::ExprStmt; }
};

/// `t1 = t2 = value`; each target is a Name, Subscript, Attribute or a
/// Tuple/List of targets. `x: T = v` is an Assign with `annotation` set;
/// a bare `x: T` has a null value.
class Assign : public Stmt {
public:
  Assign(SourceRange r, std::vector<ExprPtr> targets, ExprPtr value,
         ExprPtr annotation = nullptr)
      : Stmt(Kind::Assign, r), targets(std::move(targets)), value(std::move(value)),
        annotation(std::move(annotation)) {}
  std::vector<ExprPtr> targets;
  ExprPtr value;
  ExprPtr annotation;
  static bool classof(const Stmt *s) { return s->kind() == Kind::Assign; }
};

/// `target op= value`
class AugAssign : public Stmt {
public:
  AugAssign(SourceRange r, ExprPtr target, BinOpKind op, SourceRange opRange, ExprPtr value)
      : Stmt(Kind::AugAssign, r), target(std::move(target)), op(op), opRange(opRange),
        value(std::move(value)) {}
  ExprPtr target;
  BinOpKind op;
  SourceRange opRange;
  ExprPtr value;
  /// `np.add.at(a, idx, v)` (the parser's desugaring): `a[idx] += v`
  /// applied once per index, duplicates included (unbuffered, as NumPy's
  /// ufunc.at). `atModule` is the name the call went through (Sema checks
  /// that it is numpy), `atUfunc` the ufunc ("add"); empty for an ordinary
  /// augmented assignment. "maximum" and "minimum" have no operator: `op`
  /// is then Add, and `atUfunc` says which.
  std::string atModule, atUfunc;
  bool isUfuncAt() const { return !atUfunc.empty(); }
  bool atMinMax() const { return atUfunc == "maximum" || atUfunc == "minimum"; }
  static bool classof(const Stmt *s) { return s->kind() == Kind::AugAssign; }
};

/// `if`/`elif`/`else`: an `elif` is an If nested as the only statement of
/// `orelse`.
class If : public Stmt {
public:
  If(SourceRange r, ExprPtr cond, Block body, Block orelse)
      : Stmt(Kind::If, r), cond(std::move(cond)), body(std::move(body)),
        orelse(std::move(orelse)) {}
  ExprPtr cond;
  Block body, orelse;
  static bool classof(const Stmt *s) { return s->kind() == Kind::If; }
};

/// `for target in iter: body [else: orelse]`
class For : public Stmt {
public:
  For(SourceRange r, ExprPtr target, ExprPtr iter, Block body, Block orelse)
      : Stmt(Kind::For, r), target(std::move(target)), iter(std::move(iter)),
        body(std::move(body)), orelse(std::move(orelse)) {}
  ExprPtr target, iter;
  Block body, orelse;
  static bool classof(const Stmt *s) { return s->kind() == Kind::For; }
};

class While : public Stmt {
public:
  While(SourceRange r, ExprPtr cond, Block body, Block orelse)
      : Stmt(Kind::While, r), cond(std::move(cond)), body(std::move(body)),
        orelse(std::move(orelse)) {}
  ExprPtr cond;
  Block body, orelse;
  static bool classof(const Stmt *s) { return s->kind() == Kind::While; }
};

class Break : public Stmt {
public:
  explicit Break(SourceRange r) : Stmt(Kind::Break, r) {}
  static bool classof(const Stmt *s) { return s->kind() == Kind::Break; }
};

class Continue : public Stmt {
public:
  explicit Continue(SourceRange r) : Stmt(Kind::Continue, r) {}
  static bool classof(const Stmt *s) { return s->kind() == Kind::Continue; }
};

/// `return [value]`; `return a, b` has a Tuple value.
class Return : public Stmt {
public:
  Return(SourceRange r, ExprPtr value) : Stmt(Kind::Return, r), value(std::move(value)) {}
  ExprPtr value; ///< may be null
  static bool classof(const Stmt *s) { return s->kind() == Kind::Return; }
};

/// `raise exc` with `exc` a Name (`raise ValueError`) or a Call of one
/// (`raise ValueError("n < 0", n)`); a bare `raise` has a null `exc`.
/// Sema checks the class and the arguments (constant strings and scalars).
class Raise : public Stmt {
public:
  Raise(SourceRange r, ExprPtr exc) : Stmt(Kind::Raise, r), exc(std::move(exc)) {}
  ExprPtr exc; ///< may be null
  static bool classof(const Stmt *s) { return s->kind() == Kind::Raise; }
};

/// `assert test[, msg]`.
class Assert : public Stmt {
public:
  Assert(SourceRange r, ExprPtr test, ExprPtr msg)
      : Stmt(Kind::Assert, r), test(std::move(test)), msg(std::move(msg)) {}
  ExprPtr test;
  ExprPtr msg; ///< may be null
  static bool classof(const Stmt *s) { return s->kind() == Kind::Assert; }
};

class Pass : public Stmt {
public:
  explicit Pass(SourceRange r) : Stmt(Kind::Pass, r) {}
  static bool classof(const Stmt *s) { return s->kind() == Kind::Pass; }
};

/// `import x [as y]` / `from x import a, b`: accepted and recorded so that
/// `np.`, `math.`, `nb.`, `numba.` prefixes resolve. `names` holds
/// (name, alias) pairs; for `import numpy as np` module="numpy", names={}
/// and alias="np".
class Import : public Stmt {
public:
  Import(SourceRange r, std::string module, std::string alias,
         std::vector<std::pair<std::string, std::string>> names)
      : Stmt(Kind::Import, r), module(std::move(module)), alias(std::move(alias)),
        names(std::move(names)) {}
  std::string module;
  std::string alias;
  std::vector<std::pair<std::string, std::string>> names;
  bool isFrom() const { return !names.empty(); }
  static bool classof(const Stmt *s) { return s->kind() == Kind::Import; }
};

/// A Python statement stn does not support (class, try, with, global,
/// nonlocal, del, lambda, async, yield, raise ... from, nested def ...).
class UnsupportedStmt : public Stmt {
public:
  UnsupportedStmt(SourceRange r, std::string what)
      : Stmt(Kind::Unsupported, r), what(std::move(what)) {}
  std::string what; ///< e.g. "classes", "try/except"
  static bool classof(const Stmt *s) { return s->kind() == Kind::Unsupported; }
};

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

/// A `def` with its decorators (outermost first, as written). A local
/// function (a `def` inside a function, or a lambda) is lifted to the
/// module by liftLocalFunctions, named as Python's __qualname__ names it
/// (`outer.<locals>.inner`, `outer.<locals>.<lambda>`), which no other
/// function can be called.
struct FunctionDef {
  std::string name;
  SourceRange range;     ///< the whole definition
  SourceRange nameRange; ///< the name after `def` (a lambda: `lambda`)
  std::vector<ExprPtr> decorators;
  std::vector<Param> params;
  ExprPtr returns; ///< `-> T` annotation, may be null
  std::string docstring;
  Block body;
  /// A local function: the name of the function it is defined in (itself
  /// possibly a local function); empty at module level.
  std::string enclosing;
  /// A local function: its last `captures` parameters are the variables of
  /// the functions around it that it reads (by their names), which each
  /// call passes (Call::captured).
  unsigned captures = 0;
  bool isLocal() const { return !enclosing.empty(); }
  /// The parameters a caller writes (all but the captured ones).
  size_t writtenParams() const { return params.size() - captures; }
};

/// A `def` inside a function. The parser makes it; liftLocalFunctions moves
/// the function to the module (leaving a Pass), so later stages never see
/// one.
class LocalDef : public Stmt {
public:
  LocalDef(SourceRange r, std::unique_ptr<FunctionDef> def)
      : Stmt(Kind::LocalDef, r), def(std::move(def)) {}
  std::unique_ptr<FunctionDef> def;
  static bool classof(const Stmt *s) { return s->kind() == Kind::LocalDef; }
};

/// A module-level `NAME = expr` (constants).
struct GlobalAssign {
  std::string name;
  SourceRange range;
  ExprPtr value;
};

struct Module {
  std::shared_ptr<const SourceFile> file;
  std::vector<std::unique_ptr<Import>> imports;
  std::vector<GlobalAssign> globals;
  std::vector<std::unique_ptr<FunctionDef>> functions;
  /// Top-level statements other than the above (rejected by Sema with a
  /// clear error, e.g. a call at module level).
  std::vector<StmtPtr> other;

  const FunctionDef *findFunction(std::string_view name) const;
};

/// Prints the tree in an indented S-expression-like form (`stn ir --emit=ast`).
std::string printModule(const Module &m);
std::string printFunction(const FunctionDef &f, const SourceFile &file);
std::string printExpr(const Expr &e);
/// `s` between `quote` characters, with the quote, backslash and control
/// characters escaped as Python's repr() escapes them.
std::string quoted(const std::string &s, char quote = '"');

/// Adds every name the target of an assignment or a loop binds (`x`,
/// `x, (y, z)`) to `out`.
inline void collectTargets(const Expr &t, std::set<std::string> &out) {
  if (auto *n = llvm::dyn_cast<Name>(&t))
    out.insert(n->id);
  else if (auto *tu = llvm::dyn_cast<Tuple>(&t))
    for (auto &e : tu->elts)
      collectTargets(*e, out);
  else if (auto *l = llvm::dyn_cast<List>(&t))
    for (auto &e : l->elts)
      collectTargets(*e, out);
}

/// Adds every name `b` binds anywhere (assignments, augmented assignments,
/// loop targets, nested blocks) to `out`. An elif chain (an If as the only
/// statement of `orelse`) is followed in a loop, as the parser builds it:
/// chains of thousands would exhaust the stack.
inline void collectAssigned(const Block &b, std::set<std::string> &out) {
  for (auto &s : b) {
    if (auto *a = llvm::dyn_cast<Assign>(s.get())) {
      for (auto &t : a->targets)
        collectTargets(*t, out);
    } else if (auto *aa = llvm::dyn_cast<AugAssign>(s.get())) {
      collectTargets(*aa->target, out);
    } else if (auto *i = llvm::dyn_cast<If>(s.get())) {
      for (;;) {
        collectAssigned(i->body, out);
        if (i->orelse.size() != 1 || !llvm::isa<If>(i->orelse[0].get())) {
          collectAssigned(i->orelse, out);
          break;
        }
        i = llvm::cast<If>(i->orelse[0].get());
      }
    } else if (auto *f = llvm::dyn_cast<For>(s.get())) {
      collectTargets(*f->target, out);
      collectAssigned(f->body, out);
      collectAssigned(f->orelse, out);
    } else if (auto *w = llvm::dyn_cast<While>(s.get())) {
      collectAssigned(w->body, out);
      collectAssigned(w->orelse, out);
    }
  }
}

} // namespace stn::ast

#endif // STN_COMPILER_AST_H
