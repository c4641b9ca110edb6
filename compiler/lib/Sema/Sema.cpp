//===- Sema.cpp - Name resolution, decorators and type inference ----------===//
//
// Two phases:
//  1. Program::load (no argument types): module constants are folded,
//     decorators and their options validated, every name in every kernel is
//     resolved (with "did you mean" hints), unsupported Python features are
//     reported, and explicit signatures are type-checked eagerly.
//  2. Program::specialize (argument types known): a FunctionChecker walks the
//     body repeatedly, unifying each local's type with every value assigned
//     to it, until nothing changes (loops make a single pass insufficient);
//     a last pass records each expression's type and resolution and reports
//     errors. Callees are specialized with the caller's argument types.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Sema.h"
#include "stn/Compiler/FormatSpec.h"
#include "stn/Compiler/GpuRegions.h"
#include "stn/Compiler/KernelFaults.h"
#include "stn/Compiler/Parser.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>

using llvm::dyn_cast;
using llvm::isa;
using llvm::dyn_cast_or_null;

namespace stn {

const char *kernelKindName(KernelKind k) {
  switch (k) {
  case KernelKind::Jit: return "jit";
  case KernelKind::Stencil: return "stencil";
  case KernelKind::Ufunc: return "ufunc";
  case KernelKind::Gufunc: return "gufunc";
  case KernelKind::Gpu: return "kernel";
  }
  return "?";
}

const char *gpuOpName(GpuOp op) {
  static const char *names[] = {"threadIdx",  "blockIdx",     "blockDim",     "gridDim",
                                "grid",       "gridsize",     "shared.array", "local.array",
                                "syncthreads", "atomic.add",  "atomic.sub",   "atomic.min",
                                "atomic.max", "atomic.exch",  "atomic.cas"};
  return names[static_cast<int>(op)];
}

/// "1 axis", "2 axes": a count with the noun in the right number, for
/// messages.
static std::string counted(uint64_t n, const char *one, const char *many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

/// The CallInfo of method `b` of a list, a dict or a set, called as `c`
/// on the receiver of `a`.
static CallInfo methodCall(Builtin b, const ast::Attribute &a, const ast::Call &c) {
  CallInfo info;
  info.builtin = b;
  info.receiver = a.value.get();
  for (auto &arg : c.args)
    info.operands.push_back(arg.get());
  return info;
}

/// The hint where a list, a dict or a set is passed to a kernel.
static const char *containerArgHint(const Type &t) {
  return t.isSet()    ? "a set can be held by one variable only; pass an array of its items "
                        "(np.array(sorted(s)))"
         : t.isDict() ? "a dict can be held by one variable only; pass arrays of its keys and "
                        "values (np.array(d.keys()))"
                      : "a list can be held by one variable only; pass np.array(...) of it";
}

const char *boundaryModeName(BoundaryMode m) {
  static const char *names[] = {"constant", "nearest", "reflect", "mirror", "wrap"};
  return names[static_cast<int>(m)];
}

const char *builtinName(Builtin b) {
  static const char *names[] = {
      "len",   "abs",   "min",   "max",   "int",   "float", "bool",  "complex",
      "cast",  "range", "enumerate", "zip", "reversed", "ndindex", "ndenumerate",
      "sqrt",  "exp",   "log",   "log2",  "log10", "log1p",
      "expm1", "sin",   "cos",   "tan",   "asin",  "acos",  "atan",  "sinh",
      "cosh",  "tanh",  "asinh", "acosh", "atanh", "erf",   "erfc",  "cbrt",
      "exp2",  "radians", "degrees", "gamma", "lgamma", "floor",
      "ceil",  "trunc", "fabs",  "atan2", "pow",   "hypot", "fmod", "remainder", "copysign",
      "isnan", "isinf", "isfinite",
      "gcd", "lcm", "isqrt", "factorial", "comb", "perm", "ldexp", "divmod", "frexp", "modf",
      "isclose", "fsum",
      "conjugate",
      "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like",
      "arange", "linspace", "array", "asarray",
      "copy", "astype", "sum", "prod", "mean", "std", "var", "min", "max",
      "argmin", "argmax", "any", "all", "dot", "where", "minimum", "maximum",
      "clip", "sign", "square", "round", "cumsum", "cumprod", "sort", "argsort",
      "concatenate", "stack", "vstack", "hstack", "median", "percentile", "quantile",
      "isclose", "allclose", "count_nonzero", "diff", "outer",
      "unique", "searchsorted", "bincount", "histogram", "interp",
      "eye", "identity", "trace", "flip", "fliplr", "flipud",
      "reshape", "ravel", "flatten", "transpose", "matmul", "nonzero", "flatnonzero",
      "argwhere", "linalg.norm", "linalg", "roll",
      "repeat", "tile", "cross", "append", "convolve", "digitize", "isin", "triu", "tril",
      "diag", "diagflat", "kron", "vdot", "delete", "insert",
      "real", "imag", "conj",
      "random", "uniform", "randint", "normal", "exponential", "shuffle", "permutation",
      "choice", "distribution", "seed",
      "append", "extend", "insert", "pop", "clear", "copy", "index", "count", "remove",
      "reverse", "sort", "__delitem__", "list", "sorted",
      "dict", "get", "pop", "setdefault", "keys", "values", "items", "clear", "copy", "update",
      "popitem", "__delitem__",
      "set", "add", "discard", "remove", "pop", "update", "union", "intersection", "difference",
      "symmetric_difference", "intersection_update", "difference_update",
      "symmetric_difference_update", "issubset", "issuperset", "isdisjoint"};
  static_assert(std::size(names) == static_cast<size_t>(Builtin::SetIsDisjoint) + 1,
                "a name per Builtin, in order");
  return names[static_cast<int>(b)];
}

const Type &TypedFunction::typeOf(const ast::Expr &e) const {
  static const Type invalid;
  auto it = types.find(&e);
  return it == types.end() ? invalid : it->second;
}

const ConstValue *TypedFunction::constOf(const ast::Expr &e) const {
  auto it = consts.find(&e);
  return it == consts.end() ? nullptr : &it->second;
}

std::vector<TypedFunction::SubscriptItem> TypedFunction::arraySubscript(const ast::Subscript &s,
                                                                        unsigned rank) const {
  auto it = subscriptItems.find(&s);
  if (it != subscriptItems.end())
    return it->second;
  std::vector<SubscriptItem> items;
  for (const ast::Expr *i : ast::subscriptIndices(s))
    items.push_back({i, false});
  while (items.size() < rank)
    items.push_back({});
  return items;
}

Program::~Program() = default;

//===----------------------------------------------------------------------===//
// Builtin tables
//===----------------------------------------------------------------------===//

namespace {

struct BuiltinEntry {
  const char *name;
  Builtin builtin;
};

// Functions callable as `f`, `math.f` or `np.f`.
const BuiltinEntry MathFunctions[] = {
    {"sqrt", Builtin::Sqrt},   {"exp", Builtin::Exp},       {"log", Builtin::Log},
    {"log2", Builtin::Log2},   {"log10", Builtin::Log10},   {"log1p", Builtin::Log1p},
    {"expm1", Builtin::Expm1}, {"sin", Builtin::Sin},       {"cos", Builtin::Cos},
    {"tan", Builtin::Tan},     {"asin", Builtin::Asin},     {"arcsin", Builtin::Asin},
    {"acos", Builtin::Acos},   {"arccos", Builtin::Acos},   {"atan", Builtin::Atan},
    {"arctan", Builtin::Atan}, {"sinh", Builtin::Sinh},     {"cosh", Builtin::Cosh},
    {"tanh", Builtin::Tanh},   {"asinh", Builtin::Asinh},   {"arcsinh", Builtin::Asinh},
    {"acosh", Builtin::Acosh}, {"arccosh", Builtin::Acosh}, {"atanh", Builtin::Atanh},
    {"arctanh", Builtin::Atanh}, {"erf", Builtin::Erf},     {"erfc", Builtin::Erfc},
    {"cbrt", Builtin::Cbrt},   {"exp2", Builtin::Exp2},     {"radians", Builtin::Radians},
    {"deg2rad", Builtin::Radians}, {"degrees", Builtin::Degrees}, {"rad2deg", Builtin::Degrees},
    {"floor", Builtin::Floor}, {"ceil", Builtin::Ceil},     {"trunc", Builtin::Trunc},
    {"fabs", Builtin::Fabs},   {"atan2", Builtin::Atan2},   {"arctan2", Builtin::Atan2},
    {"pow", Builtin::Pow},     {"power", Builtin::Pow},     {"hypot", Builtin::Hypot},
    {"copysign", Builtin::Copysign}, {"isnan", Builtin::IsNan}, {"isinf", Builtin::IsInf},
    {"isfinite", Builtin::IsFinite}, {"absolute", Builtin::Abs}, {"abs", Builtin::Abs},
    {"fmod", Builtin::Fmod},   {"gcd", Builtin::Gcd},       {"lcm", Builtin::Lcm},
    {"ldexp", Builtin::Ldexp},
};

// Functions of Python's math module that NumPy lacks, or has with other
// semantics (np.remainder is `%`; np.frexp and np.modf return arrays):
// `f` or `math.f`, never `np.f`.
const BuiltinEntry MathOnlyFunctions[] = {
    {"gamma", Builtin::Gamma},         {"lgamma", Builtin::Lgamma},
    {"remainder", Builtin::Remainder}, {"isqrt", Builtin::Isqrt},
    {"factorial", Builtin::Factorial}, {"comb", Builtin::Comb},
    {"perm", Builtin::Perm},           {"frexp", Builtin::Frexp},
    {"modf", Builtin::Modf},           {"isclose", Builtin::MathIsclose},
    {"fsum", Builtin::Fsum},           {"prod", Builtin::Prod},
};

// NumPy array functions (`np.f(...)`); reductions also as methods (`a.f()`).
const BuiltinEntry NumpyArrayFunctions[] = {
    {"frexp", Builtin::Frexp},           {"modf", Builtin::Modf},
    {"divmod", Builtin::Divmod},
    {"empty", Builtin::Empty},           {"zeros", Builtin::Zeros},
    {"ones", Builtin::Ones},             {"full", Builtin::Full},
    {"empty_like", Builtin::EmptyLike},  {"zeros_like", Builtin::ZerosLike},
    {"ones_like", Builtin::OnesLike},    {"full_like", Builtin::FullLike},
    {"arange", Builtin::Arange},         {"linspace", Builtin::Linspace},
    {"array", Builtin::ArrayOf},         {"asarray", Builtin::Asarray},
    {"copy", Builtin::Copy},             {"sum", Builtin::Sum},
    {"prod", Builtin::Prod},             {"mean", Builtin::Mean},
    {"std", Builtin::Std},               {"var", Builtin::Var},
    {"min", Builtin::ReduceMin},         {"amin", Builtin::ReduceMin},
    {"max", Builtin::ReduceMax},         {"amax", Builtin::ReduceMax},
    {"argmin", Builtin::Argmin},         {"argmax", Builtin::Argmax},
    {"any", Builtin::Any},               {"all", Builtin::All},
    {"dot", Builtin::Dot},               {"where", Builtin::Where},
    {"minimum", Builtin::Minimum},       {"maximum", Builtin::Maximum},
    {"clip", Builtin::Clip},             {"sign", Builtin::Sign},
    {"square", Builtin::Square},         {"round", Builtin::Round},
    {"around", Builtin::Round},          {"rint", Builtin::Round},
    {"cumsum", Builtin::CumSum},         {"cumprod", Builtin::CumProd},
    {"sort", Builtin::Sort},             {"argsort", Builtin::Argsort},
    {"concatenate", Builtin::Concatenate}, {"stack", Builtin::Stack},
    {"vstack", Builtin::Vstack},         {"hstack", Builtin::Hstack},
    {"median", Builtin::Median},         {"percentile", Builtin::Percentile},
    {"quantile", Builtin::Quantile},
    {"nansum", Builtin::Sum},            {"nanprod", Builtin::Prod},
    {"nanmean", Builtin::Mean},          {"nanstd", Builtin::Std},
    {"nanvar", Builtin::Var},            {"nanmin", Builtin::ReduceMin},
    {"nanmax", Builtin::ReduceMax},      {"nanargmin", Builtin::Argmin},
    {"nanargmax", Builtin::Argmax},      {"nanmedian", Builtin::Median},
    {"nanpercentile", Builtin::Percentile}, {"nanquantile", Builtin::Quantile},
    {"isclose", Builtin::Isclose},       {"allclose", Builtin::Allclose},
    {"count_nonzero", Builtin::CountNonzero}, {"diff", Builtin::Diff},
    {"outer", Builtin::Outer},
    {"unique", Builtin::Unique},         {"searchsorted", Builtin::Searchsorted},
    {"bincount", Builtin::Bincount},     {"histogram", Builtin::Histogram},
    {"interp", Builtin::Interp},
    {"eye", Builtin::Eye},               {"identity", Builtin::Identity},
    {"trace", Builtin::Trace},           {"flip", Builtin::Flip},
    {"fliplr", Builtin::Fliplr},         {"flipud", Builtin::Flipud},
    {"reshape", Builtin::Reshape},       {"ravel", Builtin::Ravel},
    {"transpose", Builtin::Transpose},   {"matmul", Builtin::Matmul},
    {"ndindex", Builtin::NdIndex},       {"ndenumerate", Builtin::NdEnumerate},
    {"nonzero", Builtin::Nonzero},       {"flatnonzero", Builtin::Flatnonzero},
    {"argwhere", Builtin::Argwhere},     {"roll", Builtin::Roll},
    {"repeat", Builtin::Repeat},         {"tile", Builtin::Tile},
    {"cross", Builtin::Cross},           {"append", Builtin::Append},
    {"convolve", Builtin::Convolve},     {"digitize", Builtin::Digitize},
    {"isin", Builtin::Isin},             {"triu", Builtin::Triu},
    {"tril", Builtin::Tril},             {"diag", Builtin::Diag},
    {"diagonal", Builtin::Diag},         {"diagflat", Builtin::Diagflat},
    {"kron", Builtin::Kron},             {"vdot", Builtin::Vdot},
    {"delete", Builtin::Delete},         {"insert", Builtin::Insert},
    {"real", Builtin::RealPart},         {"imag", Builtin::ImagPart},
    {"conj", Builtin::Conj},             {"conjugate", Builtin::Conj},
};

const BuiltinEntry ArrayMethods[] = {
    {"copy", Builtin::Copy},     {"astype", Builtin::Astype}, {"sum", Builtin::Sum},
    {"prod", Builtin::Prod},     {"mean", Builtin::Mean},     {"std", Builtin::Std},
    {"var", Builtin::Var},       {"min", Builtin::ReduceMin}, {"max", Builtin::ReduceMax},
    {"argmin", Builtin::Argmin}, {"argmax", Builtin::Argmax}, {"any", Builtin::Any},
    {"all", Builtin::All},       {"dot", Builtin::Dot},       {"clip", Builtin::Clip},
    {"round", Builtin::Round},   {"cumsum", Builtin::CumSum}, {"cumprod", Builtin::CumProd},
    {"sort", Builtin::Sort},     {"argsort", Builtin::Argsort},
    {"reshape", Builtin::Reshape}, {"trace", Builtin::Trace},
    {"ravel", Builtin::Ravel},   {"flatten", Builtin::Flatten}, {"transpose", Builtin::Transpose},
    {"nonzero", Builtin::Nonzero}, {"repeat", Builtin::Repeat},
    {"conj", Builtin::Conj},       {"conjugate", Builtin::Conj},
    {"diagonal", Builtin::Diag},
};

// Python builtins.
/// Python's built-in exception classes, which `raise` may name.
const char *const ExceptionClasses[] = {
    "ArithmeticError", "AssertionError",      "AttributeError", "BufferError",
    "EOFError",        "Exception",           "FloatingPointError", "IndexError",
    "KeyError",        "LookupError",         "MemoryError",    "NameError",
    "NotImplementedError", "OSError",         "OverflowError",  "RecursionError",
    "ReferenceError",  "RuntimeError",        "StopIteration",  "SystemError",
    "TypeError",       "UnboundLocalError",   "UnicodeError",   "ValueError",
    "ZeroDivisionError"};

bool isExceptionClass(std::string_view name) {
  return std::find(std::begin(ExceptionClasses), std::end(ExceptionClasses), name) !=
         std::end(ExceptionClasses);
}

/// The exception class a `raise` names (`raise E` or `raise E(...)`), or
/// null when it names none in a form stn knows.
const ast::Name *raisedClass(const ast::Raise &r) {
  if (auto *n = dyn_cast_or_null<ast::Name>(r.exc.get()))
    return n;
  if (auto *c = dyn_cast_or_null<ast::Call>(r.exc.get()))
    if (c->keywords.empty())
      return dyn_cast<ast::Name>(c->func.get());
  return nullptr;
}

const BuiltinEntry PyBuiltins[] = {
    {"len", Builtin::Len},     {"abs", Builtin::Abs},   {"min", Builtin::Min},
    {"max", Builtin::Max},     {"int", Builtin::Int},   {"float", Builtin::Float},
    {"bool", Builtin::Bool},   {"complex", Builtin::Complex}, {"range", Builtin::Range},
    {"prange", Builtin::Range}, {"pow", Builtin::Pow}, {"round", Builtin::Round},
    {"enumerate", Builtin::Enumerate}, {"zip", Builtin::Zip}, {"reversed", Builtin::Reversed},
    {"list", Builtin::ListOf}, {"sorted", Builtin::Sorted}, {"dict", Builtin::DictOf},
    {"set", Builtin::SetOf}, {"divmod", Builtin::Divmod},
};

std::optional<Builtin> lookup(const BuiltinEntry *begin, const BuiltinEntry *end,
                              std::string_view name) {
  for (auto *e = begin; e != end; ++e)
    if (name == e->name)
      return e->builtin;
  return std::nullopt;
}

/// A list display `[...]` or a tuple display holding one (np.array's
/// nested sequences).
bool isDisplay(const ast::Expr &e) {
  if (auto *l = dyn_cast<ast::List>(&e))
    return !l->braces;
  if (auto *t = dyn_cast<ast::Tuple>(&e))
    for (auto &x : t->elts)
      if (isDisplay(*x))
        return true;
  return false;
}

bool isUnaryMath(Builtin b) { return b >= Builtin::Sqrt && b <= Builtin::Fabs; }
bool isBinaryMath(Builtin b) { return b >= Builtin::Atan2 && b <= Builtin::Copysign; }
bool isPredicate(Builtin b) { return b >= Builtin::IsNan && b <= Builtin::IsFinite; }


ConstValue makeInt(int64_t v) {
  ConstValue c;
  c.type = Type::scalar(ScalarKind::I64);
  c.i = v;
  return c;
}
ConstValue makeFloat(double v) {
  ConstValue c;
  c.type = Type::scalar(ScalarKind::F64);
  c.f = v;
  return c;
}

double constAsDouble(const ConstValue &c) {
  ScalarKind k = c.type.scalarKind();
  if (isFloat(k))
    return c.f;
  if (isUnsignedInt(k))
    return static_cast<double>(c.u);
  if (isComplex(k))
    return c.c.real();
  return static_cast<double>(c.i);
}

// np.linalg's functions besides norm (Builtin::Linalg).
struct LinalgEntry {
  const char *name;
  LinalgFunction function;
};
const LinalgEntry LinalgFunctions[] = {
    {"det", LinalgFunction::Det},
    {"slogdet", LinalgFunction::Slogdet},
    {"inv", LinalgFunction::Inv},
    {"solve", LinalgFunction::Solve},
    {"cholesky", LinalgFunction::Cholesky},
    {"matrix_power", LinalgFunction::MatrixPower},
    {"eig", LinalgFunction::Eig},
    {"eigvals", LinalgFunction::Eigvals},
    {"eigh", LinalgFunction::Eigh},
    {"eigvalsh", LinalgFunction::Eigvalsh},
    {"svd", LinalgFunction::Svd},
    {"qr", LinalgFunction::Qr},
    {"pinv", LinalgFunction::Pinv},
    {"lstsq", LinalgFunction::Lstsq},
    {"matrix_rank", LinalgFunction::MatrixRank},
    {"cond", LinalgFunction::Cond},
};

} // namespace

static std::vector<std::string> randomFunctionNames();

BuiltinNameTables builtinNameTables() {
  auto names = [](const auto &table) {
    std::vector<std::string> out;
    for (const BuiltinEntry &e : table)
      out.push_back(e.name);
    return out;
  };
  BuiltinNameTables t;
  t.python = names(PyBuiltins);
  // Python's sum/any/all reduce arrays like NumPy's (resolveBuiltin).
  for (const char *n : {"sum", "any", "all"})
    t.python.push_back(n);
  t.math = names(MathFunctions);
  for (const std::string &n : names(MathOnlyFunctions))
    t.math.push_back(n);
  t.numpy = names(NumpyArrayFunctions);
  t.numpy.push_back("linalg.norm"); // np.linalg.norm (resolveBuiltin)
  for (const LinalgEntry &e : LinalgFunctions)
    t.numpy.push_back(std::string("linalg.") + e.name);
  t.methods = names(ArrayMethods);
  for (const std::string &n : randomFunctionNames())
    t.random.push_back(n);
  return t;
}

//===----------------------------------------------------------------------===//
// Constant folding (module constants, tuple indices)
//===----------------------------------------------------------------------===//

namespace {

/// Folds literal expressions built from numbers, bools, tuples, unary and
/// binary arithmetic and other constants. Returns nullopt if not constant.
/// With `definitions` (module constants and default values) also complex
/// arithmetic (`1 - 2j`) and NumPy scalar constructors (`np.float32(0.5)`).
class ConstFolder {
public:
  explicit ConstFolder(const std::map<std::string, ConstValue> &env,
                       const std::map<std::string, std::string> &aliases,
                       bool definitions = false)
      : Env(env), Aliases(aliases), Definitions(definitions) {}

  std::optional<ConstValue> fold(const ast::Expr &e) const {
    if (auto *call = dyn_cast<ast::Call>(&e))
      return Definitions ? foldScalarConstructor(*call) : std::nullopt;
    if (auto *i = dyn_cast<ast::IntLit>(&e)) {
      ConstValue c;
      if (i->isUnsigned) {
        c.type = Type::scalar(ScalarKind::U64);
        c.u = i->value;
      } else {
        c.type = Type::scalar(ScalarKind::I64);
        c.i = static_cast<int64_t>(i->value);
      }
      return c;
    }
    if (auto *f = dyn_cast<ast::FloatLit>(&e))
      return makeFloat(f->value);
    if (auto *im = dyn_cast<ast::ImagLit>(&e)) {
      ConstValue c;
      c.type = Type::scalar(ScalarKind::C128);
      c.c = {0.0, im->value};
      return c;
    }
    if (auto *b = dyn_cast<ast::BoolLit>(&e)) {
      ConstValue c;
      c.type = Type::scalar(ScalarKind::Bool);
      c.i = b->value;
      return c;
    }
    if (auto *n = dyn_cast<ast::Name>(&e)) {
      auto it = Env.find(n->id);
      if (it != Env.end())
        return it->second;
      return std::nullopt;
    }
    if (auto *a = dyn_cast<ast::Attribute>(&e))
      return foldModuleAttr(*a);
    if (auto *sub = dyn_cast<ast::Subscript>(&e)) {
      // An element of a constant tuple: OFF[0].
      auto base = fold(*sub->value), idx = fold(*sub->index);
      if (!base || !idx || !base->type.isTuple() || !idx->type.isScalar() ||
          !isSignedInt(idx->type.scalarKind()))
        return std::nullopt;
      int64_t i = idx->i, n = static_cast<int64_t>(base->elts.size());
      if (i < 0)
        i += n;
      if (i < 0 || i >= n)
        return std::nullopt;
      return base->elts[i];
    }
    if (auto *t = dyn_cast<ast::Tuple>(&e)) {
      ConstValue c;
      std::vector<Type> types;
      for (auto &el : t->elts) {
        auto v = fold(*el);
        if (!v)
          return std::nullopt;
        types.push_back(v->type);
        c.elts.push_back(*v);
      }
      c.type = Type::tuple(types);
      return c;
    }
    if (auto *u = dyn_cast<ast::UnaryOp>(&e)) {
      auto v = fold(*u->operand);
      if (!v || !v->type.isScalar())
        return std::nullopt;
      ScalarKind k = v->type.scalarKind();
      if (u->op == ast::UnaryOpKind::Pos)
        return v;
      if (u->op == ast::UnaryOpKind::Neg) {
        if (isFloat(k))
          return makeFloat(-v->f);
        if (isComplex(k)) {
          v->c = -v->c;
          return v;
        }
        if (isSignedInt(k) || isBool(k))
          return makeInt(static_cast<int64_t>(0ULL - static_cast<uint64_t>(v->i)));
      }
      if (u->op == ast::UnaryOpKind::Invert && (isSignedInt(k) || isBool(k)))
        return makeInt(~v->i);
      return std::nullopt;
    }
    if (auto *b = dyn_cast<ast::BinOp>(&e)) {
      auto l = fold(*b->lhs), r = fold(*b->rhs);
      if (!l || !r || !l->type.isScalar() || !r->type.isScalar())
        return std::nullopt;
      ScalarKind lk = l->type.scalarKind(), rk = r->type.scalarKind();
      bool ints = (isSignedInt(lk) || isBool(lk)) && (isSignedInt(rk) || isBool(rk));
      if (ints) {
        int64_t a = l->i, c = r->i;
        auto wrap = [](uint64_t v) { return makeInt(static_cast<int64_t>(v)); };
        switch (b->op) {
        case ast::BinOpKind::Add: return wrap(uint64_t(a) + uint64_t(c));
        case ast::BinOpKind::Sub: return wrap(uint64_t(a) - uint64_t(c));
        case ast::BinOpKind::Mul: return wrap(uint64_t(a) * uint64_t(c));
        case ast::BinOpKind::FloorDiv:
        case ast::BinOpKind::Mod: {
          if (c == 0 || (a == INT64_MIN && c == -1))
            return std::nullopt;
          int64_t q = a / c, m = a % c;
          if (m != 0 && ((m < 0) != (c < 0))) {
            q -= 1;
            m += c;
          }
          return makeInt(b->op == ast::BinOpKind::FloorDiv ? q : m);
        }
        case ast::BinOpKind::Div:
          if (c == 0)
            return std::nullopt;
          return makeFloat(double(a) / double(c));
        case ast::BinOpKind::Pow: {
          if (c < 0 || c > 64)
            return std::nullopt;
          uint64_t p = 1;
          for (int64_t k = 0; k < c; ++k)
            p *= uint64_t(a);
          return wrap(p);
        }
        case ast::BinOpKind::BitAnd: return makeInt(a & c);
        case ast::BinOpKind::BitOr: return makeInt(a | c);
        case ast::BinOpKind::BitXor: return makeInt(a ^ c);
        case ast::BinOpKind::LShift:
          if (c < 0 || c > 63)
            return std::nullopt;
          return wrap(uint64_t(a) << c);
        case ast::BinOpKind::RShift:
          if (c < 0 || c > 63)
            return std::nullopt;
          return makeInt(a >> c);
        default:
          return std::nullopt;
        }
      }
      if (Definitions && (isComplex(lk) || isComplex(rk)) && !isUnsignedInt(lk) &&
          !isUnsignedInt(rk)) {
        auto asComplex = [](const ConstValue &v) {
          return isComplex(v.type.scalarKind()) ? v.c : std::complex<double>(constAsDouble(v));
        };
        std::complex<double> x = asComplex(*l), y = asComplex(*r), z;
        switch (b->op) {
        case ast::BinOpKind::Add: z = x + y; break;
        case ast::BinOpKind::Sub: z = x - y; break;
        case ast::BinOpKind::Mul: z = x * y; break;
        case ast::BinOpKind::Div:
          if (y == 0.0)
            return std::nullopt;
          z = x / y;
          break;
        default:
          return std::nullopt;
        }
        ConstValue c;
        c.type = Type::scalar(ScalarKind::C128);
        c.c = z;
        return c;
      }
      if (isComplex(lk) || isComplex(rk) || isUnsignedInt(lk) || isUnsignedInt(rk))
        return std::nullopt;
      double a = constAsDouble(*l), c = constAsDouble(*r);
      switch (b->op) {
      case ast::BinOpKind::Add: return makeFloat(a + c);
      case ast::BinOpKind::Sub: return makeFloat(a - c);
      case ast::BinOpKind::Mul: return makeFloat(a * c);
      case ast::BinOpKind::Div:
        if (c == 0)
          return std::nullopt;
        return makeFloat(a / c);
      case ast::BinOpKind::Pow: return makeFloat(std::pow(a, c));
      default:
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  /// `math.pi`, `np.inf`, ...
  std::optional<ConstValue> foldModuleAttr(const ast::Attribute &a) const {
    auto *base = dyn_cast<ast::Name>(a.value.get());
    if (!base)
      return std::nullopt;
    auto it = Aliases.find(base->id);
    if (it == Aliases.end() || (it->second != "math" && it->second != "numpy" &&
                                it->second != "cmath"))
      return std::nullopt;
    if (a.attr == "pi")
      return makeFloat(M_PI);
    if (a.attr == "e")
      return makeFloat(M_E);
    if (a.attr == "tau")
      return makeFloat(2 * M_PI);
    if (a.attr == "inf" || a.attr == "Inf" || a.attr == "infty")
      return makeFloat(INFINITY);
    if (a.attr == "nan" || a.attr == "NaN" || a.attr == "NAN")
      return makeFloat(NAN);
    return std::nullopt;
  }

private:
  const std::map<std::string, ConstValue> &Env;
  const std::map<std::string, std::string> &Aliases;
  bool Definitions;

  /// `np.float32(0.5)`, `np.int8(-3)`, `np.complex64(1j)`: a constant of
  /// that dtype (an integer that does not fit, or a float for an integer
  /// dtype, is not a constant).
  std::optional<ConstValue> foldScalarConstructor(const ast::Call &call) const {
    auto *a = dyn_cast<ast::Attribute>(call.func.get());
    auto *base = a ? dyn_cast<ast::Name>(a->value.get()) : nullptr;
    auto alias = base ? Aliases.find(base->id) : Aliases.end();
    if (alias == Aliases.end() || alias->second != "numpy" || call.args.size() != 1 ||
        !call.keywords.empty())
      return std::nullopt;
    std::optional<ScalarKind> k = parseScalarName(a->attr);
    auto v = fold(*call.args[0]);
    if (!k || !v || !v->type.isScalar())
      return std::nullopt;
    ScalarKind from = v->type.scalarKind();
    ConstValue c;
    c.type = Type::scalar(*k);
    if (isComplex(*k)) {
      c.c = isComplex(from) ? v->c : std::complex<double>(constAsDouble(*v));
      if (*k == ScalarKind::C64)
        c.c = std::complex<double>(std::complex<float>(c.c));
    } else if (isFloat(*k)) {
      if (isComplex(from))
        return std::nullopt;
      c.f = constAsDouble(*v);
      if (*k == ScalarKind::F32)
        c.f = static_cast<float>(c.f);
    } else if (isBool(*k)) {
      if (isComplex(from))
        return std::nullopt;
      c.i = constAsDouble(*v) != 0;
    } else {
      if (!(isSignedInt(from) || isBool(from)) || isUnsignedInt(from))
        return std::nullopt;
      int64_t x = v->i;
      unsigned bits = bitWidth(*k);
      if (isUnsignedInt(*k)) {
        if (x < 0 || (bits < 64 && x >= (int64_t(1) << bits)))
          return std::nullopt;
        c.u = static_cast<uint64_t>(x);
      } else {
        if (bits < 64 && (x < -(int64_t(1) << (bits - 1)) || x >= (int64_t(1) << (bits - 1))))
          return std::nullopt;
        c.i = x;
      }
    }
    return c;
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// FunctionChecker
//===----------------------------------------------------------------------===//

/// Argument types as messages show them: "i64, f64[:]", cut short where
/// they are very long (a recursion nesting tuples ever deeper).
static std::string argumentList(const std::vector<Type> &args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i)
    s += (i ? ", " : "") + args[i].str();
  if (s.size() > 160)
    s = s.substr(0, 150) + " ...";
  return s;
}

class FunctionChecker {
public:
  FunctionChecker(Program &p, TypedFunction &f, DiagnosticEngine &diags)
      : P(p), F(f), Diags(diags), Folder(p.Constants, p.ModuleAliases) {}

  bool run();

  /// Stencil mode: these parameters are indexed relatively.
  std::set<std::string> RelativeNames;

private:
  struct VarInfo {
    Type type;
    SourceRange firstRange;
    bool declared = false; ///< fixed by an annotation or a parameter's signature
    /// Holds None on some path and a value of `type` on others
    /// (TypedFunction::optionals).
    bool optional = false;
  };
  /// `x is None` tests known from the types in this pass (noneTest).
  std::unordered_map<const ast::Expr *, bool> NoneTests;

  // Reporting: only the final pass reports; earlier passes run silently.
  void error(SourceRange r, std::string msg, std::string hint = {}) {
    Failed = true;
    if (Final)
      Diags.error(F.file, r, std::move(msg), std::move(hint));
  }

  bool pass(bool final);
  void checkBlock(const ast::Block &b);
  void checkStmt(const ast::Stmt &s);
  void checkFor(const ast::For &f);
  bool checkRangeCall(const ast::Call &call);
  Type membership(const ast::Compare &c, const Type &x, const Type &seq);
  Type listDisplay(const ast::List &l);
  /// sorted() or sort() of arrays without key=: an error at `r`.
  void unorderedArrays(SourceRange r, const char *what);
  /// math.fsum(t), math.prod(t): `t` (at `e`), an iterable as the array of
  /// its items, must be a 1-d array (of real numbers where `real`); reports
  /// why not, with `arrayHint` for other arrays.
  bool iterableOfNumbers(const ast::Expr &e, const Type &t, const char *fn, bool real,
                         const char *arrayHint);
  Type tupleDisplay(const ast::Expr &e, const std::vector<ast::ExprPtr> &elts);
  /// The list display np.concatenate, np.stack, np.vstack, np.hstack or
  /// np.array takes as a sequence of arrays: typed as a tuple.
  const ast::Expr *ArraySequence = nullptr;
  Type listComp(const ast::ListComp &l);
  /// Checks lower:upper:step of an array's or a list's slice: optional
  /// integers, and a step that is not the constant 0.
  bool checkSliceParts(const ast::Slice &sl);
  Type listOf(const ast::Call &c, Builtin b);
  /// Pushes the list variables `src` iterates over onto IteratedLists.
  void pushIteratedLists(const IterSource &src);
  /// The GPU error of a list (or `what`: "dicts", "sets") made at `r` in
  /// GPU code; false if none.
  bool listOnGpu(SourceRange r, const char *what = "lists");
  /// Reports that `e`, of type `t`, cannot be an item of a list (`what`
  /// says which part: "this element is", ...).
  void notListable(const ast::Expr &e, const Type &t, const char *what);
  /// The item type of a list of `recv` once `added` joins it (numbers
  /// promote, tuples number by number), or an error at `e` where the two
  /// differ in shape.
  std::optional<Type> joinItems(const Type &recv, const Type &added, const ast::Expr &e);
  /// An error where a generator expression would be kept (assigned,
  /// returned): kernels consume one where it is written.
  void keptGenerator(const ast::Expr *e) {
    auto *l = dyn_cast_or_null<ast::ListComp>(e);
    if (l && l->generator)
      error(l->range(), "a generator expression is used where it is written: it cannot be "
                        "stored or returned",
            "write a list comprehension, [... for ...], to keep the items");
  }
  /// `v = d.get(k)` being checked (its value), and the gets without a
  /// default seen so far (MLIRGen: CGValue::isNone).
  const ast::Expr *GetIntoName = nullptr;
  std::set<const ast::Expr *> MaybeNone;
  Type listMethod(const ast::Call &c, const ast::Attribute &a, const Type &recv);
  bool reverseKeyword(const ast::Call &c, const std::string &fn, bool takesReverse,
                      CallInfo &info);
  bool keyFunction(const ast::Expr &key, const Type &item, CallInfo &info);
  bool overItems(const ast::Call &c);
  bool loopOnly(const ast::Expr &e);
  Type minMaxItems(const ast::Call &c, Builtin b);
  Type typeInfo(const ast::Attribute &a, const ast::Call &c, bool floats);
  std::optional<ScalarKind> dtypeOperand(const ast::Expr &e);
  bool comparableTuples(ast::CmpOpKind op, const Type &l, const Type &r, SourceRange at);
  /// Whether local function `fn` can read the variable `e` (of type `t`)
  /// of this function, as its captured value; reports why not: lists,
  /// dicts and sets are not passed to functions, and a stencil's input
  /// indexed relative to the output point would be indexed from its start.
  bool capturable(const ast::Expr &e, const Type &t, const std::string &fn) {
    std::string name(ast::sourceName(llvm::cast<ast::Name>(e).id));
    if (t.isContainer()) {
      error(e.range(),
            fmt::format("local function '{}' reads the {} '{}' of the function around it: "
                        "local functions can read its numbers, arrays and tuples, not its "
                        "lists, dicts or sets",
                        fn, t.containerName(), name),
            "make it an array (np.array(...)), or write the code in the function itself");
      return false;
    }
    if (!F.decl || F.decl->kind != KernelKind::Stencil)
      return true;
    const auto &standard = F.decl->stencil.standardIndexing;
    const auto &params = F.def->params;
    for (size_t i = 0; i < params.size() && i < F.argTypes.size(); ++i)
      if (params[i].name == name && F.argTypes[i].isArray() &&
          std::find(standard.begin(), standard.end(), name) == standard.end()) {
        error(e.range(),
              fmt::format("local function '{}' reads '{}', which this stencil indexes "
                          "relative to the output point; in a local function it would be "
                          "indexed from its start",
                          fn, name),
              "pass the elements it needs as arguments: f(a[-1], a[1])");
        return false;
      }
    return true;
  }
  /// Whether `x` (the argument `e` of index, count or remove, or the left
  /// operand of `in`: `method` spells which) can be compared with the
  /// items of list `recv`; reports why not.
  bool comparableItem(const ast::Expr &e, const Type &x, const Type &recv,
                      const std::string &method);
  /// The types of a method call's positional arguments; false where one
  /// is not valid (reported).
  bool argumentTypes(const ast::Call &c, std::vector<Type> &out) {
    for (auto &arg : c.args) {
      Type t = expr(*arg);
      if (!t.isValid())
        return false;
      out.push_back(t);
    }
    return true;
  }
  // Dicts (Type::dict): one variable owns one, as a list.
  Type dictDisplay(const ast::Dict &d);
  /// `{k: v for ...}`, once its clauses are checked.
  Type dictComp(const ast::ListComp &l);
  /// dict(), dict(d), dict(iterable of (key, value) pairs).
  Type dictOf(const ast::Call &c);
  /// The dict `recv` once entries of types `key` and `value` join it
  /// (numbers promote, tuples number by number), or an error at `e`.
  std::optional<Type> joinEntry(const Type &recv, const Type &key, const Type &value,
                                const ast::Expr &e);
  /// Whether `t` can be a dict's key or value (`what`: "key", "value");
  /// reports why not at `at`.
  bool dictEntry(SourceRange at, const Type &t, const char *what);
  /// Whether `e` (of type `given`) can look up a key of `dict`; reports
  /// why not.
  bool lookupKey(const ast::Expr &e, const Type &given, const Type &dict);
  /// `d[k] = v`: the dict variable's type grows to hold the entry.
  void storeIntoDict(const ast::Subscript &s, const Type &base, const Type &v,
                     SourceRange valueRange);
  Type dictMethod(const ast::Call &c, const ast::Attribute &a, const Type &recv);
  /// The dict variable `name` may get a new key at `r`: inside a loop over
  /// it only an existing one (TypedFunction::dictStoresInLoop), in a
  /// parallel loop only if made in its body.
  bool dictMayGrow(const std::string &name, const ast::Expr &store, SourceRange r);
  /// The variable whose container (`recv`) method `a` changes; reports
  /// that none holds it where the receiver is not a name.
  const ast::Name *changedVariable(const ast::Attribute &a, const Type &recv);
  /// Reports at `r` that container `name`, made outside the parallel loop
  /// being checked, would `change` ("change", "change size") in it; false
  /// where it was made in the loop's body (or no parallel loop is open).
  bool racesInParallelLoop(const std::string &name, SourceRange r, const char *change);
  // Sets (Type::set): dicts without values.
  /// `{x, y, ...}` (a List with braces).
  Type setDisplay(const ast::List &l);
  /// `{x for ...}`, once its clauses are checked.
  Type setComp(const ast::ListComp &l);
  /// set(), set(s) (a copy), set(iterable).
  Type setOf(const ast::Call &c);
  /// Whether `t` can be an item of a set; reports why not at `at`.
  bool setItem(SourceRange at, const Type &t);
  Type setMethod(const ast::Call &c, const ast::Attribute &a, const Type &recv);
  /// The set two sets of types `l` and `r` combine into (their items
  /// promote), or an error at `at`; set(int64) for two sets of unknown
  /// items in the last pass.
  Type joinSets(SourceRange at, const Type &l, const Type &r);
  /// `a | b`, `a & b`, `a - b`, `a ^ b` where either side is a set.
  Type setBinop(const ast::BinOp &b, const Type &l, const Type &r);
  /// `a == b`, `a != b`, `a <= b` (subset), `a < b`, `>=`, `>` of sets.
  Type setCompare(const ast::Compare &c, const std::vector<Type> &ts);
  /// `s |= t`, `s &= t`, `s -= t`, `s ^= t` for the set variable `s`.
  void setAugAssign(const ast::AugAssign &a, const ast::Name &n, const Type &cur,
                    const Type &val);
  std::optional<Type> listBinop(const ast::BinOp &b, Type &l, Type &r);
  /// `xs += ys` (extends) and `xs *= n` (repeats) for the list `xs`.
  void listAugAssign(const ast::AugAssign &a, const ast::Name &n, const Type &cur,
                     const Type &val);
  /// `recv.extend(x)` and `recv += x` for list `name` (x is a list or a 1-d
  /// array, at `e`): sets `added` to the item type x adds (none for `[]`);
  /// false after an error.
  bool extendedBy(const Type &recv, const Type &x, const ast::Expr &e, const std::string &name,
                  std::optional<Type> &added);
  /// Whether list `name` may change size at `r` (not while a loop iterates
  /// over it, nor in a parallel loop unless made in its body); reports why not.
  bool listMayChangeSize(const std::string &name, SourceRange r);
  /// A list used where an array is expected (TypedFunction::listViews):
  /// records `e` as that array and returns its type; other types unchanged.
  /// A list of tuples is a new 2-d array, a row per item, as np.array
  /// makes of one; a list of arrays, a new array with one more axis (its
  /// items stacked, np.stack).
  Type viewList(const ast::Expr &e, const Type &t, bool copy = false) {
    if (!t.isList())
      return t;
    unsigned rank = t.isArrayList() ? t.listItem().rank() + 1 : t.isTupleList() ? 2 : 1;
    Type a = Type::array(t.scalarKind(), rank, Type::Layout::C);
    if (Final) {
      F.types[&e] = a;
      F.listViews[&e] = {copy || t.isTupleList(), t};
    }
    return a;
  }
  std::optional<std::vector<int64_t>> nestedShape(const ast::Expr &e, const std::string &fn,
                                                  std::vector<const ast::Expr *> &leaves,
                                                  std::optional<ScalarKind> &kind);
  Type iterItems(const ast::Expr &e, IterSource &src);
  bool callsItself(const ast::Expr &e) const;
  bool callsJitFunction(const ast::Expr &e) const;
  bool checkUfuncAt(const ast::AugAssign &a);
  /// Reports a store into `a.real[...]` or `a.imag[...]` of an array (new
  /// arrays in stn, views in NumPy) and returns true.
  bool writesComplexPart(const ast::Expr &target);
  bool checkUfuncSpelling(const ast::UfuncSpelling &u);
  Type matmulType(SourceRange at, const Type &l, const Type &r, const char *fn,
                  ScalarKind &kind);
  void seedResultFromBranches(const ast::Expr &e);
  Type tupleSubscript(const ast::Subscript &s, const Type &base, const Type &index);
  Type flatSubscript(const ast::Subscript &s, const ast::Expr &arr);
  /// np.ndindex(...) and np.ndenumerate(a) as iterables (iterItems).
  Type ndIterItems(const ast::Call &call, Builtin b, IterSource &src);
  /// The array expression of `a.flat`, or null if `e` is not one.
  static const ast::Expr *flatBase(const ast::Expr &e) {
    auto *at = dyn_cast<ast::Attribute>(&e);
    return at && at->attr == "flat" ? at->value.get() : nullptr;
  }
  void assignTarget(const ast::Expr &target, const Type &t, SourceRange valueRange);
  void planStencilInto(const ast::Assign &a);
  void assignName(const std::string &name, SourceRange r, const Type &t);
  void checkReturn(const ast::Return &r);
  bool checkCondition(const ast::Expr &e);
  void checkRaise(const ast::Stmt &s, const std::string &cls,
                  const std::vector<const ast::Expr *> &args, bool tuple);

  Type expr(const ast::Expr &e);
  Type exprImpl(const ast::Expr &e);
  Type name(const ast::Name &n);
  Type attribute(const ast::Attribute &a);
  Type subscript(const ast::Subscript &s);
  Type printCall(const ast::Call &c);
  std::optional<std::string> messagePart(const ast::Expr &a, bool quote, bool printing,
                                         const char *what, TypedFunction::RaisedError &r);
  std::optional<std::string> printedValue(const ast::Expr &a, const Type &t,
                                          TypedFunction::RaisedError &r);
  /// The text of f-string `c` (Parser.cpp, parseStrings) in a message:
  /// its literal text, and each field marked as messagePart marks a value
  /// (with a format spec: kRaisedValue 'S' spec kRaisedValue letter).
  std::optional<std::string> fstringText(const ast::Call &c, bool printing, const char *what,
                                         TypedFunction::RaisedError &r);
  /// `None`, `np.newaxis` or a `newaxis` imported from numpy.
  bool isNewAxis(const ast::Expr &e) const;
  Type stencilAccess(const ast::Subscript &s, const ast::Name &base);
  Type call(const ast::Call &c);
  Type builtinCall(const ast::Call &c, Builtin b, bool viaNumpy, bool viaMath,
                   const std::vector<Type> &args);
  bool integerMath(const ast::Call &c, Builtin b, bool viaNumpy, const std::vector<Type> &args,
                   CallInfo &info);
  Type randomCall(const ast::Call &c, Builtin b, bool viaNumpy, const std::vector<Type> &args);
  Type samplingCall(const ast::Call &c, Builtin b, const std::string &qual,
                    const std::vector<const ast::Expr *> &given, const std::vector<Type> &types);
  Type kernelCall(const ast::Call &c, const KernelDecl &k, const std::vector<Type> &args,
                  const Type *value = nullptr);
  std::optional<std::pair<std::vector<const ast::Expr *>, std::vector<Type>>>
  bindArguments(const ast::Call &c, const KernelDecl &k, const std::vector<Type> &args,
                const Type *value);
  Type noneTest(const ast::Compare &c, const std::vector<Type> &ts, size_t op);
  std::optional<Type> getIsNone(const ast::Compare &c);
  std::optional<bool> staticTruth(const ast::Expr &test) const;
  /// Reads of optional locals that do not raise where they hold None
  /// (TypedFunction::noneChecked): `x is None`, and `return x` of an array
  /// (an empty array, as before None had a flag).
  std::set<const ast::Expr *> PassedOn, ReturnedOn;
  /// The pruned `if` just checked, where its branch that runs always
  /// returns: checkBlock stops after it (TypedFunction::endsBlock).
  const ast::If *PrunedExits = nullptr;
  /// GPU intrinsics: the dotted name `e` refers to without its `cuda.`
  /// prefix ("threadIdx.x", "shared.array"); "?name" for an unknown name
  /// under `cuda.`; empty if `e` is no GPU intrinsic.
  std::string gpuPath(const ast::Expr &e);
  Type gpuIntrinsic(const ast::Expr &e, const std::string &path, const ast::Call *call);
  /// `viaNumpy`: called as np.<name> (np.max, not max).
  Type arrayBuiltin(const ast::Call &c, Builtin b, const ast::Expr *receiver,
                    const std::vector<Type> &args, bool viaNumpy = false);
  std::optional<ScalarKind> dtypeArgument(const ast::Expr &e);
  std::optional<unsigned> shapeRank(const ast::Expr &e, const Type &t);
  /// The axis `e` names of an array of `rank` dimensions (negative ones
  /// count from the end): a constant, or None (-1) where `noneAllowed`.
  /// Reports an error and returns nullopt for anything else.
  /// The axis `e` names (negative ones wrapped), -1 for None where
  /// `noneAllowed`. Where `runtime` is given, an integer computed at run
  /// time is accepted too: it is stored there and the axis returned is 0
  /// (CallInfo::axisValue).
  std::optional<int> constantAxis(const ast::Expr &e, int64_t rank, bool noneAllowed,
                                  CallInfo *runtime = nullptr);
  /// np.linalg.norm's ord or cond's p (`cond`): `e` (typed `t`; null where
  /// absent) is None, a real number or the string "fro" or "nuc".
  std::optional<NormOrder> normOrder(const ast::Expr *e, const Type &t, bool cond);
  /// Whether the number `e`, a matrix norm's order, may be one: an integer
  /// constant must be 1, -1, 2 or -2 (others are checked at run time).
  bool matrixNormOrder(const ast::Expr &e, bool cond);
  Type binop(const ast::BinOp &b);
  Type unary(const ast::UnaryOp &u);
  Type compare(const ast::Compare &c);
  Type boolop(const ast::BoolOp &b);
  Type ifexp(const ast::IfExp &e);

  /// Resolves the callee of a call to a builtin, if it names one.
  std::optional<Builtin> resolveBuiltin(const ast::Expr &func, bool &viaNumpy,
                                        bool &viaMath, std::optional<ScalarKind> &cast);
  std::optional<ConstValue> foldIndex(const ast::Expr &e);
  /// NEP 50: a Python number (literal, module constant, math.pi, or an
  /// expression of those) is weak; recorded for the code generator.
  bool weak(const ast::Expr &e) {
    bool w = isWeakScalarExpr(e);
    if (!w) {
      bool local = false;
      std::function<void(const ast::Expr &)> scan = [&](const ast::Expr &x) {
        if (auto *n = dyn_cast<ast::Name>(&x))
          local |= Vars.count(n->id) || Assigned.count(n->id);
        else if (auto *b = dyn_cast<ast::BinOp>(&x)) {
          scan(*b->lhs);
          scan(*b->rhs);
        } else if (auto *u = dyn_cast<ast::UnaryOp>(&x))
          scan(*u->operand);
      };
      scan(e);
      auto c = local ? std::nullopt : Folder.fold(e);
      w = c && c->type.isScalar();
    }
    if (w && Final)
      F.weak.insert(&e);
    return w;
  }
  void record(const ast::Expr &e, const Type &t) {
    if (Final && t.isValid())
      F.types[&e] = t;
  }

  Program &P;
  TypedFunction &F;
  DiagnosticEngine &Diags;
  ConstFolder Folder;
  std::map<std::string, VarInfo> Vars;
  std::set<std::string> Assigned; ///< names assigned anywhere in the body
  Type Result;
  bool ResultSeen = false;
  /// The result type comes from a signature.
  bool Declared = false;
  /// Names whose assignment failed in the final pass.
  std::set<std::string> Unbound;
  bool Changed = false;
  bool Final = false;
  bool Failed = false;
  bool FallsOff = true;
  /// Enclosing loops, innermost last: true for a loop that runs in parallel.
  std::vector<bool> LoopParallel;
  unsigned ParallelDepth = 0; ///< how many enclosing loops run in parallel
  /// Names assigned in the body of each enclosing parallel loop (outermost
  /// first): the lists such a body may grow are its own.
  std::vector<std::set<std::string>> ParallelAssigned;
  /// Lists that enclosing loops iterate over: they must not change size.
  std::vector<std::string> IteratedLists;
  /// The value of the return statement being checked.
  const ast::Expr *Returned = nullptr;
  /// The comprehension a reduction is about to take as its sole argument
  /// (sum(x for x in a)): it makes no list.
  const ast::ListComp *Reduced = nullptr;

  void analyzeParallelLoop(const ast::For &f, ForInfo &info);
};

/// Whether control can never reach the end of the block.
static bool alwaysReturns(const ast::Stmt *last);

/// A block always returns if one of its statements does: what follows is
/// unreachable (and only warned about).
static bool alwaysReturns(const ast::Block &b) {
  for (auto &s : b)
    if (alwaysReturns(s.get()))
      return true;
  return false;
}

static bool alwaysReturns(const ast::Stmt *last) {
  if (isa<ast::Return>(last) || isa<ast::Raise>(last))
    return true;
  if (auto *i = dyn_cast<ast::If>(last))
    return alwaysReturns(i->body) && alwaysReturns(i->orelse);
  if (auto *w = dyn_cast<ast::While>(last)) {
    auto *lit = dyn_cast<ast::BoolLit>(w->cond.get());
    if (!lit || !lit->value)
      return false;
    // `while True:` without a break never falls through.
    std::function<bool(const ast::Block &)> hasBreak = [&](const ast::Block &blk) {
      for (auto &s : blk) {
        if (isa<ast::Break>(s.get()))
          return true;
        if (auto *ii = dyn_cast<ast::If>(s.get()))
          if (hasBreak(ii->body) || hasBreak(ii->orelse))
            return true;
      }
      return false;
    };
    return !hasBreak(w->body);
  }
  return false;
}

bool FunctionChecker::run() {
  const ast::FunctionDef &def = *F.def;
  for (size_t i = 0; i < def.params.size(); ++i) {
    VarInfo v;
    v.type = F.argTypes[i];
    v.firstRange = def.params[i].range;
    Vars[def.params[i].name] = v;
  }
  for (auto &p : def.params)
    Assigned.insert(p.name);
  ast::collectAssigned(def.body, Assigned);
  FallsOff = !alwaysReturns(def.body);
  if (F.decl && !F.decl->signatures.empty()) {
    // An explicit result type fixes the result.
    if (F.resultType.isValid()) {
      Result = F.resultType;
      ResultSeen = true;
      Declared = true;
    }
  }
  // F.resultType follows Result while the passes run, for recursive calls
  // (Program::notePartialResult); a function that returns no value returns
  // None from the start.
  std::function<bool(const ast::Block &)> returnsValue = [&](const ast::Block &b) {
    for (auto &st : b) {
      if (auto *r = dyn_cast<ast::Return>(st.get()); r && r->value)
        return true;
      if (auto *i = dyn_cast<ast::If>(st.get()); i && (returnsValue(i->body) ||
                                                       returnsValue(i->orelse)))
        return true;
      if (auto *f = dyn_cast<ast::For>(st.get()); f && (returnsValue(f->body) ||
                                                        returnsValue(f->orelse)))
        return true;
      if (auto *w = dyn_cast<ast::While>(st.get()); w && (returnsValue(w->body) ||
                                                          returnsValue(w->orelse)))
        return true;
    }
    return false;
  };
  if (!Declared && !returnsValue(def.body))
    F.resultType = Type::none();

  // Iterate to a fixed point; each pass only widens types, so this ends.
  for (int iter = 0; iter < 32; ++iter) {
    Changed = false;
    Failed = false;
    pass(false);
    if (!Changed)
      break;
  }
  // `[]` that nothing is appended to holds float64, as np.array([]) does.
  for (auto &[name, v] : Vars)
    if (v.type.isList() && !v.type.isKnownList())
      v.type = Type::list(ScalarKind::F64);
    else if (v.type.isDict() && !v.type.isKnownDict()) // as Numba's dict of unknown types
      v.type = v.type.isSet() ? Type::defaultSet() : Type::defaultDict();
  Failed = false;
  pass(true);
  if (Failed)
    return false;

  // Pruned branches (`if x is None: return ...`) do not fall off.
  std::function<bool(const ast::Block &)> returns = [&](const ast::Block &b) {
    for (auto &st : b) {
      auto *i = dyn_cast<ast::If>(st.get());
      auto p = i ? F.prunedIfs.find(i) : F.prunedIfs.end();
      if (p != F.prunedIfs.end() ? returns(p->second ? i->body : i->orelse)
                                 : alwaysReturns(st.get()))
        return true;
    }
    return false;
  };
  FallsOff = !returns(def.body);
  if (FallsOff && ResultSeen && !Result.isNone()) {
    if (Declared) {
      Diags.error(F.file, def.nameRange,
                  fmt::format("function '{}' must return a value of type '{}' on every "
                              "path, but can reach its end",
                              def.name, Result.describe()));
      return false;
    }
    Diags.error(F.file, def.nameRange,
                fmt::format("function '{}' returns '{}' on some paths but reaches its "
                            "end (returning None) on others",
                            def.name, Result.describe()),
                "add a return statement at the end of the function");
    return false;
  }
  F.resultType = ResultSeen ? Result : Type::none();
  for (auto &[name, v] : Vars) {
    if (!v.type.isValid())
      continue; // assigned only in unreachable code
    F.vars[name] = v.type;
    if (v.optional) {
      F.optionals.insert(name);
      F.vars[noneFlag(name)] = Type::scalar(ScalarKind::Bool);
    }
  }
  return true;
}

bool FunctionChecker::pass(bool final) {
  Final = final;
  NoneTests.clear();
  if (final) {
    F.noneTests.clear();
    F.prunedIfs.clear();
    F.noneChecked.clear();
    F.endsBlock.clear();
    F.boolCut.clear();
    F.types.clear();
    F.calls.clear();
    F.consts.clear();
    F.tupleIndex.clear();
    F.masks.clear();
    F.listViews.clear();
    F.fancy.clear();
    F.weak.clear();
    F.loops.clear();
    F.callees.clear();
  }
  checkBlock(F.def->body);
  return !Failed;
}

void FunctionChecker::checkBlock(const ast::Block &b) {
  for (auto &s : b) {
    checkStmt(*s);
    if (auto *i = dyn_cast<ast::If>(s.get()); i && PrunedExits == i) {
      // What follows a pruned `if` that returns is unreachable.
      PrunedExits = nullptr;
      if (Final)
        F.endsBlock.insert(i);
      return;
    }
  }
}

bool FunctionChecker::checkCondition(const ast::Expr &e) {
  Type t = expr(e);
  if (!t.isValid())
    return false;
  if (t.isArray()) {
    error(e.range(),
          fmt::format("the truth value of an array is ambiguous ('{}')", t.describe()));
    return false;
  }
  return true;
}

/// Python's repr() of a string: single quotes unless it holds one and no
/// double quote.
static std::string pythonRepr(const std::string &text) {
  bool useDouble = text.find('\'') != std::string::npos && text.find('"') == std::string::npos;
  return ast::quoted(text, useDouble ? '"' : '\'');
}


/// One argument of a message (a raise's or a print's): a string literal as
/// written (repr()'d where `quote`), or a scalar as a value mark
/// (KernelFaults.h, Raise), its expression added to `r.values`; where
/// `printing`, also `None`, arrays, lists and tuples (printedValue). Empty
/// for anything else (an error, reported, that names the message as
/// `what`).
std::optional<std::string> FunctionChecker::messagePart(const ast::Expr &a, bool quote,
                                                        bool printing, const char *what,
                                                        TypedFunction::RaisedError &r) {
  if (auto *str = dyn_cast<ast::StrLit>(&a)) {
    std::string text = quote ? pythonRepr(str->value) : str->value;
    std::replace(text.begin(), text.end(), kRaisedValue, '?');
    return text;
  }
  if (auto *d = dyn_cast<ast::Attribute>(&a); d && d->attr == "dtype") {
    // a.dtype: its name, known from the type (repr: dtype('float64')).
    auto k = dtypeArgument(a);
    if (!k)
      return std::nullopt;
    return quote ? fmt::format("dtype('{}')", numpyName(*k)) : std::string(numpyName(*k));
  }
  if (auto *c = dyn_cast<ast::Call>(&a)) {
    auto *n = dyn_cast<ast::Name>(c->func.get());
    if (n && n->id == "f-string") {
      auto text = fstringText(*c, printing, what, r);
      if (text && quote)
        return "'" + *text + "'";
      return text;
    }
  }
  Type t = expr(a);
  if (!t.isValid())
    return std::nullopt;
  if (printing && t.isNone())
    return "None";
  if (printing && !t.isScalar())
    return printedValue(a, t, r);
  if (!t.isScalar()) {
    error(a.range(),
          fmt::format("{} can show strings, numbers and bools, not '{}'", what, t.describe()),
          t.isArray() || t.isList() ? "show its elements, a[i], or values computed from it "
                                      "(a.sum(), len(xs))"
                                    : "show its parts, t[0], t[1], ...");
    return std::nullopt;
  }
  r.values.push_back(&a);
  r.slots += isComplex(t.scalarKind()) ? 2 : 1;
  return std::string{kRaisedValue, messageLetter(t.scalarKind())};
}

std::optional<std::string> FunctionChecker::fstringText(const ast::Call &c, bool printing,
                                                        const char *what,
                                                        TypedFunction::RaisedError &r) {
  std::string text;
  bool ok = true;
  for (const ast::ExprPtr &part : c.args) {
    if (auto *str = dyn_cast<ast::StrLit>(part.get())) {
      std::string t = str->value;
      std::replace(t.begin(), t.end(), kRaisedValue, '?');
      text += t;
      continue;
    }
    const auto &field = llvm::cast<ast::Call>(*part);
    const ast::Expr &x = *field.args[0];
    const std::string &spec = llvm::cast<ast::StrLit>(*field.args[1]).value;
    // (The conversion, args[2], changes nothing stn shows but arrays,
    // which show their str() as well: docs/language.md.)
    if (spec.empty()) {
      auto shown = messagePart(x, /*quote=*/false, printing, what, r);
      if (!shown) {
        ok = false;
        continue;
      }
      text += *shown;
      continue;
    }
    Type t = expr(x);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    std::string err;
    std::optional<FormatSpec> f = parseFormatSpec(spec, err);
    if (f && !t.isScalar()) {
      err = fmt::format("a format spec formats a number, not '{}'", t.describe());
      f.reset();
    }
    if (f) {
      ScalarKind k = t.scalarKind();
      FormatOperand o = isComplex(k) ? FormatOperand::Complex
                        : isFloat(k) ? FormatOperand::Float
                        : isBool(k)  ? FormatOperand::Bool
                                     : FormatOperand::Integer;
      if (!formatSpecFits(*f, o, err))
        f.reset();
    }
    if (f && F.onGpu()) {
      err = "format specs are not supported in GPU code";
      f.reset();
    }
    if (!f) {
      error(field.range(), err);
      ok = false;
      continue;
    }
    r.values.push_back(&x);
    r.slots += 1;
    text += std::string{kRaisedValue, 'S'} + spec +
            std::string{kRaisedValue, messageLetter(t.scalarKind())};
  }
  if (!ok)
    return std::nullopt;
  return text;
}

/// print()'s text of an array (NumPy's str()), a list (Python's str()) or a
/// tuple of numbers and lists (Python's str(): `(1, 2.5, [3, 4])`): marks
/// 'A' and 'L' (one word each: the address of the array's description,
/// ArrayFormat.h) and those of the tuple's scalars, in order; `a` is added
/// to `r.values` once. An empty list of no known kind prints as `[]`.
std::optional<std::string> FunctionChecker::printedValue(const ast::Expr &a, const Type &t,
                                                         TypedFunction::RaisedError &r) {
  size_t slots = 0;
  std::function<std::optional<std::string>(const Type &, bool)> part;
  part = [&](const Type &x, bool inTuple) -> std::optional<std::string> {
    if (x.isScalar()) {
      slots += isComplex(x.scalarKind()) ? 2 : 1;
      return std::string{kRaisedValue, messageLetter(x.scalarKind())};
    }
    if (x.isList() && !x.isKnownList())
      return "[]";
    if (x.isDict() && !x.isKnownDict())
      return x.isSet() ? "set()" : "{}";
    if (x.keepsArrays())
      return std::nullopt; // (not printed yet: printedValue's caller says so)
    if (x.isDict() || x.isTupleList()) {
      // A collection (FunctionGen::printedCollection): 'C', the style
      // (list, set, dict), then the shape of the key (or item) and of the
      // value: 's' a number, 't' and two digits a tuple of that many.
      auto shape = [](const Type &e) {
        return e.isTuple() ? fmt::format("t{:02}", e.elements().size()) : std::string("s");
      };
      ++slots;
      if (x.isTupleList())
        return std::string{kRaisedValue, 'C', 'l'} + shape(x.listItem());
      if (x.isSet())
        return std::string{kRaisedValue, 'C', 's'} + shape(x.dictKey());
      return std::string{kRaisedValue, 'C', 'd'} + shape(x.dictKey()) + shape(x.dictValue());
    }
    if (x.isList() || (x.isArray() && !inTuple)) {
      ++slots;
      return std::string{kRaisedValue, x.isList() ? 'L' : 'A'};
    }
    if (x.isTuple()) {
      std::string s = "(";
      for (size_t i = 0; i < x.elements().size(); ++i) {
        auto e = part(x.elements()[i], true);
        if (!e)
          return std::nullopt;
        s += (i ? ", " : "") + *e;
      }
      return s + (x.elements().size() == 1 ? ",)" : ")");
    }
    return std::nullopt;
  };
  std::optional<std::string> text = part(t, false);
  if (!text) {
    error(a.range(),
          fmt::format("print() can show strings, numbers, bools, arrays, lists, dicts, sets "
                      "and tuples of numbers, not '{}'",
                      t.describe()),
          t.isTuple()       ? "print the tuple's arrays on their own: print(t[0], t[1])"
          : t.isArrayList() ? "print its arrays on their own: for a in xs: print(a)"
          : t.isDict()      ? "print its arrays on their own: for k in d: print(k, d[k])"
                            : "");
    return std::nullopt;
  }
  r.values.push_back(&a);
  r.slots += slots;
  return text;
}

/// `raise cls(args...)` and `assert test, args` (as a tuple where `tuple`):
/// the message is Python's: the class, then str() of the one argument or
/// repr() of the tuple of them. Strings must be literals; other arguments
/// are scalars shown when the error is raised.
void FunctionChecker::checkRaise(const ast::Stmt &s, const std::string &cls,
                                 const std::vector<const ast::Expr *> &args, bool tuple) {
  TypedFunction::RaisedError r;
  std::vector<std::string> parts;
  for (const ast::Expr *a : args)
    if (auto part = messagePart(*a, tuple, /*printing=*/false, "an error message", r))
      parts.push_back(std::move(*part));
  if (r.slots > static_cast<size_t>(kMaxFaultValues))
    error(args[0]->range(),
          fmt::format("an error message can show at most {} values computed at run time",
                      kMaxFaultValues));
  std::string body;
  for (size_t i = 0; i < parts.size(); ++i)
    body += (i ? ", " : "") + parts[i];
  if (tuple)
    body = "(" + body + (parts.size() == 1 ? ",)" : ")");
  r.text = body.empty() ? cls : cls + ": " + body;
  if (Final)
    F.raises[&s] = std::move(r);
}

/// print(a, b, sep=" ", end="\n"): Python's str() of each argument (string
/// literals and scalars), joined by `sep`, then `end`. The text marks the
/// values as a raise's message does.
Type FunctionChecker::printCall(const ast::Call &c) {
  std::string sep = " ", end = "\n";
  bool ok = true;
  for (const ast::Keyword &kw : c.keywords) {
    if (kw.name == "sep" || kw.name == "end") {
      if (auto *str = dyn_cast<ast::StrLit>(kw.value.get()))
        (kw.name == "sep" ? sep : end) = str->value;
      else if (!isa<ast::NoneLit>(kw.value.get())) {
        error(kw.value->range(), fmt::format("print()'s {}= must be a string literal", kw.name));
        ok = false;
      }
    } else if (kw.name == "flush") {
      // Every print is written out at once.
      if (!isa<ast::BoolLit>(kw.value.get())) {
        error(kw.value->range(), "print()'s flush= must be True or False");
        ok = false;
      }
    } else {
      error(kw.nameRange,
            fmt::format("print() takes sep=, end= and flush=, not {}=", kw.name),
            kw.name == "file" ? "kernels print to standard output" : "");
      ok = false;
    }
  }
  TypedFunction::RaisedError r;
  std::vector<std::string> parts;
  for (const ast::ExprPtr &a : c.args) {
    if (auto part = messagePart(*a, /*quote=*/false, /*printing=*/true, "print()", r))
      parts.push_back(std::move(*part));
    else
      ok = false;
  }
  if (r.slots > static_cast<size_t>(kMaxFaultValues)) {
    error(c.range(), fmt::format("print() can show at most {} values computed at run time",
                                 kMaxFaultValues),
          "split it into several prints");
    ok = false;
  }
  if (!ok)
    return {};
  for (size_t i = 0; i < parts.size(); ++i)
    r.text += (i ? sep : "") + parts[i];
  r.text += end;
  if (Final)
    F.prints[&c] = std::move(r);
  return Type::none();
}

void FunctionChecker::assignName(const std::string &name, SourceRange r, const Type &t) {
  if (RelativeNames.count(name)) {
    error(r, fmt::format("'{}' is a stencil input and cannot be reassigned", name));
    return;
  }
  auto &v = Vars[name];
  if (!v.type.isValid()) {
    v.type = t;
    v.firstRange = r;
    Changed = true;
    return;
  }
  if (v.declared) {
    if (!canConvert(t, v.type))
      error(r, fmt::format("cannot assign a value of type '{}' to '{}', declared as '{}'",
                           t.describe(), name, v.type.describe()));
    return;
  }
  // None on some paths, a number or an array on others: the variable has
  // the value's type and a flag for `x is None`.
  if ((v.type.isNone() && (t.isScalar() || t.isArray())) ||
      (t.isNone() && (v.type.isScalar() || v.type.isArray()))) {
    if (!v.optional) {
      v.optional = true;
      Changed = true;
    }
    if (v.type.isNone()) {
      v.type = t;
      Changed = true;
    }
    return;
  }
  auto u = unify(v.type, t);
  if (!u) {
    auto [line, col] = F.file->lineCol(v.firstRange.begin);
    error(r,
          fmt::format("cannot unify the types of '{}': '{}' here, but '{}' at line {}",
                      ast::sourceName(name),
                      t.describe(), v.type.describe(), line),
          "a variable keeps one type in a kernel; use a new name for the new value");
    return;
  }
  if (*u != v.type) {
    v.type = *u;
    Changed = true;
  }
}

/// `view[...] = st(args)` with a stencil `st` called without out=: also
/// specialize `st` with the view as out= (TypedFunction::stencilInto). Where
/// that specialization fails, MLIRGen keeps the plain call and the copy.
void FunctionChecker::planStencilInto(const ast::Assign &a) {
  if (a.targets.size() != 1 || F.onGpu())
    return;
  auto *s = dyn_cast<ast::Subscript>(a.targets.front().get());
  auto *c = dyn_cast<ast::Call>(a.value.get());
  if (!s || !c || !c->keywords.empty() || F.copiesElements(*s) ||
      !F.typeOf(*s->value).isArray()) // (xs[i] = st(a) replaces an item)
    return;
  auto it = F.calls.find(c);
  if (it == F.calls.end() || it->second.kind != CallInfo::Kind::Kernel)
    return;
  TypedFunction *callee = it->second.callee;
  Type view = F.typeOf(*s);
  if (!callee || callee->hasOut || callee->kind != KernelKind::Stencil || !view.isArray() ||
      !callee->resultType.isArray() || callee->resultType.rank() != view.rank())
    return;
  std::vector<Type> types = callee->argTypes;
  types.push_back(view);
  DiagnosticEngine scratch;
  TypedFunction *into = P.specialize(*callee->decl, types, scratch, /*hasOut=*/true);
  if (!into)
    return;
  F.stencilInto[&a] = into;
  if (std::find(F.callees.begin(), F.callees.end(), into) == F.callees.end())
    F.callees.push_back(into);
}

void FunctionChecker::assignTarget(const ast::Expr &target, const Type &t,
                                   SourceRange valueRange) {
  if (auto *n = dyn_cast<ast::Name>(&target)) {
    assignName(n->id, n->range(), t);
    if (Final)
      record(target, Vars[n->id].type);
    return;
  }
  if (isa<ast::Tuple>(&target) || isa<ast::List>(&target)) {
    const auto &elts = isa<ast::Tuple>(&target) ? dyn_cast<ast::Tuple>(&target)->elts
                                                : dyn_cast<ast::List>(&target)->elts;
    if (!t.isTuple()) {
      error(target.range(),
            fmt::format("cannot unpack a value of type '{}' into {} targets", t.describe(),
                        elts.size()));
      return;
    }
    if (t.elements().size() != elts.size()) {
      error(target.range(),
            fmt::format("cannot unpack a tuple of {} values into {} targets",
                        t.elements().size(), elts.size()));
      return;
    }
    for (size_t i = 0; i < elts.size(); ++i)
      assignTarget(*elts[i], t.elements()[i], valueRange);
    record(target, t);
    return;
  }
  if (auto *s = dyn_cast<ast::Subscript>(&target)) {
    if (writesComplexPart(target))
      return;
    if (auto *n = dyn_cast<ast::Name>(s->value.get()); n && RelativeNames.count(n->id)) {
      error(target.range(), fmt::format("stencil input '{}' is read-only", n->id));
      return;
    }
    const ast::Expr *flat = flatBase(*s->value);
    Type base = expr(flat ? *flat : *s->value);
    if (!base.isValid())
      return;
    if (base.isTuple()) {
      error(target.range(), "tuples are immutable: cannot assign to a tuple element");
      return;
    }
    if (base.isSet()) {
      error(s->range(), "a set's items cannot be assigned: 'set' object does not support "
                        "item assignment",
            "add items with s.add(x) and remove them with s.discard(x)");
      return;
    }
    if (base.isDict()) {
      storeIntoDict(*s, base, t, valueRange);
      return;
    }
    Type elem = expr(target); // checks the indices
    if (!elem.isValid())
      return;
    if (base.isArrayList() && !elem.isList()) {
      // xs[i] = a: the item becomes the array a (no copy), as in Python.
      if (!t.isArray() || t.scalarKind() != elem.scalarKind() || t.rank() != elem.rank())
        error(valueRange, fmt::format("cannot store a value of type '{}' into an item of '{}'",
                                      t.describe(), base.describe()),
              "an item is replaced by an array of its dtype and number of dimensions; "
              "xs[i][...] = x writes into the item's elements");
      return;
    }
    if (base.isTupleList() && !elem.isList()) {
      // xs[i] = (a, b): number by number, as into arrays of those kinds
      // (an item is a flat tuple of numbers).
      bool fits = t.isTuple() && t.elements().size() == elem.elements().size();
      for (size_t i = 0; fits && i < t.elements().size(); ++i) {
        const Type &from = t.elements()[i];
        fits = from.isScalar() &&
               (!isComplex(from.scalarKind()) || isComplex(elem.elements()[i].scalarKind()));
      }
      if (!fits)
        error(valueRange, fmt::format("cannot store a value of type '{}' into an item of '{}'",
                                      t.describe(), base.describe()),
              "an item is replaced by a tuple of the same length; complex numbers go into "
              "complex ones only");
      return;
    }
    if (elem.isList()) {
      // xs[a:b:c] = ys (MLIRGen: assignListSlice): the items of a list or
      // a 1-d array replace the slice's; the list grows or shrinks where
      // the step is 1.
      auto *n = dyn_cast<ast::Name>(s->value.get());
      if (!n) {
        error(s->value->range(), "a slice assignment changes a list, and this list is held "
                                 "by no variable");
        return;
      }
      if (!(t.isList() || (t.isArray() && t.rank() == 1)) ||
          (base.isTupleList() && t.isKnownList() && !t.isTupleList()) ||
          (t.isArray() && base.isTupleList())) {
        error(valueRange,
              fmt::format("a slice of '{}' is assigned the items of a list or a 1-d array, "
                          "not '{}'",
                          base.describe(), t.describe()),
              base.isArrayList()   ? "a list of arrays takes a list of arrays"
              : base.isTupleList() ? "a list of tuples takes a list of tuples"
                                   : "");
        return;
      }
      if (!listMayChangeSize(n->id, target.range()))
        return;
      if (t.isArray() || t.isKnownList()) {
        auto item = joinItems(base, t.isArray() ? t.dtypeType() : t.listItem(), target);
        if (!item)
          return;
        if (Type::list(*item) != base)
          assignName(n->id, n->range(), Type::list(*item));
      }
      return;
    }
    if (elem.isArray()) {
      // Slice (or row) assignment: a[1:-1] = b[2:], a[:] = 0, a[i] = row.
      if (!t.isScalar() && !t.isArray()) {
        error(valueRange, fmt::format("cannot assign a value of type '{}' to a slice of '{}'",
                                      t.describe(), base.describe()));
        return;
      }
      if (t.isArray() && t.rank() > elem.rank()) {
        error(valueRange, fmt::format("cannot assign a {}-dimensional array to a "
                                      "{}-dimensional slice",
                                      t.rank(), elem.rank()));
        return;
      }
      if (isComplex(t.scalarKind()) && !isComplex(elem.scalarKind()))
        error(valueRange, fmt::format("cannot store complex values into an array of {}",
                                      numpyName(elem.scalarKind())));
      return;
    }
    if (!t.isScalar()) {
      error(valueRange, fmt::format("cannot store a value of type '{}' into an element "
                                    "of '{}'",
                                    t.describe(), base.describe()));
      return;
    }
    if (isComplex(t.scalarKind()) && !isComplex(elem.scalarKind()))
      error(valueRange, fmt::format("cannot store a complex value into an array of {}",
                                    numpyName(elem.scalarKind())));
    return;
  }
  if (isa<ast::Attribute>(&target)) {
    error(target.range(), "cannot assign to an attribute");
    return;
  }
  error(target.range(), "cannot assign to this expression");
}

void FunctionChecker::checkReturn(const ast::Return &r) {
  Type t = Type::none();
  if (r.value) {
    ReturnedOn.insert(r.value.get());
    keptGenerator(r.value.get());
    if (auto *tu = dyn_cast<ast::Tuple>(r.value.get()))
      for (auto &el : tu->elts)
        keptGenerator(el.get());
    if (!Declared && !ResultSeen && F.kind == KernelKind::Jit &&
        isa<ast::IfExp>(r.value.get()) && callsJitFunction(*r.value))
      seedResultFromBranches(*r.value);
    // A returned list is the array of its items (also in a returned tuple).
    Returned = r.value.get();
    t = expr(*r.value);
    Returned = nullptr;
    if (!t.isArrayList()) // (a list of arrays is returned as it is)
      t = viewList(*r.value, t);
    if (!t.isValid())
      return;
    std::function<bool(const Type &)> holdsFunction = [&](const Type &x) {
      return x.isFunction() || (x.isTuple() && std::any_of(x.elements().begin(),
                                                           x.elements().end(), holdsFunction));
    };
    if (holdsFunction(t)) {
      error(r.value->range(),
            fmt::format("a function cannot return a function ('{}')", t.describe()),
            "pass the function on to where it is called, or call it here and return its "
            "result");
      return;
    }
    if (t.isDict()) {
      error(r.value->range(),
            fmt::format("a kernel cannot return a {} ('{}')", t.containerName(), t.describe()),
            t.isSet() ? "return an array of its items: np.array(sorted(s))"
                      : "return arrays of its keys and values: np.array(d.keys()), "
                        "np.array(d.values())");
      return;
    }
  }
  if (F.kind == KernelKind::Gpu && !t.isNone()) {
    error(r.value->range(), "a GPU kernel cannot return a value",
          "write the result into an array argument (device functions, "
          "@cuda.jit(device=True), may return values)");
    return;
  }
  if (Declared) {
    if (!canConvert(t, Result))
      error(r.value ? r.value->range() : r.range(),
            fmt::format("cannot return a value of type '{}' from a function whose "
                        "signature returns '{}'",
                        t.describe(), Result.describe()));
    return;
  }
  if (!ResultSeen) {
    Result = t;
    ResultSeen = true;
    Changed = true;
    F.resultType = Result;
    P.notePartialResult(F);
    return;
  }
  auto u = unify(Result, t);
  if (!u) {
    error(r.value ? r.value->range() : r.range(),
          fmt::format("this return has type '{}', but another return has type '{}'",
                      t.describe(), Result.describe()));
    return;
  }
  if (*u != Result) {
    Result = *u;
    Changed = true;
    F.resultType = Result;
    P.notePartialResult(F);
  }
}

bool FunctionChecker::writesComplexPart(const ast::Expr &target) {
  const ast::Expr *e = &target;
  while (auto *s = dyn_cast<ast::Subscript>(e))
    e = s->value.get();
  auto *a = dyn_cast<ast::Attribute>(e);
  if (e == &target || !a || (a->attr != "real" && a->attr != "imag") ||
      !expr(*a->value).isArray())
    return false;
  auto *n = dyn_cast<ast::Name>(a->value.get());
  error(target.range(),
        fmt::format("cannot assign to {0}.{1}[...]: an array's .{1} is a new array in stn, "
                    "not a view",
                    n ? ast::sourceName(n->id) : std::string("a"), a->attr),
        a->attr == "real" ? "assign whole numbers: z[i] = complex(x, z[i].imag)"
                          : "assign whole numbers: z[i] = complex(z[i].real, y)");
  return true;
}

/// `M.add.at(a, idx, v)`: M must be numpy, `a` an array (a list is not
/// changed in place by NumPy either).
bool FunctionChecker::checkUfuncAt(const ast::AugAssign &a) {
  auto m = P.ModuleAliases.find(a.atModule);
  if (Vars.count(a.atModule) || m == P.ModuleAliases.end() || m->second != "numpy") {
    error(a.opRange, fmt::format("'{}.{}.at' is not a function stn knows", a.atModule,
                                 a.atUfunc),
          "ufunc.at is NumPy's: import numpy as np, then np.add.at(a, idx, v)");
    return false;
  }
  auto &s = static_cast<const ast::Subscript &>(*a.target);
  Type base = expr(*s.value);
  if (!base.isValid())
    return false;
  if (!base.isArray()) {
    error(s.value->range(), fmt::format("np.{}.at() changes an array in place, not a value of "
                                        "type '{}'",
                                        a.atUfunc, base.describe()));
    return false;
  }
  return true;
}

/// Whether `e` calls the function being checked by its name.
bool FunctionChecker::callsItself(const ast::Expr &e) const {
  if (auto *c = dyn_cast<ast::Call>(&e))
    if (auto *n = dyn_cast<ast::Name>(c->func.get());
        n && n->id == F.def->name && !Vars.count(n->id))
      return true;
  bool found = false;
  ast::forEachChild(e, [&](const ast::Expr &child) { found = found || callsItself(child); });
  return found;
}

/// Whether `e` calls a @jit function of the file (this one or another, which
/// may call this one back: mutual recursion).
bool FunctionChecker::callsJitFunction(const ast::Expr &e) const {
  if (auto *c = dyn_cast<ast::Call>(&e))
    if (auto *n = dyn_cast<ast::Name>(c->func.get()); n && !Vars.count(n->id))
      if (const KernelDecl *k = P.kernel(n->id); k && k->kind == KernelKind::Jit)
        return true;
  bool found = false;
  ast::forEachChild(e,
                    [&](const ast::Expr &child) { found = found || callsJitFunction(child); });
  return found;
}

/// `return base if c else n * f(n - 1)` in a recursive function whose
/// result type is not known yet: the branches of the conditional (of nested
/// ones too) that do not call the function give the first result, as if
/// each were a return of its own (CPython compiles the conditional into two
/// returns, and Numba types those). Each is typed as a probe, without
/// diagnostics; the whole expression is checked afterwards as usual. A
/// branch that calls another function which calls this one back
/// (`is_odd(k - 1)`) fails its probe, as the function has no result yet, and
/// gives none.
void FunctionChecker::seedResultFromBranches(const ast::Expr &e) {
  if (auto *ie = dyn_cast<ast::IfExp>(&e)) {
    seedResultFromBranches(*ie->body);
    seedResultFromBranches(*ie->orelse);
    return;
  }
  if (ResultSeen || callsItself(e))
    return;
  bool final = Final, failed = Failed;
  Final = false;
  Type t = expr(e);
  Final = final;
  bool ok = !Failed;
  Failed = failed;
  if (!ok || !t.isValid() || t.isList())
    return;
  Result = t;
  ResultSeen = true;
  Changed = true;
  F.resultType = Result;
  P.notePartialResult(F);
}

/// Checks the arguments of a range() call (one to three integers, a
/// constant step other than zero) and records the call.
bool FunctionChecker::checkRangeCall(const ast::Call &call) {
  if (call.args.empty() || call.args.size() > 3 || !call.keywords.empty()) {
    error(call.range(), "range() takes 1 to 3 integer arguments");
    return false;
  }
  bool ok = true;
  for (auto &a : call.args) {
    Type t = expr(*a);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    if (!t.isScalar() || !(isInteger(t.scalarKind()) || isBool(t.scalarKind()))) {
      error(a->range(), fmt::format("range() arguments must be integers, not '{}'", t.describe()));
      ok = false;
    }
  }
  if (call.args.size() == 3) {
    auto step = foldIndex(*call.args[2]);
    if (step && step->i == 0) {
      error(call.args[2]->range(), "range() step must not be zero");
      ok = false;
    }
  }
  record(call, Type::none());
  if (Final) {
    CallInfo ci;
    ci.builtin = Builtin::Range;
    F.calls[&call] = ci;
  }
  return ok;
}

/// The type of the items a for loop gets from `e` where `e` is
/// enumerate(...), zip(...), reversed(...), range(...) or an array (at
/// any depth below the first two); fills `src`. Invalid after an error.
Type FunctionChecker::iterItems(const ast::Expr &e, IterSource &src) {
  src.expr = &e;
  auto *call = dyn_cast<ast::Call>(&e);
  bool viaNumpy = false, viaMath = false;
  std::optional<ScalarKind> cast;
  std::optional<Builtin> b;
  if (call)
    b = resolveBuiltin(*call->func, viaNumpy, viaMath, cast);
  if (b && *b == Builtin::Range) {
    src.kind = IterSource::Kind::Range;
    return checkRangeCall(*call) ? Type::scalar(ScalarKind::I64) : Type();
  }
  if (b && (*b == Builtin::Enumerate || *b == Builtin::Zip || *b == Builtin::Reversed)) {
    const char *fn = builtinName(*b);
    record(*call, Type::none());
    if (Final) {
      CallInfo ci;
      ci.builtin = *b;
      F.calls[call] = ci;
    }
    for (auto &kw : call->keywords)
      if (*b != Builtin::Enumerate || kw.name != "start") {
        error(kw.value->range(), fmt::format("{}() got an unexpected keyword argument '{}'",
                                             fn, kw.name));
        return {};
      }
    size_t given = call->args.size() + call->keywords.size();
    if (*b != Builtin::Zip && (call->args.empty() || given > (*b == Builtin::Enumerate ? 2 : 1))) {
      error(call->range(), *b == Builtin::Enumerate
                               ? "enumerate() takes an iterable and an optional start"
                               : "reversed() takes one iterable");
      return {};
    }
    if (*b == Builtin::Zip && call->args.empty()) {
      error(call->range(), "zip() needs at least one iterable",
            "zip() of nothing gives no items: remove the loop");
      return {};
    }
    std::vector<Type> items;
    bool ok = true;
    for (size_t i = 0; i < call->args.size(); ++i) {
      if (*b == Builtin::Enumerate && i == 1)
        break;
      src.children.emplace_back();
      Type t = iterItems(*call->args[i], src.children.back());
      ok = ok && t.isValid();
      items.push_back(t);
    }
    if (!ok)
      return {};
    if (*b == Builtin::Reversed) {
      src.kind = IterSource::Kind::Reversed;
      auto k = src.children.front().kind;
      if (k == IterSource::Kind::Dict && src.children.front().expr == call->args[0].get() &&
          expr(*call->args[0]).isSet()) {
        error(call->args[0]->range(), "'set' object is not reversible",
              "a set has no order in Python: reversed(sorted(s)) goes from the largest item");
        return {};
      }
      if (k != IterSource::Kind::Range && k != IterSource::Kind::Array &&
          k != IterSource::Kind::List && k != IterSource::Kind::Dict) {
        error(call->args[0]->range(),
              fmt::format("'{}' is not reversible",
                          k == IterSource::Kind::Zip ? "zip" : "enumerate"),
              "reversed() takes a range or an array; write the reversed one inside: "
              "enumerate(reversed(a))");
        return {};
      }
      return items.front();
    }
    if (*b == Builtin::Zip) {
      src.kind = IterSource::Kind::Zip;
      return Type::tuple(std::move(items));
    }
    src.kind = IterSource::Kind::Enumerate;
    src.start = call->args.size() == 2 ? call->args[1].get() : call->keywords.empty()
                                                                  ? nullptr
                                                                  : call->keywords[0].value.get();
    if (src.start) {
      Type st = expr(*src.start);
      if (!st.isValid())
        return {};
      if (!st.isScalar() || !(isInteger(st.scalarKind()) || isBool(st.scalarKind()))) {
        error(src.start->range(),
              fmt::format("enumerate() start must be an integer, not '{}'", st.describe()));
        return {};
      }
    }
    return Type::tuple({Type::scalar(ScalarKind::I64), items.front()});
  }
  if (b && (*b == Builtin::NdIndex || *b == Builtin::NdEnumerate))
    return ndIterItems(*call, *b, src);
  if (const ast::Expr *arr = flatBase(e)) {
    // `for x in a.flat`: the elements in C order.
    Type at = expr(*arr);
    if (!at.isValid())
      return {};
    if (!at.isArray()) {
      error(e.range(), fmt::format("'{}' has no attribute 'flat'", at.describe()));
      return {};
    }
    record(e, at);
    src.kind = IterSource::Kind::Flat;
    src.expr = arr;
    return at.dtypeType();
  }
  if (auto *a = call ? dyn_cast<ast::Attribute>(call->func.get()) : nullptr;
      a && call->args.empty() && call->keywords.empty() &&
      (a->attr == "keys" || a->attr == "values" || a->attr == "items")) {
    // d.keys(), d.values(), d.items(): the dict's own entries, no list.
    bool final = Final, failed = Failed;
    Final = false;
    Type recv = expr(*a->value);
    Final = final;
    Failed = failed;
    if (recv.isDict() && !recv.isSet() && !recv.isKnownDict() && !Final)
      return {}; // typed in a later pass, as d[k]
    if (recv.isDict() && !recv.isSet()) {
      recv = expr(*a->value);
      record(*call, Type::none());
      src.kind = IterSource::Kind::Dict;
      src.expr = a->value.get();
      Type d = recv.isKnownDict() ? recv : Type::defaultDict();
      if (a->attr == "keys")
        return d.dictKey();
      if (a->attr == "values") {
        src.dictPart = IterSource::DictPart::Values;
        return d.dictValue();
      }
      src.dictPart = IterSource::DictPart::Items;
      return Type::tuple({d.dictKey(), d.dictValue()});
    }
  }
  Type seq = expr(e);
  if (seq.isDict()) { // its keys
    if (!seq.isKnownDict() && !Final)
      return {};
    src.kind = IterSource::Kind::Dict; // (a set's items)
    return seq.isKnownDict() ? seq.dictKey() : Type::scalar(ScalarKind::I64);
  }
  if (seq.isTupleList()) {
    src.kind = IterSource::Kind::List;
    return seq.listItem();
  }
  Type it = viewList(e, seq);
  if (!it.isValid())
    return {};
  if (!it.isArray()) {
    error(e.range(), fmt::format("cannot iterate over a value of type '{}'", it.describe()),
          "loops iterate over range(...), prange(...), an array, or enumerate, zip and "
          "reversed of those");
    return {};
  }
  src.kind = IterSource::Kind::Array;
  return it.rank() == 1 ? it.dtypeType()
                        : Type::array(it.scalarKind(), it.rank() - 1, it.layout());
}

/// np.ndindex(3, 4), np.ndindex(a.shape), np.ndindex((3, 4)): tuples of
/// one int64 per dimension; np.ndenumerate(a): (that tuple, the element).
Type FunctionChecker::ndIterItems(const ast::Call &call, Builtin b, IterSource &src) {
  const char *fn = builtinName(b);
  record(call, Type::none());
  if (Final) {
    CallInfo ci;
    ci.builtin = b;
    F.calls[&call] = ci;
  }
  if (!call.keywords.empty()) {
    error(call.keywords.front().value->range(),
          fmt::format("np.{}() got an unexpected keyword argument '{}'", fn,
                      call.keywords.front().name));
    return {};
  }
  if (b == Builtin::NdEnumerate) {
    if (call.args.size() != 1) {
      error(call.range(), "np.ndenumerate() takes one array");
      return {};
    }
    Type at = viewList(*call.args[0], expr(*call.args[0]));
    if (!at.isValid())
      return {};
    if (!at.isArray() || at.rank() == 0) {
      error(call.args[0]->range(),
            fmt::format("np.ndenumerate() takes an array of at least one dimension, not '{}'",
                        at.describe()));
      return {};
    }
    src.kind = IterSource::Kind::NdEnumerate;
    src.expr = call.args[0].get();
    std::vector<Type> index(at.rank(), Type::scalar(ScalarKind::I64));
    return Type::tuple({Type::tuple(std::move(index)), at.dtypeType()});
  }
  // The extents: integers, or tuples of integers (a.shape).
  size_t rank = 0;
  bool ok = true;
  for (auto &a : call.args) {
    Type t = expr(*a);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    auto integral = [](const Type &u) {
      return u.isScalar() && (isInteger(u.scalarKind()) || isBool(u.scalarKind()));
    };
    bool good = integral(t);
    size_t n = 1;
    if (t.isTuple()) {
      good = true;
      n = t.elements().size();
      for (auto &el : t.elements())
        good = good && integral(el);
    }
    if (!good) {
      error(a->range(),
            fmt::format("np.ndindex() takes the extents as integers or one tuple of integers, "
                        "not '{}'",
                        t.describe()));
      ok = false;
    }
    rank += n;
  }
  if (!ok)
    return {};
  if (rank == 0) {
    error(call.range(), "np.ndindex() needs at least one extent",
          "np.ndindex(n) counts (0,) ... (n-1,); np.ndindex(a.shape) walks every index of a");
    return {};
  }
  src.kind = IterSource::Kind::NdIndex;
  src.expr = &call;
  return Type::tuple(std::vector<Type>(rank, Type::scalar(ScalarKind::I64)));
}

/// The extents of the nested lists and tuples `e` (given to np.array),
/// appending its scalar and tuple-valued expressions to `leaves` in C order
/// and promoting their kinds into `kind`; nullopt after an error.
std::optional<std::vector<int64_t>>
FunctionChecker::nestedShape(const ast::Expr &e, const std::string &fn,
                             std::vector<const ast::Expr *> &leaves,
                             std::optional<ScalarKind> &kind) {
  auto shapeText = [](const std::vector<int64_t> &s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i)
      out += fmt::format("{}{}", i ? ", " : "", s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
  };
  auto add = [&](ScalarKind k) { kind = kind ? promote(*kind, k) : k; };
  const std::vector<ast::ExprPtr> *elts = nullptr;
  if (auto *l = dyn_cast<ast::List>(&e); l && !l->braces)
    elts = &l->elts;
  else if (auto *t = dyn_cast<ast::Tuple>(&e))
    elts = &t->elts;
  if (elts) {
    std::optional<std::vector<int64_t>> inner;
    for (auto &x : *elts) {
      auto s = nestedShape(*x, fn, leaves, kind);
      if (!s)
        return std::nullopt;
      if (!inner) {
        inner = s;
      } else if (*s != *inner) {
        error(x->range(),
              fmt::format("{}() needs nested sequences of one shape: this element has shape {}, "
                          "the first {}",
                          fn, shapeText(*s), shapeText(*inner)));
        return std::nullopt;
      }
    }
    std::vector<int64_t> shape{static_cast<int64_t>(elts->size())};
    if (inner)
      shape.insert(shape.end(), inner->begin(), inner->end());
    return shape;
  }
  Type t = expr(e);
  if (!t.isValid())
    return std::nullopt;
  // A tuple value (a.shape, a variable): its nesting gives extents too.
  std::function<std::optional<std::vector<int64_t>>(const Type &)> tupleShape =
      [&](const Type &u) -> std::optional<std::vector<int64_t>> {
    if (u.isScalar()) {
      add(u.scalarKind());
      return std::vector<int64_t>{};
    }
    if (!u.isTuple())
      return std::nullopt;
    std::optional<std::vector<int64_t>> inner;
    for (const Type &x : u.elements()) {
      auto s = tupleShape(x);
      if (!s || (inner && *s != *inner))
        return std::nullopt;
      inner = s;
    }
    std::vector<int64_t> shape{static_cast<int64_t>(u.elements().size())};
    if (inner)
      shape.insert(shape.end(), inner->begin(), inner->end());
    return shape;
  };
  if (t.isArray()) {
    error(e.range(), fmt::format("{}() takes numbers in nested lists or tuples, or one array, "
                                 "not arrays in a list",
                                 fn),
          "arrays alone are stacked (np.array([a, b])); numbers and arrays do not mix, and "
          "np.concatenate joins arrays");
    return std::nullopt;
  }
  auto s = tupleShape(t);
  if (!s) {
    error(e.range(), fmt::format("{}() cannot make an array of '{}'", fn, t.describe()),
          t.isSet()    ? "NumPy makes a 0-d object array of a set: np.array(list(s)) or "
                         "np.array(sorted(s)) makes one of its items"
          : t.isDict() ? "np.array(d.keys()) and np.array(d.values()) make arrays of its "
                         "entries"
                       : "it takes numbers in nested lists or tuples of one shape");
    return std::nullopt;
  }
  leaves.push_back(&e);
  return s;
}

void FunctionChecker::pushIteratedLists(const IterSource &src) {
  if (auto *n = src.expr ? dyn_cast<ast::Name>(src.expr) : nullptr;
      n &&
      (src.kind == IterSource::Kind::Array || src.kind == IterSource::Kind::List ||
       src.kind == IterSource::Kind::NdEnumerate || src.kind == IterSource::Kind::Dict) &&
      Vars.count(n->id) && Vars[n->id].type.isContainer())
    IteratedLists.push_back(n->id);
  for (auto &c : src.children)
    pushIteratedLists(c);
}

void FunctionChecker::checkFor(const ast::For &f) {
  ForInfo info;
  Type elem;
  auto *call = dyn_cast<ast::Call>(f.iter.get());
  bool viaNumpy = false, viaMath = false;
  std::optional<ScalarKind> cast;
  std::optional<Builtin> b;
  if (call)
    b = resolveBuiltin(*call->func, viaNumpy, viaMath, cast);
  if (call && b && *b == Builtin::Range) {
    auto *fn = dyn_cast<ast::Name>(call->func.get());
    auto *at = dyn_cast<ast::Attribute>(call->func.get());
    info.parallel = (fn && fn->id == "prange") || (at && at->attr == "prange");
    if (!checkRangeCall(*call))
      return;
    elem = Type::scalar(ScalarKind::I64);
    info.kind = ForInfo::Kind::Range;
  } else {
    elem = iterItems(*f.iter, info.source);
    if (!elem.isValid())
      return;
    info.kind = info.source.kind == IterSource::Kind::Array ? ForInfo::Kind::Array
                                                             : ForInfo::Kind::Source;
  }
  if (info.kind == ForInfo::Kind::Source) {
    if (!isa<ast::Name>(f.target.get()) && !isa<ast::Tuple>(f.target.get())) {
      error(f.target->range(), "the loop variable must be a name or a tuple of names");
      return;
    }
  } else if (!isa<ast::Name>(f.target.get())) {
    error(f.target->range(), "the loop variable must be a single name");
    return;
  }
  assignTarget(*f.target, elem, f.iter->range());
  // prange runs in parallel in a parallel=True kernel; a prange nested in
  // another parallel loop runs serially inside it (as in Numba).
  // In a target="cuda" kernel such a prange is a nest that runs on the GPU
  // (GpuRegions.h), with the same rules.
  bool runsParallel = info.parallel && F.decl &&
                      (F.decl->options.parallel ||
                       (F.kind == KernelKind::Jit && F.decl->gpuLoops())) &&
                      ParallelDepth == 0;
  if (runsParallel) {
    info.runsParallel = true;
    if (!f.orelse.empty())
      error(f.orelse.front()->range(), "a parallel prange loop cannot have an 'else' clause",
            "the else clause runs after a loop that did not 'break', and parallel loops "
            "cannot break: move its statements after the loop");
  }
  LoopParallel.push_back(runsParallel);
  ParallelDepth += runsParallel;
  if (runsParallel) {
    ParallelAssigned.emplace_back();
    ast::collectAssigned(f.body, ParallelAssigned.back());
  }
  size_t iterated = IteratedLists.size();
  if (info.kind != ForInfo::Kind::Range)
    pushIteratedLists(info.source);
  checkBlock(f.body);
  IteratedLists.resize(iterated);
  if (runsParallel)
    ParallelAssigned.pop_back();
  ParallelDepth -= runsParallel;
  LoopParallel.pop_back();
  if (runsParallel && Final)
    analyzeParallelLoop(f, info);
  if (Final)
    F.loops[&f] = info;
  checkBlock(f.orelse);
}

//===----------------------------------------------------------------------===//
// Parallel loops: reductions and private variables
//===----------------------------------------------------------------------===//

const char *reduceOpName(ReduceOp op) {
  switch (op) {
  case ReduceOp::Add:
    return "+";
  case ReduceOp::Mul:
    return "*";
  case ReduceOp::Or:
    return "|";
  case ReduceOp::And:
    return "&";
  case ReduceOp::Xor:
    return "^";
  case ReduceOp::Min:
    return "min";
  case ReduceOp::Max:
    return "max";
  }
  return "?";
}

namespace {

/// The first Name node in `e` that reads `var` (for the caret), or null.
const ast::Expr *firstRead(const ast::Expr *e, const std::string &var) {
  if (!e)
    return nullptr;
  if (auto *n = dyn_cast<ast::Name>(e))
    return n->id == var ? e : nullptr;
  const ast::Expr *hit = nullptr;
  ast::forEachChild(*e, [&](const ast::Expr &c) {
    if (!hit)
      hit = firstRead(&c, var);
  });
  return hit;
}

bool readsName(const ast::Expr *e, const std::string &var) { return firstRead(e, var); }

/// One write of a name inside a parallel loop body.
struct LoopWrite {
  const ast::Stmt *stmt;
  SourceRange range;
  std::optional<ReduceOp> op; ///< set when the write has reduction form
};

std::optional<ReduceOp> reduceOpOf(ast::BinOpKind k) {
  switch (k) {
  case ast::BinOpKind::Add:
  case ast::BinOpKind::Sub:
    return ReduceOp::Add;
  case ast::BinOpKind::Mul:
    return ReduceOp::Mul;
  case ast::BinOpKind::BitOr:
    return ReduceOp::Or;
  case ast::BinOpKind::BitAnd:
    return ReduceOp::And;
  case ast::BinOpKind::BitXor:
    return ReduceOp::Xor;
  default:
    return std::nullopt;
  }
}

bool isName(const ast::Expr *e, const std::string &var) {
  auto *n = e ? dyn_cast<ast::Name>(e) : nullptr;
  return n && n->id == var;
}

} // namespace

/// Classifies the variables a parallel loop's body assigns (Numba's rules):
/// a variable whose every write is an update in reduction form is a
/// reduction; any other is private to each thread. A reduction variable
/// may not be read elsewhere in the body (its value there would depend on
/// the thread schedule).
void FunctionChecker::analyzeParallelLoop(const ast::For &f, ForInfo &info) {
  // Every write of a Name in the body, in source order, and every statement
  // that reads each name.
  std::map<std::string, std::vector<LoopWrite>> writes;
  std::vector<std::string> order;
  auto addWrite = [&](const std::string &n, LoopWrite w) {
    auto [it, inserted] = writes.emplace(n, std::vector<LoopWrite>{});
    if (inserted)
      order.push_back(n);
    it->second.push_back(w);
  };
  std::function<void(const ast::Expr &, const ast::Stmt &)> targetWrites =
      [&](const ast::Expr &t, const ast::Stmt &s) {
        if (auto *n = dyn_cast<ast::Name>(&t))
          addWrite(n->id, {&s, n->range(), std::nullopt});
        else if (auto *tu = dyn_cast<ast::Tuple>(&t))
          for (auto &e : tu->elts)
            targetWrites(*e, s);
        else if (auto *l = dyn_cast<ast::List>(&t))
          for (auto &e : l->elts)
            targetWrites(*e, s);
      };
  // The reduction form of `target = value` for the variable `var`.
  auto assignForm = [&](const std::string &var, const ast::Expr &value) -> std::optional<ReduceOp> {
    if (auto *b = dyn_cast<ast::BinOp>(&value)) {
      auto op = reduceOpOf(b->op);
      if (!op)
        return std::nullopt;
      if (isName(b->lhs.get(), var) && !readsName(b->rhs.get(), var))
        return op;
      if (b->op != ast::BinOpKind::Sub && isName(b->rhs.get(), var) &&
          !readsName(b->lhs.get(), var))
        return op;
      return std::nullopt;
    }
    if (auto *c = dyn_cast<ast::Call>(&value); c && c->args.size() == 2 && c->keywords.empty()) {
      bool viaNumpy = false, viaMath = false;
      std::optional<ScalarKind> cast;
      auto b = resolveBuiltin(*c->func, viaNumpy, viaMath, cast);
      if (!b || (*b != Builtin::Min && *b != Builtin::Max) || viaNumpy)
        return std::nullopt;
      bool first = isName(c->args[0].get(), var) && !readsName(c->args[1].get(), var);
      bool second = isName(c->args[1].get(), var) && !readsName(c->args[0].get(), var);
      if (first || second)
        return *b == Builtin::Min ? ReduceOp::Min : ReduceOp::Max;
    }
    return std::nullopt;
  };
  std::function<void(const ast::Block &)> walk = [&](const ast::Block &b) {
    for (auto &sp : b) {
      const ast::Stmt &s = *sp;
      if (auto *a = dyn_cast<ast::Assign>(&s)) {
        auto *n = a->targets.size() == 1 ? dyn_cast<ast::Name>(a->targets[0].get()) : nullptr;
        if (n && a->value) {
          addWrite(n->id, {&s, n->range(), assignForm(n->id, *a->value)});
        } else {
          for (auto &t : a->targets)
            targetWrites(*t, s);
        }
      } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
        if (auto *n = dyn_cast<ast::Name>(aa->target.get())) {
          std::optional<ReduceOp> op;
          if (!readsName(aa->value.get(), n->id))
            op = reduceOpOf(aa->op);
          addWrite(n->id, {&s, n->range(), op});
        }
      } else if (auto *i = dyn_cast<ast::If>(&s)) {
        walk(i->body);
        walk(i->orelse);
      } else if (auto *w = dyn_cast<ast::While>(&s)) {
        walk(w->body);
        walk(w->orelse);
      } else if (auto *fo = dyn_cast<ast::For>(&s)) {
        targetWrites(*fo->target, s);
        walk(fo->body);
        walk(fo->orelse);
      }
    }
  };
  walk(f.body);
  // Reads of `var` in statements other than its reduction updates.
  std::function<const ast::Expr *(const ast::Block &, const std::string &,
                                  const std::set<const ast::Stmt *> &)>
      otherRead = [&](const ast::Block &b, const std::string &var,
                      const std::set<const ast::Stmt *> &updates) -> const ast::Expr * {
    for (auto &sp : b) {
      const ast::Stmt &s = *sp;
      if (updates.count(&s))
        continue;
      const ast::Expr *hit = nullptr;
      auto check = [&](const ast::Expr *e) {
        if (!hit)
          hit = firstRead(e, var);
      };
      if (auto *a = dyn_cast<ast::Assign>(&s)) {
        check(a->value.get());
        for (auto &t : a->targets)
          if (!isa<ast::Name>(t.get()))
            check(t.get());
      } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
        check(aa->target.get());
        check(aa->value.get());
      } else if (auto *es = dyn_cast<ast::ExprStmt>(&s)) {
        check(es->value.get());
      } else if (auto *r = dyn_cast<ast::Return>(&s)) {
        check(r->value.get());
      } else if (auto *ra = dyn_cast<ast::Raise>(&s)) {
        check(ra->exc.get());
      } else if (auto *as = dyn_cast<ast::Assert>(&s)) {
        check(as->test.get());
        check(as->msg.get());
      } else if (auto *i = dyn_cast<ast::If>(&s)) {
        check(i->cond.get());
        if (!hit)
          hit = otherRead(i->body, var, updates);
        if (!hit)
          hit = otherRead(i->orelse, var, updates);
      } else if (auto *w = dyn_cast<ast::While>(&s)) {
        check(w->cond.get());
        if (!hit)
          hit = otherRead(w->body, var, updates);
        if (!hit)
          hit = otherRead(w->orelse, var, updates);
      } else if (auto *fo = dyn_cast<ast::For>(&s)) {
        check(fo->iter.get());
        if (!hit)
          hit = otherRead(fo->body, var, updates);
        if (!hit)
          hit = otherRead(fo->orelse, var, updates);
      }
      if (hit)
        return hit;
    }
    return nullptr;
  };
  auto *loopVar = dyn_cast<ast::Name>(f.target.get());
  for (const std::string &var : order) {
    if (loopVar && var == loopVar->id)
      continue;
    auto &ws = writes[var];
    bool allReduce = std::all_of(ws.begin(), ws.end(), [](const LoopWrite &w) { return w.op; });
    if (!allReduce) {
      info.privates.push_back(var);
      continue;
    }
    ReduceOp op = *ws.front().op;
    for (auto &w : ws)
      if (*w.op != op) {
        error(w.range,
              fmt::format("reduction variable '{}' is combined with '{}' here but with '{}' "
                          "elsewhere in this prange loop",
                          var, reduceOpName(*w.op), reduceOpName(op)),
              "a parallel reduction uses one operator (+ and - count as one)");
        return;
      }
    auto vt = Vars.find(var);
    if (vt == Vars.end() || !vt->second.type.isScalar()) {
      error(ws.front().range,
            fmt::format("'{}' is updated as a reduction in a parallel prange loop, but it is "
                        "of type '{}', not a number",
                        var, vt == Vars.end() ? std::string("?") : vt->second.type.describe()),
            "array reductions are not supported yet: accumulate into a scalar, or write "
            "each iteration's result to its own element (out[i] = ...)");
      continue;
    }
    std::set<const ast::Stmt *> updates;
    for (auto &w : ws)
      updates.insert(w.stmt);
    if (const ast::Expr *r = otherRead(f.body, var, updates)) {
      error(r->range(),
            fmt::format("reduction variable '{}' is read inside the parallel prange loop", var),
            fmt::format("the iterations run at the same time, so '{}' only holds its total "
                        "after the loop; inside it, only updates such as '{} {}= ...' may use it",
                        var, var, op == ReduceOp::Min || op == ReduceOp::Max ? "+" : reduceOpName(op)));
      continue;
    }
    info.reductions.push_back({var, op, ws.front().range});
  }
}

void FunctionChecker::checkStmt(const ast::Stmt &s) {
  switch (s.kind()) {
  case ast::Stmt::Kind::ExprStmt: {
    auto &e = *static_cast<const ast::ExprStmt &>(s).value;
    if (isa<ast::StrLit>(&e))
      return; // a string statement is a comment
    expr(e);
    return;
  }
  case ast::Stmt::Kind::Assign: {
    auto &a = static_cast<const ast::Assign &>(s);
    if (a.annotation) {
      auto *n = a.targets.size() == 1 ? dyn_cast<ast::Name>(a.targets[0].get()) : nullptr;
      if (!n) {
        error(a.annotation->range(), "an annotation applies to a single name");
        return;
      }
      DiagnosticEngine scratch;
      auto t = typeFromExpr(*a.annotation, F.file, Final ? Diags : scratch);
      if (!t) {
        Failed = true;
        return;
      }
      auto &v = Vars[n->id];
      if (!v.declared) {
        v.type = *t;
        v.declared = true;
        v.firstRange = n->range();
        Changed = true;
      }
      if (!a.value)
        return;
    }
    keptGenerator(a.value.get());
    // v = d.get(k): the one place a get without a default may be (dictMethod).
    GetIntoName = a.targets.size() == 1 && isa<ast::Name>(a.targets[0].get())
                      ? a.value.get()
                      : nullptr;
    Type t = expr(*a.value);
    GetIntoName = nullptr;
    if (!t.isValid()) {
      // Its error is reported; the names it would bind are not reported
      // again as used before assignment.
      if (Final)
        for (auto &target : a.targets)
          ast::collectTargets(*target, Unbound);
      return;
    }
    if (t.isContainer()) {
      // One variable owns a list or a dict: `b = a` would make two names
      // for one (Python's aliasing, which stn's containers do not have).
      auto *c = dyn_cast<ast::Call>(a.value.get());
      auto *m = c ? dyn_cast<ast::Attribute>(c->func.get()) : nullptr;
      bool vn = false, vm = false;
      std::optional<ScalarKind> cast;
      auto maker = c ? resolveBuiltin(*c->func, vn, vm, cast) : std::nullopt;
      bool made = maker == Builtin::ListOf || maker == Builtin::Sorted || // list(...), sorted(...)
                  maker == Builtin::DictOf || maker == Builtin::SetOf;      // dict(...), set(...)
      auto *sub = dyn_cast<ast::Subscript>(a.value.get()); // xs[a:b] is a new list
      bool fresh = isa<ast::List>(a.value.get()) || isa<ast::ListComp>(a.value.get()) ||
                   isa<ast::Dict>(a.value.get()) ||
                   (m && t.isList() && (m->attr == "keys" || m->attr == "values" ||
                                        m->attr == "items")) ||
                   (m && t.isSet() && (m->attr == "union" || m->attr == "intersection" ||
                                       m->attr == "difference" ||
                                       m->attr == "symmetric_difference")) ||
                   isa<ast::BinOp>(a.value.get()) || made || (m && m->attr == "copy") ||
                   (sub && isa<ast::Slice>(sub->index.get()));
      // xs = helper(n): the list of arrays a @jit function of the file
      // returned (its own, now this one's).
      if (auto *fn = c ? dyn_cast<ast::Name>(c->func.get()) : nullptr;
          fn && t.isArrayList() && !Vars.count(fn->id) && !Assigned.count(fn->id) &&
          P.kernel(fn->id))
        fresh = true;
      bool intoSubscript = a.targets.size() == 1 && isa<ast::Subscript>(a.targets[0].get());
      if (!intoSubscript && // (assignTarget reports what a subscript cannot take)
          (!fresh || a.targets.size() != 1 || !isa<ast::Name>(a.targets[0].get()))) {
        error(a.value->range(),
              fmt::format("a {} can be held by one variable only; this would share '{}'",
                          t.containerName(), t.describe()),
              t.isDict() ? "make a copy with .copy()"
                         : "make a copy with .copy(), or convert it with np.array(...)");
        // The targets still get the type (no "used before it is assigned").
      }
    }
    for (auto &target : a.targets)
      assignTarget(*target, t, a.value->range());
    if (MaybeNone.count(a.value.get())) { // v = d.get(k): v may hold None
      auto &v = Vars[llvm::cast<ast::Name>(*a.targets[0]).id];
      if (!v.optional) {
        v.optional = true;
        Changed = true;
      }
    }
    if (Final)
      planStencilInto(a);
    return;
  }
  case ast::Stmt::Kind::AugAssign: {
    auto &a = static_cast<const ast::AugAssign &>(s);
    if (a.isUfuncAt() && !checkUfuncAt(a))
      return;
    if (writesComplexPart(*a.target))
      return;
    Type cur = expr(*a.target);
    Type val = expr(*a.value);
    if (!cur.isValid() || !val.isValid())
      return;
    if (a.atMinMax() && (isComplex(cur.scalarKind()) || isComplex(val.scalarKind()))) {
      error(a.opRange, fmt::format("np.{}.at() takes real numbers, not '{}' and '{}'",
                                   a.atUfunc, cur.describe(), val.describe()));
      return;
    }
    if (auto *n = dyn_cast<ast::Name>(a.target.get()); n && cur.isList()) {
      listAugAssign(a, *n, cur, val);
      return;
    }
    if (auto *n = dyn_cast<ast::Name>(a.target.get()); n && cur.isSet()) {
      setAugAssign(a, *n, cur, val);
      return;
    }
    if (cur.isArray() && (val.isArray() || val.isScalar())) {
      // In place, as NumPy does: the result must cast back to the array's
      // dtype under NumPy's "same_kind" rule.
      std::string err;
      auto rule = arrayBinaryRule(a.op, cur.scalarKind(), true, false, val.scalarKind(),
                                  val.isArray(), weak(*a.value), err);
      if (!rule) {
        error(a.opRange, err);
        return;
      }
      if (kindClass(rule->result) > kindClass(cur.scalarKind())) {
        error(a.opRange,
              fmt::format("cannot store the {} result of '{}=' in place into an array of {}",
                          numpyName(rule->result), spelling(a.op), numpyName(cur.scalarKind())),
              "write the result to a new array instead, e.g. x = x " +
                  std::string(spelling(a.op)) + " ...");
        return;
      }
      if (val.isArray() && val.rank() > cur.rank()) {
        error(a.value->range(), fmt::format("a {}-dimensional array cannot be combined in place "
                                            "into a {}-dimensional one",
                                            val.rank(), cur.rank()));
        return;
      }
      return;
    }
    if (!cur.isScalar() || !val.isScalar()) {
      error(a.opRange, fmt::format("unsupported operand types for {}=: '{}' and '{}'",
                                   spelling(a.op), cur.describe(), val.describe()));
      return;
    }
    std::string err;
    auto rule = binaryRule(a.op, cur.scalarKind(), val.scalarKind(), err);
    if (!rule) {
      error(a.opRange, err);
      return;
    }
    Type res = Type::scalar(rule->result);
    if (auto *n = dyn_cast<ast::Name>(a.target.get()))
      assignName(n->id, n->range(), res);
    else if (isa<ast::Subscript>(a.target.get()))
      assignTarget(*a.target, res, a.value->range());
    else
      error(a.target->range(), "cannot assign to this expression");
    return;
  }
  case ast::Stmt::Kind::If: {
    auto &i = static_cast<const ast::If &>(s);
    checkCondition(*i.cond);
    // `if x is None:` with x a parameter of type None (or never None):
    // only the branch that runs is checked, as Numba prunes the other.
    if (std::optional<bool> taken = staticTruth(*i.cond)) {
      if (Final)
        F.prunedIfs[&s] = *taken;
      const ast::Block &runs = *taken ? i.body : i.orelse;
      checkBlock(runs);
      if (alwaysReturns(runs))
        PrunedExits = &i;
      return;
    }
    checkBlock(i.body);
    checkBlock(i.orelse);
    return;
  }
  case ast::Stmt::Kind::For:
    checkFor(static_cast<const ast::For &>(s));
    return;
  case ast::Stmt::Kind::While: {
    auto &w = static_cast<const ast::While &>(s);
    checkCondition(*w.cond);
    LoopParallel.push_back(false);
    checkBlock(w.body);
    LoopParallel.pop_back();
    checkBlock(w.orelse);
    return;
  }
  case ast::Stmt::Kind::Return:
    if (ParallelDepth)
      error(s.range(), "'return' inside a parallel prange loop",
            "the iterations run at the same time on several threads: compute a result "
            "(for example with a reduction such as s += ...) and return after the loop");
    checkReturn(static_cast<const ast::Return &>(s));
    return;
  case ast::Stmt::Kind::Raise: {
    auto &r = static_cast<const ast::Raise &>(s);
    const ast::Name *cls = raisedClass(r);
    if (!cls) {
      Failed = true; // reported by the resolver at load time
      return;
    }
    std::vector<const ast::Expr *> args;
    if (auto *c = dyn_cast<ast::Call>(r.exc.get()))
      for (auto &a : c->args)
        args.push_back(a.get());
    checkRaise(s, cls->id, args, args.size() > 1);
    return;
  }
  case ast::Stmt::Kind::Assert: {
    auto &a = static_cast<const ast::Assert &>(s);
    checkCondition(*a.test);
    std::vector<const ast::Expr *> args;
    bool tuple = false;
    if (auto *t = dyn_cast_or_null<ast::Tuple>(a.msg.get())) {
      tuple = true;
      for (auto &e : t->elts)
        args.push_back(e.get());
    } else if (a.msg) {
      args.push_back(a.msg.get());
    }
    checkRaise(s, "AssertionError", args, tuple);
    return;
  }
  case ast::Stmt::Kind::Break:
    if (!LoopParallel.empty() && LoopParallel.back())
      error(s.range(), "'break' inside a parallel prange loop",
            "the iterations run at the same time on several threads; use range() for a "
            "loop that stops early");
    return;
  case ast::Stmt::Kind::Continue:
  case ast::Stmt::Kind::Pass:
  case ast::Stmt::Kind::Import:
    return;
  case ast::Stmt::Kind::LocalDef: // lifted by the parser: none are left
  case ast::Stmt::Kind::Unsupported:
    // Reported by the resolver at load time.
    Failed = true;
    return;
  }
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

Type FunctionChecker::expr(const ast::Expr &e) {
  Type t = exprImpl(e);
  if (Final && t.isArray() && F.onGpu()) {
    // GPU threads cannot allocate device memory: only views of arguments
    // and the fixed-size shared/local arrays exist in a GPU kernel.
    auto ci = F.calls.find(&e);
    bool allocates = isa<ast::BinOp>(&e) || isa<ast::UnaryOp>(&e) || isa<ast::Compare>(&e) ||
                     (ci != F.calls.end() && ci->second.kind == CallInfo::Kind::Builtin &&
                      !isViewBuiltin(ci->second.builtin));
    if (F.copiesElements(e))
      error(e.range(),
            fmt::format("{} indexing copies the elements it selects, which GPU code cannot do",
                        F.masks.count(&e) ? "boolean-mask" : "integer-array"),
            "index element by element in a loop (for k in range(len(idx)): a[idx[k]])");
    else if (allocates)
      error(e.range(), "this expression creates a new array, which GPU code cannot do",
            "write into an array argument, or use cuda.local.array / cuda.shared.array");
  }
  record(e, t);
  return t;
}

/// The elements of a tuple display, or of a list display given where a
/// sequence of arrays is taken (ArraySequence), as a tuple.
Type FunctionChecker::tupleDisplay(const ast::Expr &e, const std::vector<ast::ExprPtr> &elts) {
  std::vector<Type> types;
  bool ok = true;
  for (auto &el : elts) {
    Type t = expr(*el);
    if (!t.isValid())
      ok = false;
    if (t.isArrayList() && &e == Returned) {
      // `return xs, n`: returned as it is
    } else if (t.isList() && &e == Returned) {
      t = viewList(*el, t); // `return xs, n`: the array of its items
    } else if (t.isList()) {
      error(el->range(), "a tuple cannot hold a list",
            "a list can be held by one variable only; convert it with np.array(...)");
    } else if (t.isDict()) {
      error(el->range(), fmt::format("a tuple cannot hold a {}", t.containerName()),
            fmt::format("a {} can be held by one variable only", t.containerName()));
    }
    types.push_back(t);
  }
  if (!ok)
    return {};
  return Type::tuple(std::move(types));
}

std::optional<ConstValue> FunctionChecker::foldIndex(const ast::Expr &e) {
  // Locals shadow module constants.
  if (auto *n = dyn_cast<ast::Name>(&e))
    if (Vars.count(n->id) || Assigned.count(n->id))
      return std::nullopt;
  auto c = Folder.fold(e);
  if (!c || !c->type.isScalar() || !(isSignedInt(c->type.scalarKind())))
    return std::nullopt;
  return c;
}

Type FunctionChecker::exprImpl(const ast::Expr &e) {
  switch (e.kind()) {
  case ast::Expr::Kind::IntLit: {
    auto &i = static_cast<const ast::IntLit &>(e);
    return Type::scalar(i.isUnsigned ? ScalarKind::U64 : ScalarKind::I64);
  }
  case ast::Expr::Kind::FloatLit:
    return Type::scalar(ScalarKind::F64);
  case ast::Expr::Kind::ImagLit:
    return Type::scalar(ScalarKind::C128);
  case ast::Expr::Kind::BoolLit:
    return Type::scalar(ScalarKind::Bool);
  case ast::Expr::Kind::NoneLit:
    return Type::none();
  case ast::Expr::Kind::EllipsisLit:
    error(e.range(), "'...' is only valid as an index of an array",
          "a[..., 0] takes every axis but the last whole");
    return {};
  case ast::Expr::Kind::StrLit:
    error(e.range(), "strings are not supported in stn kernels");
    return {};
  case ast::Expr::Kind::Name:
    return name(static_cast<const ast::Name &>(e));
  case ast::Expr::Kind::Attribute:
    return attribute(static_cast<const ast::Attribute &>(e));
  case ast::Expr::Kind::Subscript:
    return subscript(static_cast<const ast::Subscript &>(e));
  case ast::Expr::Kind::Slice:
    // Array subscripts handle their slices; what is left is a tuple's.
    error(e.range(), "tuples cannot be sliced; index a tuple with an integer");
    return {};
  case ast::Expr::Kind::Call:
    return call(static_cast<const ast::Call &>(e));
  case ast::Expr::Kind::BinOp:
    return binop(static_cast<const ast::BinOp &>(e));
  case ast::Expr::Kind::UnaryOp:
    return unary(static_cast<const ast::UnaryOp &>(e));
  case ast::Expr::Kind::Compare:
    return compare(static_cast<const ast::Compare &>(e));
  case ast::Expr::Kind::BoolOp:
    return boolop(static_cast<const ast::BoolOp &>(e));
  case ast::Expr::Kind::IfExp:
    return ifexp(static_cast<const ast::IfExp &>(e));
  case ast::Expr::Kind::Tuple:
    return tupleDisplay(e, static_cast<const ast::Tuple &>(e).elts);
  case ast::Expr::Kind::List:
    if (static_cast<const ast::List &>(e).braces)
      return setDisplay(static_cast<const ast::List &>(e));
    if (&e == ArraySequence) // np.concatenate([a, b]): a tuple of arrays
      return tupleDisplay(e, static_cast<const ast::List &>(e).elts);
    return listDisplay(static_cast<const ast::List &>(e));
  case ast::Expr::Kind::ListComp:
    return listComp(static_cast<const ast::ListComp &>(e));
  case ast::Expr::Kind::Dict:
    return dictDisplay(static_cast<const ast::Dict &>(e));
  case ast::Expr::Kind::Closure: {
    // A local function as a value: the values it reads from the functions
    // around it, read here.
    auto &cl = static_cast<const ast::Closure &>(e);
    std::vector<Type> captured;
    for (auto &x : cl.captures) {
      Type t = expr(*x);
      if (!t.isValid() || !capturable(*x, t, cl.function))
        return {};
      captured.push_back(t);
    }
    return Type::function(cl.function, std::move(captured));
  }
  case ast::Expr::Kind::Lambda: // lifted by the parser: none are left
  case ast::Expr::Kind::Unsupported:
    Failed = true; // reported by the resolver
    return {};
  }
  return {};
}

Type FunctionChecker::name(const ast::Name &n) {
  auto it = Vars.find(n.id);
  if (it != Vars.end() && it->second.type.isValid()) {
    if (Final && it->second.optional && !PassedOn.count(&n) &&
        !(ReturnedOn.count(&n) && it->second.type.isArray()))
      F.noneChecked.insert(&n);
    return it->second.type;
  }
  if (Assigned.count(n.id)) {
    if (Final && Unbound.count(n.id))
      Failed = true; // its assignment's error is reported
    else if (Final)
      error(n.range(), fmt::format("local variable '{}' is used before it is assigned", n.id));
    return {};
  }
  auto c = P.Constants.find(n.id);
  if (c != P.Constants.end()) {
    if (Final)
      F.consts[&n] = c->second;
    return c->second.type;
  }
  if (const KernelDecl *k = P.kernel(n.id)) {
    // A @jit function of the module as a value (to pass to a function).
    if (k->kind == KernelKind::Jit && (!k->gpuDevice || F.onGpu()))
      return Type::function(k->def->name, {});
    error(n.range(),
          fmt::format("'{}' is a {}, which is not a value: only @jit functions are",
                      n.id, k->gpuDevice ? "GPU device function"
                                         : k->kind == KernelKind::Gpu ? "GPU kernel"
                                                                      : kernelKindName(k->kind)),
          fmt::format("pass a lambda that calls it: lambda x: {}(x)", n.id));
    return {};
  }
  // Modules and builtins are only valid as callees; the resolver reported
  // unknown names already.
  error(n.range(), fmt::format("'{}' is not a value here", n.id),
        "modules and builtins can only be called: a lambda calls a builtin "
        "(lambda x: abs(x))");
  return {};
}

/// `np.finfo(t).eps`, `np.iinfo(t).max`, ...: NumPy's limits of a float
/// or integer type (a dtype, `a.dtype`, or a number whose type it is), as
/// constants: the float ones of that float type (a complex type's part),
/// the integer ones int64 (uint64 for uint64's max).
Type FunctionChecker::typeInfo(const ast::Attribute &a, const ast::Call &c, bool floats) {
  const char *fn = floats ? "np.finfo" : "np.iinfo";
  if (c.args.size() != 1 || !c.keywords.empty()) {
    error(c.range(), fmt::format("{}() takes one type", fn));
    return {};
  }
  std::optional<ScalarKind> k;
  const ast::Expr &arg = *c.args[0];
  auto *n = dyn_cast<ast::Name>(&arg);
  if ((n && Vars.count(n->id)) || (!n && !isa<ast::Attribute>(&arg) && !isa<ast::StrLit>(&arg))) {
    Type t = expr(arg); // a number: its type
    if (!t.isValid())
      return {};
    if (t.isScalar() || t.isArray())
      k = t.scalarKind();
  } else {
    k = dtypeArgument(arg);
    if (!k)
      return {};
  }
  if (k && floats && isComplex(*k))
    k = complexPart(*k);
  if (!k || (floats ? !isFloat(*k) : !isInteger(*k))) {
    error(arg.range(),
          fmt::format("{}() takes a{} type, not '{}'", fn,
                      floats ? " float (or complex)" : "n integer",
                      k ? numpyName(*k) : expr(arg).describe()),
          floats ? "np.iinfo() gives the limits of integer types"
                 : "np.finfo() gives the limits of float types");
    return {};
  }
  ConstValue v;
  auto integer = [&](int64_t x) {
    v.type = Type::scalar(ScalarKind::I64);
    v.i = x;
  };
  auto real = [&](double x) {
    v.type = Type::scalar(*k);
    v.f = x;
  };
  bool f32 = *k == ScalarKind::F32;
  const std::string &at = a.attr;
  if (floats) {
    if (at == "eps")
      real(f32 ? std::ldexp(1.0, -23) : std::ldexp(1.0, -52));
    else if (at == "epsneg")
      real(f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53));
    else if (at == "max")
      real(f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max());
    else if (at == "min")
      real(f32 ? -std::numeric_limits<float>::max() : -std::numeric_limits<double>::max());
    else if (at == "tiny" || at == "smallest_normal")
      real(f32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min());
    else if (at == "smallest_subnormal")
      real(f32 ? std::numeric_limits<float>::denorm_min()
               : std::numeric_limits<double>::denorm_min());
    else if (at == "resolution")
      real(f32 ? static_cast<double>(1e-6f) : 1e-15);
    else if (at == "precision")
      integer(f32 ? 6 : 15);
    else if (at == "bits")
      integer(f32 ? 32 : 64);
    else if (at == "nmant")
      integer(f32 ? 23 : 52);
    else if (at == "nexp" || at == "iexp")
      integer(f32 ? 8 : 11);
    else if (at == "maxexp")
      integer(f32 ? 128 : 1024);
    else if (at == "minexp")
      integer(f32 ? -126 : -1022);
    else if (at == "machep")
      integer(f32 ? -23 : -52);
    else if (at == "negep")
      integer(f32 ? -24 : -53);
  } else {
    unsigned bits = bitWidth(*k);
    bool sign = isSignedInt(*k);
    if (at == "bits") {
      integer(bits);
    } else if (at == "min") {
      integer(sign ? (bits == 64 ? std::numeric_limits<int64_t>::min()
                                 : -(int64_t{1} << (bits - 1)))
                   : 0);
    } else if (at == "max") {
      if (!sign && bits == 64) {
        v.type = Type::scalar(ScalarKind::U64);
        v.u = std::numeric_limits<uint64_t>::max();
      } else {
        integer(sign ? (bits == 64 ? std::numeric_limits<int64_t>::max()
                                   : (int64_t{1} << (bits - 1)) - 1)
                     : (int64_t{1} << bits) - 1);
      }
    }
  }
  if (!v.type.isValid()) {
    error(a.attrRange,
          fmt::format("{}({}) has no attribute '{}' in stn", fn, numpyName(*k), at),
          floats ? "it has eps, epsneg, max, min, tiny, smallest_normal, smallest_subnormal, "
                   "resolution, precision, bits, nmant, nexp, iexp, maxexp, minexp, machep and "
                   "negep"
                 : "it has min, max and bits");
    return {};
  }
  if (Final)
    F.consts[&a] = v;
  return v.type;
}

Type FunctionChecker::attribute(const ast::Attribute &a) {
  if (std::string g = gpuPath(a); !g.empty())
    return gpuIntrinsic(a, g, nullptr);
  if (auto *d = dyn_cast<ast::Attribute>(a.value.get()); d && d->attr == "dtype") {
    // a.dtype.itemsize: a constant (a dtype is no value of its own).
    auto k = dtypeArgument(*d);
    if (!k)
      return {};
    if (a.attr != "itemsize") {
      error(a.attrRange, fmt::format("stn reads only 'itemsize' of a dtype, not '{}'", a.attr),
            "a.dtype serves as dtype= of NumPy functions and in == and != with np.float64, "
            "...");
      return {};
    }
    if (Final)
      F.consts[&a] = makeInt(byteSize(*k));
    return Type::scalar(ScalarKind::I64);
  }
  if (auto *c = dyn_cast<ast::Call>(a.value.get()))
    if (auto *f = dyn_cast<ast::Attribute>(c->func.get());
        f && (f->attr == "finfo" || f->attr == "iinfo"))
      if (auto *m = dyn_cast<ast::Name>(f->value.get()); m && !Vars.count(m->id)) {
        auto alias = P.ModuleAliases.find(m->id);
        if (alias != P.ModuleAliases.end() && alias->second == "numpy")
          return typeInfo(a, *c, f->attr == "finfo");
      }
  if (auto *base = dyn_cast<ast::Name>(a.value.get());
      base && !Vars.count(base->id) && P.ModuleAliases.count(base->id)) {
    if (auto c = Folder.foldModuleAttr(a)) {
      if (Final)
        F.consts[&a] = *c;
      return c->type;
    }
    error(a.attrRange, fmt::format("'{}.{}' is not a value here", base->id, a.attr),
          fmt::format("functions of modules are called: to pass one to a function, pass a "
                      "lambda that calls it (lambda x: {}.{}(x))",
                      base->id, a.attr));
    return {};
  }
  Type t = expr(*a.value);
  if (!t.isValid())
    return {};
  if (t.isArray()) {
    if (a.attr == "shape")
      return Type::tuple(std::vector<Type>(t.rank(), Type::scalar(ScalarKind::I64)));
    if (a.attr == "ndim") {
      if (Final)
        F.consts[&a] = makeInt(t.rank());
      return Type::scalar(ScalarKind::I64);
    }
    if (a.attr == "size" || a.attr == "nbytes")
      return Type::scalar(ScalarKind::I64);
    if (a.attr == "itemsize") {
      if (Final)
        F.consts[&a] = makeInt(byteSize(t.scalarKind()));
      return Type::scalar(ScalarKind::I64);
    }
    if (a.attr == "strides") // in bytes, as NumPy's
      return Type::tuple(std::vector<Type>(t.rank(), Type::scalar(ScalarKind::I64)));
    if (a.attr == "T") // reversed axes, a view
      return Type::array(t.scalarKind(), t.rank(),
                         t.rank() == 1 ? t.layout() : Type::Layout::Any);
    if (a.attr == "real" || a.attr == "imag") // elementwise values, not views
      return Type::array(isComplex(t.scalarKind()) ? complexPart(t.scalarKind())
                                                   : t.scalarKind(),
                         t.rank(), Type::Layout::C);
    if (a.attr == "flat") {
      error(a.range(), "a.flat can only be iterated over (for x in a.flat) or indexed with one "
                       "integer (a.flat[i])",
            "a.ravel() is the 1-d array of the elements in C order");
      return {};
    }
  }
  if (t.isScalar()) {
    if (a.attr == "real" || a.attr == "imag")
      return Type::scalar(isComplex(t.scalarKind()) ? complexPart(t.scalarKind())
                                                    : t.scalarKind());
  }
  error(a.attrRange, fmt::format("'{}' has no attribute '{}'", t.describe(), a.attr));
  return {};
}

Type FunctionChecker::stencilAccess(const ast::Subscript &s, const ast::Name &base) {
  Type bt = expr(base);
  if (!bt.isValid())
    return {};
  std::vector<const ast::Expr *> idx = ast::subscriptIndices(s);
  if (idx.size() != bt.rank()) {
    error(s.index->range(),
          fmt::format("a stencil access to '{}' needs {} relative index{}, one per axis, "
                      "but has {}",
                      base.id, bt.rank(), bt.rank() == 1 ? "" : "es", idx.size()));
    return {};
  }
  TypedFunction::StencilAccess acc;
  for (size_t p = 0; p < F.def->params.size(); ++p)
    if (F.def->params[p].name == base.id)
      acc.param = static_cast<unsigned>(p);
  bool ok = true;
  for (auto *i : idx) {
    if (isa<ast::Slice>(i)) {
      error(i->range(), "stencil accesses take integer offsets, not slices");
      ok = false;
      continue;
    }
    Type it = expr(*i);
    if (!it.isValid()) {
      ok = false;
      continue;
    }
    if (!it.isScalar() || !(isInteger(it.scalarKind()) || isBool(it.scalarKind()))) {
      error(i->range(), fmt::format("stencil offsets must be integers, not '{}'", it.describe()));
      ok = false;
      continue;
    }
    if (auto c = foldIndex(*i)) {
      acc.constOffsets.push_back(c->i);
      acc.offsetExprs.push_back(nullptr);
    } else {
      if (!F.decl->stencil.hasNeighborhood) {
        error(i->range(),
              fmt::format("this offset into '{}' is not a constant, so the stencil's "
                          "neighborhood cannot be inferred",
                          base.id),
              "declare it, e.g. @stencil(neighborhood=((-1, 1), (-1, 1)))");
        ok = false;
      }
      acc.constOffsets.push_back(0);
      acc.offsetExprs.push_back(i);
    }
  }
  if (!ok)
    return {};
  if (Final)
    F.stencil.accesses[&s] = acc;
  return bt.dtypeType();
}

bool FunctionChecker::checkSliceParts(const ast::Slice &sl) {
  bool ok = true;
  for (const ast::ExprPtr *part : {&sl.lower, &sl.upper, &sl.step}) {
    if (!*part)
      continue;
    Type pt = expr(**part);
    if (!pt.isValid()) {
      ok = false;
    } else if (!pt.isScalar() || !(isInteger(pt.scalarKind()) || isBool(pt.scalarKind()))) {
      error((*part)->range(),
            fmt::format("slice bounds and steps must be integers, not '{}'", pt.describe()));
      ok = false;
    }
  }
  if (auto c = sl.step ? foldIndex(*sl.step) : std::nullopt; c && c->i == 0) {
    error(sl.step->range(), "slice step cannot be zero");
    ok = false;
  }
  return ok;
}

Type FunctionChecker::subscript(const ast::Subscript &s) {
  if (auto *n = dyn_cast<ast::Name>(s.value.get()); n && RelativeNames.count(n->id))
    return stencilAccess(s, *n);
  if (const ast::Expr *arr = flatBase(*s.value))
    return flatSubscript(s, *arr);
  Type base = expr(*s.value);
  if (!base.isValid())
    return {};
  if (base.isSet()) {
    error(s.range(), "a set cannot be indexed: 'set' object is not subscriptable",
          "test membership with 'x in s', or loop over it: for x in s: ...");
    return {};
  }
  if (base.isDict()) {
    // d[k]: the value (KeyError where k is missing).
    if (isa<ast::Slice>(s.index.get())) {
      error(s.index->range(), "a dict takes a key, not a slice");
      return {};
    }
    Type k = expr(*s.index);
    if (!k.isValid() || !lookupKey(*s.index, k, base))
      return {};
    if (!base.isKnownDict() && !Final)
      return {}; // `{}` before the stores that decide its types: a later pass
    return base.isKnownDict() ? base.dictValue() : Type::scalar(ScalarKind::F64);
  }
  if (base.isList()) {
    // xs[a:b:c]: a new list of those items, as in Python.
    if (auto *sl = dyn_cast<ast::Slice>(s.index.get()))
      return !checkSliceParts(*sl)  ? Type()
             : base.isKnownList() ? base
                                  : Type::list(ScalarKind::F64);
    // One integer index (negative ones count from the end): an element of
    // the array of the list's items.
    if (isa<ast::Tuple>(s.index.get())) {
      error(s.index->range(), "a list takes one integer index or one slice",
            "index the array of its items: np.array(xs)[i, j]");
      return {};
    }
    Type it = expr(*s.index);
    if (!it.isValid())
      return {};
    if (!it.isIntegerScalar()) {
      error(s.index->range(),
            fmt::format("list indices must be integers, not '{}'", it.describe()));
      return {};
    }
    if (base.isTupleList())
      return base.listItem(); // read from the storages (MLIRGen's listElement)
    base = viewList(*s.value, base);
  }
  if (base.isTuple()) {
    Type idxT = expr(*s.index);
    if (!idxT.isValid())
      return {};
    size_t n = base.elements().size();
    if (auto c = foldIndex(*s.index)) {
      int64_t i = c->i;
      if (i < 0)
        i += static_cast<int64_t>(n);
      if (i < 0 || i >= static_cast<int64_t>(n)) {
        error(s.index->range(),
              fmt::format("tuple index {} is out of range for a tuple of {} elements", c->i, n));
        return {};
      }
      if (Final)
        F.tupleIndex[&s] = static_cast<int>(i);
      return base.elements()[i];
    }
    if (!idxT.isIntegerScalar()) {
      error(s.index->range(), "tuple indices must be integers");
      return {};
    }
    for (auto &el : base.elements())
      if (el != base.elements()[0] || !el.isScalar()) {
        error(s.index->range(),
              "a tuple with elements of different types needs a constant index");
        return {};
      }
    if (n == 0) {
      error(s.index->range(), "cannot index an empty tuple");
      return {};
    }
    if (Final)
      F.tupleIndex[&s] = -1;
    return base.elements()[0];
  }
  if (!base.isArray()) {
    error(s.value->range(), fmt::format("a value of type '{}' cannot be indexed",
                                        base.describe()));
    return {};
  }
  std::vector<const ast::Expr *> idx;
  std::optional<Type> probed;
  if (auto *t = dyn_cast<ast::Tuple>(s.index.get())) {
    for (auto &e : t->elts)
      idx.push_back(e.get());
    record(*s.index, Type::tuple({}));
  } else {
    idx.push_back(s.index.get());
    if (!isa<ast::Slice>(s.index.get()) && !isa<ast::EllipsisLit>(s.index.get()) &&
        !isNewAxis(*s.index)) {
      // A boolean mask of the array's shape selects elements: a[a > 0] is
      // 1-dimensional. (A 1-d mask of a 2-d array selects rows, below.)
      Type it = expr(*s.index);
      probed = it;
      if (it.isArray() && isBool(it.scalarKind()) && it.rank() == base.rank()) {
        if (Final)
          F.masks.insert(&s);
        return Type::array(base.scalarKind(), 1, Type::Layout::C);
      }
      if (it.isTuple())
        return tupleSubscript(s, base, it);
    }
  }
  // `...` stands for as many whole axes as the other indices leave; new
  // axes (None, np.newaxis) take none of the array's.
  const ast::Expr *ellipsis = nullptr;
  size_t newAxes = 0;
  for (const ast::Expr *i : idx) {
    if (isNewAxis(*i)) {
      ++newAxes;
    } else if (isa<ast::EllipsisLit>(i)) {
      if (ellipsis) {
        error(i->range(), "an index can only have a single ellipsis ('...')");
        return {};
      }
      ellipsis = i;
    }
  }
  const size_t real = idx.size() - newAxes - (ellipsis ? 1 : 0);
  if (real > base.rank()) {
    error(s.index->range(),
          fmt::format("too many indices for array: array is {}-dimensional, but {} were "
                      "indexed",
                      base.rank(), real));
    return {};
  }
  const unsigned ellipsisAxes = static_cast<unsigned>(base.rank() - real);
  bool ok = true;
  unsigned kept = 0;     // dimensions of the result from slices and new axes
  unsigned keptAxes = 0; // axes of the array taken by slices
  unsigned axis = 0;     // the array's axis the next index applies to
  bool contiguous = base.layout() == Type::Layout::C;
  // NumPy's advanced indexing: integer arrays (and 1-d boolean arrays,
  // their nonzero() positions) broadcast together; integers next to them
  // count as advanced indices too. Whether they are next to each other is
  // decided on the indices as written (`...` and new axes separate them).
  unsigned arrays = 0, broadcastRank = 0;
  std::vector<size_t> advanced;
  unsigned slicesBeforeAdvanced = 0;
  std::vector<TypedFunction::SubscriptItem> items;
  auto wholeAxis = [&] {
    if (advanced.empty())
      ++slicesBeforeAdvanced;
    ++kept;
    ++keptAxes;
    ++axis;
    items.push_back({});
  };
  for (size_t d = 0; d < idx.size(); ++d) {
    const ast::Expr *i = idx[d];
    if (i == ellipsis) {
      for (unsigned k = 0; k < ellipsisAxes; ++k)
        wholeAxis();
      continue;
    }
    if (isNewAxis(*i)) {
      if (advanced.empty())
        ++slicesBeforeAdvanced;
      ++kept;
      items.push_back({i, true});
      continue;
    }
    items.push_back({i, false});
    if (auto *sl = dyn_cast<ast::Slice>(i)) {
      // A view: lower:upper:step, each an optional integer.
      ok = checkSliceParts(*sl) && ok;
      // The view stays C-contiguous only if every axis after the first is
      // taken whole and the first is taken with step 1.
      bool whole = !sl->lower && !sl->upper && !sl->step;
      bool unitStep = !sl->step || (foldIndex(*sl->step) && foldIndex(*sl->step)->i == 1);
      if (axis > 0 ? !whole : !unitStep)
        contiguous = false;
      if (advanced.empty())
        ++slicesBeforeAdvanced;
      ++kept;
      ++keptAxes;
      ++axis;
      continue;
    }
    if (axis > 0 && keptAxes > 0)
      contiguous = false; // an integer after a slice skips a stride
    ++axis;
    Type it = probed && i == s.index.get() ? *probed : expr(*i);
    if (!it.isValid()) {
      ok = false;
      continue;
    }
    advanced.push_back(d);
    if (it.isArray()) {
      ScalarKind k = it.scalarKind();
      if (isBool(k) && it.rank() != 1) {
        error(i->range(),
              fmt::format("a boolean index must have the array's {} (a mask), or one (it "
                          "selects along one axis), not {}",
                          counted(base.rank(), "dimension", "dimensions"), it.rank()));
        ok = false;
        continue;
      }
      if (!isInteger(k) && !isBool(k)) {
        error(i->range(),
              fmt::format("arrays index arrays only with integer or boolean elements, not '{}'",
                          it.describe()),
              "convert the indices with .astype(np.int64)");
        ok = false;
        continue;
      }
      ++arrays;
      broadcastRank = std::max(broadcastRank, it.rank());
      continue;
    }
    if (!it.isScalar() || !(isInteger(it.scalarKind()) || isBool(it.scalarKind()))) {
      error(i->range(), fmt::format("array indices must be integers, slices, integer arrays, "
                                    "None or ..., not '{}'",
                                    it.describe()));
      ok = false;
    }
  }
  if (!ok)
    return {};
  while (axis < base.rank()) {
    ++kept;
    ++axis;
    items.push_back({});
  }
  if ((ellipsis || newAxes) && Final)
    F.subscriptItems[&s] = items;
  if (arrays > 0) {
    // A new array: the broadcast shape where the advanced indices stood if
    // they are adjacent, else in front (NumPy's rule).
    bool adjacent = advanced.back() - advanced.front() + 1 == advanced.size();
    if (Final)
      F.fancy[&s] = adjacent ? slicesBeforeAdvanced : 0;
    return Type::array(base.scalarKind(), kept + broadcastRank, Type::Layout::C);
  }
  if (kept == 0)
    return base.dtypeType();
  return Type::array(base.scalarKind(), kept, contiguous ? Type::Layout::C : Type::Layout::Any);
}

/// `a[idx]` with idx a tuple value (not written out): one integer per
/// axis, an element, as `a[idx[0], idx[1], ...]`.
Type FunctionChecker::tupleSubscript(const ast::Subscript &s, const Type &base,
                                     const Type &index) {
  const auto &elts = index.elements();
  for (auto &el : elts)
    if (!el.isScalar() || !(isInteger(el.scalarKind()) || isBool(el.scalarKind()))) {
      error(s.index->range(),
            fmt::format("an array indexed with a tuple value needs integers in it, not '{}'",
                        index.describe()),
            "write the indices out (a[i, 1:]) to index with slices or arrays");
      return {};
    }
  if (elts.size() != base.rank()) {
    error(s.index->range(),
          fmt::format("a tuple of {} used as an index of a {}-dimensional array: it needs "
                      "one integer per axis",
                      counted(elts.size(), "integer", "integers"), base.rank()),
          "write the indices out (a[idx[0]]) for a view of fewer axes");
    return {};
  }
  if (Final)
    F.tupleSubscripts.insert(&s);
  return base.dtypeType();
}

/// `a.flat[i]`: element i of `a` in C order (negative i counts from the
/// end), read or written.
Type FunctionChecker::flatSubscript(const ast::Subscript &s, const ast::Expr &arr) {
  Type at = expr(arr);
  if (!at.isValid())
    return {};
  if (!at.isArray()) {
    error(s.value->range(), fmt::format("'{}' has no attribute 'flat'", at.describe()));
    return {};
  }
  record(*s.value, at);
  if (isa<ast::Slice>(s.index.get()) || isa<ast::Tuple>(s.index.get())) {
    error(s.index->range(), "a.flat takes one integer index",
          "a.ravel()[i:j] is a slice of the elements in C order");
    return {};
  }
  Type it = expr(*s.index);
  if (!it.isValid())
    return {};
  if (!it.isScalar() || !(isInteger(it.scalarKind()) || isBool(it.scalarKind()))) {
    error(s.index->range(),
          fmt::format("a.flat takes one integer index, not '{}'", it.describe()),
          "a.ravel()[idx] selects elements in C order with an index array");
    return {};
  }
  if (Final)
    F.flatSubscripts.insert(&s);
  return at.dtypeType();
}

bool FunctionChecker::isNewAxis(const ast::Expr &e) const {
  if (isa<ast::NoneLit>(&e))
    return true;
  if (auto *a = dyn_cast<ast::Attribute>(&e)) {
    auto *base = dyn_cast<ast::Name>(a->value.get());
    if (!base || a->attr != "newaxis" || Vars.count(base->id))
      return false;
    auto m = P.ModuleAliases.find(base->id);
    return m != P.ModuleAliases.end() && m->second == "numpy";
  }
  if (auto *n = dyn_cast<ast::Name>(&e)) {
    if (Vars.count(n->id))
      return false;
    auto f = P.FromImports.find(n->id);
    return f != P.FromImports.end() && f->second.first == "numpy" &&
           f->second.second == "newaxis";
  }
  return false;
}

static std::optional<Builtin> randomBuiltin(const std::string &name, bool numpy);

/// np.linalg.<name>'s function, if stn has it (norm is Builtin::Norm).
static std::optional<LinalgFunction> linalgFunction(const std::string &name) {
  for (const LinalgEntry &e : LinalgFunctions)
    if (name == e.name)
      return e.function;
  return std::nullopt;
}

std::optional<Builtin> FunctionChecker::resolveBuiltin(const ast::Expr &func, bool &viaNumpy,
                                                       bool &viaMath,
                                                       std::optional<ScalarKind> &cast) {
  viaNumpy = viaMath = false;
  cast.reset();
  std::string name;
  if (auto *n = dyn_cast<ast::Name>(&func)) {
    if (Vars.count(n->id) || Assigned.count(n->id) || P.kernel(n->id))
      return std::nullopt;
    name = n->id;
    auto fi = P.FromImports.find(name);
    if (fi != P.FromImports.end()) {
      name = fi->second.second;
      viaNumpy = fi->second.first == "numpy";
      viaMath = fi->second.first == "math";
    } else {
      if (auto b = lookup(std::begin(PyBuiltins), std::end(PyBuiltins), name))
        return b;
      // Python's sum/any/all reduce arrays like NumPy's.
      if (name == "sum")
        return Builtin::Sum;
      if (name == "any")
        return Builtin::Any;
      if (name == "all")
        return Builtin::All;
      viaMath = true;
    }
  } else if (auto *a = dyn_cast<ast::Attribute>(&func)) {
    auto *base = dyn_cast<ast::Name>(a->value.get());
    // np.random.<name>, np.linalg.norm, np.linalg.<name>
    if (auto *inner = dyn_cast<ast::Attribute>(a->value.get());
        inner && (inner->attr == "random" || inner->attr == "linalg")) {
      auto *nb = dyn_cast<ast::Name>(inner->value.get());
      auto it = nb && !Vars.count(nb->id) ? P.ModuleAliases.find(nb->id) : P.ModuleAliases.end();
      if (it == P.ModuleAliases.end() || it->second != "numpy")
        return std::nullopt;
      viaNumpy = true;
      if (inner->attr == "random")
        return randomBuiltin(a->attr, true);
      if (a->attr == "norm")
        return Builtin::Norm;
      if (linalgFunction(a->attr))
        return Builtin::Linalg;
      return std::nullopt;
    }
    if (!base || Vars.count(base->id))
      return std::nullopt;
    auto it = P.ModuleAliases.find(base->id);
    if (it == P.ModuleAliases.end())
      return std::nullopt;
    if (it->second == "random")
      return randomBuiltin(a->attr, false);
    name = a->attr;
    viaNumpy = it->second == "numpy";
    viaMath = it->second == "math" || it->second == "cmath";
    if (it->second == "numba" && name == "prange")
      return Builtin::Range;
  } else {
    return std::nullopt;
  }
  if (auto k = parseScalarName(name);
      k && name != "int" && name != "float" && name != "bool" && name != "complex") {
    cast = *k;
    return Builtin::Cast;
  }
  if (name == "prange" || name == "range")
    return Builtin::Range;
  if (viaNumpy)
    if (auto b = lookup(std::begin(NumpyArrayFunctions), std::end(NumpyArrayFunctions), name))
      return b;
  if (!viaNumpy && !viaMath && (name == "sum" || name == "any" || name == "all"))
    return name == "sum" ? Builtin::Sum : name == "any" ? Builtin::Any : Builtin::All;
  if (auto b = lookup(std::begin(MathFunctions), std::end(MathFunctions), name))
    return b;
  if (!viaNumpy)
    if (auto b = lookup(std::begin(MathOnlyFunctions), std::end(MathOnlyFunctions), name))
      return b;
  if (auto b = lookup(std::begin(PyBuiltins), std::end(PyBuiltins), name))
    return b;
  return std::nullopt;
}

namespace {

/// A function of Python's `random` module (numpy = false) or of `np.random`
/// that stn supports (docs/language.md, "Random numbers"): draws from the
/// calling thread's generator (runtime/lib/ParallelRuntime.cpp).
struct RandomFunction {
  const char *name;
  bool numpy;
  Builtin builtin;
  /// The distribution's parameters, in order; the first `required` must be
  /// given. CallInfo::operands holds randomParameterCount(builtin) of them
  /// (null: not given) and then what gives the shape.
  std::vector<const char *> params;
  size_t required;
  /// How an array of draws is asked for: not at all, with a `size`
  /// parameter after the others (None, an integer or a tuple, as NumPy),
  /// or with the extents as the arguments (np.random.rand(2, 3)).
  enum Shape : uint8_t { Scalar, Size, Extents } shape;
  /// Builtin::RandomDistribution: which, and the parameters' defaults.
  RandomDistribution dist = RandomDistribution::Gamma;
  std::array<double, 3> defaults = {0, 0, 0};
};

constexpr Builtin Dist = Builtin::RandomDistribution;
constexpr RandomFunction::Shape Sized = RandomFunction::Size;
using RD = RandomDistribution;

const RandomFunction RandomFunctions[] = {
    {"random", false, Builtin::RandomRandom, {}, 0, RandomFunction::Scalar},
    {"uniform", false, Builtin::RandomUniform, {"a", "b"}, 2, RandomFunction::Scalar},
    {"randint", false, Builtin::RandomRandint, {"a", "b"}, 2, RandomFunction::Scalar},
    {"gauss", false, Builtin::RandomNormal, {"mu", "sigma"}, 0, RandomFunction::Scalar},
    {"seed", false, Builtin::RandomSeed, {"a"}, 1, RandomFunction::Scalar},
    {"random", true, Builtin::RandomRandom, {}, 0, RandomFunction::Size},
    {"random_sample", true, Builtin::RandomRandom, {}, 0, RandomFunction::Size},
    {"rand", true, Builtin::RandomRandom, {}, 0, RandomFunction::Extents},
    {"uniform", true, Builtin::RandomUniform, {"low", "high"}, 0, RandomFunction::Size},
    {"randint", true, Builtin::RandomRandint, {"low", "high"}, 1, RandomFunction::Size},
    {"normal", true, Builtin::RandomNormal, {"loc", "scale"}, 0, RandomFunction::Size},
    {"standard_normal", true, Builtin::RandomNormal, {}, 0, RandomFunction::Size},
    {"randn", true, Builtin::RandomNormal, {}, 0, RandomFunction::Extents},
    {"exponential", true, Builtin::RandomExponential, {"scale"}, 0, RandomFunction::Size},
    // np.random's other distributions, each with size=: the parameters, how
    // many are required, which distribution, the defaults.
    {"gamma", true, Dist, {"shape", "scale"}, 1, Sized, RD::Gamma, {0, 1, 0}},
    {"standard_gamma", true, Dist, {"shape"}, 1, Sized, RD::Gamma, {0, 1, 0}},
    {"beta", true, Dist, {"a", "b"}, 2, Sized, RD::Beta, {0, 0, 0}},
    {"chisquare", true, Dist, {"df"}, 1, Sized, RD::Chisquare, {0, 0, 0}},
    {"lognormal", true, Dist, {"mean", "sigma"}, 0, Sized, RD::Lognormal, {0, 1, 0}},
    {"laplace", true, Dist, {"loc", "scale"}, 0, Sized, RD::Laplace, {0, 1, 0}},
    {"logistic", true, Dist, {"loc", "scale"}, 0, Sized, RD::Logistic, {0, 1, 0}},
    {"gumbel", true, Dist, {"loc", "scale"}, 0, Sized, RD::Gumbel, {0, 1, 0}},
    {"weibull", true, Dist, {"a"}, 1, Sized, RD::Weibull, {0, 0, 0}},
    {"pareto", true, Dist, {"a"}, 1, Sized, RD::Pareto, {0, 0, 0}},
    {"rayleigh", true, Dist, {"scale"}, 0, Sized, RD::Rayleigh, {1, 0, 0}},
    {"standard_cauchy", true, Dist, {}, 0, Sized, RD::Cauchy, {0, 0, 0}},
    {"standard_exponential", true, Dist, {}, 0, Sized, RD::StdExponential, {0, 0, 0}},
    {"standard_t", true, Dist, {"df"}, 1, Sized, RD::StudentT, {0, 0, 0}},
    {"triangular", true, Dist, {"left", "mode", "right"}, 3, Sized, RD::Triangular, {0, 0, 0}},
    {"poisson", true, Dist, {"lam"}, 0, Sized, RD::Poisson, {1, 0, 0}},
    {"binomial", true, Dist, {"n", "p"}, 2, Sized, RD::Binomial, {0, 0, 0}},
    {"geometric", true, Dist, {"p"}, 1, Sized, RD::Geometric, {0, 0, 0}},
    {"negative_binomial", true, Dist, {"n", "p"}, 2, Sized, RD::NegativeBinomial, {0, 0, 0}},
    {"shuffle", true, Builtin::RandomShuffle, {"x"}, 1, RandomFunction::Scalar},
    {"permutation", true, Builtin::RandomPermutation, {"x"}, 1, RandomFunction::Scalar},
    {"choice", true, Builtin::RandomChoice, {"a", "size", "replace", "p"}, 1,
     RandomFunction::Scalar},
    {"shuffle", false, Builtin::RandomShuffle, {"x"}, 1, RandomFunction::Scalar},
    {"seed", true, Builtin::RandomSeed, {"seed"}, 1, RandomFunction::Scalar},
};

const RandomFunction *randomFunction(const std::string &name, bool numpy) {
  for (const RandomFunction &f : RandomFunctions)
    if (f.numpy == numpy && name == f.name)
      return &f;
  return nullptr;
}

} // namespace

static std::vector<std::string> randomFunctionNames() {
  std::vector<std::string> out;
  for (const RandomFunction &f : RandomFunctions)
    out.push_back(fmt::format("{}.{}", f.numpy ? "np.random" : "random", f.name));
  return out;
}

static std::optional<Builtin> randomBuiltin(const std::string &name, bool numpy) {
  if (const RandomFunction *f = randomFunction(name, numpy))
    return f->builtin;
  return std::nullopt;
}

unsigned randomParameterCount(Builtin b) {
  switch (b) {
  case Builtin::RandomUniform:
  case Builtin::RandomRandint:
  case Builtin::RandomNormal:
    return 2;
  case Builtin::RandomExponential:
  case Builtin::RandomSeed:
    return 1;
  case Builtin::RandomDistribution:
    return 3;
  default:
    return 0;
  }
}

/// A call of a `random` or `np.random` function: its parameters by position
/// or keyword, each a number (an integer for randint and seed), then the
/// shape of the array of draws, if any.
Type FunctionChecker::randomCall(const ast::Call &c, Builtin b, bool viaNumpy,
                                 const std::vector<Type> &args) {
  auto *attr = llvm::cast<ast::Attribute>(c.func.get());
  const RandomFunction &fn = *randomFunction(attr->attr, viaNumpy);
  std::string qual = fmt::format("{}{}()", viaNumpy ? "np.random." : "random.", fn.name);
  bool sized = fn.shape == RandomFunction::Size;
  // Parameters (and size) by position, then by keyword.
  size_t slots = fn.params.size() + (sized ? 1 : 0);
  std::vector<const ast::Expr *> given(slots, nullptr);
  std::vector<Type> types(slots);
  auto paramName = [&](size_t i) { return i < fn.params.size() ? fn.params[i] : "size"; };
  std::vector<const ast::Expr *> extents;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (fn.shape == RandomFunction::Extents) {
      extents.push_back(c.args[i].get());
      continue;
    }
    if (i >= slots) {
      error(c.range(), fmt::format("{} takes {} argument{} ({} given)", qual,
                                   slots == 0 ? "no" : fmt::format("at most {}", slots),
                                   slots == 1 ? "" : "s", c.args.size()));
      return {};
    }
    given[i] = c.args[i].get();
    types[i] = args[i];
  }
  for (const ast::Keyword &kw : c.keywords) {
    size_t i = 0;
    while (i < slots && kw.name != paramName(i))
      ++i;
    if (i == slots) {
      std::string names;
      for (size_t j = 0; j < slots; ++j)
        names += fmt::format("{}{}", j ? ", " : "", paramName(j));
      error(kw.nameRange,
            fmt::format("{} got an unexpected keyword argument '{}'", qual, kw.name),
            slots == 0 ? std::string(fn.shape == RandomFunction::Extents
                                         ? "it takes the extents of the array as arguments"
                                         : "it takes no arguments")
                       : fmt::format("its parameters are {}", names));
      return {};
    }
    if (given[i]) {
      error(kw.nameRange,
            fmt::format("{} got multiple values for argument '{}'", qual, kw.name));
      return {};
    }
    given[i] = kw.value.get();
    types[i] = expr(*kw.value);
    if (!types[i].isValid())
      return {};
  }
  for (size_t i = 0; i < fn.required; ++i)
    if (!given[i]) {
      error(c.range(), fmt::format("{} is missing its argument '{}'", qual, paramName(i)));
      return {};
    }
  if (b >= Builtin::RandomShuffle && b <= Builtin::RandomChoice)
    return samplingCall(c, b, qual, given, types);
  bool intOnly = b == Builtin::RandomRandint || b == Builtin::RandomSeed;
  for (size_t i = 0; i < fn.params.size(); ++i) {
    const Type &t = types[i];
    // binomial's n counts trials.
    bool wantInt = intOnly || (b == Builtin::RandomDistribution &&
                               fn.dist == RandomDistribution::Binomial && i == 0);
    if (!given[i] || (t.isScalar() && !isComplex(t.scalarKind()) &&
                      (!wantInt || isInteger(t.scalarKind()) || isBool(t.scalarKind()))))
      continue;
    error(given[i]->range(),
          fmt::format("{} expects {}, not '{}'", qual, wantInt ? "an integer" : "a real number",
                      t.describe()),
          t.isArray() && fn.shape == RandomFunction::Size
              ? "one distribution per call: size= gives an array of draws from it; for "
                "parameters that vary, draw one number per element in a loop"
              : "");
    return {};
  }
  // The operands: the parameters (null where not given), then the shape.
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = b;
  info.viaNumpy = viaNumpy;
  info.mode = static_cast<int>(fn.dist);
  std::copy(fn.defaults.begin(), fn.defaults.end(), info.randomDefaults);
  info.operands.assign(given.begin(), given.begin() + fn.params.size());
  info.operands.resize(randomParameterCount(b), nullptr);
  unsigned rank = 0;
  if (sized && given.back() && !types.back().isNone()) {
    auto r = shapeRank(*given.back(), types.back());
    if (!r)
      return {};
    rank = *r;
    info.operands.push_back(given.back());
  }
  for (size_t i = 0; i < extents.size(); ++i) {
    const Type &t = args[i];
    if (!t.isScalar() || !(isInteger(t.scalarKind()) || isBool(t.scalarKind()))) {
      error(extents[i]->range(),
            fmt::format("{} takes the extents of the array, integers, not '{}'", qual,
                        t.describe()),
            t.isTuple() ? fmt::format("write {}(*shape) as np.random.{}(shape[0], "
                                      "shape[1], ...), or use size= of np.random.{}",
                                      qual.substr(0, qual.size() - 2), fn.name,
                                      b == Builtin::RandomNormal ? "standard_normal" : "random")
                        : "");
      return {};
    }
    info.operands.push_back(extents[i]);
    ++rank;
  }
  if (rank > 8) {
    error(c.range(), "arrays have 1 to 8 dimensions");
    return {};
  }
  bool counts = b == Builtin::RandomRandint ||
                (b == Builtin::RandomDistribution && isCountDistribution(fn.dist));
  ScalarKind k = counts ? ScalarKind::I64 : ScalarKind::F64;
  Type t = b == Builtin::RandomSeed ? Type::none()
           : rank              ? Type::array(k, rank, Type::Layout::C)
                               : Type::scalar(k);
  if (Final)
    F.calls[&c] = info;
  return t;
}

/// np.random.shuffle(x) (also random.shuffle), np.random.permutation(x)
/// and np.random.choice(a, size=None, replace=True), their arguments bound.
Type FunctionChecker::samplingCall(const ast::Call &c, Builtin b, const std::string &qual,
                                   const std::vector<const ast::Expr *> &given,
                                   const std::vector<Type> &types) {
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = b;
  info.viaNumpy = true;
  info.operands = {given[0]};
  const Type &x = types[0];
  auto integer = [](const Type &t) {
    return t.isScalar() && (isInteger(t.scalarKind()) || isBool(t.scalarKind()));
  };
  auto finish = [&](Type t) {
    if (Final)
      F.calls[&c] = info;
    return t;
  };
  if (b == Builtin::RandomShuffle) {
    if (!x.isArray()) {
      error(given[0]->range(), fmt::format("{} shuffles an array in place, not '{}'", qual,
                                           x.describe()),
            x.isList() ? "shuffle np.array(xs), or draw positions with np.random.permutation"
                       : "");
      return {};
    }
    return finish(Type::none());
  }
  if (b == Builtin::RandomPermutation) {
    if (integer(x))
      return finish(Type::array(ScalarKind::I64, 1, Type::Layout::C));
    if (!x.isArray()) {
      error(given[0]->range(),
            fmt::format("{} takes an integer or an array, not '{}'", qual, x.describe()));
      return {};
    }
    return finish(Type::array(x.scalarKind(), x.rank(), Type::Layout::C));
  }
  // choice(a, size=None, replace=True)
  if (!integer(x) && !(x.isArray() && x.rank() == 1)) {
    error(given[0]->range(), fmt::format("{} takes an integer or a 1-d array, not '{}'", qual,
                                         x.describe()),
          x.isArray() ? "choose positions instead: a[np.random.choice(len(a))]" : "");
    return {};
  }
  if (given[2]) {
    auto *lit = dyn_cast<ast::BoolLit>(given[2]);
    if (!lit) {
      error(given[2]->range(), fmt::format("{}'s replace must be True or False", qual));
      return {};
    }
    info.mode = lit->value ? 0 : 1;
  }
  // The operands: a, the shape (null for one draw), p (where given).
  const bool weighted = given[3] && !types[3].isNone();
  if (weighted && (!types[3].isArray() || types[3].rank() != 1 ||
                   isComplex(types[3].scalarKind()))) {
    error(given[3]->range(), fmt::format("{}'s p must be a 1-d array of probabilities, not '{}'",
                                         qual, types[3].describe()));
    return {};
  }
  ScalarKind k = x.isArray() ? x.scalarKind() : ScalarKind::I64;
  std::optional<unsigned> rank;
  if (given[1] && !types[1].isNone()) {
    rank = shapeRank(*given[1], types[1]);
    if (!rank)
      return {};
  }
  info.operands.push_back(rank ? given[1] : nullptr);
  if (weighted)
    info.operands.push_back(given[3]);
  return finish(rank ? Type::array(k, *rank, Type::Layout::C) : Type::scalar(k));
}

/// The float kind math functions compute in for an argument of kind `k`.
static ScalarKind mathKind(ScalarKind k) {
  if (k == ScalarKind::F32 || isComplex(k))
    return k;
  return ScalarKind::F64;
}

/// Types math.gcd, lcm, isqrt, factorial, comb and perm of numbers (and
/// np.gcd, np.lcm): integers in, an integer out (info.operandKind).
bool FunctionChecker::integerMath(const ast::Call &c, Builtin b, bool viaNumpy,
                                  const std::vector<Type> &args, CallInfo &info) {
  const char *name = builtinName(b);
  size_t lo = 1, hi = 1;
  if (b == Builtin::Gcd || b == Builtin::Lcm)
    lo = viaNumpy ? 2 : 0, hi = viaNumpy ? 2 : SIZE_MAX; // Python's take any number
  else if (b == Builtin::Comb)
    lo = hi = 2;
  else if (b == Builtin::Perm)
    hi = 2;
  if (args.size() < lo || args.size() > hi) {
    error(c.range(), lo == hi ? fmt::format("{}() takes {} argument{} ({} given)", name, lo,
                                            lo == 1 ? "" : "s", args.size())
                              : fmt::format("{}() takes {} to {} arguments ({} given)", name,
                                            lo, hi, args.size()));
    return false;
  }
  ScalarKind k = ScalarKind::I64;
  for (size_t i = 0; i < args.size(); ++i) {
    ScalarKind ak = args[i].isScalar() ? args[i].scalarKind() : ScalarKind::F64;
    if (!args[i].isScalar() || !(isInteger(ak) || isBool(ak))) {
      error(c.args[i]->range(),
            fmt::format("{}() takes integers, not '{}'", name, args[i].describe()),
            args[i].isScalar() && isFloat(ak) ? "convert with int(x) (which truncates)" : "");
      return false;
    }
    ScalarKind p = i == 0 ? ak : promote(k, ak);
    if (!isInteger(p) && !isBool(p)) {
      error(c.range(), fmt::format("{}() of {} and {} has no common integer type; convert one "
                                   "of them with int(x)",
                                   name, numpyName(k), numpyName(ak)));
      return false;
    }
    k = p;
  }
  if (isBool(k))
    k = ScalarKind::I64;
  // gcd and lcm keep their operands' type (NumPy's); Python's others return
  // int: int64, or uint64 for isqrt of an unsigned number.
  if (b != Builtin::Gcd && b != Builtin::Lcm)
    k = b == Builtin::Isqrt && isUnsignedInt(k) ? ScalarKind::U64 : ScalarKind::I64;
  info.operandKind = k;
  return true;
}

Type FunctionChecker::builtinCall(const ast::Call &c, Builtin b, bool viaNumpy, bool viaMath,
                                  const std::vector<Type> &args) {
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = b;
  auto fnName = [&]() { return std::string(builtinName(b)); };
  auto arity = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi) {
      error(c.range(), lo == hi ? fmt::format("{}() takes {} argument{} ({} given)", fnName(),
                                              lo, lo == 1 ? "" : "s", args.size())
                                : fmt::format("{}() takes {} to {} arguments ({} given)",
                                              fnName(), lo, hi, args.size()));
      return false;
    }
    return true;
  };
  auto scalarArg = [&](size_t i) {
    if (!args[i].isScalar()) {
      error(c.args[i]->range(), fmt::format("{}() expects a number, not '{}'", fnName(),
                                            args[i].describe()));
      return false;
    }
    return true;
  };
  auto done = [&](Type t) {
    if (Final)
      F.calls[&c] = info;
    return t;
  };
  if (b == Builtin::MathIsclose) {
    // math.isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0): operands are the
    // tolerances given, null for the defaults.
    if (!arity(2, 2))
      return {};
    info.operands = {nullptr, nullptr};
    for (size_t i = 0; i < 2; ++i)
      if (!args[i].isScalar() || isComplex(args[i].scalarKind())) {
        error(c.args[i]->range(), fmt::format("isclose() takes real numbers, not '{}'",
                                              args[i].describe()),
              args[i].isArray() ? "np.isclose(a, b) compares arrays elementwise" : "");
        return {};
      }
    for (const ast::Keyword &kw : c.keywords) {
      size_t at = kw.name == "rel_tol" ? 0 : kw.name == "abs_tol" ? 1 : 2;
      if (at == 2 || info.operands[at]) {
        error(kw.nameRange,
              fmt::format("isclose() got an unexpected keyword argument '{}'", kw.name),
              "math.isclose takes rel_tol= and abs_tol=");
        return {};
      }
      Type t = expr(*kw.value);
      if (!t.isValid())
        return {};
      if (!t.isScalar() || isComplex(t.scalarKind())) {
        error(kw.value->range(),
              fmt::format("{} must be a real number, not '{}'", kw.name, t.describe()));
        return {};
      }
      info.operands[at] = kw.value.get();
    }
    info.operandKind = ScalarKind::F64;
    return done(Type::scalar(ScalarKind::Bool));
  }
  if (!c.keywords.empty()) {
    error(c.keywords[0].nameRange,
          fmt::format("{}() does not take keyword arguments", fnName()));
    return {};
  }
  if (b == Builtin::Fsum) {
    // math.fsum(items): the float64 nearest their exact sum (a runtime
    // function: CPU code only).
    if (!arity(1, 1))
      return {};
    if (!iterableOfNumbers(*c.args[0], args[0], "fsum()", /*real=*/true,
                           "fsum(a.ravel()) sums every element of an array"))
      return {};
    if (F.onGpu()) {
      error(c.range(), "math.fsum() is not available in GPU code",
            "sum in float64 with sum(...), or exactly on the CPU");
      return {};
    }
    info.operandKind = ScalarKind::F64;
    return done(Type::scalar(ScalarKind::F64));
  }
  bool anyArray = false;
  for (auto &a : args)
    anyArray |= a.isArray();
  if (b == Builtin::Ldexp) { // ldexp(x, i): x's float kind; elementwise over arrays
    if (!arity(2, 2))
      return {};
    for (size_t i = 0; i < 2; ++i) {
      ScalarKind k = args[i].isScalar() || args[i].isArray() ? args[i].scalarKind()
                                                              : ScalarKind::C128;
      if (i == 0 ? isComplex(k) : !(isInteger(k) || isBool(k))) {
        error(c.args[i]->range(), fmt::format("ldexp() takes {}, not '{}'",
                                              i == 0 ? "a real number or an array of them"
                                                     : "an integer exponent (or an array of them)",
                                              args[i].describe()));
        return {};
      }
    }
    info.operandKind = mathKind(args[0].scalarKind());
    unsigned rank = std::max(args[0].isArray() ? args[0].rank() : 0u,
                             args[1].isArray() ? args[1].rank() : 0u);
    return done(anyArray ? Type::array(info.operandKind, rank, Type::Layout::C)
                         : Type::scalar(info.operandKind));
  }
  if (anyArray && (b == Builtin::Min || b == Builtin::Max) && args.size() == 1)
    return arrayBuiltin(c, b == Builtin::Min ? Builtin::ReduceMin : Builtin::ReduceMax, nullptr,
                        args, viaNumpy);
  if (anyArray && (isUnaryMath(b) || isPredicate(b) || b == Builtin::Abs || isBinaryMath(b) ||
                   b == Builtin::Gcd || b == Builtin::Lcm ||
                   b == Builtin::Int || b == Builtin::Float)) {
    // Elementwise over arrays (NumPy's ufuncs): broadcasting, NEP 50.
    for (size_t i = 0; i < args.size(); ++i)
      if (!args[i].isArray() && !args[i].isScalar()) {
        error(c.args[i]->range(), fmt::format("{}() expects arrays or numbers, not '{}'",
                                              fnName(), args[i].describe()));
        return {};
      }
    unsigned rank = 0;
    for (auto &a : args)
      rank = std::max(rank, a.isArray() ? a.rank() : 0u);
    if (b == Builtin::Int || b == Builtin::Float) {
      error(c.range(), fmt::format("{}() of an array is ambiguous; use .astype()", fnName()));
      return {};
    }
    if (isUnaryMath(b) || isPredicate(b) || b == Builtin::Abs) {
      if (args.size() != 1) {
        error(c.range(), fmt::format("{}() takes 1 argument ({} given)", fnName(), args.size()));
        return {};
      }
      ScalarKind ek = args[0].scalarKind();
      ScalarKind k = b == Builtin::Abs ? ek : mathKind(ek);
      info.operandKind = k;
      if (isComplex(k) && b != Builtin::Abs && !isPredicate(b) &&
          !(b == Builtin::Sqrt || b == Builtin::Exp || b == Builtin::Log || b == Builtin::Sin ||
            b == Builtin::Cos || b == Builtin::Tan || b == Builtin::Tanh)) {
        error(c.args[0]->range(), fmt::format("{}() is not defined for complex numbers", fnName()));
        return {};
      }
      ScalarKind rk = isPredicate(b)                           ? ScalarKind::Bool
                      : b == Builtin::Abs && isComplex(ek)     ? complexPart(ek)
                      : b == Builtin::Abs && isBool(ek)        ? ScalarKind::Bool
                                                               : k;
      return done(Type::array(rk, rank, Type::Layout::C));
    }
    // Binary math functions.
    if (args.size() != 2) {
      error(c.range(), fmt::format("{}() takes 2 arguments ({} given)", fnName(), args.size()));
      return {};
    }
    std::string err;
    if (b == Builtin::Pow) {
      auto rule = arrayBinaryRule(ast::BinOpKind::Pow, args[0].scalarKind(), args[0].isArray(),
                                  weak(*c.args[0]), args[1].scalarKind(),
                                  args[1].isArray(), weak(*c.args[1]), err);
      if (!rule) {
        error(c.range(), err);
        return {};
      }
      info.operandKind = rule->operand;
      return done(Type::array(rule->result, rank, Type::Layout::C));
    }
    ScalarKind k = args[0].isArray() && args[1].isArray()
                       ? promote(args[0].scalarKind(), args[1].scalarKind())
                   : args[0].isArray()
                       ? promoteArrayOperand(args[0].scalarKind(), args[1].scalarKind(),
                                             weak(*c.args[1]))
                       : promoteArrayOperand(args[1].scalarKind(), args[0].scalarKind(),
                                             weak(*c.args[0]));
    if (isComplex(k)) {
      error(c.range(), fmt::format("{}() is not defined for complex numbers", fnName()));
      return {};
    }
    bool integers = isInteger(k) || isBool(k);
    if (b == Builtin::Gcd || b == Builtin::Lcm) {
      if (!integers) {
        error(c.range(), fmt::format("{}() takes integers, not '{}' and '{}'", fnName(),
                                     args[0].describe(), args[1].describe()));
        return {};
      }
      info.operandKind = isBool(k) ? ScalarKind::I8 : k; // (NumPy's)
      return done(Type::array(info.operandKind, rank, Type::Layout::C));
    }
    // np.fmod of integers is C's `%` on them (0 for a zero divisor, as NumPy).
    info.operandKind = b == Builtin::Fmod && integers ? (isBool(k) ? ScalarKind::I8 : k)
                                                       : mathKind(k);
    return done(Type::array(info.operandKind, rank, Type::Layout::C));
  }
  switch (b) {
  case Builtin::Range:
  case Builtin::Enumerate:
  case Builtin::Zip:
  case Builtin::Reversed:
  case Builtin::NdIndex:
  case Builtin::NdEnumerate:
    error(c.range(),
          fmt::format("{}{}() can only be used as the iterable of a for loop or a comprehension",
                      b == Builtin::NdIndex || b == Builtin::NdEnumerate ? "np." : "",
                      b == Builtin::Range ? "range" : builtinName(b)));
    return {};
  case Builtin::Len:
    if (!arity(1, 1))
      return {};
    if (args[0].isArray() || args[0].isContainer())
      return done(Type::scalar(ScalarKind::I64));
    if (args[0].isTuple()) {
      if (Final)
        F.consts[&c] = makeInt(args[0].elements().size());
      return done(Type::scalar(ScalarKind::I64));
    }
    error(c.args[0]->range(), fmt::format("object of type '{}' has no len()",
                                          args[0].describe()));
    return {};
  case Builtin::Abs: {
    if (!arity(1, 1) || !scalarArg(0))
      return {};
    ScalarKind k = args[0].scalarKind();
    info.operandKind = k;
    if (isComplex(k))
      return done(Type::scalar(complexPart(k)));
    if (isBool(k) || isInteger(k)) {
      ScalarKind w = isUnsignedInt(k) ? ScalarKind::U64 : ScalarKind::I64;
      info.operandKind = w;
      return done(Type::scalar(w));
    }
    return done(Type::scalar(k));
  }
  case Builtin::Min:
  case Builtin::Max: {
    if (args.size() < 2) {
      error(c.range(), fmt::format("{}() needs at least two numbers (array reductions come "
                                   "with array expressions)",
                                   fnName()));
      return {};
    }
    ScalarKind k = ScalarKind::Bool;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!scalarArg(i))
        return {};
      if (isComplex(args[i].scalarKind())) {
        error(c.args[i]->range(), fmt::format("{}() is not defined for complex numbers",
                                              fnName()));
        return {};
      }
      k = i == 0 ? args[i].scalarKind() : promote(k, args[i].scalarKind());
    }
    info.operandKind = k;
    return done(Type::scalar(k));
  }
  case Builtin::Int:
  case Builtin::Float:
  case Builtin::Bool: {
    if (b == Builtin::Bool && args.size() == 1 && args[0].isContainer()) {
      info.operandKind = ScalarKind::Bool; // Python's: true when it has items
      return done(Type::scalar(ScalarKind::Bool));
    }
    if (!arity(1, 1) || !scalarArg(0))
      return {};
    if (b != Builtin::Bool && isComplex(args[0].scalarKind())) {
      error(c.args[0]->range(), fmt::format("cannot convert a complex number to {}", fnName()));
      return {};
    }
    info.operandKind = b == Builtin::Int     ? ScalarKind::I64
                       : b == Builtin::Float ? ScalarKind::F64
                                             : ScalarKind::Bool;
    return done(Type::scalar(info.operandKind));
  }
  case Builtin::Cast: {
    if (!arity(1, 1) || !scalarArg(0))
      return {};
    if (isComplex(args[0].scalarKind()) && !isComplex(info.operandKind)) {
      error(c.args[0]->range(), fmt::format("cannot convert a complex number to {}",
                                            numpyName(info.operandKind)));
      return {};
    }
    return done(Type::scalar(info.operandKind));
  }
  case Builtin::Complex: {
    if (!arity(0, 2))
      return {};
    for (size_t i = 0; i < args.size(); ++i) {
      if (!scalarArg(i))
        return {};
      if (isComplex(args[i].scalarKind()) && args.size() == 2) {
        error(c.args[i]->range(), "complex() parts must be real numbers");
        return {};
      }
    }
    info.operandKind = ScalarKind::C128;
    return done(Type::scalar(ScalarKind::C128));
  }
  case Builtin::Conjugate: {
    if (!arity(0, 0))
      return {};
    return {};
  }
  case Builtin::Gcd:
  case Builtin::Lcm:
  case Builtin::Isqrt:
  case Builtin::Factorial:
  case Builtin::Comb:
  case Builtin::Perm:
    return integerMath(c, b, viaNumpy, args, info) ? done(Type::scalar(info.operandKind))
                                                   : Type();
  case Builtin::Divmod: {
    if (viaNumpy && anyArray && arity(2, 2)) {
      // np.divmod of arrays: (a // b, a % b) elementwise, NumPy's types.
      for (size_t i = 0; i < 2; ++i)
        if (!(args[i].isArray() || args[i].isScalar()) || isComplex(args[i].scalarKind())) {
          error(c.args[i]->range(), fmt::format("np.divmod() takes real numbers or arrays of "
                                                "them, not '{}'",
                                                args[i].describe()));
          return {};
        }
      std::string err;
      auto rule = arrayBinaryRule(ast::BinOpKind::FloorDiv, args[0].scalarKind(),
                                  args[0].isArray(), weak(*c.args[0]), args[1].scalarKind(),
                                  args[1].isArray(), weak(*c.args[1]), err);
      if (!rule) {
        error(c.range(), err);
        return {};
      }
      info.operandKind = rule->operand;
      unsigned rank = std::max(args[0].isArray() ? args[0].rank() : 0u,
                               args[1].isArray() ? args[1].rank() : 0u);
      Type part = Type::array(rule->result, rank, Type::Layout::C);
      return done(Type::tuple({part, part}));
    }
    if (!arity(2, 2) || !scalarArg(0) || !scalarArg(1))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (isComplex(args[i].scalarKind())) {
        error(c.args[i]->range(), "divmod() is not defined for complex numbers");
        return {};
      }
    std::string err;
    auto rule = binaryRule(ast::BinOpKind::FloorDiv, args[0].scalarKind(),
                           args[1].scalarKind(), err);
    if (!rule) {
      error(c.range(), err);
      return {};
    }
    info.operandKind = rule->operand;
    Type part = Type::scalar(rule->result);
    return done(Type::tuple({part, part}));
  }
  case Builtin::Frexp:
  case Builtin::Modf: {
    if (!arity(1, 1))
      return {};
    if (viaNumpy && args[0].isArray()) {
      // np.frexp, np.modf of an array: two arrays (frexp's exponents int32,
      // NumPy's).
      ScalarKind k = mathKind(args[0].scalarKind());
      if (isComplex(k)) {
        error(c.args[0]->range(),
              fmt::format("np.{}() is not defined for complex numbers", fnName()));
        return {};
      }
      info.operandKind = k;
      unsigned rank = args[0].rank();
      return done(Type::tuple(
          {Type::array(k, rank, Type::Layout::C),
           Type::array(b == Builtin::Frexp ? ScalarKind::I32 : k, rank, Type::Layout::C)}));
    }
    if (!scalarArg(0))
      return {};
    ScalarKind k = mathKind(args[0].scalarKind());
    if (isComplex(k)) {
      error(c.args[0]->range(), fmt::format("{}() is not defined for complex numbers", fnName()));
      return {};
    }
    info.operandKind = k;
    // (np.frexp's exponent is int32, math.frexp's a Python int.)
    return done(Type::tuple({Type::scalar(k), Type::scalar(b == Builtin::Frexp
                                                               ? viaNumpy ? ScalarKind::I32
                                                                          : ScalarKind::I64
                                                               : k)}));
  }
  default:
    break;
  }
  if (b == Builtin::Log && args.size() == 2 && viaMath && !viaNumpy) {
    // math.log(x, base): log(x) / log(base)
    if (!scalarArg(0) || !scalarArg(1))
      return {};
    ScalarKind k = mathKind(promote(args[0].scalarKind(), args[1].scalarKind()));
    if (isComplex(k)) {
      error(c.range(), "log() with a base is not defined for complex numbers");
      return {};
    }
    info.operandKind = k;
    return done(Type::scalar(k));
  }
  if (isUnaryMath(b) || isPredicate(b)) {
    if (!arity(1, 1) || !scalarArg(0))
      return {};
    ScalarKind k = mathKind(args[0].scalarKind());
    info.operandKind = k;
    if (b == Builtin::Fabs && isComplex(k)) {
      error(c.args[0]->range(), "fabs() is not defined for complex numbers; use abs()");
      return {};
    }
    if (isComplex(k)) {
      static const Builtin complexOk[] = {Builtin::Sqrt, Builtin::Exp, Builtin::Log,
                                          Builtin::Sin,  Builtin::Cos, Builtin::Tan,
                                          Builtin::Tanh, Builtin::IsNan, Builtin::IsInf,
                                          Builtin::IsFinite};
      if (std::find(std::begin(complexOk), std::end(complexOk), b) == std::end(complexOk)) {
        error(c.args[0]->range(),
              fmt::format("{}() is not defined for complex numbers", fnName()));
        return {};
      }
    }
    if (isPredicate(b))
      return done(Type::scalar(ScalarKind::Bool));
    // Python's math.floor/ceil/trunc return int; NumPy's return floats.
    if ((b == Builtin::Floor || b == Builtin::Ceil || b == Builtin::Trunc) && !viaNumpy) {
      if (isInteger(args[0].scalarKind()) || isBool(args[0].scalarKind()))
        info.operandKind = ScalarKind::F64;
      return done(Type::scalar(ScalarKind::I64));
    }
    return done(Type::scalar(k));
  }
  if (isBinaryMath(b)) {
    if (!arity(2, 2) || !scalarArg(0) || !scalarArg(1))
      return {};
    ScalarKind l = args[0].scalarKind(), r = args[1].scalarKind();
    if (b == Builtin::Pow && (!viaMath || viaNumpy)) {
      // builtins.pow and np.power behave like `**`.
      std::string err;
      auto rule = binaryRule(ast::BinOpKind::Pow, l, r, err);
      if (!rule) {
        error(c.range(), err);
        return {};
      }
      info.operandKind = rule->operand;
      return done(Type::scalar(rule->result));
    }
    if (isComplex(l) || isComplex(r)) {
      error(c.range(), fmt::format("{}() is not defined for complex numbers", fnName()));
      return {};
    }
    ScalarKind p = promote(l, r), k = mathKind(p);
    if (b == Builtin::Fmod && viaNumpy && (isInteger(p) || isBool(p)))
      k = isBool(p) ? ScalarKind::I8 : p; // C's `%`, as NumPy
    if (b == Builtin::Pow && viaMath && !viaNumpy)
      k = ScalarKind::F64; // math.pow always returns a Python float
    info.operandKind = k;
    return done(Type::scalar(k));
  }
  error(c.range(), fmt::format("{}() is not supported here", fnName()));
  return {};
}


std::optional<ScalarKind> FunctionChecker::dtypeArgument(const ast::Expr &e) {
  std::string name;
  if (auto *s = dyn_cast<ast::StrLit>(&e))
    name = s->value;
  else if (auto *n = dyn_cast<ast::Name>(&e))
    name = n->id;
  else if (auto *a = dyn_cast<ast::Attribute>(&e))
    name = a->attr;
  // `a.dtype` of an array (or a NumPy scalar): its element type.
  if (auto *a = dyn_cast<ast::Attribute>(&e); a && a->attr == "dtype") {
    Type t = expr(*a->value);
    if (!t.isValid())
      return std::nullopt;
    if (t.isScalar() || t.isArray() || t.isKnownList())
      return t.scalarKind();
    error(e.range(), fmt::format("'{}' has no dtype", t.describe()));
    return std::nullopt;
  }
  if (auto k = parseScalarName(name))
    return k;
  error(e.range(), "dtype must name a type such as np.float32, float, \"int8\" or a.dtype");
  return std::nullopt;
}

std::optional<unsigned> FunctionChecker::shapeRank(const ast::Expr &e, const Type &t) {
  if (t.isScalar() && (isInteger(t.scalarKind()) || isBool(t.scalarKind())))
    return 1;
  if (t.isTuple()) {
    for (auto &el : t.elements())
      if (!el.isScalar() || !isInteger(el.scalarKind())) {
        error(e.range(), fmt::format("a shape is an integer or a tuple of integers, not '{}'",
                                     t.describe()));
        return std::nullopt;
      }
    if (t.elements().empty() || t.elements().size() > 8) {
      error(e.range(), "arrays have 1 to 8 dimensions");
      return std::nullopt;
    }
    return static_cast<unsigned>(t.elements().size());
  }
  error(e.range(),
        fmt::format("a shape is an integer or a tuple of integers, not '{}'", t.describe()));
  return std::nullopt;
}

std::optional<int> FunctionChecker::constantAxis(const ast::Expr &e, int64_t rank,
                                                 bool noneAllowed, CallInfo *runtime) {
  if (noneAllowed && isa<ast::NoneLit>(&e))
    return -1;
  auto v = foldIndex(e);
  if (!v) {
    // A parameter that defaults to None, or an integer known at run time.
    Type t = expr(e);
    if (!t.isValid())
      return std::nullopt;
    if (noneAllowed && t.isNone())
      return -1;
    if (runtime && t.isScalar() && isInteger(t.scalarKind()) && !F.onGpu()) {
      runtime->axisValue = &e;
      return 0;
    }
  }
  if (!v || v->i < -rank || v->i >= rank) {
    error(e.range(), v ? fmt::format("axis {} is out of bounds for an array of {}", v->i,
                                     counted(rank, "dimension", "dimensions"))
                       : std::string(noneAllowed ? "axis must be a constant integer or None"
                                                 : "axis must be a constant integer"));
    return std::nullopt;
  }
  return static_cast<int>(v->i < 0 ? v->i + rank : v->i);
}

std::optional<NormOrder> FunctionChecker::normOrder(const ast::Expr *e, const Type &t,
                                                   bool cond) {
  const char *what = cond ? "linalg.cond()'s p" : "linalg.norm()'s ord";
  if (!e)
    return NormOrder::Default;
  if (auto *str = dyn_cast<ast::StrLit>(e)) {
    if (str->value == "fro")
      return NormOrder::Fro;
    if (str->value == "nuc")
      return NormOrder::Nuc;
    error(e->range(), fmt::format("{} is None, a number, \"fro\" or \"nuc\", not \"{}\"", what,
                                  str->value));
    return std::nullopt;
  }
  if (t.isNone()) // strings are typed None too
    return NormOrder::Default;
  if (!t.isScalar() || isComplex(t.scalarKind())) {
    error(e->range(), fmt::format("{} must be None, a real number, \"fro\" or \"nuc\", not '{}'",
                                  what, t.describe()));
    return std::nullopt;
  }
  return NormOrder::Number;
}

bool FunctionChecker::matrixNormOrder(const ast::Expr &e, bool cond) {
  auto v = foldIndex(e);
  if (!v || v->i == 1 || v->i == -1 || v->i == 2 || v->i == -2)
    return true;
  error(e.range(),
        fmt::format("{} {} is not a matrix norm's order",
                    cond ? "linalg.cond()'s p" : "linalg.norm()'s ord", v->i),
        "matrix norms are 1, -1, 2, -2, np.inf, -np.inf, \"fro\" and \"nuc\"");
  return false;
}

/// NumPy's array functions, methods and reductions (whole-array).
Type FunctionChecker::arrayBuiltin(const ast::Call &c, Builtin b, const ast::Expr *receiver,
                                   const std::vector<Type> &argsIn, bool viaNumpy) {
  std::vector<const ast::Expr *> ops;
  std::vector<Type> args;
  if (receiver) {
    ops.push_back(receiver);
    args.push_back(F.typeOf(*receiver).isValid() ? F.typeOf(*receiver) : expr(*receiver));
  }
  for (size_t i = 0; i < c.args.size(); ++i) {
    ops.push_back(c.args[i].get());
    args.push_back(argsIn[i]);
  }
  std::string fn = builtinName(b);
  std::optional<ScalarKind> dtype;
  const ast::Expr *axisExpr = nullptr;
  for (auto &kw : c.keywords) {
    if (((b == Builtin::Isclose || b == Builtin::Allclose) &&
         (kw.name == "rtol" || kw.name == "atol" || kw.name == "equal_nan")) ||
        (b == Builtin::Diff && (kw.name == "n" || kw.name == "axis")) ||
        (b >= Builtin::Searchsorted && b <= Builtin::Interp) || b == Builtin::Unique ||
        (b >= Builtin::Repeat && b <= Builtin::Insert) || b == Builtin::Linalg ||
        b == Builtin::Norm)
      continue; // read by their case below
    if (kw.name == "dtype" && b != Builtin::Where) {
      dtype = dtypeArgument(*kw.value);
      if (!dtype)
        return {};
    } else if (kw.name == "axis" && ((b >= Builtin::Sum && b <= Builtin::All) ||
                                     (b >= Builtin::CumSum && b <= Builtin::Stack) ||
                                     (b >= Builtin::Median && b <= Builtin::Quantile) ||
                                     b == Builtin::Flip || b == Builtin::Roll)) {
      axisExpr = kw.value.get();
    } else if (kw.name == "kind" && (b == Builtin::Sort || b == Builtin::Argsort)) {
      // Every kind sorts stably here (NumPy's "stable"); the values of a
      // sort do not depend on it.
      auto *str = dyn_cast<ast::StrLit>(kw.value.get());
      if (!isa<ast::NoneLit>(kw.value.get()) &&
          (!str || (str->value != "quicksort" && str->value != "mergesort" &&
                    str->value != "heapsort" && str->value != "stable"))) {
        error(kw.value->range(),
              fmt::format("{}()'s kind is \"quicksort\", \"mergesort\", \"heapsort\" or "
                          "\"stable\"",
                          fn),
              "stn sorts stably whichever kind is named");
        return {};
      }
    } else if ((b == Builtin::Linspace && kw.name == "num") ||
               (b == Builtin::Transpose && kw.name == "axes" && !receiver) ||
               (b == Builtin::Round && (kw.name == "decimals" || kw.name == "ndigits"))) {
      ops.push_back(kw.value.get());
      args.push_back(viewList(*kw.value, expr(*kw.value)));
    } else {
      error(kw.nameRange, fmt::format("{}() does not take the keyword argument '{}'", fn, kw.name));
      return {};
    }
  }
  CallInfo info;
  info.builtin = b;
  info.receiver = receiver;
  info.operands = ops;
  info.viaNumpy = viaNumpy;
  if (b == Builtin::Where && args.size() == 1) // np.where(cond) is np.nonzero(cond)
    info.builtin = Builtin::Nonzero;
  // np.nansum and the other np.nan<name> functions leave NaNs out.
  if (!receiver) {
    std::string called;
    if (auto *a = dyn_cast<ast::Attribute>(c.func.get()))
      called = a->attr;
    else if (auto *n = dyn_cast<ast::Name>(c.func.get())) {
      auto fi = P.FromImports.find(n->id);
      called = fi != P.FromImports.end() ? fi->second.second : n->id;
    }
    info.skipNan = called.rfind("nan", 0) == 0;
    if (info.skipNan)
      fn = called;
  }
  auto done = [&](Type t) {
    if (Final)
      F.calls[&c] = info;
    return t;
  };
  auto arity = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi) {
      error(c.range(), fmt::format("{}() takes {} argument{} ({} given)", fn,
                                   lo == hi ? std::to_string(lo) : fmt::format("{} to {}", lo, hi),
                                   lo == 1 && hi == 1 ? "" : "s", args.size()));
      return false;
    }
    return true;
  };
  // np.sum(a, 1) means np.sum(a, axis=1): the argument at `at`, if given.
  auto positionalAxis = [&](size_t at) {
    if (args.size() == at + 1 && !axisExpr) {
      axisExpr = ops[at];
      args.pop_back();
      ops.pop_back();
      info.operands = ops;
    }
  };
  auto needArray = [&](size_t i) {
    if (!args[i].isArray()) {
      error(ops[i]->range(), fmt::format("{}() needs an array, not '{}'", fn, args[i].describe()));
      return false;
    }
    return true;
  };
  auto needNumber = [&](size_t i) {
    if (!args[i].isScalar()) {
      error(ops[i]->range(), fmt::format("{}() needs a number, not '{}'", fn, args[i].describe()));
      return false;
    }
    return true;
  };
  auto literalKind = [&](size_t i) {
    // A Python literal fill value gives NumPy's default types.
    return args[i].scalarKind();
  };
  // Parameters by position or keyword, in the order of `names` (functions
  // that read their own keywords): `given` is null where one is absent.
  // The parameters named in `strings` take a string literal (typed None;
  // their case reads it), which no other parameter does.
  std::vector<const ast::Expr *> given;
  std::vector<Type> types;
  auto bindParams = [&](std::vector<const char *> names, size_t required,
                        std::vector<std::string_view> strings = {}) {
    if (args.size() > names.size() || args.size() + c.keywords.size() < required) {
      arity(required, names.size());
      return false;
    }
    auto takesString = [&](size_t i) {
      return std::find(strings.begin(), strings.end(), names[i]) != strings.end();
    };
    given.assign(names.size(), nullptr);
    types.assign(names.size(), Type());
    for (size_t i = 0; i < args.size(); ++i) {
      if (isa<ast::StrLit>(ops[i]) && !takesString(i)) {
        error(ops[i]->range(), fmt::format("{}()'s {} cannot be a string", fn, names[i]));
        return false;
      }
      given[i] = ops[i];
      types[i] = args[i];
    }
    for (auto &kw : c.keywords) {
      size_t i = 0;
      while (i < names.size() && kw.name != names[i])
        ++i;
      if (i == names.size()) {
        error(kw.nameRange,
              fmt::format("{}() does not take the keyword argument '{}'", fn, kw.name));
        return false;
      }
      if (given[i]) {
        error(kw.nameRange, fmt::format("{}() got multiple values for argument '{}'", fn, kw.name));
        return false;
      }
      given[i] = kw.value.get();
      if (isa<ast::StrLit>(kw.value.get()) && takesString(i)) {
        types[i] = Type::none();
        continue;
      }
      types[i] = viewList(*kw.value, expr(*kw.value));
      if (!types[i].isValid())
        return false;
    }
    for (size_t i = 0; i < required; ++i)
      if (!given[i]) {
        error(c.range(), fmt::format("{}() is missing its argument '{}'", fn, names[i]));
        return false;
      }
    info.operands = given;
    return true;
  };
  auto integral = [](const Type &t) {
    return t.isScalar() && (isInteger(t.scalarKind()) || isBool(t.scalarKind()));
  };
  // Parameter i, where given, must satisfy `ok` (else: "must be <what>").
  auto wantParam = [&](size_t i, bool ok, const char *name, const char *what) {
    if (!given[i] || ok)
      return true;
    error(given[i]->range(),
          fmt::format("{}()'s {} must be {}, not '{}'", fn, name, what, types[i].describe()));
    return false;
  };
  if (((b == Builtin::Empty || b == Builtin::Zeros || b == Builtin::Ones ||
        b == Builtin::ArrayOf || b == Builtin::Asarray) &&
       args.size() == 2) ||
      (b == Builtin::Full && args.size() == 3)) {
    if (dtype) {
      error(ops.back()->range(), "dtype is given twice");
      return {};
    }
    dtype = dtypeArgument(*ops.back());
    if (!dtype)
      return {};
    ops.pop_back();
    args.pop_back();
    info.operands = ops;
  }
  switch (info.builtin) {
  case Builtin::Empty:
  case Builtin::Zeros:
  case Builtin::Ones: {
    if (!arity(1, 1))
      return {};
    auto rank = shapeRank(*ops[0], args[0]);
    if (!rank)
      return {};
    return done(Type::array(dtype.value_or(ScalarKind::F64), *rank, Type::Layout::C));
  }
  case Builtin::Full: {
    if (!arity(2, 2) || !needNumber(1))
      return {};
    auto rank = shapeRank(*ops[0], args[0]);
    if (!rank)
      return {};
    return done(Type::array(dtype.value_or(literalKind(1)), *rank, Type::Layout::C));
  }
  case Builtin::EmptyLike:
  case Builtin::ZerosLike:
  case Builtin::OnesLike:
  case Builtin::FullLike: {
    if (!arity(b == Builtin::FullLike ? 2 : 1, b == Builtin::FullLike ? 2 : 1) || !needArray(0))
      return {};
    if (b == Builtin::FullLike && !needNumber(1))
      return {};
    return done(Type::array(dtype.value_or(args[0].scalarKind()), args[0].rank(),
                            Type::Layout::C));
  }
  case Builtin::Arange: {
    if (!arity(1, 3))
      return {};
    bool anyFloat = false;
    for (size_t i = 0; i < args.size(); ++i) {
      if (!needNumber(i))
        return {};
      if (isComplex(args[i].scalarKind())) {
        error(ops[i]->range(), "arange() takes real numbers");
        return {};
      }
      anyFloat |= isFloat(args[i].scalarKind());
    }
    return done(Type::array(dtype.value_or(anyFloat ? ScalarKind::F64 : ScalarKind::I64), 1,
                            Type::Layout::C));
  }
  case Builtin::Linspace: {
    if (!arity(2, 3))
      return {};
    for (size_t i = 0; i < args.size(); ++i)
      if (!needNumber(i))
        return {};
    if (args.size() == 3 && !isInteger(args[2].scalarKind())) {
      error(ops[2]->range(), "linspace()'s number of samples must be an integer");
      return {};
    }
    return done(Type::array(dtype.value_or(ScalarKind::F64), 1, Type::Layout::C));
  }
  case Builtin::ArrayOf:
  case Builtin::Asarray: {
    if (!arity(1, 1))
      return {};
    if (!isDisplay(*ops[0])) {
      // np.asarray of a list copies its items: appends may move them.
      Type t = viewList(*ops[0], expr(*ops[0]), b == Builtin::Asarray);
      if (!t.isValid())
        return {};
      if (t.isArray()) {
        ScalarKind k = dtype.value_or(t.scalarKind());
        if (isComplex(t.scalarKind()) && !isComplex(k)) {
          error(ops[0]->range(), fmt::format("cannot convert complex values to {}", numpyName(k)),
                "take z.real or abs(z) first");
          return {};
        }
        if (b == Builtin::Asarray && k == t.scalarKind())
          return done(t); // the array itself
        // A converted copy: a.astype(k).
        info.builtin = Builtin::Astype;
        info.operandKind = k;
        info.operands = {ops[0]};
        return done(Type::array(k, t.rank(), Type::Layout::C));
      }
    }
    // np.array([a, b]) or np.array((a, b)) of arrays: np.stack((a, b)).
    const std::vector<ast::ExprPtr> *elts = nullptr;
    if (auto *l = dyn_cast<ast::List>(ops[0]); l && !l->braces)
      elts = &l->elts;
    else if (auto *t = dyn_cast<ast::Tuple>(ops[0]))
      elts = &t->elts;
    if (elts && !elts->empty() && !isa<ast::List>(elts->front().get()) &&
        !isa<ast::Tuple>(elts->front().get())) {
      Type first = expr(*elts->front());
      if (!first.isValid())
        return {};
      if (first.isArray()) {
        if (isa<ast::List>(ops[0]))
          ArraySequence = ops[0];
        Type t = expr(*ops[0]);
        if (!t.isValid())
          return {};
        ScalarKind found = first.scalarKind();
        for (size_t i = 0; i < t.elements().size(); ++i) {
          const Type &e = t.elements()[i];
          if (!e.isArray() || e.rank() != first.rank()) {
            error((*elts)[i]->range(),
                  fmt::format("{}() of arrays takes arrays of one number of dimensions: the "
                              "first is '{}', this one '{}'",
                              fn, first.describe(), e.describe()),
                  "np.array stacks arrays of one shape; give them the same number of "
                  "dimensions with a[np.newaxis] or .reshape()");
            return {};
          }
          found = promote(found, e.scalarKind());
        }
        ScalarKind k = dtype.value_or(found);
        if (isComplex(found) && !isComplex(k)) {
          error(ops[0]->range(), fmt::format("cannot convert complex values to {}", numpyName(k)),
                "take z.real or abs(z) first");
          return {};
        }
        info.builtin = Builtin::Stack;
        info.newAxis = true;
        info.axis = 0;
        info.operandKind = k;
        info.operands = {ops[0]};
        return done(Type::array(k, first.rank() + 1, Type::Layout::C));
      }
    }
    std::vector<const ast::Expr *> leaves;
    std::optional<ScalarKind> found;
    auto shape = nestedShape(*ops[0], fn, leaves, found);
    if (!shape)
      return {};
    if (shape->empty()) {
      error(ops[0]->range(),
            fmt::format("{}() of a number would be a 0-d array, which stn kernels do not have", fn),
            "use the number itself, or np.full(1, x) for an array of one element");
      return {};
    }
    if (shape->size() > 8) {
      error(ops[0]->range(), fmt::format("{}() would make a {}-dimensional array; arrays have at "
                                         "most 8 dimensions",
                                         fn, shape->size()));
      return {};
    }
    ScalarKind k = dtype.value_or(found.value_or(ScalarKind::F64));
    if (found && isComplex(*found) && !isComplex(k)) {
      error(ops[0]->range(), fmt::format("cannot convert complex values to {}", numpyName(k)),
            "take z.real or abs(z) first");
      return {};
    }
    info.builtin = Builtin::ArrayOf;
    info.extents = *shape;
    info.operands = leaves;
    return done(Type::array(k, static_cast<unsigned>(shape->size()), Type::Layout::C));
  }
  case Builtin::Copy:
    if (!arity(1, 1) || !needArray(0))
      return {};
    return done(Type::array(args[0].scalarKind(), args[0].rank(), Type::Layout::C));
  case Builtin::Reshape: {
    // a.reshape(2, 3), a.reshape((2, 3)), np.reshape(a, (2, 3)); one extent
    // may be -1 (inferred). The extents are checked when the kernel runs.
    if (args.size() == 1) {
      error(c.range(), "reshape() needs the new shape: a.reshape(2, 3) or a.reshape((2, -1))");
      return {};
    }
    if (!arity(2, receiver ? 9 : 2) || !needArray(0))
      return {};
    unsigned rank = 0;
    if (args.size() == 2) {
      auto r = shapeRank(*ops[1], args[1]);
      if (!r)
        return {};
      rank = *r;
    } else {
      for (size_t i = 1; i < args.size(); ++i) {
        if (!args[i].isScalar() || !isInteger(args[i].scalarKind())) {
          error(ops[i]->range(), fmt::format("reshape() takes integer extents, not '{}'",
                                             args[i].describe()));
          return {};
        }
        ++rank;
      }
    }
    return done(Type::array(args[0].scalarKind(), rank, Type::Layout::C));
  }
  case Builtin::Ravel:
  case Builtin::Flatten:
    if (!arity(1, 1) || !needArray(0))
      return {};
    return done(Type::array(args[0].scalarKind(), 1, Type::Layout::C));
  case Builtin::Transpose: {
    // No axes: reversed. Axes: constants, one tuple or (methods) several.
    if (!needArray(0))
      return {};
    const unsigned rank = args[0].rank();
    std::vector<const ast::Expr *> axes;
    if (args.size() == 2 && args[1].isTuple()) {
      if (auto *t = dyn_cast<ast::Tuple>(ops[1]))
        for (auto &x : t->elts)
          axes.push_back(x.get());
      else {
        error(ops[1]->range(), "transpose() takes its axes as constants, (1, 0)");
        return {};
      }
    } else if (args.size() >= 2 && !(args.size() == 2 && args[1].isNone())) {
      if (!receiver && args.size() > 2) {
        arity(1, 2);
        return {};
      }
      axes.assign(ops.begin() + 1, ops.end());
    }
    std::vector<unsigned> perm;
    if (axes.empty()) {
      for (unsigned d = rank; d-- > 0;)
        perm.push_back(d);
    } else {
      if (axes.size() != rank) {
        error(c.range(), fmt::format("transpose() of an array of {} dimension{} takes {} "
                                     "axes, not {}",
                                     rank, rank == 1 ? "" : "s", rank, axes.size()));
        return {};
      }
      std::vector<bool> seen(rank, false);
      for (const ast::Expr *x : axes) {
        auto v = foldIndex(*x);
        int64_t r = rank;
        if (!v || v->i < -r || v->i >= r || seen[size_t(v->i < 0 ? v->i + r : v->i)]) {
          error(x->range(),
                v ? fmt::format("axis {} is out of range or repeated: transpose() takes a "
                                "permutation of 0..{}",
                                v->i, rank - 1)
                  : std::string("transpose() takes its axes as constants"));
          return {};
        }
        unsigned a = unsigned(v->i < 0 ? v->i + r : v->i);
        seen[a] = true;
        perm.push_back(a);
      }
    }
    bool identity = true;
    for (unsigned d = 0; d < rank; ++d)
      identity = identity && perm[d] == d;
    info.permutation = perm;
    return done(Type::array(args[0].scalarKind(), rank,
                            identity ? args[0].layout() : Type::Layout::Any));
  }
  case Builtin::Astype: {
    if (!arity(2, 2) || !needArray(0))
      return {};
    auto k = dtypeArgument(*ops[1]);
    if (!k)
      return {};
    info.operandKind = *k;
    return done(Type::array(*k, args[0].rank(), Type::Layout::C));
  }
  case Builtin::Sum:
  case Builtin::Prod:
  case Builtin::Mean:
  case Builtin::Std:
  case Builtin::Var:
  case Builtin::ReduceMin:
  case Builtin::ReduceMax:
  case Builtin::Argmin:
  case Builtin::Argmax:
  case Builtin::Any:
  case Builtin::All: {
    positionalAxis(1);
    if (!arity(1, 1) || !needArray(0))
      return {};
    int axis = -1;
    if (axisExpr) {
      auto a = constantAxis(*axisExpr, args[0].rank(), true, &info);
      if (!a)
        return {};
      axis = info.axis = *a;
    }
    ScalarKind k = args[0].scalarKind();
    ScalarKind r = k;
    switch (b) {
    case Builtin::Sum:
    case Builtin::Prod:
      r = isBool(k) || isSignedInt(k) ? ScalarKind::I64 : isUnsignedInt(k) ? ScalarKind::U64 : k;
      break;
    case Builtin::Mean:
      r = isComplex(k) || k == ScalarKind::F32 ? k : ScalarKind::F64;
      break;
    case Builtin::Std:
    case Builtin::Var:
      r = isComplex(k) ? complexPart(k) : k == ScalarKind::F32 ? k : ScalarKind::F64;
      break;
    case Builtin::Argmin:
    case Builtin::Argmax:
      r = ScalarKind::I64;
      break;
    case Builtin::Any:
    case Builtin::All:
      r = ScalarKind::Bool;
      break;
    default:
      break;
    }
    if (isComplex(k) && (b == Builtin::ReduceMin || b == Builtin::ReduceMax ||
                         b == Builtin::Argmin || b == Builtin::Argmax)) {
      error(c.range(), fmt::format("{}() is not defined for complex arrays", fn));
      return {};
    }
    if (dtype)
      r = *dtype;
    info.operandKind = r;
    if (axis >= 0 && args[0].rank() > 1)
      return done(Type::array(r, args[0].rank() - 1, Type::Layout::C));
    return done(Type::scalar(r));
  }
  case Builtin::Dot:
  case Builtin::Matmul: {
    if (!arity(2, 2) || !needArray(0) || !needArray(1))
      return {};
    Type t = matmulType(c.range(), args[0], args[1], b == Builtin::Dot ? "np.dot" : "np.matmul",
                        info.operandKind);
    return t.isValid() ? done(t) : Type();
  }
  case Builtin::Clip: {
    // np.clip(a, lo, hi) is np.minimum(np.maximum(a, lo), hi); either bound
    // may be None. The type: NumPy's promotion of the three (NEP 50).
    if (!arity(3, 3))
      return {};
    unsigned rank = 0;
    std::optional<ScalarKind> k;
    for (size_t i = 0; i < 3; ++i) {
      if (i > 0 && args[i].isNone())
        continue;
      if ((!args[i].isArray() && !args[i].isScalar()) ||
          isComplex(args[i].scalarKind())) {
        error(ops[i]->range(), fmt::format("clip() takes real arrays or numbers{}, not '{}'",
                                           i ? " (or None)" : "", args[i].describe()));
        return {};
      }
      if (args[i].isArray()) {
        rank = std::max(rank, args[i].rank());
        k = k ? promote(*k, args[i].scalarKind()) : args[i].scalarKind();
      }
    }
    if (args[1].isNone() && args[2].isNone()) {
      error(c.range(), "clip() needs a lower or an upper bound (both are None)");
      return {};
    }
    for (size_t i = 0; i < 3; ++i) {
      if (args[i].isArray() || args[i].isNone())
        continue;
      k = k ? promoteArrayOperand(*k, args[i].scalarKind(), weak(*ops[i]))
            : args[i].scalarKind();
    }
    info.operandKind = *k;
    if (rank == 0)
      return done(Type::scalar(*k));
    return done(Type::array(*k, rank, Type::Layout::C));
  }
  case Builtin::CumSum:
  case Builtin::CumProd:
  case Builtin::Sort:
  case Builtin::Argsort: {
    // cumsum and cumprod run over the flattened array by default, sort and
    // argsort along the last axis; axis=None flattens.
    positionalAxis(1);
    if (!arity(1, 1) || !needArray(0))
      return {};
    const int64_t rank = args[0].rank();
    bool sorting = b == Builtin::Sort || b == Builtin::Argsort;
    int axis = sorting ? static_cast<int>(rank - 1) : -1;
    bool flattened = false; // axis=None, or a parameter passed None
    if (axisExpr) {
      auto a = constantAxis(*axisExpr, rank, true, &info);
      if (!a)
        return {};
      axis = *a;
      flattened = axis < 0;
    }
    if (rank == 1 && axis == 0)
      axis = -1; // the same thing
    if (receiver && b == Builtin::Sort && flattened) {
      error(axisExpr->range(), "a.sort() sorts in place along an axis, not the flattened array",
            "np.sort(a, axis=None) returns the sorted elements");
      return {};
    }
    if (sorting && F.onGpu()) {
      error(c.range(), fmt::format("{}() is not available in GPU code", fn),
            "sort on the host, before or after the launch");
      return {};
    }
    info.axis = axis;
    ScalarKind k = args[0].scalarKind();
    ScalarKind r = k;
    if (b == Builtin::CumSum || b == Builtin::CumProd)
      r = isBool(k) || isSignedInt(k) ? ScalarKind::I64 : isUnsignedInt(k) ? ScalarKind::U64 : k;
    else if (b == Builtin::Argsort)
      r = ScalarKind::I64;
    if (dtype) {
      if (sorting) {
        error(c.range(), fmt::format("{}() does not take the keyword argument 'dtype'", fn));
        return {};
      }
      r = *dtype;
    }
    info.operandKind = r;
    if (b == Builtin::Sort && receiver)
      return done(Type::none()); // in place
    return done(Type::array(r, axis < 0 ? 1 : static_cast<unsigned>(rank), Type::Layout::C));
  }
  case Builtin::Isclose:
  case Builtin::Allclose: {
    // (a, b, rtol=1e-05, atol=1e-08, equal_nan=False), by position or
    // keyword; operands: a, b, rtol, atol, equal_nan (null: the default).
    static const char *const names[] = {"a", "b", "rtol", "atol", "equal_nan"};
    if (args.size() < 2 || args.size() > 5) {
      arity(2, 5);
      return {};
    }
    std::vector<const ast::Expr *> given(5, nullptr);
    std::vector<Type> types(5);
    for (size_t i = 0; i < args.size(); ++i) {
      given[i] = ops[i];
      types[i] = args[i];
    }
    for (auto &kw : c.keywords) {
      size_t i = kw.name == "rtol" ? 2 : kw.name == "atol" ? 3 : 4;
      if (given[i]) {
        error(kw.nameRange,
              fmt::format("{}() got multiple values for argument '{}'", fn, names[i]));
        return {};
      }
      given[i] = kw.value.get();
      types[i] = viewList(*kw.value, expr(*kw.value));
      if (!types[i].isValid())
        return {};
    }
    unsigned rank = 0;
    for (size_t i = 0; i < 5; ++i) {
      if (!given[i])
        continue;
      const Type &t = types[i];
      bool ok = i == 4 ? t.isScalar() && isBool(t.scalarKind())
                       : (t.isScalar() || (i < 2 && t.isArray())) && !isComplex(t.scalarKind());
      if (!ok) {
        error(given[i]->range(),
              fmt::format("{}()'s {} must be {}, not '{}'", fn, names[i],
                          i == 4 ? "a bool" : i < 2 ? "a real array or number" : "a real number",
                          t.describe()));
        return {};
      }
      if (t.isArray())
        rank = std::max(rank, t.rank());
    }
    info.operands = given;
    info.operandKind = mathKind(promote(types[0].scalarKind(), types[1].scalarKind()));
    if (b == Builtin::Allclose || rank == 0)
      return done(Type::scalar(ScalarKind::Bool));
    return done(Type::array(ScalarKind::Bool, rank, Type::Layout::C));
  }
  case Builtin::CountNonzero:
    if (!arity(1, 1) || !needArray(0))
      return {};
    return done(Type::scalar(ScalarKind::I64));
  case Builtin::Diff: {
    // np.diff(a, n=1, axis=-1): n and axis constants.
    if (!arity(1, 3) || !needArray(0))
      return {};
    const ast::Expr *nExpr = args.size() > 1 ? ops[1] : nullptr;
    const ast::Expr *axExpr = args.size() > 2 ? ops[2] : nullptr;
    for (auto &kw : c.keywords) {
      const ast::Expr *&slot = kw.name == "n" ? nExpr : axExpr;
      if (slot) {
        error(kw.nameRange, fmt::format("diff() got multiple values for argument '{}'", kw.name));
        return {};
      }
      slot = kw.value.get();
    }
    const int64_t rank = args[0].rank();
    int64_t n = 1, axis = rank - 1;
    if (nExpr) {
      auto v = foldIndex(*nExpr);
      if (!v || v->i < 0) {
        error(nExpr->range(), "diff()'s n must be a constant integer, 0 or more");
        return {};
      }
      n = v->i;
    }
    if (axExpr) {
      auto a = constantAxis(*axExpr, rank, false);
      if (!a)
        return {};
      axis = *a;
    }
    ScalarKind k = args[0].scalarKind();
    if (isBool(k)) {
      error(ops[0]->range(), "diff() of bools is not supported (NumPy's gives their xor)",
            "convert first: a.astype(np.int8)");
      return {};
    }
    info.operands = {ops[0]};
    info.axis = static_cast<int>(axis);
    info.order = n;
    info.operandKind = k;
    return done(Type::array(k, static_cast<unsigned>(rank), Type::Layout::C));
  }
  case Builtin::Outer: {
    if (!arity(2, 2) || !needArray(0) || !needArray(1))
      return {};
    ScalarKind k = promote(args[0].scalarKind(), args[1].scalarKind());
    info.operandKind = k;
    return done(Type::array(isBool(k) ? ScalarKind::Bool : k, 2, Type::Layout::C));
  }
  case Builtin::Eye:
  case Builtin::Identity: {
    // np.eye(N, M=None, k=0), np.identity(n): integers; dtype= (float64).
    if (!arity(1, b == Builtin::Eye ? 3 : 1))
      return {};
    for (size_t i = 0; i < args.size(); ++i)
      if (!(i == 1 && args[i].isNone()) &&
          (!args[i].isScalar() || !isInteger(args[i].scalarKind()))) {
        error(ops[i]->range(), fmt::format("{}() takes integers, not '{}'", fn,
                                           args[i].describe()));
        return {};
      }
    return done(Type::array(dtype.value_or(ScalarKind::F64), 2, Type::Layout::C));
  }
  case Builtin::Trace: {
    // The sum of the diagonal (offset k) of a 2-d array, as np.sum's type.
    if (!arity(1, 2) || !needArray(0))
      return {};
    if (args[0].rank() != 2) {
      error(ops[0]->range(), fmt::format("trace() takes a 2-d array, not '{}'",
                                         args[0].describe()));
      return {};
    }
    if (args.size() == 2 && (!args[1].isScalar() || !isInteger(args[1].scalarKind()))) {
      error(ops[1]->range(), fmt::format("trace()'s offset must be an integer, not '{}'",
                                         args[1].describe()));
      return {};
    }
    ScalarKind k = args[0].scalarKind();
    ScalarKind r =
        isBool(k) || isSignedInt(k) ? ScalarKind::I64 : isUnsignedInt(k) ? ScalarKind::U64 : k;
    info.operandKind = dtype.value_or(r);
    return done(Type::scalar(info.operandKind));
  }
  case Builtin::Flip:
  case Builtin::Fliplr:
  case Builtin::Flipud: {
    // Views with reversed axes: all (np.flip(a)), axis=k, 1 or 0.
    if (b == Builtin::Flip)
      positionalAxis(1);
    if (!arity(1, 1) || !needArray(0))
      return {};
    const int64_t rank = args[0].rank();
    if (b == Builtin::Fliplr && rank < 2) {
      error(ops[0]->range(), "fliplr() takes an array of 2 or more dimensions");
      return {};
    }
    info.permutation.clear();
    if (b == Builtin::Flip && axisExpr) {
      auto a = constantAxis(*axisExpr, rank, true);
      if (!a)
        return {};
      if (*a >= 0)
        info.permutation.push_back(static_cast<unsigned>(*a));
    }
    if (b == Builtin::Fliplr)
      info.permutation.push_back(1);
    if (b == Builtin::Flipud)
      info.permutation.push_back(0);
    if (info.permutation.empty()) // every axis
      for (unsigned d = 0; d < rank; ++d)
        info.permutation.push_back(d);
    return done(Type::array(args[0].scalarKind(), static_cast<unsigned>(rank),
                            Type::Layout::Any));
  }
  case Builtin::Unique: {
    // np.unique(ar, return_index=False, return_inverse=False,
    // return_counts=False, axis=None, equal_nan=True): the sorted distinct
    // elements, then those asked for (CallInfo::flags 1, 2, 4; 8: NaNs
    // distinct).
    const std::vector<const char *> names = {"ar",           "return_index", "return_inverse",
                                             "return_counts", "axis",        "equal_nan"};
    if (!bindParams(names, 1) ||
        !wantParam(0, types[0].isArray(), "ar", "an array"))
      return {};
    int flags = 0;
    for (size_t i = 1; i <= 5; ++i) {
      if (!given[i] || i == 4)
        continue;
      auto *lit = dyn_cast<ast::BoolLit>(given[i]);
      if (!lit) {
        error(given[i]->range(), fmt::format("unique()'s {} must be True or False", names[i]),
              "stn needs it when it compiles the call: it decides what the call returns");
        return {};
      }
      if (i == 5 ? !lit->value : lit->value)
        flags |= i == 5 ? 8 : 1 << (i - 1);
    }
    if (given[4] && !types[4].isNone()) {
      error(given[4]->range(), "unique() takes axis=None only: the distinct elements of all of "
                               "the array",
            "for distinct rows, sort them and compare neighbours in a loop");
      return {};
    }
    info.flags = flags;
    info.operands = {given[0]};
    Type u = Type::array(types[0].scalarKind(), 1, Type::Layout::C);
    if (!(flags & 7))
      return done(u);
    std::vector<Type> parts{u};
    Type i64s = Type::array(ScalarKind::I64, 1, Type::Layout::C);
    if (flags & 1)
      parts.push_back(i64s);
    if (flags & 2) // (NumPy 2: the input's shape, so that unique[inverse] is the input)
      parts.push_back(Type::array(ScalarKind::I64, types[0].rank(), Type::Layout::C));
    if (flags & 4)
      parts.push_back(i64s);
    return done(Type::tuple(std::move(parts)));
  }
  case Builtin::Searchsorted:
  case Builtin::Bincount:
  case Builtin::Histogram:
  case Builtin::Interp: {
    // Parameters by position or keyword; operands in that order, null where
    // not given. side= is a string literal.
    std::vector<const char *> names =
        b == Builtin::Searchsorted ? std::vector<const char *>{"a", "v", "side"}
        : b == Builtin::Bincount   ? std::vector<const char *>{"x", "weights", "minlength"}
        : b == Builtin::Histogram  ? std::vector<const char *>{"a", "bins", "range"}
                                   : std::vector<const char *>{"x", "xp", "fp", "left", "right"};
    size_t required = b == Builtin::Interp ? 3 : b == Builtin::Searchsorted ? 2 : 1;
    if (!bindParams(names, required, {"side"}))
      return {};
    if (b == Builtin::Searchsorted) {
      if (given[2]) {
        auto *str = dyn_cast<ast::StrLit>(given[2]);
        if (!str || (str->value != "left" && str->value != "right")) {
          error(given[2]->range(), "searchsorted()'s side is \"left\" or \"right\"");
          return {};
        }
        info.sideRight = str->value == "right";
      }
      info.operands.resize(2);
    }
    auto isReal = [](const Type &t) { return !isComplex(t.scalarKind()); };
    auto isInt = [](const Type &t) {
      return isInteger(t.scalarKind()) || isBool(t.scalarKind());
    };
    auto want = [&](size_t i, bool ok, const char *what) {
      return wantParam(i, ok, names[i], what);
    };
    auto vector1d = [](const Type &t) { return t.isArray() && t.rank() == 1; };
    switch (b) {
    case Builtin::Searchsorted: {
      if (!want(0, vector1d(types[0]) && isReal(types[0]), "a 1-d real array") ||
          !want(1, (types[1].isArray() || types[1].isScalar()) && isReal(types[1]),
                "a real array or number"))
        return {};
      if (types[1].isScalar())
        return done(Type::scalar(ScalarKind::I64));
      return done(Type::array(ScalarKind::I64, types[1].rank(), Type::Layout::C));
    }
    case Builtin::Bincount: {
      if (!want(0, vector1d(types[0]) && isInt(types[0]), "a 1-d array of integers") ||
          !want(1, vector1d(types[1]) && isReal(types[1]), "a 1-d real array") ||
          !want(2, types[2].isScalar() && isInt(types[2]), "an integer"))
        return {};
      return done(Type::array(given[1] ? ScalarKind::F64 : ScalarKind::I64, 1, Type::Layout::C));
    }
    case Builtin::Histogram: {
      bool rangeOk = types[2].isTuple() && types[2].elements().size() == 2;
      for (const Type &e : rangeOk ? types[2].elements() : std::vector<Type>())
        rangeOk = rangeOk && e.isScalar() && isReal(e);
      if (!want(0, types[0].isArray() && isReal(types[0]), "a real array") ||
          !want(1, (types[1].isScalar() && isInt(types[1])) ||
                       (vector1d(types[1]) && isReal(types[1])),
                "a number of bins or a 1-d array of bin edges") ||
          !want(2, rangeOk, "a tuple (lower, upper)"))
        return {};
      if (given[2] && given[1] && types[1].isArray()) {
        error(given[2]->range(), "histogram()'s range goes with a number of bins, not edges");
        return {};
      }
      return done(Type::tuple({Type::array(ScalarKind::I64, 1, Type::Layout::C),
                               Type::array(ScalarKind::F64, 1, Type::Layout::C)}));
    }
    default: { // Interp
      if (!want(0, (types[0].isArray() || types[0].isScalar()) && isReal(types[0]),
                "a real array or number") ||
          !want(1, vector1d(types[1]) && isReal(types[1]), "a 1-d real array") ||
          !want(2, vector1d(types[2]) && isReal(types[2]), "a 1-d real array") ||
          !want(3, types[3].isScalar() && isReal(types[3]), "a real number") ||
          !want(4, types[4].isScalar() && isReal(types[4]), "a real number"))
        return {};
      if (types[0].isScalar())
        return done(Type::scalar(ScalarKind::F64));
      return done(Type::array(ScalarKind::F64, types[0].rank(), Type::Layout::C));
    }
    }
  }
  case Builtin::Median:
  case Builtin::Percentile:
  case Builtin::Quantile: {
    // np.median(a, axis=None), np.percentile(a, q, axis=None), np.quantile:
    // of the sorted elements, NumPy's linear interpolation; q is a number.
    size_t n = b == Builtin::Median ? 1 : 2;
    positionalAxis(n);
    if (!arity(n, n) || !needArray(0))
      return {};
    // Several q at once: a 1-d array, a list or a tuple of numbers (flags
    // 1); the result has an axis for them first, as NumPy's.
    bool several = false;
    if (n == 2) {
      const Type &qt = args[1];
      bool tupleOfReals = qt.isTuple() && !qt.elements().empty();
      for (const Type &e : qt.isTuple() ? qt.elements() : std::vector<Type>())
        tupleOfReals = tupleOfReals && e.isScalar() && !isComplex(e.scalarKind());
      several = (qt.isArray() && qt.rank() == 1 && !isComplex(qt.scalarKind())) || tupleOfReals;
      if (!several && (!qt.isScalar() || isComplex(qt.scalarKind()))) {
        error(ops[1]->range(),
              fmt::format("{}() takes a {} as a real number, or several in a 1-d array, a "
                          "list or a tuple, not '{}'",
                          fn, b == Builtin::Percentile ? "percentile" : "quantile",
                          qt.describe()));
        return {};
      }
      if (several)
        info.flags = 1;
    }
    ScalarKind k = args[0].scalarKind();
    if (isComplex(k)) {
      error(ops[0]->range(), fmt::format("{}() is not defined for complex arrays", fn));
      return {};
    }
    const int64_t rank = args[0].rank();
    int axis = -1;
    if (axisExpr) {
      auto a = constantAxis(*axisExpr, rank, true, &info);
      if (!a)
        return {};
      axis = *a;
    }
    if (rank == 1)
      axis = -1;
    info.axis = axis;
    ScalarKind r = k == ScalarKind::F32 ? k : ScalarKind::F64;
    info.operandKind = r;
    unsigned resultRank = (axis < 0 ? 0u : static_cast<unsigned>(rank - 1)) + (several ? 1u : 0u);
    if (resultRank == 0)
      return done(Type::scalar(r));
    return done(Type::array(r, resultRank, Type::Layout::C));
  }
  case Builtin::Concatenate:
  case Builtin::Stack:
  case Builtin::Vstack:
  case Builtin::Hstack: {
    // A tuple of arrays of one rank, joined along an axis (stack: a new
    // one). vstack and hstack are concatenations along the first and the
    // second axis (vstack stacks 1-d arrays as rows, hstack joins them).
    if (b == Builtin::Concatenate || b == Builtin::Stack)
      positionalAxis(1);
    if (!arity(1, 1))
      return {};
    // A list of arrays: its items, as many as it holds when the call runs.
    const Type t = args[0].isArrayList() ? Type::tuple({args[0].listItem()}) : args[0];
    bool arrays = t.isTuple() && !t.elements().empty();
    for (const Type &e : arrays ? t.elements() : std::vector<Type>())
      arrays = arrays && e.isArray();
    if (!arrays) {
      error(ops[0]->range(),
            fmt::format("{}() takes a tuple or a list of arrays, not '{}'", fn, t.describe()),
            "write the arrays in parentheses or brackets: np.concatenate((a, b)), "
            "np.concatenate([a, b])");
      return {};
    }
    const unsigned rank = t.elements()[0].rank();
    ScalarKind k = t.elements()[0].scalarKind();
    for (const Type &e : t.elements()) {
      if (e.rank() != rank) {
        error(ops[0]->range(),
              fmt::format("{}() takes arrays of one number of dimensions, not {} and {}", fn,
                          rank, e.rank()),
              "make them the same with a[np.newaxis] or .reshape()");
        return {};
      }
      k = promote(k, e.scalarKind());
    }
    bool flat = false;
    int64_t axis = 0;
    if (axisExpr) {
      auto a = constantAxis(*axisExpr, rank + (b == Builtin::Stack ? 1 : 0),
                            b == Builtin::Concatenate);
      if (!a)
        return {};
      flat = *a < 0;
      axis = *a;
    }
    unsigned resultRank = rank;
    if (b == Builtin::Stack || (b == Builtin::Vstack && rank == 1)) {
      info.newAxis = true;
      resultRank = rank + 1;
    } else if (b == Builtin::Hstack && rank >= 2) {
      axis = 1;
    }
    info.operandKind = k;
    if (flat) {
      info.axis = -1;
      return done(Type::array(k, 1, Type::Layout::C));
    }
    info.axis = static_cast<int>(axis);
    return done(Type::array(k, resultRank, Type::Layout::C));
  }
  case Builtin::Sign:
  case Builtin::Square:
  case Builtin::Round: {
    // Elementwise, keeping the dtype (NumPy); Python's round(x) of a float
    // is an int64 and round(x, n) a float.
    if (!arity(1, b == Builtin::Round ? 2 : 1))
      return {};
    if (!args[0].isArray() && !args[0].isScalar()) {
      error(ops[0]->range(), fmt::format("{}() expects an array or a number, not '{}'", fn,
                                         args[0].describe()));
      return {};
    }
    ScalarKind k = args[0].scalarKind();
    if (isBool(k) || (isComplex(k) && b != Builtin::Square)) {
      error(ops[0]->range(),
            fmt::format("{}() is not defined for {}", fn, isBool(k) ? "bools" : "complex numbers"),
            isBool(k) ? "convert first: x.astype(np.int64)" : "");
      return {};
    }
    if (args.size() == 2) {
      if (!args[1].isScalar() || !isInteger(args[1].scalarKind())) {
        error(ops[1]->range(), fmt::format("round()'s number of decimals must be an integer, "
                                           "not '{}'",
                                           args[1].describe()));
        return {};
      }
      if (!isFloat(k)) {
        error(ops[1]->range(), "round() of integers with decimals is not supported",
              "integers are already whole: drop the decimals, or round a float");
        return {};
      }
    }
    info.operandKind = k;
    auto *name = dyn_cast<ast::Name>(c.func.get());
    bool python = b == Builtin::Round && !receiver && name && !P.FromImports.count(name->id);
    if (args[0].isScalar()) {
      if (python && isFloat(k) && args.size() == 1)
        return done(Type::scalar(ScalarKind::I64));
      return done(Type::scalar(k));
    }
    return done(Type::array(k, args[0].rank(), Type::Layout::C));
  }
  case Builtin::Roll: {
    // np.roll(a, shift, axis=None): a C-ordered copy, the elements moved
    // `shift` places along the axis (or along a.ravel()), wrapping around.
    positionalAxis(2);
    if (!arity(2, 2) || !needArray(0))
      return {};
    if (!args[1].isScalar() || !(isInteger(args[1].scalarKind()) || isBool(args[1].scalarKind()))) {
      error(ops[1]->range(),
            fmt::format("roll() takes one integer shift, not '{}'", args[1].describe()),
            "roll twice to shift along two axes");
      return {};
    }
    const int64_t rank = args[0].rank();
    info.axis = -1;
    if (axisExpr) {
      auto a = constantAxis(*axisExpr, rank, true);
      if (!a)
        return {};
      info.axis = *a;
    }
    return done(Type::array(args[0].scalarKind(), static_cast<unsigned>(rank), Type::Layout::C));
  }
  case Builtin::Repeat: {
    // np.repeat(a, repeats, axis=None): each element (or each slice along
    // the axis) `repeats` times; repeats one integer or one per element.
    if (!bindParams({"a", "repeats", "axis"}, 2))
      return {};
    bool vector = types[1].isArray() && types[1].rank() == 1 && integral(types[1].dtypeType());
    if (!wantParam(0, types[0].isArray() || types[0].isScalar(), "a", "an array or a number") ||
        !wantParam(1, integral(types[1]) || vector, "repeats",
                   "an integer or a 1-d array of integers"))
      return {};
    info.axis = -1;
    if (given[2]) {
      if (!types[0].isArray() && !types[2].isNone()) {
        error(given[2]->range(), "repeat() of a number takes no axis");
        return {};
      }
      auto a = constantAxis(*given[2], types[0].rank(), true);
      if (!a)
        return {};
      info.axis = *a;
    }
    ScalarKind k = types[0].scalarKind();
    if (info.axis < 0)
      return done(Type::array(k, 1, Type::Layout::C));
    return done(Type::array(k, types[0].rank(), Type::Layout::C));
  }
  case Builtin::Tile: {
    // np.tile(A, reps): A repeated reps[d] times along each axis; the
    // shorter of A's shape and reps gets leading ones.
    if (!bindParams({"A", "reps"}, 2))
      return {};
    bool repsOk = integral(types[1]);
    if (types[1].isTuple()) {
      repsOk = !types[1].elements().empty();
      for (const Type &e : types[1].elements())
        repsOk = repsOk && integral(e);
    }
    if (!wantParam(0, types[0].isArray() || types[0].isScalar(), "A", "an array or a number") ||
        !wantParam(1, repsOk, "reps", "an integer or a tuple of integers"))
      return {};
    unsigned n = types[1].isTuple() ? static_cast<unsigned>(types[1].elements().size()) : 1;
    unsigned rank = std::max(types[0].isArray() ? types[0].rank() : 0u, n);
    return done(Type::array(types[0].scalarKind(), rank, Type::Layout::C));
  }
  case Builtin::Cross: {
    // np.cross(a, b): of 3-vectors along the last axis; the other axes
    // broadcast.
    if (!bindParams({"a", "b"}, 2))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (!wantParam(i, types[i].isArray() && !isBool(types[i].scalarKind()), i ? "b" : "a",
                     "an array of numbers"))
        return {};
    std::string why;
    auto rule = arrayBinaryRule(ast::BinOpKind::Mul, types[0].scalarKind(), true, false,
                                types[1].scalarKind(), true, false, why);
    if (!rule) {
      error(c.range(), why);
      return {};
    }
    info.operandKind = rule->result;
    return done(Type::array(rule->result, std::max(types[0].rank(), types[1].rank()),
                            Type::Layout::C));
  }
  case Builtin::Append: {
    // np.append(arr, values, axis=None): both flattened and joined, or
    // joined along a constant axis (arrays of one rank).
    if (!bindParams({"arr", "values", "axis"}, 2))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (!wantParam(i, types[i].isArray() || types[i].isScalar(), i ? "values" : "arr",
                     "an array or a number"))
        return {};
    ScalarKind k = promote(types[0].scalarKind(), types[1].scalarKind());
    info.operandKind = k;
    info.axis = -1;
    if (given[2] && !types[2].isNone()) {
      if (!types[0].isArray() || !types[1].isArray() || types[0].rank() != types[1].rank()) {
        error(given[2]->range(),
              fmt::format("append() along an axis takes two arrays of one number of "
                          "dimensions, not '{}' and '{}'",
                          types[0].describe(), types[1].describe()),
              "make them the same with a[np.newaxis] or .reshape(), or leave out axis");
        return {};
      }
      auto a = constantAxis(*given[2], types[0].rank(), true);
      if (!a)
        return {};
      info.axis = *a;
      return done(Type::array(k, types[0].rank(), Type::Layout::C));
    }
    return done(Type::array(k, 1, Type::Layout::C));
  }
  case Builtin::Convolve: {
    // np.convolve(a, v, mode="full"): the discrete convolution of two
    // 1-d arrays.
    if (!bindParams({"a", "v", "mode"}, 2, {"mode"}))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (!wantParam(i, types[i].isArray() && types[i].rank() == 1 &&
                            !isBool(types[i].scalarKind()),
                     i ? "v" : "a", "a 1-d array of numbers"))
        return {};
    info.mode = 0;
    if (given[2]) {
      auto *str = dyn_cast<ast::StrLit>(given[2]);
      if (!str || (str->value != "full" && str->value != "same" && str->value != "valid")) {
        error(given[2]->range(), "convolve()'s mode is \"full\", \"same\" or \"valid\"");
        return {};
      }
      info.mode = str->value == "full" ? 0 : str->value == "same" ? 1 : 2;
    }
    ScalarKind k = promote(types[0].scalarKind(), types[1].scalarKind());
    info.operandKind = k;
    return done(Type::array(k, 1, Type::Layout::C));
  }
  case Builtin::Digitize: {
    // np.digitize(x, bins, right=False): the bin of each x, for bins that
    // increase or decrease.
    if (!bindParams({"x", "bins", "right"}, 2))
      return {};
    auto real = [](const Type &t) { return !isComplex(t.scalarKind()); };
    if (!wantParam(0, (types[0].isArray() || types[0].isScalar()) && real(types[0]), "x",
                   "a real array or number") ||
        !wantParam(1, types[1].isArray() && types[1].rank() == 1 && real(types[1]), "bins",
                   "a 1-d real array") ||
        !wantParam(2, types[2].isScalar() && isBool(types[2].scalarKind()), "right", "a bool"))
      return {};
    if (types[0].isScalar())
      return done(Type::scalar(ScalarKind::I64));
    return done(Type::array(ScalarKind::I64, types[0].rank(), Type::Layout::C));
  }
  case Builtin::Isin: {
    // np.isin(element, test_elements, assume_unique=False, invert=False):
    // whether each element is among the test elements.
    if (!bindParams({"element", "test_elements", "assume_unique", "invert"}, 2))
      return {};
    auto real = [](const Type &t) {
      return (t.isArray() || t.isScalar()) && !isComplex(t.scalarKind());
    };
    auto flag = [](const Type &t) { return t.isScalar() && isBool(t.scalarKind()); };
    if (!wantParam(0, real(types[0]), "element", "a real array or number") ||
        !wantParam(1, real(types[1]), "test_elements", "a real array or number") ||
        !wantParam(2, flag(types[2]), "assume_unique", "a bool") ||
        !wantParam(3, flag(types[3]), "invert", "a bool"))
      return {};
    info.operandKind = promote(types[0].scalarKind(), types[1].scalarKind());
    if (types[0].isScalar())
      return done(Type::scalar(ScalarKind::Bool));
    return done(Type::array(ScalarKind::Bool, types[0].rank(), Type::Layout::C));
  }
  case Builtin::RealPart:
  case Builtin::ImagPart:
  case Builtin::Conj: {
    // Elementwise: the parts of complex numbers (real numbers are their own
    // real part, with imaginary part 0, and their own conjugate).
    if (!arity(1, 1))
      return {};
    if (!args[0].isArray() && !args[0].isScalar()) {
      error(ops[0]->range(),
            fmt::format("{}() expects an array or a number, not '{}'", fn, args[0].describe()));
      return {};
    }
    ScalarKind k = args[0].scalarKind();
    if (b != Builtin::Conj && isComplex(k))
      k = complexPart(k);
    info.operandKind = args[0].scalarKind();
    if (args[0].isScalar())
      return done(Type::scalar(k));
    return done(Type::array(k, args[0].rank(), Type::Layout::C));
  }
  case Builtin::Triu:
  case Builtin::Tril: {
    // np.triu(m, k=0) / np.tril: a copy with the elements below (above)
    // the k-th diagonal of the last two axes zeroed.
    if (!bindParams({"m", "k"}, 1))
      return {};
    if (!wantParam(0, types[0].isArray() && types[0].rank() >= 2, "m",
                   "an array of 2 or more dimensions") ||
        !wantParam(1, integral(types[1]), "k", "an integer"))
      return {};
    return done(Type::array(types[0].scalarKind(), types[0].rank(), Type::Layout::C));
  }
  case Builtin::Diag:
  case Builtin::Diagflat: {
    // np.diag(v, k=0): a 1-d v on the k-th diagonal of a new square array,
    // or the k-th diagonal of a 2-d v (np.diagonal(a, offset=0),
    // a.diagonal(): of a 2-d array); np.diagflat(v, k=0): v flattened.
    bool diagonal = false;
    if (auto *a = dyn_cast<ast::Attribute>(c.func.get()))
      diagonal = a->attr == "diagonal";
    if (receiver)
      diagonal = true;
    if (diagonal)
      fn = "diagonal";
    if (!bindParams({diagonal ? "a" : "v", diagonal ? "offset" : "k"}, 1))
      return {};
    const Type &v = types[0];
    const char *what = b == Builtin::Diagflat ? "an array"
                       : diagonal             ? "a 2-d array"
                                              : "a 1-d or 2-d array";
    bool ok = v.isArray() && (b == Builtin::Diagflat ||
                              (diagonal ? v.rank() == 2 : v.rank() == 1 || v.rank() == 2));
    if (!wantParam(0, ok, diagonal ? "a" : "v", what) ||
        !wantParam(1, integral(types[1]) && !isBool(types[1].scalarKind()),
                   diagonal ? "offset" : "k", "an integer"))
      return {};
    info.mode = b == Builtin::Diagflat || v.rank() == 1; // 1: makes a matrix
    return done(Type::array(v.scalarKind(), info.mode ? 2 : 1, Type::Layout::C));
  }
  case Builtin::Kron: {
    // np.kron(a, b): blocks a[i] * b, the ranks padded with leading ones.
    if (!bindParams({"a", "b"}, 2))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (!wantParam(i, types[i].isArray(), i ? "b" : "a", "an array"))
        return {};
    ScalarKind k = promote(types[0].scalarKind(), types[1].scalarKind());
    info.operandKind = k;
    return done(Type::array(k, std::max(types[0].rank(), types[1].rank()), Type::Layout::C));
  }
  case Builtin::Delete: {
    // np.delete(arr, obj, axis=None): a copy of arr without the positions
    // obj names (an integer, or a 1-d array or list of integers or of
    // booleans), along a constant axis or of the flattened array.
    if (!bindParams({"arr", "obj", "axis"}, 2))
      return {};
    types[1] = viewList(*given[1], types[1]);
    const Type &o = types[1];
    bool positions = (integral(o) && !isBool(o.scalarKind())) ||
                     (o.isArray() && o.rank() == 1 &&
                      (isInteger(o.scalarKind()) || isBool(o.scalarKind())));
    if (!wantParam(0, types[0].isArray(), "arr", "an array") ||
        !wantParam(1, positions, "obj", "an integer or a 1-d array of integers or booleans"))
      return {};
    info.axis = -1;
    if (given[2]) {
      auto a = constantAxis(*given[2], types[0].rank(), true);
      if (!a)
        return {};
      info.axis = *a;
    }
    return done(Type::array(types[0].scalarKind(), info.axis < 0 ? 1 : types[0].rank(),
                            Type::Layout::C));
  }
  case Builtin::Insert: {
    // np.insert(arr, obj, values, axis=None): a copy of arr with values
    // inserted before the positions obj names (an integer, or a 1-d array
    // or list of integers), along a constant axis or into the flattened
    // array. CallInfo::flags 1: obj is one integer.
    if (!bindParams({"arr", "obj", "values", "axis"}, 3))
      return {};
    types[0] = viewList(*given[0], types[0]);
    types[1] = viewList(*given[1], types[1]);
    types[2] = viewList(*given[2], types[2]);
    const Type &o = types[1], &v = types[2];
    bool positions = (integral(o) && !isBool(o.scalarKind())) ||
                     (o.isArray() && o.rank() == 1 && isInteger(o.scalarKind()));
    if (!wantParam(0, types[0].isArray(), "arr", "an array") ||
        !wantParam(1, positions, "obj", "an integer or a 1-d array of integers") ||
        !wantParam(2, v.isArray() || v.isScalar(), "values", "a number or an array"))
      return {};
    const ScalarKind k = types[0].scalarKind();
    if (isComplex(v.scalarKind()) && !isComplex(k)) {
      error(given[2]->range(), fmt::format("cannot convert complex values to {}", numpyName(k)),
            "take z.real or abs(z) first");
      return {};
    }
    info.axis = -1;
    if (given[3] && !types[3].isNone()) {
      auto a = constantAxis(*given[3], types[0].rank(), true);
      if (!a)
        return {};
      info.axis = *a;
    }
    unsigned rank = info.axis < 0 ? 1 : types[0].rank();
    if (v.isArray() && v.rank() > rank) {
      error(given[2]->range(),
            fmt::format("insert()'s values have {} dimensions, more than the {}-dimensional "
                        "array they go into",
                        v.rank(), rank),
            info.axis < 0 ? "without axis= the array is flattened: insert values.ravel()" : "");
      return {};
    }
    info.flags = o.isScalar() ? 1 : 0;
    info.operands = {given[0], given[1], given[2]};
    return done(Type::array(k, rank, Type::Layout::C));
  }
  case Builtin::Vdot: {
    // np.vdot(a, b): the dot product of the flattened arrays, a conjugated.
    if (!bindParams({"a", "b"}, 2))
      return {};
    for (size_t i = 0; i < 2; ++i)
      if (!wantParam(i, types[i].isArray() || types[i].isScalar(), i ? "b" : "a",
                     "an array or a number"))
        return {};
    ScalarKind k = promote(types[0].scalarKind(), types[1].scalarKind());
    info.operandKind = k;
    return done(Type::scalar(k));
  }
  case Builtin::Linalg: {
    // np.linalg.<name>: float64 (complex128) work on each matrix of a stack,
    // the results in float32 (complex64) where the operands are.
    using LF = LinalgFunction;
    const std::string name = llvm::cast<ast::Attribute>(c.func.get())->attr;
    LF lf = *linalgFunction(name);
    fn = "linalg." + name;
    info.mode = static_cast<int>(lf);
    if (F.onGpu()) {
      error(c.range(), fmt::format("np.{}() is not available in GPU code", fn),
            "solve on the host, before or after the launch");
      return {};
    }
    std::vector<const char *> names = {"a"};
    size_t required = 1;
    switch (lf) {
    case LF::Solve:
    case LF::Lstsq:
      names = {"a", "b", "rcond"};
      required = 2;
      if (lf == LF::Solve)
        names.pop_back();
      break;
    case LF::Cholesky: names = {"a", "upper"}; break;
    case LF::MatrixPower: names = {"a", "n"}, required = 2; break;
    case LF::Eigh:
    case LF::Eigvalsh: names = {"a", "UPLO"}; break;
    case LF::Svd: names = {"a", "full_matrices", "compute_uv", "hermitian"}; break;
    case LF::Qr: names = {"a", "mode"}; break;
    case LF::Pinv: names = {"a", "rcond", "hermitian"}; break;
    case LF::MatrixRank: names = {"A", "tol", "hermitian"}; break;
    case LF::Cond: names = {"x", "p"}; break;
    default: break;
    }
    if (!bindParams(names, required, {"mode", "UPLO", "p"})) // qr's, eigh's, cond's
      return {};
    auto constFlag = [&](size_t i, int bit, bool byDefault) {
      if (!given[i])
        return byDefault ? (info.flags |= bit, true) : true;
      auto *lit = dyn_cast<ast::BoolLit>(given[i]);
      if (!lit) {
        error(given[i]->range(), fmt::format("{}()'s {} must be True or False", fn, names[i]),
              "stn needs it when it compiles the call: it decides the shape of the result");
        return false;
      }
      if (lit->value)
        info.flags |= bit;
      return true;
    };
    const Type &a = types[0];
    unsigned minRank = lf == LF::MatrixRank ? 1 : 2;
    if (!wantParam(0, a.isArray() && a.rank() >= minRank, names[0],
                   minRank == 1 ? "an array" : "an array of 2 or more dimensions (a matrix)"))
      return {};
    ScalarKind ak = a.scalarKind();
    ScalarKind operandKind = ak;
    if (lf == LF::Solve || lf == LF::Lstsq) {
      const Type &bt = types[1];
      if (!wantParam(1, bt.isArray() && (lf == LF::Solve || bt.rank() <= 2), "b",
                     lf == LF::Lstsq ? "a 1-d or 2-d array" : "an array"))
        return {};
      if (lf == LF::Lstsq && a.rank() != 2) {
        error(given[0]->range(),
              fmt::format("linalg.lstsq()'s a must be a 2-d array, not '{}'", a.describe()));
        return {};
      }
      operandKind = promote(ak, bt.scalarKind());
    }
    // The work kind (info.operandKind) and the result's.
    bool cplx = isComplex(operandKind);
    info.operandKind = cplx ? ScalarKind::C128 : ScalarKind::F64;
    ScalarKind rk = operandKind == ScalarKind::F32 || operandKind == ScalarKind::C64
                        ? operandKind
                        : info.operandKind;
    ScalarKind realK = isComplex(rk) ? complexPart(rk) : rk;
    unsigned r = a.rank();
    auto stacked = [&](ScalarKind k, unsigned dropped) {
      return r - dropped == 0 ? Type::scalar(k) : Type::array(k, r - dropped, Type::Layout::C);
    };
    auto real = [&](size_t i, const char *what) {
      return wantParam(i, types[i].isScalar() && !isComplex(types[i].scalarKind()), names[i],
                       what);
    };
    switch (lf) {
    case LF::Det:
      return done(stacked(rk, 2));
    case LF::Slogdet:
      return done(Type::tuple({stacked(rk, 2), stacked(realK, 2)}));
    case LF::Inv:
    case LF::Pinv:
      if (lf == LF::Pinv && (!real(1, "a real number") || !constFlag(2, 0, false)))
        return {};
      return done(Type::array(rk, r, Type::Layout::C));
    case LF::Cholesky:
      if (!constFlag(1, LinalgUpper, false))
        return {};
      return done(Type::array(rk, r, Type::Layout::C));
    case LF::Solve: {
      // NumPy 2: a 1-d b is one vector for every matrix of a; otherwise b
      // is a stack of (M, K) matrices broadcast with a's.
      unsigned br = types[1].rank();
      return done(Type::array(rk, br == 1 ? r - 1 : std::max(r, br), Type::Layout::C));
    }
    case LF::MatrixPower: {
      if (!wantParam(1, integral(types[1]) && !isBool(types[1].scalarKind()), "n",
                     "an integer"))
        return {};
      if (!isFloat(ak) && !isComplex(ak)) {
        // Integer and bool matrices keep their kind, as NumPy's; a negative
        // constant power inverts, in float64.
        auto n = foldIndex(*given[1]);
        if (n && n->i < 0)
          return done(Type::array(ScalarKind::F64, r, Type::Layout::C));
        info.operandKind = ak;
        return done(Type::array(ak, r, Type::Layout::C));
      }
      return done(Type::array(rk, r, Type::Layout::C));
    }
    case LF::Eig:
      return done(Type::tuple(
          {Type::array(rk, r - 1, Type::Layout::C), Type::array(rk, r, Type::Layout::C)}));
    case LF::Eigvals:
      return done(Type::array(rk, r - 1, Type::Layout::C));
    case LF::Eigh:
    case LF::Eigvalsh: {
      if (given[1]) {
        auto *str = dyn_cast<ast::StrLit>(given[1]);
        if (!str || (str->value != "L" && str->value != "U")) {
          error(given[1]->range(), fmt::format("{}()'s UPLO is \"L\" or \"U\"", fn));
          return {};
        }
        if (str->value == "U")
          info.flags |= LinalgUpper;
      }
      Type w = Type::array(realK, r - 1, Type::Layout::C);
      if (lf == LF::Eigvalsh)
        return done(w);
      return done(Type::tuple({w, Type::array(rk, r, Type::Layout::C)}));
    }
    case LF::Svd: {
      if (!constFlag(1, LinalgFullMatrices, true) || !constFlag(2, LinalgComputeUV, true) ||
          !constFlag(3, 0, false))
        return {};
      Type sv = Type::array(realK, r - 1, Type::Layout::C);
      if (!(info.flags & LinalgComputeUV))
        return done(sv);
      Type m = Type::array(rk, r, Type::Layout::C);
      return done(Type::tuple({m, sv, m}));
    }
    case LF::Qr: {
      if (given[1]) {
        auto *str = dyn_cast<ast::StrLit>(given[1]);
        if (!str || (str->value != "reduced" && str->value != "complete" && str->value != "r")) {
          error(given[1]->range(),
                "linalg.qr()'s mode is \"reduced\", \"complete\" or \"r\" in stn",
                "mode=\"raw\" (LAPACK's Householder vectors) is not supported");
          return {};
        }
        info.flags |= str->value == "complete" ? LinalgComplete
                      : str->value == "r"      ? LinalgROnly
                                               : 0;
      }
      Type m = Type::array(rk, r, Type::Layout::C);
      if (info.flags & LinalgROnly)
        return done(m);
      return done(Type::tuple({m, m}));
    }
    case LF::Lstsq: {
      if (given[2] && !types[2].isNone() && !real(2, "a real number or None"))
        return {};
      Type v = Type::array(realK, 1, Type::Layout::C);
      return done(Type::tuple({Type::array(rk, types[1].rank(), Type::Layout::C), v,
                               Type::scalar(ScalarKind::I64), v}));
    }
    case LF::MatrixRank:
      if ((given[1] && !types[1].isNone() && !real(1, "a real number or None")) ||
          !constFlag(2, 0, false))
        return {};
      return done(r <= 2 ? Type::scalar(ScalarKind::I64)
                         : Type::array(ScalarKind::I64, r - 2, Type::Layout::C));
    case LF::Cond: {
      auto order = normOrder(given[1], types[1], true);
      if (!order || (*order == NormOrder::Number && !matrixNormOrder(*given[1], true)))
        return {};
      info.flags = static_cast<int>(*order);
      return done(stacked(realK, 2));
    }
    }
    return {};
  }
  case Builtin::Norm: {
    // np.linalg.norm(x, ord=None, axis=None, keepdims=False), NumPy's rules:
    // with neither ord nor axis the 2-norm of all the elements; else a
    // vector norm along one axis or a matrix norm over two (axis=None: a
    // 1-d x is a vector, a 2-d one a matrix). The result is in the float
    // kind of the elements (float64 for integers, the parts' for complex).
    fn = "linalg.norm";
    if (!bindParams({"x", "ord", "axis", "keepdims"}, 1, {"ord"}) ||
        !wantParam(0, types[0].isArray(), "x", "an array"))
      return {};
    const int64_t rank = types[0].rank();
    ScalarKind ak = types[0].scalarKind();
    info.operandKind = isComplex(ak) ? complexPart(ak) : isFloat(ak) ? ak : ScalarKind::F64;
    auto order = normOrder(given[1], types[1], false);
    if (!order)
      return {};
    info.mode = static_cast<int>(*order);
    bool keep = false;
    if (given[3]) {
      auto *lit = dyn_cast<ast::BoolLit>(given[3]);
      if (!lit) {
        error(given[3]->range(), "linalg.norm()'s keepdims must be True or False",
              "stn needs it when it compiles the call: it decides the rank of the result");
        return {};
      }
      keep = lit->value;
    }
    info.flags = keep ? 1 : 0;
    std::vector<unsigned> axes; // empty: all, flattened
    if (given[2] && !types[2].isNone()) {
      std::vector<const ast::Expr *> items = ast::tupleItems(*given[2]);
      if (items.empty() || items.size() > 2) {
        error(given[2]->range(), "linalg.norm()'s axis must be an integer or a tuple of 2 "
                                 "(a vector norm along one axis, a matrix norm over two)");
        return {};
      }
      for (const ast::Expr *e : items) {
        auto a = constantAxis(*e, rank, false);
        if (!a)
          return {};
        axes.push_back(static_cast<unsigned>(*a));
      }
      if (axes.size() == 2 && axes[0] == axes[1]) {
        error(given[2]->range(), "linalg.norm()'s axis names the same axis twice");
        return {};
      }
    } else if (*order != NormOrder::Default) {
      // ord without axis: NumPy's vector norm of a 1-d x, matrix norm of a
      // 2-d one ("fro" of a 2-d x is the 2-norm of its elements, either way).
      if (rank > 2) {
        error(given[0]->range(),
              fmt::format("linalg.norm() with ord needs a 1-d or 2-d array, not '{}'",
                          types[0].describe()),
              "name the axes: axis=k for vector norms, axis=(j, k) for matrix norms");
        return {};
      }
      for (unsigned d = 0; d < rank; ++d)
        axes.push_back(d);
    }
    if (axes.size() == 1 && (*order == NormOrder::Fro || *order == NormOrder::Nuc)) {
      error(given[1]->range(),
            fmt::format("linalg.norm()'s ord \"{}\" is a matrix norm, for 2 axes",
                        *order == NormOrder::Fro ? "fro" : "nuc"),
            "vector norms take None or a number (np.inf, -np.inf, 0, 1, 2, ...)");
      return {};
    }
    if (axes.size() == 2 && *order == NormOrder::Number && !matrixNormOrder(*given[1], false))
      return {};
    if (F.onGpu() && (given[1] || given[2] || given[3])) {
      error(c.range(), "linalg.norm()'s ord, axis and keepdims are not available in GPU code",
            "np.linalg.norm(x) (the 2-norm of all the elements) is");
      return {};
    }
    info.permutation = axes;
    unsigned left = keep ? rank : axes.empty() ? 0 : rank - axes.size();
    return done(left == 0 ? Type::scalar(info.operandKind)
                          : Type::array(info.operandKind, left, Type::Layout::C));
  }
  case Builtin::Nonzero:
  case Builtin::Flatnonzero:
  case Builtin::Argwhere: {
    if (!arity(1, 1) || !needArray(0))
      return {};
    unsigned rank = args[0].rank(); // arrays have at least one dimension
    Type index = Type::array(ScalarKind::I64, 1, Type::Layout::C);
    if (info.builtin == Builtin::Flatnonzero)
      return done(index);
    if (info.builtin == Builtin::Argwhere)
      return done(Type::array(ScalarKind::I64, 2, Type::Layout::C));
    return done(Type::tuple(std::vector<Type>(rank, index)));
  }
  case Builtin::Where:
  case Builtin::Minimum:
  case Builtin::Maximum: {
    size_t n = b == Builtin::Where ? 3 : 2;
    if (!arity(n, n))
      return {};
    unsigned rank = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!args[i].isArray() && !args[i].isScalar()) {
        error(ops[i]->range(), fmt::format("{}() expects arrays or numbers", fn));
        return {};
      }
      rank = std::max(rank, args[i].isArray() ? args[i].rank() : 0u);
    }
    size_t x = n - 2, y = n - 1;
    ScalarKind k =
        args[x].isArray() && args[y].isArray() ? promote(args[x].scalarKind(), args[y].scalarKind())
        : args[x].isArray() ? promoteArrayOperand(args[x].scalarKind(), args[y].scalarKind(),
                                                  weak(*ops[y]))
        : args[y].isArray() ? promoteArrayOperand(args[y].scalarKind(), args[x].scalarKind(),
                                                  weak(*ops[x]))
                            : promote(args[x].scalarKind(), args[y].scalarKind());
    if (b != Builtin::Where && isComplex(k)) {
      error(c.range(), fmt::format("{}() is not defined for complex numbers", fn));
      return {};
    }
    info.operandKind = k;
    if (rank == 0)
      return done(Type::scalar(k));
    return done(Type::array(k, rank, Type::Layout::C));
  }
  default:
    break;
  }
  error(c.range(), fmt::format("{}() is not supported here", fn));
  return {};
}

//===----------------------------------------------------------------------===//
// GPU intrinsics (explicit SIMT kernels, docs/gpu.md)
//===----------------------------------------------------------------------===//

std::string FunctionChecker::gpuPath(const ast::Expr &e) {
  std::vector<std::string> parts;
  const ast::Expr *x = &e;
  while (auto *a = dyn_cast<ast::Attribute>(x)) {
    parts.insert(parts.begin(), a->attr);
    x = a->value.get();
  }
  auto *root = dyn_cast<ast::Name>(x);
  if (!root || Vars.count(root->id) || Assigned.count(root->id) ||
      P.Constants.count(root->id) || P.kernel(root->id))
    return {};
  parts.insert(parts.begin(), root->id);
  auto alias = P.ModuleAliases.find(parts[0]);
  auto from = P.FromImports.find(parts[0]);
  bool isNumba = alias != P.ModuleAliases.end() &&
                 (alias->second == "numba" || alias->second == "numba.cuda");
  size_t skip = 0;
  if (isNumba && parts.size() > 2 && parts[1] == "cuda")
    skip = 2; // numba.cuda.grid
  else if ((alias != P.ModuleAliases.end() && alias->second == "numba.cuda") ||
           (from != P.FromImports.end() && from->second.second == "cuda") ||
           (alias == P.ModuleAliases.end() && from == P.FromImports.end() &&
            parts[0] == "cuda"))
    skip = 1; // cuda.grid (imported or not)
  else if (from != P.FromImports.end() && from->second.first.rfind("numba", 0) == 0)
    parts[0] = from->second.second; // from numba.cuda import grid
  else if (alias != P.ModuleAliases.end() || from != P.FromImports.end())
    return {}; // np.*, math.*, numba.prange, ...
  if (skip >= parts.size())
    return {};
  std::string path;
  for (size_t i = skip; i < parts.size(); ++i)
    path += (i > skip ? "." : "") + parts[i];
  static const std::set<std::string> known = {
      "threadIdx.x", "threadIdx.y", "threadIdx.z", "blockIdx.x",   "blockIdx.y",
      "blockIdx.z",  "blockDim.x",  "blockDim.y",  "blockDim.z",   "gridDim.x",
      "gridDim.y",   "gridDim.z",   "grid",        "gridsize",     "shared.array",
      "local.array", "syncthreads", "atomic.add",  "atomic.sub",   "atomic.min",
      "atomic.max",  "atomic.exch", "atomic.cas"};
  if (known.count(path))
    return path;
  // Under an explicit `cuda.` prefix every name is the GPU module's; a
  // bare unknown name is someone else's (reported by the resolver).
  return skip ? "?" + path : std::string();
}

Type FunctionChecker::gpuIntrinsic(const ast::Expr &e, const std::string &path,
                                   const ast::Call *call) {
  static const char *supported =
      "GPU code supports cuda.grid, cuda.gridsize, cuda.threadIdx/blockIdx/blockDim/gridDim"
      ".x/.y/.z, cuda.shared.array, cuda.local.array, cuda.syncthreads and cuda.atomic."
      "add/sub/min/max/exch/cas";
  if (path[0] == '?') {
    error(e.range(), fmt::format("'cuda.{}' is not supported in stn kernels", path.substr(1)),
          supported);
    return {};
  }
  std::string shown = "cuda." + path;
  if (!F.onGpu()) {
    error(e.range(),
          fmt::format("'{}' is a GPU intrinsic: it can only be used in a GPU kernel "
                      "(@cuda.jit or @kernel) or a device function (@cuda.jit(device=True))",
                      shown));
    return {};
  }
  GpuCall g;
  auto done = [&](Type t) {
    if (Final)
      F.gpu[&e] = g;
    return t;
  };
  static const std::pair<const char *, GpuOp> dims[] = {{"threadIdx", GpuOp::ThreadIdx},
                                                        {"blockIdx", GpuOp::BlockIdx},
                                                        {"blockDim", GpuOp::BlockDim},
                                                        {"gridDim", GpuOp::GridDim}};
  size_t dot = path.find('.');
  std::string head = path.substr(0, dot);
  for (auto &[n, op] : dims)
    if (head == n) {
      if (call) {
        error(call->range(), fmt::format("'{}' is a value, not a function", shown));
        return {};
      }
      g.op = op;
      g.dim = static_cast<unsigned>(path.back() - 'x');
      return done(Type::scalar(ScalarKind::I32));
    }
  if (!call) {
    error(e.range(), fmt::format("'{}' is a function: call it", shown));
    return {};
  }
  // Positional arguments, then keywords by name.
  auto params = [&](std::vector<const char *> names,
                    std::vector<const ast::Expr *> &out) -> bool {
    out.assign(names.size(), nullptr);
    if (call->args.size() > names.size()) {
      error(call->range(), fmt::format("{}() takes {} argument{} but {} were given", shown,
                                       names.size(), names.size() == 1 ? "" : "s",
                                       call->args.size()));
      return false;
    }
    for (size_t i = 0; i < call->args.size(); ++i)
      out[i] = call->args[i].get();
    for (auto &kw : call->keywords) {
      size_t i = 0;
      while (i < names.size() && kw.name != names[i])
        ++i;
      if (i == names.size() || out[i]) {
        error(kw.nameRange, fmt::format("{}() got an unexpected keyword argument '{}'", shown,
                                        kw.name));
        return false;
      }
      out[i] = kw.value.get();
    }
    for (size_t i = 0; i < names.size(); ++i)
      if (!out[i]) {
        error(call->range(), fmt::format("{}() is missing the argument '{}'", shown, names[i]));
        return false;
      }
    return true;
  };
  std::vector<const ast::Expr *> a;
  if (path == "grid" || path == "gridsize") {
    if (!params({"ndim"}, a))
      return {};
    auto n = foldIndex(*a[0]);
    if (!n || n->i < 1 || n->i > 3) {
      error(a[0]->range(), fmt::format("{}() takes a constant 1, 2 or 3", shown));
      return {};
    }
    g.op = path == "grid" ? GpuOp::Grid : GpuOp::GridSize;
    g.dim = static_cast<unsigned>(n->i);
    if (n->i == 1)
      return done(Type::scalar(ScalarKind::I64));
    return done(Type::tuple(std::vector<Type>(n->i, Type::scalar(ScalarKind::I64))));
  }
  if (path == "syncthreads") {
    if (!params({}, a))
      return {};
    g.op = GpuOp::SyncThreads;
    return done(Type::none());
  }
  if (path == "shared.array" || path == "local.array") {
    if (!params({"shape", "dtype"}, a))
      return {};
    g.op = path == "shared.array" ? GpuOp::SharedArray : GpuOp::LocalArray;
    // Module constants and literals only: the size is fixed at compile time.
    std::vector<const ast::Expr *> dims1 = ast::tupleItems(*a[0]);
    int64_t elems = 1;
    for (auto *d : dims1) {
      auto n = foldIndex(*d);
      if (!n || n->i <= 0 || n->i > (int64_t(1) << 20)) {
        error(d->range(),
              fmt::format("the shape of {} must be positive integer constants (literals or "
                          "module constants), fixed when the kernel is compiled",
                          shown));
        return {};
      }
      g.shape.push_back(n->i);
      elems *= n->i;
    }
    if (dims1.empty() || dims1.size() > 4) {
      error(a[0]->range(), fmt::format("{} supports 1 to 4 dimensions", shown));
      return {};
    }
    auto k = dtypeArgument(*a[1]);
    if (!k)
      return {};
    g.dtype = *k;
    int64_t bytes = elems * static_cast<int64_t>(byteSize(*k));
    if (g.op == GpuOp::SharedArray && bytes > 48 * 1024) {
      error(call->range(),
            fmt::format("this shared array takes {} bytes; statically allocated shared memory "
                        "is limited to 48 KiB per block",
                        bytes));
      return {};
    }
    return done(Type::array(*k, static_cast<unsigned>(g.shape.size()), Type::Layout::C));
  }
  // Atomics: (array, index, value) or cas's (array, index, old, value).
  static const std::pair<const char *, GpuOp> atomics[] = {
      {"atomic.add", GpuOp::AtomicAdd}, {"atomic.sub", GpuOp::AtomicSub},
      {"atomic.min", GpuOp::AtomicMin}, {"atomic.max", GpuOp::AtomicMax},
      {"atomic.exch", GpuOp::AtomicExch}, {"atomic.cas", GpuOp::AtomicCas}};
  for (auto &[n, op] : atomics) {
    if (path != n)
      continue;
    g.op = op;
    bool cas = op == GpuOp::AtomicCas;
    if (!(cas ? params({"ary", "idx", "old", "val"}, a) : params({"ary", "idx", "val"}, a)))
      return {};
    Type at = expr(*a[0]);
    if (!at.isValid())
      return {};
    if (!at.isArray()) {
      error(a[0]->range(), fmt::format("{}() updates an element of an array, not of a '{}'",
                                       shown, at.describe()));
      return {};
    }
    ScalarKind k = at.scalarKind();
    bool intOk = k == ScalarKind::I32 || k == ScalarKind::U32 || k == ScalarKind::I64 ||
                 k == ScalarKind::U64;
    bool floatOk = k == ScalarKind::F32 || k == ScalarKind::F64;
    if (!(intOk || (floatOk && !cas))) {
      error(a[0]->range(),
            fmt::format("{}() is not supported on arrays of {}; use {}", shown, numpyName(k),
                        cas ? "int32, uint32, int64 or uint64"
                            : "int32, uint32, int64, uint64, float32 or float64"));
      return {};
    }
    Type it = expr(*a[1]);
    if (!it.isValid())
      return {};
    std::vector<Type> idx = it.isTuple() ? it.elements() : std::vector<Type>{it};
    bool idxOk = idx.size() == at.rank();
    for (auto &t : idx)
      idxOk &= t.isScalar() && (isInteger(t.scalarKind()) || isBool(t.scalarKind()));
    if (!idxOk) {
      error(a[1]->range(), fmt::format("the index of a {}-dimensional array in {}() is {} "
                                       "integer{}",
                                       at.rank(), shown, at.rank() == 1 ? "an" : "a tuple of",
                                       at.rank() == 1 ? "" : "s"));
      return {};
    }
    for (size_t i = 2; i < a.size(); ++i) {
      Type vt = expr(*a[i]);
      if (!vt.isValid())
        return {};
      if (!vt.isScalar() || isComplex(vt.scalarKind())) {
        error(a[i]->range(), fmt::format("{}() takes a real number here, not '{}'", shown,
                                         vt.describe()));
        return {};
      }
    }
    g.dtype = k;
    g.operands = a;
    return done(Type::scalar(k));
  }
  error(e.range(), fmt::format("'{}' is not supported in stn kernels", shown), supported);
  return {};
}

/// The arguments of a call of @jit function `k` by parameter, as Python
/// binds them: positional ones (of types `args`), then keywords by name,
/// then default values (a null expression); with their types. Empty after
/// an error (Python's messages).
std::optional<std::pair<std::vector<const ast::Expr *>, std::vector<Type>>>
FunctionChecker::bindArguments(const ast::Call &c, const KernelDecl &k,
                               const std::vector<Type> &args, const Type *value) {
  // A local function's captured variables (Call::captured) go to its last
  // parameters; the rest is bound as written, to the parameters before.
  // Called through a function value, it takes the values captured in that
  // (their expressions are null: MLIRGen reads them from the value).
  const auto &params = k.def->params;
  const std::string &name = k.def->name;
  size_t all = params.size(), n = k.def->writtenParams(),
         required = Program::requiredArity(k), given = args.size() - c.captured;
  if (value ? value->elements().size() != k.def->captures || c.captured
            : c.captured != k.def->captures) {
    error(c.range(), fmt::format("internal compiler error: {} captured value(s) for '{}', "
                                 "which reads {}",
                                 c.captured, name, k.def->captures));
    return std::nullopt;
  }
  if (given > n) {
    error(c.range(), fmt::format("{}() takes {} positional argument{} but {} were given", name,
                                 required == n ? fmt::format("{}", n)
                                               : fmt::format("from {} to {}", required, n),
                                 n == 1 ? "" : "s", given));
    return std::nullopt;
  }
  std::vector<const ast::Expr *> bound(all, nullptr);
  std::vector<Type> types(all);
  for (size_t i = 0; i < given; ++i) {
    bound[i] = c.args[i].get();
    types[i] = args[i];
  }
  for (size_t i = given; i < args.size(); ++i) {
    bound[n + i - given] = c.args[i].get();
    types[n + i - given] = args[i];
  }
  if (value)
    for (size_t i = 0; i < value->elements().size(); ++i)
      types[n + i] = value->elements()[i];
  for (const ast::Keyword &kw : c.keywords) {
    auto end = params.begin() + static_cast<std::ptrdiff_t>(n);
    auto it = std::find_if(params.begin(), end,
                           [&](const ast::Param &p) { return p.name == kw.name; });
    if (it == end) {
      std::string names;
      for (auto p = params.begin(); p != end; ++p)
        names += (names.empty() ? "" : ", ") + p->name;
      error(kw.nameRange,
            fmt::format("{}() got an unexpected keyword argument '{}'", name, kw.name),
            fmt::format("its parameters are: {}", names.empty() ? "none" : names));
      return std::nullopt;
    }
    size_t i = static_cast<size_t>(it - params.begin());
    if (bound[i]) {
      error(kw.nameRange, fmt::format("{}() got multiple values for argument '{}'", name, kw.name));
      return std::nullopt;
    }
    Type t = expr(*kw.value);
    if (!t.isValid())
      return std::nullopt;
    if (t.isContainer()) {
      error(kw.value->range(),
            fmt::format("a kernel cannot take a {} ('{}')", t.containerName(), t.describe()),
            containerArgHint(t));
      return std::nullopt;
    }
    bound[i] = kw.value.get();
    types[i] = t;
  }
  std::vector<std::string> missing;
  for (size_t i = 0; i < n; ++i) {
    if (bound[i])
      continue;
    if (i < k.defaults.size() && k.defaults[i])
      types[i] = k.defaults[i]->type;
    else
      missing.push_back("'" + params[i].name + "'");
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size(); ++i)
      list += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
    error(c.range(), fmt::format("{}() missing {} required argument{}: {}", name, missing.size(),
                                 missing.size() == 1 ? "" : "s", list));
    return std::nullopt;
  }
  return std::make_pair(std::move(bound), std::move(types));
}

Type FunctionChecker::kernelCall(const ast::Call &c, const KernelDecl &k,
                                 const std::vector<Type> &args, const Type *value) {
  if (k.kind == KernelKind::Gpu) {
    error(c.range(),
          fmt::format("'{}' is a GPU kernel: it is launched from the host with a grid and a "
                      "block size, not called",
                      k.def->name),
          "to call it from GPU code, make it a device function: @cuda.jit(device=True)");
    return {};
  }
  if (k.gpuDevice && !F.onGpu()) {
    error(c.range(), fmt::format("'{}' is a GPU device function: only GPU code can call it",
                                 k.def->name));
    return {};
  }
  std::vector<const ast::Expr *> bound;
  std::vector<Type> callTypes = args;
  for (size_t i = 0; i < args.size() && k.kind != KernelKind::Jit; ++i)
    if (args[i].isFunction()) {
      error(c.args[i]->range(),
            fmt::format("'{}' is a {}: only @jit functions take functions as arguments",
                        k.def->name, kernelKindName(k.kind)),
            "call the function in a @jit function and pass its results");
      return {};
    }
  if (k.kind == KernelKind::Jit) {
    auto b = bindArguments(c, k, args, value);
    if (!b)
      return {};
    std::tie(bound, callTypes) = std::move(*b);
  }
  bool hasOut = false;
  for (auto &kw : c.keywords) {
    if (k.kind == KernelKind::Jit)
      break; // bound above
    if (kw.name == "out" && k.kind != KernelKind::Jit && !hasOut) {
      Type ot = expr(*kw.value);
      if (!ot.isValid())
        return {};
      if (!ot.isArray()) {
        error(kw.value->range(), fmt::format("out= must be an array, not '{}'", ot.describe()));
        return {};
      }
      hasOut = true;
      callTypes.push_back(ot);
      continue;
    }
    error(kw.nameRange,
          fmt::format("unknown keyword argument '{}' (only out= is accepted)", kw.name));
    return {};
  }
  // (A @jit callee's arguments were bound above, captured values included.)
  size_t arity = k.kind == KernelKind::Jit ? k.def->params.size() : Program::hostArity(k);
  if (callTypes.size() != arity + (hasOut ? 1 : 0)) {
    error(c.range(), fmt::format("{}() takes {} argument{} but {} were given", k.def->name,
                                 arity, arity == 1 ? "" : "s", args.size()));
    return {};
  }
  if (!k.signatures.empty() && k.kind == KernelKind::Jit) {
    std::string err;
    const Signature *sig = P.matchSignature(k, callTypes, err);
    if (!sig) {
      error(c.range(), err);
      return {};
    }
    callTypes = Program::signatureTypes(*sig, callTypes);
  }
  // Specialize silently in exploratory passes; report in the final one.
  DiagnosticEngine scratch;
  TypedFunction *callee = P.specialize(k, callTypes, Final ? Diags : scratch, hasOut);
  if (!callee) {
    Failed = true;
    if (Final)
      Diags.note(F.file, c.range(),
                 fmt::format("in the call of '{}' with argument types ({})", k.def->name,
                             argumentList(callTypes)));
    return {};
  }
  if (Final) {
    CallInfo info;
    info.kind = CallInfo::Kind::Kernel;
    info.callee = callee;
    info.operands = std::move(bound);
    info.calleeValue = value ? c.func.get() : nullptr;
    F.calls[&c] = info;
    if (std::find(F.callees.begin(), F.callees.end(), callee) == F.callees.end())
      F.callees.push_back(callee);
  }
  return callee->resultType;
}

Type FunctionChecker::call(const ast::Call &c) {
  if (auto *n = dyn_cast<ast::Name>(c.func.get()); n && n->id == "f-string") {
    error(c.range(), "an f-string is text, and stn kernels have no string values",
          "f-strings can be printed, print(f\"x = {x}\"), and be the message of a raise or "
          "an assert");
    return {};
  }
  if (std::string g = gpuPath(*c.func); !g.empty())
    return gpuIntrinsic(c, g, &c);
  if (auto *n = dyn_cast<ast::Name>(c.func.get());
      n && n->id == "print" && !Vars.count(n->id) && !P.kernel(n->id))
    return printCall(c);
  // Methods on values: z.conjugate().
  if (auto *a = dyn_cast<ast::Attribute>(c.func.get())) {
    bool isModule = false;
    if (auto *base = dyn_cast<ast::Name>(a->value.get()))
      isModule = !Vars.count(base->id) && P.ModuleAliases.count(base->id);
    // np.add(a, b, out=c) as a statement is `c[...] = a + b` (the parser's
    // ufuncOut); inside an expression it has no value stn gives.
    for (auto &kw : c.keywords)
      if (isModule && kw.name == "out") {
        error(kw.nameRange,
              "out= is supported where the call is a statement of its own",
              "write it on its own line (np.add(a, b, out=c)), then use the array it wrote");
        return {};
      }
    // np.random.<name>, np.linalg.<name>: functions of NumPy's modules.
    if (auto *inner = dyn_cast<ast::Attribute>(a->value.get());
        inner && (inner->attr == "random" || inner->attr == "linalg"))
      if (auto *base = dyn_cast<ast::Name>(inner->value.get()))
        isModule = !Vars.count(base->id) && P.ModuleAliases.count(base->id) &&
                   P.ModuleAliases.at(base->id) == "numpy";
    if (!isModule) {
      Type recv = expr(*a->value);
      if (!recv.isValid())
        return {};
      if (a->attr == "__delitem__" && !recv.isList() && (!recv.isDict() || recv.isSet())) {
        error(c.range(),
              fmt::format("del removes an entry of a dict or an item of a list, not an "
                          "element of '{}'",
                          recv.describe()),
              recv.isArray() ? "an array keeps its size: np.delete(a, i) is a new array "
                               "without element i"
              : recv.isSet() ? "remove an item of a set with s.discard(x) or s.remove(x)"
                             : "");
        return {};
      }
      if (recv.isList())
        return listMethod(c, *a, recv);
      if (recv.isSet())
        return setMethod(c, *a, recv);
      if (recv.isDict())
        return dictMethod(c, *a, recv);
      if (recv.isScalar() && (a->attr == "conjugate" || a->attr == "conj")) {
        if (!c.args.empty() || !c.keywords.empty()) {
          error(c.range(), "conjugate() takes no arguments");
          return {};
        }
        if (Final) {
          CallInfo info;
          info.builtin = Builtin::Conjugate;
          info.operandKind = recv.scalarKind();
          F.calls[&c] = info;
        }
        return recv;
      }
      if (recv.isArray())
        if (auto m = lookup(std::begin(ArrayMethods), std::end(ArrayMethods), a->attr)) {
          std::vector<Type> args;
          for (auto &arg : c.args) {
            if (*m == Builtin::Astype) {
              args.push_back(Type::none()); // a dtype, read by arrayBuiltin
              continue;
            }
            Type t = expr(*arg);
            if (!t.isValid())
              return {};
            args.push_back(t);
          }
          return arrayBuiltin(c, *m, a->value.get(), args);
        }
      error(a->attrRange, fmt::format("'{}' has no method '{}'", recv.describe(), a->attr));
      return {};
    }
  }
  std::vector<Type> args;
  bool ok = true;
  // np.zeros(n, np.int8): a positional dtype is no value.
  size_t dtypeAt = SIZE_MAX;
  // np.convolve(a, v, "same"), np.searchsorted(a, v, "right"): a positional
  // string is no value either.
  size_t stringAt = SIZE_MAX;
  {
    bool vn = false, vm = false;
    std::optional<ScalarKind> cast;
    auto b = resolveBuiltin(*c.func, vn, vm, cast);
    if (b && (*b == Builtin::ListOf || *b == Builtin::Sorted)) // iterables, as a loop's
      return listOf(c, *b);
    if (b && *b == Builtin::DictOf)
      return dictOf(c);
    if (b && *b == Builtin::SetOf)
      return setOf(c);
    if (b && (*b == Builtin::Min || *b == Builtin::Max) && !vn && !vm && overItems(c))
      return minMaxItems(c, *b);
    if (b) {
      if (*b == Builtin::Empty || *b == Builtin::Zeros || *b == Builtin::Ones ||
          *b == Builtin::ArrayOf || *b == Builtin::Asarray)
        dtypeAt = 1;
      else if (*b == Builtin::Full)
        dtypeAt = 2;
      else if (*b == Builtin::Convolve || *b == Builtin::Searchsorted)
        stringAt = 2; // mode, side: read by arrayBuiltin
      else if (*b == Builtin::Linalg || *b == Builtin::Norm)
        stringAt = 1; // qr's mode, eigh's UPLO, norm's ord, cond's p
      // sum(x * x for x in a): MLIRGen reduces the items as they are made
      // (no list), which GPU code can do too.
      bool fusedReduction = *b == Builtin::Sum || *b == Builtin::Prod ||
                            *b == Builtin::ReduceMin || *b == Builtin::ReduceMax ||
                            *b == Builtin::Min || *b == Builtin::Max || // max(items)
                            *b == Builtin::Any || *b == Builtin::All;
      if (fusedReduction && c.args.size() == 1 && c.keywords.empty())
        Reduced = dyn_cast<ast::ListComp>(c.args[0].get());
      bool joins = *b == Builtin::Concatenate || *b == Builtin::Stack ||
                   *b == Builtin::Vstack || *b == Builtin::Hstack;
      if (auto *l = c.args.empty() ? nullptr : dyn_cast<ast::List>(c.args[0].get());
          joins && l && !l->braces)
        ArraySequence = l;
    }
  }
  for (size_t i = 0; i < c.args.size(); ++i) {
    // np.array([...]): a nested list is typed by arrayBuiltin.
    if (i == dtypeAt || (i == 0 && dtypeAt == 1 && isDisplay(*c.args[0])) ||
        (i == stringAt && isa<ast::StrLit>(c.args[i].get()))) {
      args.push_back(Type::none());
      continue;
    }
    Type t = expr(*c.args[i]);
    if (!t.isValid())
      ok = false;
    args.push_back(t);
  }
  // Keyword values are checked by whoever takes them (kernel calls take
  // out=, array functions dtype= and num=): `dtype=np.int32` is no value.
  if (auto *n = dyn_cast<ast::Name>(c.func.get())) {
    if (!Vars.count(n->id) && !Assigned.count(n->id)) {
      if (const KernelDecl *k = P.kernel(n->id)) {
        if (!ok)
          return {};
        for (size_t i = 0; i < args.size(); ++i)
          if (i >= args.size() - c.captured) {
            if (!capturable(*c.args[i], args[i], k->def->name))
              return {};
          } else if (args[i].isContainer()) {
            error(c.args[i]->range(),
                  fmt::format("a kernel cannot take a {} ('{}')", args[i].containerName(),
                              args[i].describe()),
                  containerArgHint(args[i]));
            return {};
          }
        return kernelCall(c, *k, args);
      }
    }
  }
  if (auto *n = dyn_cast<ast::Name>(c.func.get()); n && Vars.count(n->id)) {
    // A call through a function value: a call of its function.
    Type ft = Vars[n->id].type;
    if (ft.isFunction()) {
      if (!ok)
        return {};
      const KernelDecl *k = P.kernel(ft.functionName());
      for (size_t i = 0; i < args.size(); ++i)
        if (args[i].isContainer()) {
          error(c.args[i]->range(),
                fmt::format("a kernel cannot take a {} ('{}')", args[i].containerName(),
                            args[i].describe()),
                containerArgHint(args[i]));
          return {};
        }
      if (Final)
        F.types[c.func.get()] = ft;
      return kernelCall(c, *k, args, &ft);
    }
  }
  bool viaNumpy = false, viaMath = false;
  std::optional<ScalarKind> cast;
  auto b = resolveBuiltin(*c.func, viaNumpy, viaMath, cast);
  if (!b) {
    if (auto *n = dyn_cast<ast::Name>(c.func.get()); n && Vars.count(n->id)) {
      error(n->range(), fmt::format("'{}' is a variable of type '{}', not a function",
                                    ast::sourceName(n->id),
                                    Vars[n->id].type.describe()));
      return {};
    }
    if (auto *a = dyn_cast<ast::Attribute>(c.func.get())) {
      // The dotted name as written: np.linalg.inv.
      std::string dotted = a->attr;
      const ast::Expr *e = a->value.get();
      while (auto *inner = dyn_cast<ast::Attribute>(e)) {
        dotted = inner->attr + "." + dotted;
        e = inner->value.get();
      }
      auto *base = dyn_cast<ast::Name>(e);
      error(a->attrRange, fmt::format("'{}.{}' is not supported in stn kernels",
                                      base ? base->id : std::string("?"), dotted));
      return {};
    }
    error(c.func->range(), "this expression is not callable");
    return {};
  }
  if (!ok)
    return {};
  // A list passed to a function is the array of its items; functions whose
  // result may be a view of it (np.asarray, np.reshape, ...) get a copy.
  auto *fn = dyn_cast<ast::Name>(c.func.get());
  bool python = fn && !viaNumpy && !viaMath; // Python's builtins, not NumPy's functions
  if (python && (*b == Builtin::Min || *b == Builtin::Max)) {
    // Items Python compares as tuples: min(pairs), min((3, 1, 2)), min(p, q).
    bool items = args.size() == 1 && (args[0].isTuple() || args[0].isTupleList() ||
                                      (args[0].isDict() && !args[0].isSet()) ||
                                      (args[0].isKnownDict() && args[0].dictKey().isTuple()));
    for (size_t i = 0; i < args.size() && args.size() > 1; ++i)
      items = items || args[i].isTuple();
    if (items)
      return minMaxItems(c, *b);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    bool tupleSet = args[i].isKnownDict() && args[i].isSet() && args[i].dictKey().isTuple();
    if (args[i].isSet() && python && *b != Builtin::Len && *b != Builtin::Bool && !tupleSet) {
      // sum(s), min(s), max(s): over the array of its items (a copy).
      Type item = args[i].isKnownDict() ? args[i].dictKey() : Type::scalar(ScalarKind::I64);
      args[i] = Type::array(item.scalarKind(), 1, Type::Layout::C);
      if (Final) {
        F.types[c.args[i].get()] = args[i];
        F.listViews[c.args[i].get()] = {true, Type::list(item)};
      }
      continue;
    }
    if ((args[i].isTupleList() || tupleSet) && python && *b != Builtin::Len &&
        *b != Builtin::Bool) {
      // Python's min/max compare tuples and sum cannot add them: not the
      // numbers of the array NumPy's functions see.
      bool arrays = args[i].isArrayList();
      error(c.args[i]->range(),
            fmt::format("{}() of a {} of {} is not supported", fn->id, args[i].containerName(),
                        arrays ? "arrays" : "tuples"),
            tupleSet ? std::string("a loop over the items takes one field: "
                                   "for a, b in s: ...")
            : arrays ? fmt::format("np.{0}(xs) takes all of the numbers, np.{0}(xs, axis=0) "
                                   "combines the arrays element by element",
                                   fn->id)
                     : fmt::format("np.{}(xs) takes all of the numbers; a loop over the items "
                                   "takes one field",
                                   fn->id));
      return {};
    }
    bool joins = *b == Builtin::Concatenate || *b == Builtin::Stack ||
                 *b == Builtin::Vstack || *b == Builtin::Hstack;
    if (joins && i == 0 && args[i].isArrayList())
      continue; // np.concatenate(xs): the arrays of the list (MLIRGen's joinedList)
    if ((*b != Builtin::Len && *b != Builtin::Bool) || !args[i].isContainer()) // (their length)
      args[i] = viewList(*c.args[i], args[i], isViewBuiltin(*b));
  }
  if (*b == Builtin::Prod && viaMath) {
    // math.prod(items): the product of the items of an iterable, Python's
    // left-to-right product (start= is not taken).
    if (!c.keywords.empty() || args.size() != 1) {
      error(c.range(), "math.prod() takes one iterable (start= is not supported)",
            "multiply the result by start");
      return {};
    }
    if (!iterableOfNumbers(*c.args[0], args[0], "math.prod()", /*real=*/false,
                           "np.prod(a) multiplies every element of an array"))
      return {};
  }
  if (*b >= Builtin::Empty && *b < Builtin::RandomRandom)
    return arrayBuiltin(c, *b, nullptr, args, viaNumpy);
  if (*b == Builtin::Cast) {
    Type t;
    CallInfo info;
    if (c.args.size() != 1 || !args[0].isScalar()) {
      error(c.range(), fmt::format("{}() takes one number", numpyName(*cast)));
      return {};
    }
    if (isComplex(args[0].scalarKind()) && !isComplex(*cast)) {
      error(c.args[0]->range(),
            fmt::format("cannot convert a complex number to {}", numpyName(*cast)));
      return {};
    }
    info.builtin = Builtin::Cast;
    info.operandKind = *cast;
    if (Final)
      F.calls[&c] = info;
    return Type::scalar(*cast);
  }
  if (*b >= Builtin::RandomRandom)
    return randomCall(c, *b, viaNumpy, args);
  return builtinCall(c, *b, viaNumpy, viaMath, args);
}

/// An operator written as a ufunc call (`np.add(a, b)`) must name numpy.
bool FunctionChecker::checkUfuncSpelling(const ast::UfuncSpelling &u) {
  if (u.empty())
    return true;
  auto m = P.ModuleAliases.find(u.module);
  if (!Vars.count(u.module) && m != P.ModuleAliases.end() && m->second == "numpy")
    return true;
  if (auto v = Vars.find(u.module); v != Vars.end() && v->second.type.isSet() && u.name == "add") {
    // s.add(x, y), read as np.add(x, y) spelled with a module
    error(u.range, "add() takes 1 argument (2 given)", "add one item per call");
    return false;
  }
  bool mathModule = m != P.ModuleAliases.end() && m->second == "math";
  error(u.range, fmt::format("'{}.{}' is not a function stn knows", u.module, u.name),
        mathModule && u.name == "remainder"
            ? std::string("stn reads M.remainder as NumPy's `%` unless M is spelled math: "
                          "write math.remainder(...)")
            : fmt::format("{} is a NumPy ufunc: import numpy as np, then np.{}(...)", u.name,
                          u.name));
  return false;
}

Type FunctionChecker::binop(const ast::BinOp &b) {
  if (!checkUfuncSpelling(b.ufunc))
    return {};
  Type l = expr(*b.lhs), r = expr(*b.rhs);
  if (!l.isValid() || !r.isValid())
    return {};
  if (l.isSet() || r.isSet())
    return setBinop(b, l, r);
  if (auto t = listBinop(b, l, r))
    return *t;
  if (b.op == ast::BinOpKind::MatMul && (l.isArray() || r.isArray())) {
    if (!l.isArray() || !r.isArray()) {
      error(b.opRange,
            fmt::format("the '@' operator multiplies arrays, not a scalar ('{}' @ '{}')",
                        l.describe(), r.describe()),
            "use '*' to scale an array");
      return {};
    }
    ScalarKind k;
    Type t = matmulType(b.opRange, l, r, "the '@' operator", k);
    if (t.isValid() && Final)
      F.matmuls[&b] = k;
    return t;
  }
  if ((l.isArray() || r.isArray()) && (l.isArray() || l.isScalar()) &&
      (r.isArray() || r.isScalar())) {
    // Elementwise, with NumPy broadcasting and NEP 50 promotion.
    std::string err;
    auto rule = arrayBinaryRule(b.op, l.scalarKind(), l.isArray(), weak(*b.lhs),
                                r.scalarKind(), r.isArray(), weak(*b.rhs), err);
    if (!rule) {
      error(b.opRange, err);
      return {};
    }
    unsigned rank = std::max(l.isArray() ? l.rank() : 0u, r.isArray() ? r.rank() : 0u);
    return Type::array(rule->result, rank, Type::Layout::C);
  }
  if (!l.isScalar() || !r.isScalar()) {
    error(b.opRange,
          fmt::format("unsupported operand types for {}: '{}' and '{}'", spelling(b.op),
                      l.describe(), r.describe()),
          l.isArray() || r.isArray()
              ? "whole-array arithmetic is not supported yet; write a loop over the elements"
              : "");
    return {};
  }
  std::string err;
  auto rule = binaryRule(b.op, l.scalarKind(), r.scalarKind(), err);
  if (!rule) {
    error(b.opRange, err);
    return {};
  }
  return Type::scalar(rule->result);
}

/// np.dot, np.matmul and `@` of vectors and matrices: vector . vector is
/// a number, matrix @ vector and vector @ matrix are vectors, matrix @
/// matrix a matrix; the elements multiply and add as NumPy's result type
/// of the two dtypes.
Type FunctionChecker::matmulType(SourceRange at, const Type &l, const Type &r, const char *fn,
                                 ScalarKind &kind) {
  for (const Type *t : {&l, &r})
    if (t->rank() < 1 || t->rank() > 2) {
      error(at,
            fmt::format("{} multiplies vectors and matrices (1 or 2 dimensions), not a "
                        "{}-dimensional array",
                        fn, t->rank()),
            "loop over the leading axes and multiply their matrices");
      return {};
    }
  kind = promote(l.scalarKind(), r.scalarKind());
  unsigned rank = l.rank() + r.rank() - 2;
  return rank == 0 ? Type::scalar(kind) : Type::array(kind, rank, Type::Layout::C);
}

Type FunctionChecker::unary(const ast::UnaryOp &u) {
  if (!checkUfuncSpelling(u.ufunc))
    return {};
  Type t = expr(*u.operand);
  if (!t.isValid())
    return {};
  if (u.op == ast::UnaryOpKind::Not) {
    if (t.isArray()) {
      error(u.range(), "the truth value of an array is ambiguous",
            "for an elementwise negation of a bool array use ~");
      return {};
    }
    return Type::scalar(ScalarKind::Bool);
  }
  if (t.isArray()) {
    ScalarKind k = t.scalarKind();
    if (u.op == ast::UnaryOpKind::Invert && !(isInteger(k) || isBool(k))) {
      error(u.range(), fmt::format("bad operand type for unary ~: '{}'", t.describe()));
      return {};
    }
    if (u.op == ast::UnaryOpKind::Neg && isBool(k)) {
      error(u.range(), "unary - is not defined for bool arrays; use ~");
      return {};
    }
    return Type::array(k, t.rank(), Type::Layout::C);
  }
  if (!t.isScalar()) {
    error(u.range(), fmt::format("bad operand type for unary {}: '{}'", spelling(u.op),
                                 t.describe()));
    return {};
  }
  std::string err;
  auto k = unaryRule(u.op, t.scalarKind(), err);
  if (!k) {
    error(u.range(), err);
    return {};
  }
  return Type::scalar(*k);
}

/// The dtype `e` names where it is `a.dtype` or a NumPy type (`np.float32`);
/// else nullopt, and nothing is typed.
std::optional<ScalarKind> FunctionChecker::dtypeOperand(const ast::Expr &e) {
  auto *a = dyn_cast<ast::Attribute>(&e);
  if (!a)
    return std::nullopt;
  if (a->attr == "dtype")
    return dtypeArgument(e);
  auto *m = dyn_cast<ast::Name>(a->value.get());
  if (!m || Vars.count(m->id))
    return std::nullopt;
  auto alias = P.ModuleAliases.find(m->id);
  if (alias == P.ModuleAliases.end() || alias->second != "numpy")
    return std::nullopt;
  return parseScalarName(a->attr);
}

Type FunctionChecker::compare(const ast::Compare &c) {
  if (!checkUfuncSpelling(c.ufunc))
    return {};
  if (c.ops.size() == 1 && (c.ops[0] == ast::CmpOpKind::Eq || c.ops[0] == ast::CmpOpKind::Ne)) {
    // a.dtype == np.float32: known from the types.
    auto *l = dyn_cast<ast::Attribute>(c.operands[0].get());
    auto *r = dyn_cast<ast::Attribute>(c.operands[1].get());
    if ((l && l->attr == "dtype") || (r && r->attr == "dtype")) {
      auto lk = dtypeOperand(*c.operands[0]);
      auto rk = dtypeOperand(*c.operands[1]);
      if (!lk || !rk) {
        error(c.opRanges[0], "a dtype compares with another dtype: a.dtype == np.float32",
              "NumPy's types are written np.float64, np.int32, ...");
        return {};
      }
      ConstValue v;
      v.type = Type::scalar(ScalarKind::Bool);
      v.i = (*lk == *rk) == (c.ops[0] == ast::CmpOpKind::Eq);
      if (Final)
        F.consts[&c] = v;
      return v.type;
    }
  }
  std::vector<Type> ts;
  bool ok = true;
  if (c.ops.size() == 1 && (c.ops[0] == ast::CmpOpKind::Is || c.ops[0] == ast::CmpOpKind::IsNot)) {
    if (auto t = getIsNone(c))
      return *t;
    for (auto &o : c.operands)
      PassedOn.insert(o.get());
  }
  for (auto &o : c.operands) {
    Type t = expr(*o);
    if (!t.isValid())
      ok = false;
    ts.push_back(t);
  }
  if (!ok)
    return {};
  for (size_t i = 0; i < c.ops.size(); ++i)
    if (c.ops[i] == ast::CmpOpKind::Is || c.ops[i] == ast::CmpOpKind::IsNot)
      return noneTest(c, ts, i);
  for (size_t i = 0; i < c.ops.size(); ++i)
    if (c.ops[i] == ast::CmpOpKind::In || c.ops[i] == ast::CmpOpKind::NotIn) {
      if (c.ops.size() != 1) {
        error(c.opRanges[i],
              fmt::format("'{}' cannot be chained with other comparisons", spelling(c.ops[i])),
              "compare separately and join the results with 'and'");
        return {};
      }
      if (ts[1].isDict()) {
        if (!lookupKey(*c.operands[0], ts[0], ts[1]))
          return {};
        return Type::scalar(ScalarKind::Bool);
      }
      if (ts[1].isTupleList()) { // (MLIRGen: findItem)
        if (!comparableItem(*c.operands[0], ts[0], ts[1],
                            fmt::format("'{}'", spelling(c.ops[i]))))
          return {};
        return Type::scalar(ScalarKind::Bool);
      }
      return membership(c, ts[0], viewList(*c.operands[1], ts[1]));
    }
  if (std::any_of(ts.begin(), ts.end(), [](const Type &t) { return t.isSet(); }))
    return setCompare(c, ts);
  bool anyArray = false;
  for (auto &t : ts)
    anyArray |= t.isArray();
  if (anyArray) {
    if (c.ops.size() != 1) {
      error(c.opRanges[1], "chained comparisons of arrays are ambiguous",
            "combine elementwise comparisons with &, e.g. (0 < a) & (a < 1)");
      return {};
    }
    if (!(ts[0].isArray() || ts[0].isScalar()) || !(ts[1].isArray() || ts[1].isScalar())) {
      error(c.opRanges[0], fmt::format("'{}' is not supported between '{}' and '{}'",
                                       spelling(c.ops[0]), ts[0].describe(), ts[1].describe()));
      return {};
    }
    std::string err;
    if (!compareRule(c.ops[0], ts[0].scalarKind(), ts[1].scalarKind(), err)) {
      error(c.opRanges[0], err);
      return {};
    }
    unsigned rank = std::max(ts[0].isArray() ? ts[0].rank() : 0u,
                             ts[1].isArray() ? ts[1].rank() : 0u);
    return Type::array(ScalarKind::Bool, rank, Type::Layout::C);
  }
  for (size_t i = 0; i < c.ops.size(); ++i) {
    if (ts[i].isTuple() || ts[i + 1].isTuple()) {
      if (!comparableTuples(c.ops[i], ts[i], ts[i + 1], c.opRanges[i]))
        return {};
      continue;
    }
    if (!ts[i].isScalar() || !ts[i + 1].isScalar()) {
      error(c.opRanges[i], fmt::format("'{}' is not supported between '{}' and '{}'",
                                       spelling(c.ops[i]), ts[i].describe(),
                                       ts[i + 1].describe()));
      return {};
    }
    std::string err;
    if (!compareRule(c.ops[i], ts[i].scalarKind(), ts[i + 1].scalarKind(), err)) {
      error(c.opRanges[i], err);
      return {};
    }
  }
  return Type::scalar(ScalarKind::Bool);
}

/// `d.get(k) is None` (or `is not None`, either way round) of a dict d: as
/// `k not in d` (`k in d`), since no value is None (TypedFunction::noneGets).
/// Nullopt where `c` is no such test.
std::optional<Type> FunctionChecker::getIsNone(const ast::Compare &c) {
  bool leftNone = isa<ast::NoneLit>(c.operands[0].get());
  auto *call = dyn_cast<ast::Call>(c.operands[leftNone ? 1 : 0].get());
  if (!leftNone && !isa<ast::NoneLit>(c.operands[1].get()))
    return std::nullopt;
  auto *m = call ? dyn_cast<ast::Attribute>(call->func.get()) : nullptr;
  if (!m || m->attr != "get" || call->args.size() != 1 || !call->keywords.empty())
    return std::nullopt;
  bool final = Final, failed = Failed;
  Final = false; // (a probe: the receiver is typed for real below)
  Type d = expr(*m->value);
  Final = final;
  Failed = failed;
  if (!d.isDict() || d.isSet())
    return std::nullopt;
  d = expr(*m->value);
  Type k = expr(*call->args[0]);
  if (!d.isValid() || !k.isValid() || !lookupKey(*call->args[0], k, d))
    return Type();
  record(*call, d.isKnownDict() ? d.dictValue() : Type::scalar(ScalarKind::F64));
  if (Final) {
    F.calls[call] = methodCall(Builtin::DictGet, *m, *call); // (for the typed IR)
    F.noneGets[&c] = call;
  }
  return Type::scalar(ScalarKind::Bool);
}

/// `x is None` and `x is not None` (either way round): known from x's type,
/// or read from the flag of an optional local (TypedFunction::noneTests).
Type FunctionChecker::noneTest(const ast::Compare &c, const std::vector<Type> &ts, size_t op) {
  const char *spelled = c.ops[op] == ast::CmpOpKind::Is ? "is" : "is not";
  if (c.ops.size() != 1) {
    error(c.opRanges[op], fmt::format("'{}' cannot be chained with other comparisons", spelled),
          "compare separately and join the results with 'and'");
    return {};
  }
  bool leftNone = ts[0].isNone(), rightNone = ts[1].isNone();
  if (!leftNone && !rightNone) {
    error(c.opRanges[0],
          fmt::format("'{}' compares a value with None in stn kernels, not '{}' with '{}'",
                      spelled, ts[0].describe(), ts[1].describe()),
          "compare numbers with == and !=");
    return {};
  }
  const ast::Expr &x = leftNone ? *c.operands[1] : *c.operands[0];
  const Type &xt = leftNone ? ts[1] : ts[0];
  bool isNot = c.ops[0] == ast::CmpOpKind::IsNot;
  auto *n = dyn_cast<ast::Name>(&x);
  auto v = n ? Vars.find(n->id) : Vars.end();
  // An array that is neither a parameter nor an optional local may be a
  // None that became an array on the way (a kernel that returns None on
  // some paths, `a if c else None`): its test cannot be decided.
  bool param = n && std::any_of(F.def->params.begin(), F.def->params.end(),
                                [&](const ast::Param &p) { return p.name == n->id; });
  if (xt.isArray() && !(v != Vars.end() && v->second.optional) && !param) {
    error(x.range(),
          fmt::format("stn cannot tell whether this array is None: only parameters and "
                      "locals assigned None are tested with '{}'",
                      spelled),
          "keep the None in a local: `r = None`, then assign the array to it");
    return {};
  }
  if (v == Vars.end() || !v->second.optional) {
    bool none = leftNone && rightNone;
    NoneTests[&c] = none != isNot;
    if (Final)
      F.noneTests[&c] = none != isNot;
  }
  return Type::scalar(ScalarKind::Bool);
}

/// Whether `test` is known from the types: `x is None` and `x is not None`
/// of a name x (or None) with a known answer, `not` of one, and `and` /
/// `or` of those (only operands evaluated before the answer is known
/// count). Empty for anything else.
std::optional<bool> FunctionChecker::staticTruth(const ast::Expr &test) const {
  if (auto *c = dyn_cast<ast::Compare>(&test)) {
    auto it = NoneTests.find(c);
    if (it == NoneTests.end() || c->operands.size() != 2)
      return std::nullopt;
    for (auto &o : c->operands)
      if (!isa<ast::Name>(o.get()) && !isa<ast::NoneLit>(o.get()))
        return std::nullopt; // evaluated for its effects
    return it->second;
  }
  if (auto *u = dyn_cast<ast::UnaryOp>(&test)) {
    if (u->op != ast::UnaryOpKind::Not)
      return std::nullopt;
    auto t = staticTruth(*u->operand);
    return t ? std::optional<bool>(!*t) : std::nullopt;
  }
  if (auto *b = dyn_cast<ast::BoolOp>(&test)) {
    bool isAnd = b->op == ast::BoolOpKind::And;
    for (auto &v : b->values) {
      auto t = staticTruth(*v);
      if (!t)
        return std::nullopt;
      if (*t != isAnd) // a false operand of `and`, a true one of `or`
        return *t;
    }
    return isAnd;
  }
  return std::nullopt;
}

/// `x in seq` and `x not in seq`: whether a number equals an element of a
/// tuple of numbers or of an array (NumPy's `(a == x).any()`).
Type FunctionChecker::membership(const ast::Compare &c, const Type &x, const Type &seq) {
  const char *op = spelling(c.ops[0]);
  if (!x.isScalar()) {
    error(c.operands[0]->range(),
          fmt::format("'{}' looks for a number, not '{}'", op, x.describe()),
          x.isArray() ? "loop over the elements, testing each with 'in'" : "");
    return {};
  }
  std::vector<ScalarKind> kinds;
  if (seq.isArray()) {
    kinds.push_back(seq.scalarKind());
  } else if (seq.isTuple()) {
    for (const Type &e : seq.elements()) {
      if (!e.isScalar()) {
        error(c.operands[1]->range(),
              fmt::format("'{}' looks among numbers: this tuple holds '{}'", op, e.describe()));
        return {};
      }
      kinds.push_back(e.scalarKind());
    }
  } else {
    error(c.operands[1]->range(),
          fmt::format("'{}' needs a tuple or an array on its right, not '{}'", op,
                      seq.describe()));
    return {};
  }
  for (ScalarKind k : kinds) {
    std::string err;
    if (!compareRule(ast::CmpOpKind::Eq, x.scalarKind(), k, err)) {
      error(c.opRanges[0], err);
      return {};
    }
  }
  return Type::scalar(ScalarKind::Bool);
}

Type FunctionChecker::boolop(const ast::BoolOp &b) {
  Type result;
  bool ok = true;
  bool isAnd = b.op == ast::BoolOpKind::And;
  for (size_t i = 0; i < b.values.size(); ++i) {
    const ast::ExprPtr &v = b.values[i];
    // An operand known from the types to decide the result: the rest is
    // never evaluated, so it is not checked (boolCut).
    if (i > 0) {
      std::optional<bool> prev = staticTruth(*b.values[i - 1]);
      if (prev && *prev != isAnd) {
        if (Final)
          F.boolCut[&b] = i;
        break;
      }
    }
    Type t = expr(*v);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    if (!t.isScalar()) {
      error(v->range(),
            fmt::format("'{}' needs numbers or bools, not '{}'", spelling(b.op), t.describe()),
            t.isArray() ? "for elementwise logic on arrays use & and |" : "");
      ok = false;
      continue;
    }
    result = result.isValid() ? Type::scalar(promote(result.scalarKind(), t.scalarKind())) : t;
  }
  if (!ok)
    return {};
  return result;
}

Type FunctionChecker::ifexp(const ast::IfExp &e) {
  bool condOk = checkCondition(*e.cond);
  Type a = expr(*e.body), b = expr(*e.orelse);
  // Before the last pass a branch may wait for a type a later store
  // decides (`d[k] = np.append(d[k], x) if k in d else np.full(1, x)`, the
  // dict's value type): the other branch's type decides it meanwhile.
  if (!Final && condOk && a.isValid() != b.isValid())
    return a.isValid() ? a : b;
  if (!condOk || !a.isValid() || !b.isValid())
    return {};
  if (a.isContainer() || b.isContainer()) {
    error(e.range(),
          fmt::format("a conditional expression cannot choose between {}s",
                      (a.isContainer() ? a : b).containerName()),
          "a list, a dict or a set can be held by one variable only; use an if statement");
    return {};
  }
  auto u = unify(a, b);
  if (!u) {
    error(e.range(), fmt::format("the branches of this conditional expression have "
                                 "incompatible types '{}' and '{}'",
                                 a.describe(), b.describe()));
    return {};
  }
  return *u;
}

/// `[]`, `[x, y, ...]`: a list of numbers (their common kind, promoted as in
/// arithmetic).
bool FunctionChecker::listOnGpu(SourceRange r, const char *what) {
  if (!F.onGpu() &&
      !(F.decl && (F.decl->options.target == "cuda" || F.decl->options.target == "gpu")))
    return false;
  error(r, fmt::format("{} are not available in GPU code", what),
        "GPU code cannot allocate: use cuda.local.array, or an array argument");
  return true;
}

/// Whether a list can hold `t`: a number, or a tuple of numbers (whose
/// array, np.array(xs), has a row per item).
static bool listable(const Type &t) {
  if (t.isScalar())
    return true;
  return t.isTuple() && !t.elements().empty() &&
         std::all_of(t.elements().begin(), t.elements().end(),
                     [](const Type &x) { return x.isScalar(); });
}

/// Whether a list can hold `t`: what listable() takes, or an array (the
/// items of a list of arrays have one dtype and rank).
static bool listItemType(const Type &t) { return listable(t) || t.isArray(); }

void FunctionChecker::notListable(const ast::Expr &e, const Type &t, const char *what) {
  error(e.range(),
        fmt::format("a list holds numbers, tuples of numbers or arrays; {} '{}'", what,
                    t.describe()),
        t.isList()    ? "a list of lists is not supported: extend() adds the items of a list"
        : t.isTuple() ? "a tuple in a list holds numbers only (no arrays, tuples or lists)"
                      : "");
}

std::optional<Type> FunctionChecker::joinItems(const Type &recv, const Type &added,
                                               const ast::Expr &e) {
  if (!recv.isKnownList())
    return added;
  auto u = unify(recv.listItem(), added);
  if (!u || !listItemType(*u)) {
    error(e.range(),
          fmt::format("a list's items have one type: this list holds '{}', not '{}'",
                      recv.listItem().describe(), added.describe()),
          recv.listItem().isArray() && added.isArray()
              ? "the arrays of a list have one dtype and one number of dimensions: convert "
                "with .astype(), reshape with .reshape()"
          : recv.listItem().isArray() || added.isArray()
              ? "a list holds arrays or numbers, not both"
              : "numbers promote to a common kind, and tuples number by number, when they "
                "have the same length");
    return std::nullopt;
  }
  return *u;
}

/// `[elt for x in it if c ...]`: each clause iterates as a for loop does
/// (iterItems) and binds its target, local to the comprehension (the parser
/// renamed it); the conditions are truth values; the items have the
/// element's kind. Its `for` clauses are TypedFunction::comprehensions.
Type FunctionChecker::listComp(const ast::ListComp &l) {
  bool reduced = &l == Reduced;
  Reduced = nullptr;
  if (!reduced && listOnGpu(l.range(), l.isDict() ? "dicts" : l.isSet() ? "sets" : "lists"))
    return {};
  size_t iterated = IteratedLists.size();
  auto done = [&](Type t) {
    IteratedLists.resize(iterated);
    return t;
  };
  for (const ast::Comprehension &g : l.generators) {
    IterSource src;
    Type item = iterItems(*g.iter, src);
    if (!item.isValid())
      return done({});
    bool single = src.kind == IterSource::Kind::Range || src.kind == IterSource::Kind::Array;
    if (!isa<ast::Name>(g.target.get()) && (single || !isa<ast::Tuple>(g.target.get()))) {
      error(g.target->range(), single ? "the loop variable must be a single name"
                                      : "the loop variable must be a name or a tuple of names");
      return done({});
    }
    assignTarget(*g.target, item, g.iter->range());
    pushIteratedLists(src);
    bool ok = true;
    for (auto &c : g.ifs)
      ok = checkCondition(*c) && ok;
    if (!ok)
      return done({});
    if (Final)
      F.comprehensions[&g] = src;
  }
  if (l.isDict())
    return done(dictComp(l));
  if (l.isSet())
    return done(setComp(l));
  Type t = expr(*l.elt);
  if (!t.isValid())
    return done({});
  if (!listItemType(t)) {
    notListable(*l.elt, t, "this element is");
    return done({});
  }
  return done(Type::list(t));
}

/// The keywords of sorted() and list.sort(): `reverse=` where `takesReverse`
/// (a bool or an integer; the call's operand), and `key=` (kept in
/// info.key: keyFunction types it once the items' type is known), no other.
bool FunctionChecker::reverseKeyword(const ast::Call &c, const std::string &fn,
                                     bool takesReverse, CallInfo &info) {
  for (const ast::Keyword &kw : c.keywords) {
    if (takesReverse && kw.name == "key" && !info.key) {
      if (!isa<ast::NoneLit>(kw.value.get())) // key=None: no key
        info.key = kw.value.get();
      continue;
    }
    if (!takesReverse || kw.name != "reverse" || !info.operands.empty()) {
      error(kw.nameRange,
            fmt::format("{}() does not take the keyword argument '{}'", fn, kw.name),
            !takesReverse ? "" : fmt::format("{}() takes key= and reverse=", fn));
      return false;
    }
    Type r = expr(*kw.value);
    if (!r.isValid())
      return false;
    if (!r.isScalar() || isComplex(r.scalarKind())) {
      error(kw.value->range(),
            fmt::format("reverse= must be a bool or an integer, not '{}'", r.describe()));
      return false;
    }
    info.operands.push_back(kw.value.get());
  }
  return true;
}

/// `key=` of sorted() and list.sort() for items of type `item`: a lambda
/// or local function (an ast::Closure), or a function of the module by
/// name, called with one argument (its other parameters take their default
/// values); it returns a real number or a tuple of them, by which the
/// items sort. Sets info.keyFn.
bool FunctionChecker::keyFunction(const ast::Expr &key, const Type &item, CallInfo &info) {
  const KernelDecl *k = nullptr;
  std::vector<Type> captured;
  auto *n = dyn_cast<ast::Name>(&key);
  if (isa<ast::Closure>(&key) || (n && (Vars.count(n->id) || P.kernel(n->id)))) {
    // A function value: a lambda, a local function, a function of the
    // module, a parameter or variable holding one.
    Type ft = expr(key);
    if (!ft.isValid())
      return false;
    if (ft.isFunction()) {
      k = P.kernel(ft.functionName());
      captured = ft.elements();
    }
  }
  if (!k || k->kind != KernelKind::Jit || (k->gpuDevice && !F.onGpu())) {
    error(key.range(), "key= takes a function: a lambda, a local function or a @jit function "
                       "of this file",
          n && !k ? fmt::format("to sort by a builtin, call it in a lambda: "
                                "key=lambda x: {}(x)",
                                ast::sourceName(n->id))
                  : "key=lambda x: x[1] sorts by the second field");
    return false;
  }
  const ast::FunctionDef &d = *k->def;
  size_t written = d.writtenParams();
  bool oneArgument = written >= 1;
  for (size_t i = 1; i < written; ++i)
    oneArgument = oneArgument && i < k->defaults.size() && k->defaults[i];
  if (!oneArgument) {
    error(key.range(),
          fmt::format("the key function '{}' must take one argument (the item); it takes {}",
                      d.name, written));
    return false;
  }
  std::vector<Type> types{item};
  for (size_t i = 1; i < written; ++i)
    types.push_back(k->defaults[i]->type);
  types.insert(types.end(), captured.begin(), captured.end());
  if (!k->signatures.empty()) {
    std::string err;
    const Signature *sig = P.matchSignature(*k, types, err);
    if (!sig) {
      error(key.range(), err);
      return false;
    }
    types = Program::signatureTypes(*sig, types);
  }
  DiagnosticEngine scratch;
  TypedFunction *fn = P.specialize(*k, types, Final ? Diags : scratch, false);
  if (!fn) {
    Failed = true;
    if (Final)
      Diags.note(F.file, key.range(),
                 fmt::format("in the call of the key function '{}' with argument types ({})",
                             d.name, argumentList(types)));
    return false;
  }
  const Type &r = fn->resultType;
  std::vector<Type> leaves;
  if (r.isScalar() || r.isTuple())
    r.collectLeaves(leaves);
  bool real = !leaves.empty() && (r.isScalar() || r.isTuple());
  for (const Type &l : leaves)
    real = real && l.isScalar() && !isComplex(l.scalarKind());
  if (!real) {
    error(key.range(),
          fmt::format("the key function '{}' returns '{}': keys must be real numbers or tuples "
                      "of them, which Python can order",
                      d.name, r.describe()));
    return false;
  }
  info.keyFn = fn;
  if (Final && std::find(F.callees.begin(), F.callees.end(), fn) == F.callees.end())
    F.callees.push_back(fn);
  return true;
}

/// Whether min()/max() call `c` takes Python's path of items (before its
/// arguments are typed): with key= or default=, or over an iterable that
/// only a loop can take (range(), enumerate(), d.items(), ...).
bool FunctionChecker::overItems(const ast::Call &c) {
  return !c.keywords.empty() || c.args.empty() || (c.args.size() == 1 && loopOnly(*c.args[0]));
}

/// Whether `e` is an iterable only a loop takes, which has no value of its
/// own: range(), enumerate(), zip(), reversed(), np.ndindex(),
/// np.ndenumerate(), a dict's keys(), values() or items(), `a.flat`.
bool FunctionChecker::loopOnly(const ast::Expr &e) {
  auto *call = dyn_cast<ast::Call>(&e);
  if (!call)
    return flatBase(e) != nullptr;
  if (auto *a = dyn_cast<ast::Attribute>(call->func.get()))
    return call->args.empty() &&
           (a->attr == "keys" || a->attr == "values" || a->attr == "items");
  bool vn = false, vm = false;
  std::optional<ScalarKind> cast;
  auto b = resolveBuiltin(*call->func, vn, vm, cast);
  return b && (*b == Builtin::Range || *b == Builtin::Enumerate || *b == Builtin::Zip ||
               *b == Builtin::Reversed || *b == Builtin::NdIndex ||
               *b == Builtin::NdEnumerate);
}

/// Python's min() and max() of items: of one iterable (what a for loop
/// takes: a list, range(), a dict's keys, zip(), ...), of the elements of
/// one tuple, or of several arguments. Items are compared as Python
/// compares them (tuples item by item), or by their keys where key= gives
/// a function (as sorted()'s: called once per item, a real number or a
/// tuple of them); the first of equal items wins. `default=` is the result
/// of no items (else ValueError); it must have the items' type (numbers
/// promote).
Type FunctionChecker::minMaxItems(const ast::Call &c, Builtin b) {
  const char *fn = builtinName(b);
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = b;
  info.mode = 1;
  for (const ast::Keyword &kw : c.keywords) {
    if (kw.name == "key" && !info.key) {
      if (!isa<ast::NoneLit>(kw.value.get())) // key=None: no key
        info.key = kw.value.get();
      continue;
    }
    if (kw.name == "default" && !info.fallback) {
      info.fallback = kw.value.get();
      continue;
    }
    error(kw.nameRange,
          fmt::format("'{}' is an invalid keyword argument for {}()", kw.name, fn),
          fmt::format("{}() takes key= and default=", fn));
    return {};
  }
  if (c.args.empty()) {
    error(c.range(), fmt::format("{} expected at least 1 argument, got 0", fn));
    return {};
  }
  if (info.fallback && c.args.size() > 1) {
    error(info.fallback->range(),
          fmt::format("cannot specify a default for {}() with multiple positional arguments",
                      fn),
          "default= is for the items of one iterable: " + std::string(fn) + "(xs, default=0)");
    return {};
  }
  Type item;
  IterSource src;
  bool fromSource = false;
  auto join = [&](const Type &t, const ast::Expr &at) {
    auto u = unify(item, t);
    if (!u) {
      error(at.range(), fmt::format("{}() returns one of its items, which must have one type: "
                                    "'{}' and '{}' have none",
                                    fn, item.describe(), t.describe()),
            "numbers promote to a common kind, and tuples number by number");
      return false;
    }
    item = *u;
    return true;
  };
  if (c.args.size() == 1) {
    const ast::Expr &arg = *c.args[0];
    // A tuple's elements are the items; other iterables are a loop's.
    bool tuple = false;
    if (!loopOnly(arg)) {
      bool final = Final, failed = Failed;
      Final = false;
      tuple = expr(arg).isTuple();
      Final = final;
      Failed = failed;
    }
    if (tuple) {
      Type t = expr(arg);
      if (!t.isValid())
        return {};
      if (t.elements().empty()) {
        if (!info.fallback) {
          error(arg.range(), fmt::format("{}() of an empty tuple has no item", fn),
                "give default= for the result of no items");
          return {};
        }
      }
      for (const Type &e : t.elements())
        if (!join(e, arg))
          return {};
      info.flags = 1;
      info.operands.push_back(&arg);
    } else {
      item = iterItems(arg, src);
      if (!item.isValid())
        return {};
      fromSource = true;
    }
  } else {
    for (auto &a : c.args) {
      Type t = expr(*a);
      if (!t.isValid() || !join(t, *a))
        return {};
      info.operands.push_back(a.get());
    }
  }
  std::vector<Type> leaves;
  if (item.isValid())
    item.collectLeaves(leaves);
  bool numbers = item.isScalar() || item.isTuple();
  for (const Type &l : leaves)
    numbers = numbers && l.isScalar();
  if (item.isValid() && !numbers && !(item.isArray() && info.key)) {
    error(c.args[0]->range(),
          fmt::format("{}() takes numbers or tuples of numbers as items, not '{}'", fn,
                      item.describe()),
          item.isArray() ? "arrays have no order: key= orders them by a function of an "
                           "array (key=lambda r: r.sum())"
                         : "");
    return {};
  }
  if (info.key) {
    if (item.isValid() && !keyFunction(*info.key, item, info))
      return {};
  } else if (item.isValid()) {
    bool real = true;
    for (const Type &l : leaves)
      real = real && !isComplex(l.scalarKind());
    if (!real) {
      error(c.args[0]->range(),
            fmt::format("{}() compares its items, and complex numbers have no order ('{}')",
                        fn, item.describe()),
            "key=abs compares their magnitudes: key=lambda z: abs(z)");
      return {};
    }
  }
  Type result = item;
  if (info.fallback) {
    if (isa<ast::NoneLit>(info.fallback)) {
      error(info.fallback->range(),
            fmt::format("default=None would make {}() return an item or None; stn kernels "
                        "give values one type",
                        fn),
            "give a default of the items' type, as default=-1, and test for it");
      return {};
    }
    Type d = expr(*info.fallback);
    if (!d.isValid())
      return {};
    if (!item.isValid()) {
      result = d;
    } else if (auto u = unify(item, d); u && (u->isScalar() || u->isTuple() || u->isArray())) {
      result = *u;
    } else {
      error(info.fallback->range(),
            fmt::format("default= is '{}' but the items are '{}': {}() returns one or the "
                        "other, so they must have one type",
                        d.describe(), item.describe(), fn));
      return {};
    }
  }
  if (Final) {
    F.calls[&c] = info;
    if (fromSource)
      F.listSources[&c] = src;
  }
  return result;
}

/// `l op r` where a side is a tuple: Python compares tuples item by item;
/// the first pair that is not equal decides (with `op`), else the lengths
/// do. Each pair must be numbers (real ones for an ordering) or tuples of
/// them.
bool FunctionChecker::comparableTuples(ast::CmpOpKind op, const Type &l, const Type &r,
                                       SourceRange at) {
  if (l.isTuple() && r.isTuple()) {
    size_t n = std::min(l.elements().size(), r.elements().size());
    for (size_t i = 0; i < n; ++i)
      if (!comparableTuples(op, l.elements()[i], r.elements()[i], at))
        return false;
    return true;
  }
  if (l.isScalar() && r.isScalar()) {
    std::string err;
    if (compareRule(op, l.scalarKind(), r.scalarKind(), err))
      return true;
    error(at, err);
    return false;
  }
  error(at, fmt::format("'{}' is not supported between '{}' and '{}'", spelling(op),
                        l.describe(), r.describe()),
        l.isTuple() != r.isTuple()
            ? "Python compares tuples with tuples, item by item"
            : "tuples compare item by item, and their items must be numbers or tuples");
  return false;
}

/// `list()`, and `list(iterable)`: a new list of the items a for loop over
/// `iterable` gets (TypedFunction::listSources); `list(a comprehension)` is
/// that comprehension's list. `sorted(iterable, reverse=False)`: that list,
/// sorted (the operand is `reverse`, or none).
Type FunctionChecker::listOf(const ast::Call &c, Builtin b) {
  if (listOnGpu(c.range()))
    return {};
  const char *fn = builtinName(b);
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = b;
  if (!reverseKeyword(c, fn, /*takesReverse=*/b == Builtin::Sorted, info))
    return {};
  size_t least = b == Builtin::Sorted ? 1 : 0;
  if (c.args.size() < least || c.args.size() > 1) {
    error(c.range(), b == Builtin::Sorted
                         ? fmt::format("sorted() takes 1 argument ({} given)", c.args.size())
                         : fmt::format("list() takes at most 1 argument ({} given)",
                                       c.args.size()));
    return {};
  }
  if (Final)
    F.calls[&c] = info;
  if (c.args.empty())
    return Type::emptyList();
  const ast::Expr &arg = *c.args[0];
  if (auto *lc = dyn_cast<ast::ListComp>(&arg)) {
    Type t = expr(*lc);
    if (t.isValid() && info.key && t.isKnownList()) {
      if (!keyFunction(*info.key, t.listItem(), info))
        return {};
      if (Final)
        F.calls[&c] = info;
    }
    return t;
  }
  IterSource src;
  Type item = iterItems(arg, src);
  if (!item.isValid())
    return {};
  if (!listItemType(item)) {
    notListable(arg, item, "the items of this are");
    return {};
  }
  if (b == Builtin::Sorted && item.isArray() && !info.key) {
    unorderedArrays(arg.range(), "sorted()");
    return {};
  }
  if (info.key) {
    if (!keyFunction(*info.key, item, info))
      return {};
    if (Final)
      F.calls[&c] = info;
  }
  if (Final)
    F.listSources[&c] = src;
  return Type::list(item);
}

bool FunctionChecker::iterableOfNumbers(const ast::Expr &e, const Type &t, const char *fn,
                                        bool real, const char *arrayHint) {
  if (t.isArray() && t.rank() == 1 && !(real && isComplex(t.scalarKind())))
    return true;
  error(e.range(),
        fmt::format("{} takes an iterable of {}numbers (a 1-d array, a list, a generator), not "
                    "'{}'",
                    fn, real ? "real " : "", t.describe()),
        t.isArray() ? arrayHint : "");
  return false;
}

void FunctionChecker::unorderedArrays(SourceRange r, const char *what) {
  error(r, fmt::format("{} would compare arrays, which have no order", what),
        "give key= a function of an array that orders them: key=lambda a: a.sum()");
}

Type FunctionChecker::listDisplay(const ast::List &l) {
  listOnGpu(l.range());
  Type list = Type::emptyList();
  bool ok = true;
  for (auto &el : l.elts) {
    Type t = expr(*el);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    if (!listItemType(t)) {
      notListable(*el, t, "this element is");
      return {};
    }
    auto item = joinItems(list, t, *el);
    if (!item)
      return {};
    list = Type::list(*item);
  }
  if (!ok)
    return {};
  return list;
}

bool FunctionChecker::listMayChangeSize(const std::string &name, SourceRange r) {
  if (std::count(IteratedLists.begin(), IteratedLists.end(), name)) {
    error(r, fmt::format("'{}' changes size while a loop iterates over it", name),
          "iterate over a copy (for x in xs.copy()), or collect the changes in another list");
    return false;
  }
  return !racesInParallelLoop(name, r, "change size");
}

/// `xs + ys` joins two lists and `xs * n` (or `n * xs`) repeats one, into a
/// new list; a list with an array is the array of its items (NumPy's
/// elementwise arithmetic, as `[1, 2] + a` is in Python). Null when neither
/// operand is a list.
std::optional<Type> FunctionChecker::listBinop(const ast::BinOp &b, Type &l, Type &r) {
  if (!l.isList() && !r.isList())
    return std::nullopt;
  if (l.isArray() || r.isArray()) {
    l = viewList(*b.lhs, l);
    r = viewList(*b.rhs, r);
    return std::nullopt;
  }
  auto count = [](const Type &t) {
    return t.isScalar() && (isInteger(t.scalarKind()) || isBool(t.scalarKind()));
  };
  if (b.op == ast::BinOpKind::Add && l.isList() && r.isList()) {
    if (!r.isKnownList())
      return l;
    auto item = joinItems(l, r.listItem(), *b.rhs);
    return item ? Type::list(*item) : Type();
  }
  if (b.op == ast::BinOpKind::Mul && ((l.isList() && count(r)) || (count(l) && r.isList())))
    return l.isList() ? l : r;
  error(b.opRange,
        fmt::format("unsupported operand types for {}: '{}' and '{}'", spelling(b.op),
                    l.describe(), r.describe()),
        "lists join with + and repeat with * (an integer); np.array(xs) does elementwise "
        "arithmetic");
  return Type();
}

void FunctionChecker::listAugAssign(const ast::AugAssign &a, const ast::Name &n,
                                    const Type &cur, const Type &val) {
  if (!listMayChangeSize(n.id, a.range()))
    return;
  std::optional<Type> added;
  if (a.op == ast::BinOpKind::Add && (val.isList() || (val.isArray() && val.rank() == 1))) {
    // As xs.extend(ys): the items of a list or a 1-d array (xs += xs too).
    if (!extendedBy(cur, val, *a.value, n.id, added))
      return;
  } else if (a.op != ast::BinOpKind::Mul || !val.isScalar() ||
             !(isInteger(val.scalarKind()) || isBool(val.scalarKind()))) {
    error(a.opRange,
          fmt::format("unsupported operand types for {}=: '{}' and '{}'", spelling(a.op),
                      cur.describe(), val.describe()),
          "a list extends with += (a list or a 1-d array) and repeats with *= (an integer)");
    return;
  }
  if (added) {
    auto item = joinItems(cur, *added, *a.value);
    if (!item)
      return;
    Type t = Type::list(*item);
    if (t != cur)
      assignName(n.id, n.range(), t);
  }
}

bool FunctionChecker::extendedBy(const Type &recv, const Type &x, const ast::Expr &e,
                                 const std::string &name, std::optional<Type> &added) {
  auto *self = dyn_cast<ast::Name>(&e);
  bool same = self && self->id == name;
  if (recv.isTupleList() || x.isTupleList()) {
    // A list of tuples extends by one (a copy of itself where it is
    // itself; MLIRGen's extendItems): no array of items between them.
    if (!x.isTupleList() || !(recv.isTupleList() || !recv.isKnownList())) {
      error(e.range(),
            fmt::format("a list of '{}' cannot be extended by '{}'",
                        recv.isKnownList() ? recv.listItem().describe() : "unknown",
                        x.describe()),
            recv.isArrayList() || x.isArrayList()
                ? "a list of arrays extends by another list of arrays"
                : "a list of tuples extends by another list of tuples of the same length");
      return false;
    }
    added = x.listItem();
    return true;
  }
  if (!x.isList() || x.isKnownList())
    added = x.dtypeType();
  // xs.extend(xs): the items are copied before the list grows.
  viewList(e, x, same);
  return true;
}

/// Methods of a list variable: `append(x)`, `extend(xs)`, `insert(i, x)`,
/// `pop()`, `pop(i)`, `remove(x)`, `reverse()`, `sort(reverse=False)`,
/// `clear()` and `del xs[i]` / `del xs[a:b:c]` (`__delitem__`); `index(x)`,
/// `count(x)` and `copy()` of any list.
Type FunctionChecker::listMethod(const ast::Call &c, const ast::Attribute &a,
                                 const Type &recv) {
  static const std::map<std::string, std::pair<Builtin, unsigned>> methods = {
      {"append", {Builtin::ListAppend, 1}},   {"extend", {Builtin::ListExtend, 1}},
      {"insert", {Builtin::ListInsert, 2}},   {"pop", {Builtin::ListPop, 1}},
      {"clear", {Builtin::ListClear, 0}},     {"copy", {Builtin::ListCopy, 0}},
      {"index", {Builtin::ListIndex, 1}},     {"count", {Builtin::ListCount, 1}},
      {"remove", {Builtin::ListRemove, 1}},   {"reverse", {Builtin::ListReverse, 0}},
      {"sort", {Builtin::ListSort, 0}},       {"__delitem__", {Builtin::ListDelete, 1}}};
  auto m = methods.find(a.attr);
  if (m == methods.end()) {
    error(a.attrRange, fmt::format("'{}' has no method '{}'", recv.describe(), a.attr),
          "lists have append, extend, insert, pop, remove, index, count, reverse, sort, clear "
          "and copy; np.array(xs) gives an array with NumPy's methods");
    return {};
  }
  auto [b, maxArgs] = m->second;
  CallInfo info = methodCall(b, a, c);
  if (!c.keywords.empty() && b != Builtin::ListSort) {
    error(c.keywords[0].value->range(), fmt::format("{}() takes no keyword arguments", a.attr));
    return {};
  }
  if (!reverseKeyword(c, a.attr, /*takesReverse=*/true, info))
    return {};
  unsigned minArgs = b == Builtin::ListPop ? 0 : maxArgs;
  if (c.args.size() < minArgs || c.args.size() > maxArgs) {
    error(c.range(),
          minArgs == maxArgs
              ? fmt::format("{}() takes {} argument{}", a.attr, maxArgs, maxArgs == 1 ? "" : "s")
              : fmt::format("{}() takes at most {} argument", a.attr, maxArgs));
    return {};
  }
  // del xs[a:b:c]: the bounds and the step are integers or None.
  auto *slice = b == Builtin::ListDelete ? dyn_cast<ast::Slice>(c.args[0].get()) : nullptr;
  std::vector<Type> args;
  if (slice) {
    if (!checkSliceParts(*slice))
      return {};
  } else if (!argumentTypes(c, args)) {
    return {};
  }
  auto integer = [&](size_t i) {
    if (args[i].isScalar() && (isInteger(args[i].scalarKind()) || isBool(args[i].scalarKind())))
      return true;
    error(c.args[i]->range(),
          b == Builtin::ListDelete
              ? fmt::format("list indices must be integers or slices, not '{}'",
                            args[i].describe())
              : fmt::format("{}() takes an integer index, not '{}'", a.attr,
                            args[i].describe()));
    return false;
  };
  if (b == Builtin::ListCopy) {
    if (Final)
      F.calls[&c] = info;
    return recv.isKnownList() ? recv : Type::list(ScalarKind::F64);
  }
  if (b == Builtin::ListIndex || b == Builtin::ListCount) {
    if (!comparableItem(*c.args[0], args[0], recv, a.attr + "()"))
      return {};
    if (Final)
      F.calls[&c] = info;
    return Type::scalar(ScalarKind::I64);
  }
  const ast::Name *n = changedVariable(a, recv);
  if (!n)
    return {};
  if (b == Builtin::ListSort && recv.isArrayList() && !info.key) {
    unorderedArrays(c.range(), "sort()");
    return {};
  }
  bool reorders = b == Builtin::ListReverse || b == Builtin::ListSort;
  if (reorders ? racesInParallelLoop(n->id, c.range(), "change")
               : !listMayChangeSize(n->id, c.range()))
    return {};
  Type result = Type::none();
  std::optional<Type> added;
  switch (b) {
  case Builtin::ListAppend:
  case Builtin::ListInsert: {
    if (b == Builtin::ListInsert && !integer(0))
      return {};
    const Type &x = args.back();
    if (!listItemType(x)) {
      notListable(*c.args.back(), x, "this value is");
      return {};
    }
    added = x;
    break;
  }
  case Builtin::ListExtend: {
    const Type &x = args[0];
    if (!(x.isList() || (x.isArray() && x.rank() == 1))) {
      error(c.args[0]->range(),
            fmt::format("extend() takes a list or a 1-d array, not '{}'", x.describe()));
      return {};
    }
    if (!extendedBy(recv, x, *c.args[0], n->id, added))
      return {};
    break;
  }
  case Builtin::ListPop:
    if (!args.empty() && !integer(0))
      return {};
    result = recv.listItem();
    break;
  case Builtin::ListDelete:
    if (!slice && !integer(0))
      return {};
    break;
  case Builtin::ListRemove:
    if (!comparableItem(*c.args[0], args[0], recv, a.attr + "()"))
      return {};
    break;
  default:
    break;
  }
  if (added) {
    auto item = joinItems(recv, *added, *c.args.back());
    if (!item)
      return {};
    Type t = Type::list(*item);
    if (t != recv)
      assignName(n->id, n->range(), t);
  }
  if (info.key && recv.isKnownList() && !keyFunction(*info.key, recv.listItem(), info))
    return {};
  if (Final)
    F.calls[&c] = info;
  return result;
}

/// `xs.index(x)`, `xs.count(x)`, `xs.remove(x)`: `x` is compared with the
/// items by ==, so it is a number for a list of numbers and a tuple of as
/// many numbers for a list of tuples.
bool FunctionChecker::comparableItem(const ast::Expr &e, const Type &x, const Type &recv,
                                     const std::string &method) {
  if (recv.isArrayList() || x.isArray()) {
    error(e.range(),
          fmt::format("{} would compare arrays with ==, which gives an array, not one truth "
                      "value",
                      method),
          "compare arrays yourself: a.shape == b.shape and (a == b).all()");
    return false;
  }
  if (!recv.isKnownList()) {
    if (x.isScalar() || x.isTuple())
      return true;
  } else {
    const Type &item = recv.listItem();
    auto leaves = [](const Type &t) {
      std::vector<Type> out;
      if (t.isScalar())
        out.push_back(t);
      else if (t.isTuple())
        out = t.elements();
      return out;
    };
    std::vector<Type> xs = leaves(x), items = leaves(item);
    bool same = x.isTuple() == item.isTuple() && xs.size() == items.size() &&
                std::all_of(xs.begin(), xs.end(), [](const Type &t) { return t.isScalar(); });
    for (size_t i = 0; same && i < xs.size(); ++i) {
      std::string err;
      if (!compareRule(ast::CmpOpKind::Eq, xs[i].scalarKind(), items[i].scalarKind(), err)) {
        error(e.range(), err);
        return false;
      }
    }
    if (same)
      return true;
  }
  error(e.range(),
        fmt::format("{} compares items with this '{}'; the items are '{}'", method,
                    x.describe(),
                    recv.isKnownList() ? recv.listItem().describe() : "numbers"),
        "look for a number in a list of numbers, a tuple of as many numbers in a list of "
        "tuples");
  return false;
}

//===----------------------------------------------------------------------===//
// Dicts
//===----------------------------------------------------------------------===//

bool FunctionChecker::dictEntry(SourceRange at, const Type &t, const char *what) {
  bool value = std::string_view(what) == "value";
  if (listable(t) || (value && t.isArray()))
    return true;
  error(at,
        fmt::format("a dict's keys are numbers or tuples of numbers, its values those or "
                    "arrays; this {} is '{}'",
                    what, t.describe()),
        t.isArray()       ? "an array is no key (its elements can change): map a number or a "
                            "tuple of numbers to it"
        : t.isContainer() ? "a dict cannot hold lists or dicts"
        : t.isTuple()     ? "a tuple in a dict holds numbers only (no arrays, tuples or lists)"
                          : "");
  return false;
}

std::optional<Type> FunctionChecker::joinEntry(const Type &recv, const Type &key,
                                               const Type &value, const ast::Expr &e) {
  bool set = recv.isSet();
  if (!recv.isKnownDict())
    return set ? Type::set(key) : Type::dict(key, value);
  auto k = unify(recv.dictKey(), key);
  auto v = set ? std::optional<Type>(Type::none()) : unify(recv.dictValue(), value);
  if (!k || !listable(*k) || !v || (!set && !listable(*v) && !v->isArray())) {
    bool keys = !k || !listable(*k);
    error(e.range(),
          set ? fmt::format("a set's items have one type: this set holds '{}', not '{}'",
                            recv.dictKey().describe(), key.describe())
              : fmt::format("a dict's {} have one type: this dict holds '{}', not '{}'",
                            keys ? "keys" : "values",
                            (keys ? recv.dictKey() : recv.dictValue()).describe(),
                            (keys ? key : value).describe()),
          !keys && recv.dictValue().isArray() && value.isArray()
              ? "the array values of a dict have one dtype and one number of dimensions: "
                "convert with .astype(), reshape with .reshape()"
          : !keys && (recv.dictValue().isArray() || value.isArray())
              ? "a dict's values are arrays or numbers, not both"
              : "numbers promote to a common kind, and tuples number by number, when they "
                "have the same length");
    return std::nullopt;
  }
  return set ? Type::set(*k) : Type::dict(*k, *v);
}

/// Whether a key of type `given` converts to `key` and keeps its value's
/// identity: no float key looks up an integer one (Python would find 1.0 in
/// {1: x}; stn reports it), no complex key a real one.
static bool keyFits(const Type &given, const Type &key) {
  if (given.isScalar() && key.isScalar())
    return kindClass(given.scalarKind()) <= kindClass(key.scalarKind());
  if (!given.isTuple() || !key.isTuple() || given.elements().size() != key.elements().size())
    return false;
  for (size_t i = 0; i < key.elements().size(); ++i)
    if (!keyFits(given.elements()[i], key.elements()[i]))
      return false;
  return true;
}

bool FunctionChecker::lookupKey(const ast::Expr &e, const Type &given, const Type &dict) {
  if (!dict.isKnownDict() || keyFits(given, dict.dictKey()))
    return true;
  bool set = dict.isSet();
  error(e.range(),
        fmt::format("{} of type '{}' cannot look up the {} of '{}'", set ? "an item" : "a key",
                    given.describe(), set ? "items" : "keys", dict.describe()),
        given.isScalar() && dict.dictKey().isScalar()
            ? (set ? "convert it to the items' type, or add items of its type"
                   : "convert it to the keys' type, or store keys of its type")
            : (set ? "an item has the items' structure: a number, or a tuple of as many "
                     "numbers"
                   : "a key has the keys' structure: a number, or a tuple of as many numbers"));
  return false;
}

bool FunctionChecker::dictMayGrow(const std::string &name, const ast::Expr &store,
                                  SourceRange r) {
  if (std::count(IteratedLists.begin(), IteratedLists.end(), name)) {
    // Only keys it has: a new one raises, as Python's RuntimeError.
    if (Final)
      F.dictStoresInLoop.insert(&store);
    return true;
  }
  return !racesInParallelLoop(name, r, "change");
}

const ast::Name *FunctionChecker::changedVariable(const ast::Attribute &a, const Type &recv) {
  auto *n = dyn_cast<ast::Name>(a.value.get());
  if (!n)
    error(a.value->range(), fmt::format("{} changes a {}, and this {} is held by no variable",
                                        a.attr == "__delitem__" ? "del" : a.attr + "()",
                                        recv.containerName(), recv.containerName()));
  return n;
}

bool FunctionChecker::racesInParallelLoop(const std::string &name, SourceRange r,
                                          const char *change) {
  if (ParallelAssigned.empty() || ParallelAssigned.back().count(name))
    return false;
  const char *what = Vars.count(name) ? Vars[name].type.containerName() : "list";
  error(r,
        fmt::format("{} '{}' is made outside this parallel loop and cannot {} in it: the "
                    "threads would race",
                    what, name, change),
        fmt::format("write each iteration's result into an array indexed by the loop "
                    "variable, or make the {} inside the loop body",
                    what));
  return true;
}

Type FunctionChecker::dictDisplay(const ast::Dict &d) {
  if (listOnGpu(d.range(), "dicts"))
    return {};
  Type dict = Type::emptyDict();
  bool ok = true;
  for (size_t i = 0; i < d.keys.size(); ++i) {
    Type k = expr(*d.keys[i]), v = expr(*d.values[i]);
    if (!k.isValid() || !v.isValid()) {
      ok = false;
      continue;
    }
    if (!dictEntry(d.keys[i]->range(), k, "key") ||
        !dictEntry(d.values[i]->range(), v, "value"))
      return {};
    auto t = joinEntry(dict, k, v, *d.keys[i]);
    if (!t)
      return {};
    dict = *t;
  }
  return ok ? dict : Type();
}

Type FunctionChecker::dictComp(const ast::ListComp &l) {
  Type k = expr(*l.elt), v = expr(*l.value);
  if (!k.isValid() || !v.isValid())
    return {};
  if (!dictEntry(l.elt->range(), k, "key") || !dictEntry(l.value->range(), v, "value"))
    return {};
  return Type::dict(k, v);
}

/// `dict()`, `dict(d)` (a copy) and `dict(pairs)`: the (key, value) items a
/// for loop over `pairs` gets (TypedFunction::listSources), later ones
/// replacing earlier ones' values.
Type FunctionChecker::dictOf(const ast::Call &c) {
  if (listOnGpu(c.range(), "dicts"))
    return {};
  if (!c.keywords.empty()) {
    error(c.keywords[0].nameRange, "dict() takes no keyword arguments",
          "keys are numbers here: write {k: v, ...}");
    return {};
  }
  if (c.args.size() > 1) {
    error(c.range(), fmt::format("dict() takes at most 1 argument ({} given)", c.args.size()));
    return {};
  }
  CallInfo info;
  info.kind = CallInfo::Kind::Builtin;
  info.builtin = Builtin::DictOf;
  if (Final)
    F.calls[&c] = info;
  if (c.args.empty())
    return Type::emptyDict();
  const ast::Expr &arg = *c.args[0];
  if (auto *n = dyn_cast<ast::Name>(&arg);
      n && Vars.count(n->id) && Vars[n->id].type.isDict() && !Vars[n->id].type.isSet())
    return expr(arg); // dict(d): a copy (no iteration)
  IterSource src;
  Type item = iterItems(arg, src);
  if (!item.isValid())
    return {};
  if (!item.isTuple() || item.elements().size() != 2) {
    error(arg.range(),
          fmt::format("dict() takes (key, value) pairs; the items of this are '{}'",
                      item.describe()),
          "dict(zip(keys, values)) pairs two sequences");
    return {};
  }
  const Type &k = item.elements()[0], &v = item.elements()[1];
  if (!dictEntry(arg.range(), k, "key") || !dictEntry(arg.range(), v, "value"))
    return {};
  if (Final)
    F.listSources[&c] = src;
  return Type::dict(k, v);
}

void FunctionChecker::storeIntoDict(const ast::Subscript &s, const Type &base, const Type &v,
                                    SourceRange valueRange) {
  auto *n = dyn_cast<ast::Name>(s.value.get());
  if (!n) {
    error(s.value->range(), "this stores into a dict that no variable holds",
          "assign the dict to a variable first");
    return;
  }
  if (isa<ast::Slice>(s.index.get())) {
    error(s.index->range(), "a dict takes a key, not a slice");
    return;
  }
  Type k = expr(*s.index);
  if (!k.isValid())
    return;
  if (!dictEntry(s.index->range(), k, "key") || !dictEntry(valueRange, v, "value"))
    return;
  if (!dictMayGrow(n->id, s, s.range()))
    return;
  auto t = joinEntry(base, k, v, s);
  if (!t)
    return;
  if (*t != base)
    assignName(n->id, n->range(), *t);
  record(s, t->dictValue());
}

/// Methods of dicts: `get(k, default)`, `pop(k[, default])`, `popitem()`,
/// `del d[k]` (`__delitem__`),
/// `setdefault(k, v)`, `keys()`, `values()`, `items()` (new lists; a for
/// loop iterates over the dict itself), `clear()`, `copy()`, `update(d2)`.
Type FunctionChecker::dictMethod(const ast::Call &c, const ast::Attribute &a,
                                 const Type &recv) {
  static const std::map<std::string, std::tuple<Builtin, unsigned, unsigned>> methods = {
      {"get", {Builtin::DictGet, 2, 2}},          {"pop", {Builtin::DictPop, 1, 2}},
      {"setdefault", {Builtin::DictSetdefault, 2, 2}}, {"keys", {Builtin::DictKeys, 0, 0}},
      {"values", {Builtin::DictValues, 0, 0}},    {"items", {Builtin::DictItems, 0, 0}},
      {"clear", {Builtin::DictClear, 0, 0}},      {"copy", {Builtin::DictCopy, 0, 0}},
      {"update", {Builtin::DictUpdate, 1, 1}},    {"popitem", {Builtin::DictPopitem, 0, 0}},
      {"__delitem__", {Builtin::DictDelete, 1, 1}}};
  auto m = methods.find(a.attr);
  if (m == methods.end()) {
    error(a.attrRange, fmt::format("'{}' has no method '{}'", recv.describe(), a.attr),
          "dicts have get, pop, popitem, setdefault, keys, values, items, clear, copy and "
          "update");
    return {};
  }
  auto [b, minArgs, maxArgs] = m->second;
  if (!c.keywords.empty()) {
    error(c.keywords[0].value->range(), fmt::format("{}() takes no keyword arguments", a.attr));
    return {};
  }
  // get(k) without a default: None for a missing key, so only as the value
  // of a name (`v = d.get(k)`, then `if v is None:`), of number values.
  bool getOrNone = b == Builtin::DictGet && c.args.size() == 1;
  if (getOrNone && (GetIntoName != &c || (recv.isKnownDict() && !recv.dictValue().isScalar()))) {
    error(c.range(),
          GetIntoName != &c
              ? "get() without a default returns None for a missing key: assign it to a name "
                "and test that name"
              : "get() without a default of a dict of tuple values is not supported",
          GetIntoName != &c ? "v = d.get(k), then 'if v is None:'; or give a default, "
                              "d.get(k, 0)"
                            : "give the default: d.get(k, (0, 0)), or test 'k in d' first");
    return {};
  }
  if (getOrNone) { // (keywords were rejected above)
    std::vector<Type> key;
    if (!argumentTypes(c, key))
      return {};
    // (`{}` is typed by a later pass: the stores, else int64 to float64.)
    Type known = recv.isKnownDict() ? recv : Type::defaultDict();
    if (!recv.isKnownDict() && !Final)
      return {};
    if (!lookupKey(*c.args[0], key[0], known))
      return {};
    MaybeNone.insert(&c);
    if (Final)
      F.calls[&c] = methodCall(b, a, c);
    return known.dictValue();
  }
  if (c.args.size() < minArgs || c.args.size() > maxArgs) {
    error(c.range(), minArgs == maxArgs
                         ? fmt::format("{}() takes {} argument{}", a.attr, maxArgs,
                                       maxArgs == 1 ? "" : "s")
                         : fmt::format("{}() takes {} or {} arguments", a.attr, minArgs,
                                       maxArgs));
    return {};
  }
  std::vector<Type> args;
  if (!argumentTypes(c, args))
    return {};
  CallInfo info = methodCall(b, a, c);
  auto done = [&](Type t) {
    if (Final)
      F.calls[&c] = info;
    return t;
  };
  Type known = recv.isKnownDict()
                   ? recv
                   : Type::defaultDict();
  // `{}` before the stores that decide its types: get and pop with a
  // default give the default's type (the values join it), its other
  // reads are typed in a later pass.
  if (!recv.isKnownDict() && !Final) {
    if ((b == Builtin::DictGet || b == Builtin::DictPop) && args.size() == 2)
      return done(args[1]);
    if (b != Builtin::DictSetdefault && b != Builtin::DictUpdate && b != Builtin::DictClear)
      return {};
  }
  switch (b) {
  case Builtin::DictKeys:
    return done(Type::list(known.dictKey()));
  case Builtin::DictValues:
    return done(Type::list(known.dictValue()));
  case Builtin::DictItems: {
    Type item = Type::tuple({known.dictKey(), known.dictValue()});
    if (!listable(item)) {
      error(c.range(), fmt::format("items() of '{}' would be a list of nested tuples",
                                   recv.describe()),
            "iterate over them instead: for k, v in d.items(): ...");
      return {};
    }
    return done(Type::list(item));
  }
  case Builtin::DictCopy:
    return done(recv);
  case Builtin::DictGet: {
    if (!lookupKey(*c.args[0], args[0], recv))
      return {};
    auto r = unify(known.dictValue(), args[1]);
    if (!r || !(listable(*r) || r->isArray())) {
      error(c.args[1]->range(),
            fmt::format("the default has type '{}', but the values are '{}'", args[1].describe(),
                        known.dictValue().describe()));
      return {};
    }
    return done(*r);
  }
  default:
    break;
  }
  const ast::Name *n = changedVariable(a, recv);
  if (!n)
    return {};
  Type result = Type::none();
  std::optional<Type> grown;
  switch (b) {
  case Builtin::DictPop:
  case Builtin::DictDelete:
  case Builtin::DictPopitem:
  case Builtin::DictClear:
    if (!listMayChangeSize(n->id, c.range()))
      return {};
    if (b == Builtin::DictClear)
      break;
    if (b == Builtin::DictPopitem) {
      result = Type::tuple({known.dictKey(), known.dictValue()});
      break;
    }
    if (!lookupKey(*c.args[0], args[0], recv))
      return {};
    if (b == Builtin::DictDelete)
      break;
    result = known.dictValue();
    if (args.size() == 2) {
      auto r = unify(result, args[1]);
      if (!r || !(listable(*r) || r->isArray())) {
        error(c.args[1]->range(), fmt::format("the default has type '{}', but the values are "
                                              "'{}'",
                                              args[1].describe(), result.describe()));
        return {};
      }
      result = *r;
    }
    break;
  case Builtin::DictSetdefault: {
    if (!dictEntry(c.args[0]->range(), args[0], "key") ||
        !dictEntry(c.args[1]->range(), args[1], "value"))
      return {};
    if (!dictMayGrow(n->id, c, c.range()))
      return {};
    grown = joinEntry(recv, args[0], args[1], c);
    if (!grown)
      return {};
    result = grown->dictValue();
    break;
  }
  case Builtin::DictUpdate: {
    if (!args[0].isDict() || args[0].isSet()) {
      error(c.args[0]->range(),
            fmt::format("update() takes a dict, not '{}'", args[0].describe()),
            "for pairs, update(dict(pairs))");
      return {};
    }
    if (!dictMayGrow(n->id, c, c.range()))
      return {};
    if (args[0].isKnownDict()) {
      grown = joinEntry(recv, args[0].dictKey(), args[0].dictValue(), *c.args[0]);
      if (!grown)
        return {};
    }
    break;
  }
  default:
    break;
  }
  if (grown && *grown != recv)
    assignName(n->id, n->range(), *grown);
  return done(result);
}

//===----------------------------------------------------------------------===//
// Sets
//===----------------------------------------------------------------------===//
//
// A set is a dict whose values are none (Type::set): its items are the
// dict's keys, and it has the dict's storage, lookups and loops (over its
// items, in the order they were first added). Operations between two sets
// convert both to their common type (MLIRGen), so {1} == {1.0} holds.

bool FunctionChecker::setItem(SourceRange at, const Type &t) {
  if (listable(t))
    return true;
  error(at,
        fmt::format("a set holds numbers or tuples of numbers; this item is '{}'",
                    t.describe()),
        t.isArray()       ? "a set of arrays is not supported: s.update(a) adds the items of "
                            "a 1-d array, and np.unique(a) gives its distinct values"
        : t.isContainer() ? "a set cannot hold lists, dicts or sets"
        : t.isTuple()     ? "a tuple in a set holds numbers only (no arrays, tuples or lists)"
                          : "");
  return false;
}

Type FunctionChecker::setDisplay(const ast::List &l) {
  if (listOnGpu(l.range(), "sets"))
    return {};
  Type set = Type::emptySet();
  bool ok = true;
  for (auto &e : l.elts) {
    Type t = expr(*e);
    if (!t.isValid()) {
      ok = false;
      continue;
    }
    if (!setItem(e->range(), t))
      return {};
    auto joined = joinEntry(set, t, Type::none(), *e);
    if (!joined)
      return {};
    set = *joined;
  }
  return ok ? set : Type();
}

Type FunctionChecker::setComp(const ast::ListComp &l) {
  Type t = expr(*l.elt);
  if (!t.isValid() || !setItem(l.elt->range(), t))
    return {};
  return Type::set(t);
}

/// `set()`, `set(s)` (a copy) and `set(iterable)`: the items a for loop
/// over `iterable` gets (TypedFunction::listSources).
Type FunctionChecker::setOf(const ast::Call &c) {
  if (listOnGpu(c.range(), "sets"))
    return {};
  if (!c.keywords.empty()) {
    error(c.keywords[0].nameRange, "set() takes no keyword arguments");
    return {};
  }
  if (c.args.size() > 1) {
    error(c.range(), fmt::format("set() takes at most 1 argument ({} given)", c.args.size()),
          "set(a) makes a set of the items of one iterable; s.update(b) adds more");
    return {};
  }
  CallInfo info;
  info.builtin = Builtin::SetOf;
  if (Final)
    F.calls[&c] = info;
  if (c.args.empty())
    return Type::emptySet();
  const ast::Expr &arg = *c.args[0];
  if (auto *n = dyn_cast<ast::Name>(&arg); n && Vars.count(n->id) && Vars[n->id].type.isSet())
    return expr(arg); // set(s): a copy (no iteration)
  IterSource src;
  Type item = iterItems(arg, src);
  if (!item.isValid() || !setItem(arg.range(), item))
    return {};
  if (Final)
    F.listSources[&c] = src;
  return Type::set(item);
}

Type FunctionChecker::joinSets(SourceRange at, const Type &l, const Type &r) {
  auto u = unify(l, r);
  if (!u || (u->isKnownDict() && !listable(u->dictKey()))) {
    error(at,
          fmt::format("the items of '{}' and '{}' have different structures", l.describe(),
                      r.describe()),
          "items of two sets compare after promotion: numbers with numbers, tuples with "
          "tuples of as many numbers");
    return {};
  }
  if (!u->isKnownDict() && Final)
    return Type::defaultSet();
  return *u;
}

static bool isSetOperator(ast::BinOpKind op) {
  return op == ast::BinOpKind::BitOr || op == ast::BinOpKind::BitAnd ||
         op == ast::BinOpKind::Sub || op == ast::BinOpKind::BitXor;
}

Type FunctionChecker::setBinop(const ast::BinOp &b, const Type &l, const Type &r) {
  if (!l.isSet() || !r.isSet() || !isSetOperator(b.op) || !b.ufunc.empty()) {
    error(b.opRange,
          fmt::format("unsupported operand types for {}: '{}' and '{}'",
                      b.ufunc.empty() ? std::string(spelling(b.op)) : "np." + b.ufunc.name,
                      l.describe(), r.describe()),
          "sets combine with sets: | (union), & (intersection), - (difference) and ^ "
          "(symmetric difference)");
    return {};
  }
  return joinSets(b.opRange, l, r);
}

Type FunctionChecker::setCompare(const ast::Compare &c, const std::vector<Type> &ts) {
  if (c.ops.size() != 1) {
    error(c.opRanges[1], "comparisons of sets cannot be chained",
          "compare separately and join the results with 'and'");
    return {};
  }
  ast::CmpOpKind op = c.ops[0];
  if (!ts[0].isSet() || !ts[1].isSet() || !c.ufunc.empty()) {
    error(c.opRanges[0],
          fmt::format("'{}' is not supported between '{}' and '{}'", spelling(op),
                      ts[0].describe(), ts[1].describe()),
          "a set compares with a set: == and != (the same items), <= and < (subset), >= "
          "and > (superset)");
    return {};
  }
  if (!joinSets(c.opRanges[0], ts[0], ts[1]).isValid())
    return {};
  return Type::scalar(ScalarKind::Bool);
}

void FunctionChecker::setAugAssign(const ast::AugAssign &a, const ast::Name &n,
                                   const Type &cur, const Type &val) {
  if (!val.isSet() || !isSetOperator(a.op) || a.isUfuncAt()) {
    error(a.opRange,
          fmt::format("unsupported operand types for {}=: '{}' and '{}'", spelling(a.op),
                      cur.describe(), val.describe()),
          "a set is updated by a set: |=, &=, -= and ^=; s.update(a) adds the items of "
          "an array or a list");
    return;
  }
  if (!listMayChangeSize(n.id, a.range()))
    return;
  Type t = joinSets(a.opRange, cur, val);
  if (t.isValid() && t != cur)
    assignName(n.id, n.range(), t);
}

/// Methods of sets: add, discard, remove, pop, clear, copy, update
/// (any iterable), union, intersection, difference, symmetric_difference
/// and their _update forms, issubset, issuperset, isdisjoint (of one
/// set).
Type FunctionChecker::setMethod(const ast::Call &c, const ast::Attribute &a,
                                const Type &recv) {
  static const std::map<std::string, Builtin> methods = {
      {"add", Builtin::SetAdd},
      {"discard", Builtin::SetDiscard},
      {"remove", Builtin::SetRemove},
      {"pop", Builtin::SetPop},
      {"clear", Builtin::DictClear},
      {"copy", Builtin::DictCopy},
      {"update", Builtin::SetUpdate},
      {"union", Builtin::SetUnion},
      {"intersection", Builtin::SetIntersection},
      {"difference", Builtin::SetDifference},
      {"symmetric_difference", Builtin::SetSymmetricDifference},
      {"intersection_update", Builtin::SetIntersectionUpdate},
      {"difference_update", Builtin::SetDifferenceUpdate},
      {"symmetric_difference_update", Builtin::SetSymmetricDifferenceUpdate},
      {"issubset", Builtin::SetIsSubset},
      {"issuperset", Builtin::SetIsSuperset},
      {"isdisjoint", Builtin::SetIsDisjoint}};
  auto m = methods.find(a.attr);
  if (m == methods.end()) {
    error(a.attrRange, fmt::format("'{}' has no method '{}'", recv.describe(), a.attr),
          "sets have add, discard, remove, pop, clear, copy, update, union, intersection, "
          "difference, symmetric_difference (and their _update forms), issubset, "
          "issuperset and isdisjoint");
    return {};
  }
  Builtin b = m->second;
  if (!c.keywords.empty()) {
    error(c.keywords[0].value->range(), fmt::format("{}() takes no keyword arguments", a.attr));
    return {};
  }
  size_t want = b == Builtin::SetPop || b == Builtin::DictClear || b == Builtin::DictCopy ? 0 : 1;
  if (c.args.size() != want) {
    bool several = want == 1 && c.args.size() > 1 && b != Builtin::SetAdd &&
                   b != Builtin::SetDiscard && b != Builtin::SetRemove;
    error(c.range(),
          fmt::format("{}() takes {} argument{} ({} given)", a.attr, want,
                      want == 1 ? "" : "s", c.args.size()),
          several ? fmt::format("stn's {}() takes one; chain the calls for more", a.attr)
                  : "");
    return {};
  }
  CallInfo info = methodCall(b, a, c);
  auto done = [&](Type t) {
    if (Final)
      F.calls[&c] = info;
    return t;
  };
  // update(iterable): the items a for loop over it gets.
  IterSource src;
  std::vector<Type> args;
  if (b == Builtin::SetUpdate) {
    Type item = iterItems(*c.args[0], src);
    if (!item.isValid() || !setItem(c.args[0]->range(), item))
      return {};
    args.push_back(Type::set(item));
  } else if (!argumentTypes(c, args)) {
    return {};
  }
  bool ofSet = b >= Builtin::SetUnion; // its argument is a set
  if (ofSet && !args[0].isSet()) {
    error(c.args[0]->range(),
          fmt::format("{}() takes a set here, not '{}'", a.attr, args[0].describe()),
          "make one with set(...): s.union(set(a))");
    return {};
  }
  Type known = recv.isKnownDict() ? recv : Type::defaultSet();
  switch (b) {
  case Builtin::DictCopy:
    return done(recv);
  case Builtin::SetUnion:
  case Builtin::SetIntersection:
  case Builtin::SetDifference:
  case Builtin::SetSymmetricDifference:
    return done(joinSets(c.range(), recv, args[0]));
  case Builtin::SetIsSubset:
  case Builtin::SetIsSuperset:
  case Builtin::SetIsDisjoint:
    if (!joinSets(c.range(), recv, args[0]).isValid())
      return {};
    return done(Type::scalar(ScalarKind::Bool));
  default:
    break;
  }
  const ast::Name *n = changedVariable(a, recv);
  if (!n)
    return {};
  Type result = Type::none();
  Type grown = recv;
  switch (b) {
  case Builtin::SetAdd: {
    if (!setItem(c.args[0]->range(), args[0]) || !dictMayGrow(n->id, c, c.range()))
      return {};
    auto j = joinEntry(recv, args[0], Type::none(), *c.args[0]);
    if (!j)
      return {};
    grown = *j;
    break;
  }
  case Builtin::SetUpdate: {
    if (!dictMayGrow(n->id, c, c.range()))
      return {};
    auto j = joinEntry(recv, args[0].dictKey(), Type::none(), *c.args[0]);
    if (!j)
      return {};
    grown = *j;
    if (Final)
      F.listSources[&c] = src;
    break;
  }
  case Builtin::SetDiscard:
  case Builtin::SetRemove:
    if (!listMayChangeSize(n->id, c.range()) || !lookupKey(*c.args[0], args[0], recv))
      return {};
    break;
  case Builtin::SetPop:
    if (!listMayChangeSize(n->id, c.range()))
      return {};
    if (!recv.isKnownDict() && !Final)
      return {}; // typed in a later pass, once adds decide the items' type
    result = known.dictKey();
    break;
  case Builtin::DictClear:
    if (!listMayChangeSize(n->id, c.range()))
      return {};
    break;
  case Builtin::SetIntersectionUpdate:
  case Builtin::SetDifferenceUpdate:
  case Builtin::SetSymmetricDifferenceUpdate:
    if (!listMayChangeSize(n->id, c.range()))
      return {};
    grown = joinSets(c.range(), recv, args[0]);
    if (!grown.isValid())
      return {};
    break;
  default:
    break;
  }
  if (grown != recv && grown.isKnownDict())
    assignName(n->id, n->range(), grown);
  return done(result);
}

//===----------------------------------------------------------------------===//
// Resolver: names and unsupported features, before any types are known
//===----------------------------------------------------------------------===//

namespace {

class Resolver {
public:
  Resolver(const Program &p, const std::map<std::string, std::string> &aliases,
           const std::map<std::string, std::pair<std::string, std::string>> &from,
           DiagnosticEngine &diags)
      : P(p), Aliases(aliases), From(from), Diags(diags) {}

  void run(const ast::FunctionDef &f) {
    Locals.clear();
    for (auto &p : f.params)
      Locals.insert(p.name);
    ast::collectAssigned(f.body, Locals);
    Loops = 0;
    FirstStore.clear();
    Read.clear();
    block(f.body);
    warnUnused(f);
  }

private:
  void unsupported(SourceRange r, const std::string &what) {
    Diags.error(P.file(), r,
                fmt::format("Python feature {} is not supported in stn kernels", what));
  }

  // Warnings (they never stop a file from loading): statements after a
  // return, break or continue in the same block, and locals that are
  // assigned but never read (Python linters' rule: plain `name = value`
  // assignments only, not loop variables or unpacking targets, and names
  // starting with '_' are meant to be unused).
  void block(const ast::Block &b) {
    const ast::Stmt *jump = nullptr;
    bool warned = false; // one warning for the whole dead tail of a block
    for (auto &s : b) {
      if (jump && !warned) {
        const char *what = jump->kind() == ast::Stmt::Kind::Return  ? "return"
                           : jump->kind() == ast::Stmt::Kind::Raise ? "raise"
                           : jump->kind() == ast::Stmt::Kind::Break ? "break"
                                                                    : "continue";
        Diags.warning(P.file(), s->range(), fmt::format("unreachable code after '{}'", what),
                      "remove it, or move it before the jump");
        warned = true;
      }
      stmt(*s);
      if (!jump && (s->kind() == ast::Stmt::Kind::Return ||
                    s->kind() == ast::Stmt::Kind::Raise ||
                    s->kind() == ast::Stmt::Kind::Break ||
                    s->kind() == ast::Stmt::Kind::Continue))
        jump = s.get();
    }
  }

  void warnUnused(const ast::FunctionDef &f) {
    std::vector<std::pair<std::string, SourceRange>> unused;
    for (auto &[name, range] : FirstStore)
      if (!Read.count(name) && name[0] != '_' &&
          std::none_of(f.params.begin(), f.params.end(),
                       [&](const ast::Param &p) { return p.name == name; }))
        unused.push_back({name, range});
    std::sort(unused.begin(), unused.end(),
              [](auto &a, auto &b) { return a.second.begin < b.second.begin; });
    for (auto &[name, range] : unused)
      Diags.warning(P.file(), range,
                    fmt::format("local variable '{}' is assigned but never used", name),
                    "remove the assignment, or name it '_" + name + "' if it is meant");
  }

  void stmt(const ast::Stmt &s) {
    switch (s.kind()) {
    case ast::Stmt::Kind::ExprStmt:
      expr(*static_cast<const ast::ExprStmt &>(s).value);
      return;
    case ast::Stmt::Kind::Assign: {
      auto &a = static_cast<const ast::Assign &>(s);
      if (a.value)
        expr(*a.value);
      for (auto &t : a.targets) {
        if (auto *n = dyn_cast<ast::Name>(t.get()); n && a.value)
          FirstStore.emplace(n->id, n->range());
        target(*t);
      }
      return;
    }
    case ast::Stmt::Kind::AugAssign: {
      auto &a = static_cast<const ast::AugAssign &>(s);
      expr(*a.value);
      if (auto *n = dyn_cast<ast::Name>(a.target.get()))
        Read.insert(n->id); // x += 1 reads x
      target(*a.target);
      return;
    }
    case ast::Stmt::Kind::If: {
      auto &i = static_cast<const ast::If &>(s);
      expr(*i.cond);
      block(i.body);
      block(i.orelse);
      return;
    }
    case ast::Stmt::Kind::For: {
      auto &f = static_cast<const ast::For &>(s);
      expr(*f.iter);
      target(*f.target);
      ++Loops;
      block(f.body);
      --Loops;
      block(f.orelse);
      return;
    }
    case ast::Stmt::Kind::While: {
      auto &w = static_cast<const ast::While &>(s);
      expr(*w.cond);
      ++Loops;
      block(w.body);
      --Loops;
      block(w.orelse);
      return;
    }
    case ast::Stmt::Kind::Return: {
      auto &r = static_cast<const ast::Return &>(s);
      if (r.value)
        expr(*r.value);
      return;
    }
    case ast::Stmt::Kind::Raise:
      raise(static_cast<const ast::Raise &>(s));
      return;
    case ast::Stmt::Kind::Assert: {
      auto &a = static_cast<const ast::Assert &>(s);
      expr(*a.test);
      if (a.msg)
        expr(*a.msg);
      return;
    }
    case ast::Stmt::Kind::Break:
    case ast::Stmt::Kind::Continue:
      if (Loops == 0)
        Diags.error(P.file(), s.range(),
                    fmt::format("'{}' outside a loop",
                                s.kind() == ast::Stmt::Kind::Break ? "break" : "continue"));
      return;
    case ast::Stmt::Kind::Pass:
    case ast::Stmt::Kind::Import:
    case ast::Stmt::Kind::LocalDef: // lifted by the parser: none are left
      return;
    case ast::Stmt::Kind::Unsupported:
      unsupported(s.range(), static_cast<const ast::UnsupportedStmt &>(s).what);
      return;
    }
  }

  /// `raise E` and `raise E(args)` with E a built-in exception class.
  void raise(const ast::Raise &r) {
    if (!r.exc) {
      Diags.error(P.file(), r.range(),
                  "a bare 'raise' re-raises the exception being handled, and stn kernels "
                  "handle none (no try/except)",
                  "raise an exception, for example raise ValueError(\"n must be positive\")");
      return;
    }
    const ast::Name *cls = raisedClass(r);
    if (!cls) {
      Diags.error(P.file(), r.exc->range(),
                  "stn kernels raise built-in exception classes, as 'raise ValueError' or "
                  "'raise ValueError(\"message\", value, ...)'");
      return;
    }
    if (!isExceptionClass(cls->id)) {
      std::vector<std::string> all(std::begin(ExceptionClasses), std::end(ExceptionClasses));
      std::string best = closestMatch(cls->id, all);
      Diags.error(P.file(), cls->range(),
                  fmt::format("'{}' is not one of Python's built-in exception classes",
                              cls->id),
                  best.empty() ? std::string("stn kernels raise built-in exceptions such as "
                                             "ValueError or RuntimeError")
                               : fmt::format("did you mean '{}'?", best));
      return;
    }
    if (auto *c = dyn_cast<ast::Call>(r.exc.get()))
      for (auto &a : c->args)
        if (!isa<ast::StrLit>(a.get()))
          expr(*a);
  }

  void target(const ast::Expr &t) {
    if (isa<ast::Name>(&t))
      return;
    if (auto *tu = dyn_cast<ast::Tuple>(&t)) {
      for (auto &e : tu->elts)
        target(*e);
      return;
    }
    if (auto *l = dyn_cast<ast::List>(&t)) {
      for (auto &e : l->elts)
        target(*e);
      return;
    }
    expr(t);
  }

  void nameRef(const ast::Name &n) {
    Read.insert(n.id);
    if (Locals.count(n.id) || P.constants().count(n.id) || P.kernel(n.id) ||
        Aliases.count(n.id) || From.count(n.id))
      return;
    if (lookup(std::begin(PyBuiltins), std::end(PyBuiltins), n.id) ||
        lookup(std::begin(MathFunctions), std::end(MathFunctions), n.id) ||
        parseScalarName(n.id) || n.id == "sum" || n.id == "any" || n.id == "all")
      return;
    // GPU intrinsics (cuda.grid, threadIdx, ...): whether the kernel may use
    // them is checked with its kind (FunctionChecker::gpuIntrinsic).
    static const std::set<std::string> gpuNames = {
        "cuda",    "grid",   "gridsize", "threadIdx",   "blockIdx", "blockDim",
        "gridDim", "shared", "local",    "syncthreads", "atomic"};
    if (gpuNames.count(n.id))
      return;
    if (n.id == "print" || n.id == "f-string" || n.id == "f-string field") // (Parser.cpp)
      return;
    std::vector<std::string> candidates;
    for (const std::string &l : Locals) {
      if (ast::sourceName(l) == n.id && l != n.id) { // a comprehension's `x@N`
        Diags.error(P.file(), n.range(), fmt::format("name '{}' is not defined", n.id),
                    fmt::format("'{}' is a comprehension's variable, which exists only inside "
                                "it (as in Python 3): write a for loop to keep its value",
                                n.id));
        return;
      }
      if (!ast::isComprehensionTarget(l))
        candidates.push_back(l);
    }
    for (auto &[k, v] : P.constants())
      candidates.push_back(k);
    for (auto &k : P.kernels())
      if (!k.def->isLocal())
        candidates.push_back(k.def->name);
    for (auto &b : PyBuiltins)
      candidates.push_back(b.name);
    for (auto &b : MathFunctions)
      candidates.push_back(b.name);
    for (auto &[k, v] : Aliases)
      candidates.push_back(k);
    std::string best = closestMatch(n.id, candidates);
    Diags.error(P.file(), n.range(), fmt::format("name '{}' is not defined", n.id),
                best.empty() ? std::string() : fmt::format("did you mean '{}'?", best));
  }

  void expr(const ast::Expr &e) {
    switch (e.kind()) {
    case ast::Expr::Kind::Name:
      nameRef(static_cast<const ast::Name &>(e));
      return;
    case ast::Expr::Kind::Attribute:
      expr(*static_cast<const ast::Attribute &>(e).value);
      return;
    case ast::Expr::Kind::Subscript: {
      auto &s = static_cast<const ast::Subscript &>(e);
      expr(*s.value);
      expr(*s.index);
      return;
    }
    case ast::Expr::Kind::Slice: {
      auto &s = static_cast<const ast::Slice &>(e);
      if (s.lower)
        expr(*s.lower);
      if (s.upper)
        expr(*s.upper);
      if (s.step)
        expr(*s.step);
      return;
    }
    case ast::Expr::Kind::Call: {
      auto &c = static_cast<const ast::Call &>(e);
      expr(*c.func);
      for (auto &a : c.args)
        expr(*a);
      for (auto &k : c.keywords)
        expr(*k.value);
      return;
    }
    case ast::Expr::Kind::BinOp: {
      auto &b = static_cast<const ast::BinOp &>(e);
      expr(*b.lhs);
      expr(*b.rhs);
      return;
    }
    case ast::Expr::Kind::UnaryOp:
      expr(*static_cast<const ast::UnaryOp &>(e).operand);
      return;
    case ast::Expr::Kind::Compare:
      for (auto &o : static_cast<const ast::Compare &>(e).operands)
        expr(*o);
      return;
    case ast::Expr::Kind::BoolOp:
      for (auto &o : static_cast<const ast::BoolOp &>(e).values)
        expr(*o);
      return;
    case ast::Expr::Kind::IfExp: {
      auto &i = static_cast<const ast::IfExp &>(e);
      expr(*i.cond);
      expr(*i.body);
      expr(*i.orelse);
      return;
    }
    case ast::Expr::Kind::Tuple:
      for (auto &o : static_cast<const ast::Tuple &>(e).elts)
        expr(*o);
      return;
    case ast::Expr::Kind::List:
      for (auto &o : static_cast<const ast::List &>(e).elts)
        expr(*o);
      return;
    case ast::Expr::Kind::ListComp: {
      // Its targets (renamed `x@N` by the parser) are local to it.
      auto &l = static_cast<const ast::ListComp &>(e);
      for (auto &g : l.generators) {
        expr(*g.iter);
        ast::collectTargets(*g.target, Locals);
        target(*g.target);
        for (auto &c : g.ifs)
          expr(*c);
      }
      expr(*l.elt);
      if (l.value)
        expr(*l.value);
      return;
    }
    case ast::Expr::Kind::Dict:
    case ast::Expr::Kind::Closure:
      ast::forEachChild(e, [&](const ast::Expr &c) { expr(c); });
      return;
    case ast::Expr::Kind::Unsupported:
      unsupported(e.range(), static_cast<const ast::Unsupported &>(e).what);
      return;
    default:
      return;
    }
  }

  const Program &P;
  const std::map<std::string, std::string> &Aliases;
  const std::map<std::string, std::pair<std::string, std::string>> &From;
  DiagnosticEngine &Diags;
  std::set<std::string> Locals;
  int Loops = 0;
  std::map<std::string, SourceRange> FirstStore; ///< `name = value` targets
  std::set<std::string> Read;                    ///< names read anywhere
};

} // namespace

//===----------------------------------------------------------------------===//
// Program
//===----------------------------------------------------------------------===//

const KernelDecl *Program::kernel(std::string_view name) const {
  for (auto &k : Kernels)
    if (k.def->name == name)
      return &k;
  return nullptr;
}

/// Parses a gufunc layout: "(n, m) -> (n, m)", "(n),()->(n)".
static std::optional<GufuncLayout> parseLayout(const std::string &text, std::string &error) {
  GufuncLayout l;
  l.text = text;
  std::string t;
  for (char c : text)
    if (!isspace(static_cast<unsigned char>(c)))
      t += c;
  size_t arrow = t.find("->");
  if (arrow == std::string::npos) {
    error = "a gufunc layout has the form \"(n,m),(m)->(n)\": '->' is missing";
    return std::nullopt;
  }
  auto groups = [&](const std::string &part, std::vector<std::vector<std::string>> &out) {
    size_t i = 0;
    while (i < part.size()) {
      if (part[i] != '(')
        return false;
      size_t close = part.find(')', i);
      if (close == std::string::npos)
        return false;
      std::vector<std::string> dims;
      std::string inner = part.substr(i + 1, close - i - 1);
      size_t p = 0;
      while (!inner.empty() && p <= inner.size()) {
        size_t comma = inner.find(',', p);
        std::string d = inner.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
        if (d.empty() || !(isalpha(static_cast<unsigned char>(d[0])) || d[0] == '_'))
          return false;
        for (char c : d)
          if (!(isalnum(static_cast<unsigned char>(c)) || c == '_'))
            return false;
        dims.push_back(d);
        if (comma == std::string::npos)
          break;
        p = comma + 1;
      }
      out.push_back(dims);
      i = close + 1;
      if (i < part.size()) {
        if (part[i] != ',')
          return false;
        ++i;
      }
    }
    return !out.empty();
  };
  if (!groups(t.substr(0, arrow), l.inputs) || !groups(t.substr(arrow + 2), l.outputs)) {
    error = fmt::format("malformed gufunc layout \"{}\": expected a list of dimension groups "
                        "such as \"(m,n),(n,p)->(m,p)\"",
                        text);
    return std::nullopt;
  }
  if (l.outputs.size() != 1) {
    error = "gufuncs with more than one output are not supported yet";
    return std::nullopt;
  }
  return l;
}

namespace {

/// Reads the decorators of one function into its KernelDecl.
class DecoratorReader {
public:
  DecoratorReader(const ast::FunctionDef &f, KernelDecl &k,
                  const std::shared_ptr<const SourceFile> &file, DiagnosticEngine &diags)
      : F(f), K(k), File(file), Diags(diags) {}

  bool run() {
    if (F.decorators.empty())
      return true;
    if (F.decorators.size() > 2) {
      Diags.error(File, F.decorators[2]->range(), "at most two decorators are supported");
      return false;
    }
    std::vector<std::string> names;
    for (auto &d : F.decorators)
      names.push_back(nameOf(*d));
    if (F.decorators.size() == 2) {
      // @gufunc(layout) stacked directly on @stencil (seed wish 3).
      if (!isGufunc(names[0]) || !isStencil(names[1])) {
        Diags.error(File, F.decorators[0]->range(),
                    fmt::format("'@{}' cannot be stacked on '@{}'", names[0], names[1]),
                    "the supported stacking is @gufunc(layout) (or @guvectorize) on @stencil");
        return false;
      }
      bool ok = read(*F.decorators[1], names[1]);
      ok = read(*F.decorators[0], names[0]) && ok;
      K.stencilCore = true;
      K.kind = KernelKind::Gufunc;
      return ok;
    }
    return read(*F.decorators[0], names[0]);
  }

private:
  static std::string nameOf(const ast::Expr &d) {
    const ast::Expr *callee = &d;
    if (auto *c = dyn_cast<ast::Call>(&d))
      callee = c->func.get();
    if (auto *n = dyn_cast<ast::Name>(callee))
      return n->id;
    if (auto *a = dyn_cast<ast::Attribute>(callee))
      return a->attr;
    return "?";
  }
  static bool isJit(const std::string &n) { return n == "jit" || n == "njit"; }
  static bool isStencil(const std::string &n) { return n == "stencil"; }
  static bool isUfunc(const std::string &n) { return n == "ufunc" || n == "vectorize"; }
  static bool isGufunc(const std::string &n) { return n == "gufunc" || n == "guvectorize"; }

  /// `@cuda.jit` / `@numba.cuda.jit` (nameOf gives "jit" for both).
  static bool isCudaJit(const ast::Expr &callee) {
    auto *a = dyn_cast<ast::Attribute>(&callee);
    if (!a || a->attr != "jit")
      return false;
    if (auto *n = dyn_cast<ast::Name>(a->value.get()))
      return n->id == "cuda";
    auto *m = dyn_cast<ast::Attribute>(a->value.get());
    return m && m->attr == "cuda";
  }

  bool read(const ast::Expr &d, const std::string &name) {
    const ast::Call *call = dyn_cast<ast::Call>(&d);
    const ast::Expr *callee = call ? call->func.get() : &d;
    if (name == "kernel" || isCudaJit(*callee)) {
      K.decorator = "kernel";
      K.kind = KernelKind::Gpu;
    } else if (isJit(name)) {
      K.decorator = "jit";
      K.kind = KernelKind::Jit;
    } else if (isStencil(name)) {
      K.decorator = "stencil";
      K.kind = KernelKind::Stencil;
    } else if (isUfunc(name)) {
      K.decorator = "ufunc";
      K.kind = KernelKind::Ufunc;
    } else if (isGufunc(name)) {
      K.decorator = "gufunc";
      K.kind = KernelKind::Gufunc;
    } else {
      Diags.error(File, callee->range(), fmt::format("unknown decorator '{}'", name),
                  "kernels are decorated with @jit/@njit, @stencil, @ufunc/@vectorize or "
                  "@gufunc/@guvectorize");
      return false;
    }
    if (!call) {
      if (K.kind == KernelKind::Gufunc) {
        Diags.error(File, d.range(), "@gufunc needs a layout such as @gufunc(\"(n,m)->(n,m)\")");
        return false;
      }
      return true;
    }
    bool ok = true;
    for (auto &a : call->args) {
      if (auto *l = dyn_cast<ast::List>(a.get())) {
        for (auto &e : l->elts)
          ok = addSignature(*e) && ok;
        continue;
      }
      auto *str = dyn_cast<ast::StrLit>(a.get());
      if (str && K.kind == KernelKind::Gufunc && str->value.find("->") != std::string::npos) {
        ok = setLayout(*a) && ok;
        continue;
      }
      if (str && K.kind == KernelKind::Stencil) {
        ok = setBoundary(*a) && ok; // @stencil("constant"), Numba's func_or_mode
        continue;
      }
      ok = addSignature(*a) && ok;
    }
    for (auto &kw : call->keywords)
      ok = option(kw, name) && ok;
    // A bad argument was reported already: a missing layout would repeat it.
    if (ok && K.kind == KernelKind::Gufunc && K.layout.inputs.empty()) {
      Diags.error(File, d.range(), "@gufunc needs a layout such as \"(n,m)->(n,m)\"");
      ok = false;
    }
    return ok;
  }

  bool setLayout(const ast::Expr &e) {
    auto *s = dyn_cast<ast::StrLit>(&e);
    if (!s) {
      Diags.error(File, e.range(), "a gufunc layout is a string such as \"(n,m)->(n,m)\"");
      return false;
    }
    std::string err;
    auto l = parseLayout(s->value, err);
    if (!l) {
      Diags.error(File, e.range(), err);
      return false;
    }
    K.layout = *l;
    return true;
  }

  bool setBoundary(const ast::Expr &e) {
    auto *s = dyn_cast<ast::StrLit>(&e);
    static const std::pair<const char *, BoundaryMode> modes[] = {
        {"constant", BoundaryMode::Constant}, {"nearest", BoundaryMode::Nearest},
        {"reflect", BoundaryMode::Reflect},   {"mirror", BoundaryMode::Mirror},
        {"wrap", BoundaryMode::Wrap}};
    if (s)
      for (auto &[n, m] : modes)
        if (s->value == n) {
          K.stencil.boundary = m;
          return true;
        }
    Diags.error(File, e.range(), "boundary must be one of \"constant\", \"nearest\", "
                                 "\"reflect\", \"mirror\", \"wrap\"");
    return false;
  }

  bool addSignature(const ast::Expr &e) {
    // Numba's guvectorize also takes tuples of types: [(int8[:, :], int8[:, :])].
    if (auto *t = dyn_cast<ast::Tuple>(&e)) {
      auto sig = signatureFromExpr(e, File, Diags);
      if (!sig)
        return false;
      K.signatures.push_back(*sig);
      (void)t;
      return true;
    }
    auto *s = dyn_cast<ast::StrLit>(&e);
    if (!s) {
      Diags.error(File, e.range(),
                  "a signature is a string such as \"f64(i32, i32)\" or \"void(f8[:, :])\"");
      return false;
    }
    // Parse the string's contents in place, so errors point into the file.
    const std::string &text = File->text();
    uint32_t begin = s->range().begin, end = s->range().end;
    while (begin < end && text[begin] != '"' && text[begin] != '\'')
      ++begin;
    if (begin >= end)
      return false;
    char q = text[begin];
    bool triple = begin + 2 < end && text[begin + 1] == q && text[begin + 2] == q;
    uint32_t open = triple ? 3 : 1;
    std::shared_ptr<const SourceFile> src = File;
    ast::ExprPtr parsed;
    if (end - begin >= 2 * open &&
        text.compare(begin + open, end - begin - 2 * open, s->value) == 0) {
      parsed = parseExpression(File, Diags, begin + open, end - open);
    } else {
      src = std::make_shared<const SourceFile>(File->name() + " (signature)", s->value);
      parsed = parseExpression(src, Diags, 0, static_cast<uint32_t>(s->value.size()));
    }
    if (!parsed)
      return false;
    auto sig = signatureFromExpr(*parsed, src, Diags);
    if (!sig)
      return false;
    size_t want = F.params.size();
    if ((K.kind == KernelKind::Jit || K.kind == KernelKind::Gpu) && sig->args.size() != want) {
      Diags.error(File, e.range(),
                  fmt::format("the signature has {} argument types, but '{}' has {} "
                              "parameters",
                              sig->args.size(), F.name, want));
      return false;
    }
    K.signatures.push_back(*sig);
    return true;
  }

  /// fastmath=True/False, or a set (or list) of LLVM fast-math flag names.
  bool fastmathOpt(const ast::Keyword &kw) {
    static const std::pair<const char *, uint8_t> names[] = {
        {"nnan", FMNoNaNs},   {"ninf", FMNoInfs},     {"nsz", FMNoSignedZeros},
        {"arcp", FMAllowRecip}, {"contract", FMContract}, {"afn", FMApproxFunc},
        {"reassoc", FMReassoc}, {"fast", FMAll}};
    uint8_t flags = 0;
    if (auto *b = dyn_cast<ast::BoolLit>(kw.value.get())) {
      flags = b->value ? FMAll : 0;
    } else if (auto *l = dyn_cast<ast::List>(kw.value.get())) {
      for (auto &e : l->elts) {
        auto *s = dyn_cast<ast::StrLit>(e.get());
        std::vector<std::string> all;
        bool found = false;
        for (auto &[n, bit] : names) {
          all.push_back(n);
          if (s && s->value == n) {
            flags |= bit;
            found = true;
          }
        }
        if (found)
          continue;
        std::string best = s ? closestMatch(s->value, all) : "";
        Diags.error(File, e->range(),
                    s ? fmt::format("unknown fast-math flag '{}'", s->value)
                      : std::string("fast-math flags are strings"),
                    best.empty() ? "flags are: nnan, ninf, nsz, arcp, contract, afn, reassoc, fast"
                                 : fmt::format("did you mean '{}'?", best));
        return false;
      }
    } else {
      Diags.error(File, kw.value->range(),
                  "option 'fastmath' must be True, False or a set of flags such as "
                  "{\"nnan\", \"contract\"}");
      return false;
    }
    K.options.fastmathFlags = flags;
    K.options.fastmath = flags != 0;
    return true;
  }

  bool boolOpt(const ast::Keyword &kw, bool &out) {
    if (auto *b = dyn_cast<ast::BoolLit>(kw.value.get())) {
      out = b->value;
      return true;
    }
    Diags.error(File, kw.value->range(), fmt::format("option '{}' must be True or False", kw.name));
    return false;
  }

  std::optional<int64_t> intConst(const ast::Expr &e) {
    if (auto *i = dyn_cast<ast::IntLit>(&e); i && !i->isUnsigned)
      return static_cast<int64_t>(i->value);
    if (auto *u = dyn_cast<ast::UnaryOp>(&e); u && u->op == ast::UnaryOpKind::Neg)
      if (auto *i = dyn_cast<ast::IntLit>(u->operand.get()); i && !i->isUnsigned)
        return -static_cast<int64_t>(i->value);
    return std::nullopt;
  }

  bool option(const ast::Keyword &kw, const std::string &decorator) {
    static const std::set<std::string> jitOpts = {"nopython", "parallel", "fastmath", "cache",
                                                  "nogil", "boundscheck", "error_model",
                                                  "target", "signature"};
    static const std::set<std::string> stencilOpts = {"neighborhood", "boundary", "cval",
                                                      "standard_indexing", "func_or_mode",
                                                      "dtype", "target"};
    static const std::set<std::string> ufuncOpts = {"target", "fastmath", "cache", "nopython",
                                                    "dtype", "identity", "signature",
                                                    "boundscheck", "nogil"};
    // numba.cuda.jit's options; debug/lineinfo/opt/inline/max_registers
    // are accepted and ignored. boundscheck is @jit's, for GPU code too.
    static const std::set<std::string> gpuOpts = {"device", "fastmath", "cache", "signature",
                                                  "debug", "lineinfo", "opt", "inline",
                                                  "max_registers", "boundscheck"};
    const std::set<std::string> &known = K.decorator == "kernel"         ? gpuOpts
                                         : K.kind == KernelKind::Jit     ? jitOpts
                                         : K.kind == KernelKind::Stencil ? stencilOpts
                                                                         : ufuncOpts;
    if (!known.count(kw.name)) {
      std::vector<std::string> cands(known.begin(), known.end());
      std::string best = closestMatch(kw.name, cands);
      std::string all;
      for (auto &c : cands)
        all += (all.empty() ? "" : ", ") + c;
      Diags.error(File, kw.nameRange,
                  fmt::format("unknown option '{}' for @{}", kw.name, decorator),
                  best.empty() ? "options are: " + all : fmt::format("did you mean '{}'?", best));
      return false;
    }
    const ast::Expr &v = *kw.value;
    if (kw.name == "nopython")
      return boolOpt(kw, K.options.nopython);
    if (kw.name == "parallel")
      return boolOpt(kw, K.options.parallel);
    if (kw.name == "fastmath")
      return fastmathOpt(kw);
    if (kw.name == "cache")
      return boolOpt(kw, K.options.cache);
    if (kw.name == "nogil")
      return boolOpt(kw, K.options.nogil);
    if (kw.name == "boundscheck")
      return boolOpt(kw, K.options.boundscheck);
    if (kw.name == "identity")
      return true; // NumPy reduction identity: accepted, unused
    if (kw.name == "device") {
      // A device function: a Jit kernel compiled only into GPU code.
      bool device = false;
      if (!boolOpt(kw, device))
        return false;
      K.gpuDevice = device;
      K.kind = device ? KernelKind::Jit : KernelKind::Gpu;
      return true;
    }
    if (kw.name == "debug" || kw.name == "lineinfo" || kw.name == "opt" ||
        kw.name == "inline" || kw.name == "max_registers")
      return true;
    if (kw.name == "signature") {
      if (K.kind == KernelKind::Gufunc)
        return setLayout(v);
      return addSignature(v);
    }
    if (kw.name == "boundary" || kw.name == "func_or_mode")
      return setBoundary(v);
    if (kw.name == "dtype") {
      std::string n;
      if (auto *s = dyn_cast<ast::StrLit>(&v))
        n = s->value;
      else if (auto *nm = dyn_cast<ast::Name>(&v))
        n = nm->id;
      else if (auto *a = dyn_cast<ast::Attribute>(&v))
        n = a->attr;
      auto sk = parseScalarName(n);
      if (!sk) {
        Diags.error(File, v.range(), "dtype must name a type such as np.int8 or \"float32\"");
        return false;
      }
      K.dtype = *sk;
      return true;
    }
    if (kw.name == "cval") {
      ConstValue c;
      if (auto i = intConst(v)) {
        c.type = Type::scalar(ScalarKind::I64);
        c.i = *i;
      } else if (auto *f = dyn_cast<ast::FloatLit>(&v)) {
        c.type = Type::scalar(ScalarKind::F64);
        c.f = f->value;
      } else if (auto *u = dyn_cast<ast::UnaryOp>(&v);
                 u && u->op == ast::UnaryOpKind::Neg && isa<ast::FloatLit>(u->operand.get())) {
        c.type = Type::scalar(ScalarKind::F64);
        c.f = -static_cast<const ast::FloatLit *>(u->operand.get())->value;
      } else if (auto *b = dyn_cast<ast::BoolLit>(&v)) {
        c.type = Type::scalar(ScalarKind::Bool);
        c.i = b->value;
      } else {
        Diags.error(File, v.range(), "cval must be a number");
        return false;
      }
      K.stencil.cval = c;
      return true;
    }
    if (kw.name == "neighborhood") {
      auto *outer = dyn_cast<ast::Tuple>(&v);
      bool good = outer && !outer->elts.empty();
      std::vector<std::pair<int64_t, int64_t>> nb;
      if (good)
        for (auto &axis : outer->elts) {
          auto *pair = dyn_cast<ast::Tuple>(axis.get());
          std::optional<int64_t> lo, hi;
          if (pair && pair->elts.size() == 2) {
            lo = intConst(*pair->elts[0]);
            hi = intConst(*pair->elts[1]);
          }
          if (!lo || !hi || *lo > 0 || *hi < 0) {
            good = false;
            break;
          }
          nb.push_back({*lo, *hi});
        }
      if (!good) {
        Diags.error(File, v.range(),
                    "neighborhood is one (low, high) pair of integer offsets per axis with "
                    "low <= 0 <= high, e.g. ((-1, 1), (-1, 1))");
        return false;
      }
      K.stencil.hasNeighborhood = true;
      K.stencil.neighborhood = nb;
      return true;
    }
    if (kw.name == "standard_indexing") {
      std::vector<const ast::Expr *> items;
      if (auto *t = dyn_cast<ast::Tuple>(&v))
        for (auto &e : t->elts)
          items.push_back(e.get());
      else if (auto *l = dyn_cast<ast::List>(&v))
        for (auto &e : l->elts)
          items.push_back(e.get());
      else
        items.push_back(&v);
      for (auto *it : items) {
        auto *s = dyn_cast<ast::StrLit>(it);
        bool isParam = false;
        if (s)
          for (auto &p : F.params)
            isParam |= p.name == s->value;
        if (!isParam) {
          Diags.error(File, it->range(),
                      "standard_indexing lists parameter names as strings, e.g. (\"w\",)");
          return false;
        }
        K.stencil.standardIndexing.push_back(s->value);
      }
      return true;
    }
    // error_model and target: strings.
    auto *str = dyn_cast<ast::StrLit>(&v);
    if (!str) {
      Diags.error(File, v.range(), fmt::format("option '{}' must be a string", kw.name));
      return false;
    }
    if (kw.name == "error_model") {
      if (str->value != "python" && str->value != "numpy") {
        Diags.error(File, v.range(), "error_model must be \"python\" or \"numpy\"");
        return false;
      }
      K.options.errorModel = str->value;
      return true;
    }
    if (str->value != "cpu" && str->value != "cuda" && str->value != "parallel" &&
        str->value != "gpu") {
      Diags.error(File, v.range(), "target must be \"cpu\", \"parallel\" or \"cuda\"");
      return false;
    }
    K.options.target = str->value;
    K.options.targetGiven = true;
    return true;
  }

  const ast::FunctionDef &F;
  KernelDecl &K;
  std::shared_ptr<const SourceFile> File;
  DiagnosticEngine &Diags;
};

} // namespace

/// Default parameter values: constants (numbers, bools, None and tuples of
/// those, module constants, math.pi, ...), on @jit functions. (The parser
/// checked that they follow the parameters without one.)
static void readDefaults(KernelDecl &k, const ConstFolder &folder,
                         const std::shared_ptr<const SourceFile> &file,
                         DiagnosticEngine &diags) {
  bool first = true;
  for (const ast::Param &prm : k.def->params) {
    if (!prm.defaultValue) {
      k.defaults.emplace_back();
      continue;
    }
    if (first && k.kind != KernelKind::Jit)
      diags.error(file, prm.defaultValue->range(),
                  fmt::format("default parameter values are for @jit functions; a {} takes "
                              "every argument",
                              k.kind == KernelKind::Gpu ? "GPU kernel" : kernelKindName(k.kind)));
    first = false;
    if (isa<ast::NoneLit>(prm.defaultValue.get())) {
      ConstValue none;
      none.type = Type::none();
      k.defaults.emplace_back(none);
      continue;
    }
    auto v = folder.fold(*prm.defaultValue);
    auto *name = dyn_cast<ast::Name>(prm.defaultValue.get());
    if (!v && k.def->isLocal() && name)
      // `lambda x, n=n: ...`, Python's way to read n when the lambda is made.
      diags.error(file, prm.defaultValue->range(),
                  fmt::format("the default value of '{}' must be a constant; a local function "
                              "cannot take a default from '{}' of '{}'",
                              prm.name, ast::sourceName(name->id), k.def->enclosing),
                  fmt::format("drop the parameter and read {0} in the body: a local function "
                              "reads the variables of the function around it (their values "
                              "when it is called)",
                              ast::sourceName(name->id)));
    else if (!v)
      diags.error(file, prm.defaultValue->range(),
                  fmt::format("the default value of '{}' must be a constant: a number, a bool, "
                              "None, or a tuple of those",
                              prm.name),
                  "compute it in the body: pass None and test `if x is None:`");
    k.defaults.push_back(v);
  }
}

std::unique_ptr<Program> Program::load(std::shared_ptr<const SourceFile> file,
                                       DiagnosticEngine &diags) {
  std::unique_ptr<Program> p(new Program());
  p->File = file;
  unsigned errorsBefore = diags.numErrors();
  p->Mod = parseModule(file, diags);
  // The parser drops statements it could not parse; checking names in what
  // is left would only add follow-on errors.
  if (!p->Mod || diags.numErrors() != errorsBefore)
    return nullptr;
  // Imports: numpy/math/numba aliases and from-imports.
  for (auto &imp : p->Mod->imports) {
    if (imp->isFrom()) {
      for (auto &[n, alias] : imp->names)
        p->FromImports[alias.empty() ? n : alias] = {imp->module, n};
    } else {
      std::string alias = imp->alias.empty() ? imp->module : imp->alias;
      // `import numba.cuda` binds `numba`.
      if (imp->alias.empty() && alias.find('.') != std::string::npos)
        alias = alias.substr(0, alias.find('.'));
      p->ModuleAliases[alias] = imp->module;
    }
  }
  for (const char *m : {"math", "numba", "cmath", "random"})
    p->ModuleAliases.emplace(m, m);
  p->ModuleAliases.emplace("np", "numpy");
  p->ModuleAliases.emplace("numpy", "numpy");
  // Module constants, in order (later ones may use earlier ones).
  ConstFolder folder(p->Constants, p->ModuleAliases, /*definitions=*/true);
  for (auto &g : p->Mod->globals) {
    auto v = folder.fold(*g.value);
    if (!v) {
      diags.error(file, g.value->range(),
                  fmt::format("module-level '{}' must be a constant: a number, a bool, or a "
                              "tuple of those",
                              g.name));
      continue;
    }
    p->Constants[g.name] = *v;
  }
  for (auto &s : p->Mod->other) {
    if (auto *u = dyn_cast<ast::UnsupportedStmt>(s.get()))
      diags.error(file, s->range(),
                  fmt::format("Python feature {} is not supported in stn kernels", u->what));
    else
      diags.error(file, s->range(),
                  "only imports, constants (NAME = value) and function definitions may "
                  "appear at module level");
  }
  // Kernels and their decorators.
  std::set<std::string> seen;
  for (auto &f : p->Mod->functions) {
    if (!seen.insert(f->name).second) {
      diags.error(file, f->nameRange, fmt::format("function '{}' is defined twice", f->name));
      continue;
    }
    KernelDecl k;
    k.def = f.get();
    DecoratorReader(*f, k, file, diags).run();
    if (f->isLocal()) {
      // A local function is compiled as the function around it is (its
      // options; GPU code if that is GPU code), as a plain function (its
      // prange loops do not become GPU grids). The enclosing one is listed
      // before it.
      if (const KernelDecl *outer = p->kernel(f->enclosing)) {
        k.options = outer->options;
        k.options.target = "cpu";
        k.gpuDevice = outer->gpuDevice || outer->kind == KernelKind::Gpu;
      }
    }
    readDefaults(k, folder, file, diags);
    // STN_BOUNDSCHECK=0/1 overrides every kernel's boundscheck option, as
    // NUMBA_BOUNDSCHECK does (the option is part of the cache key).
    if (const char *env = std::getenv("STN_BOUNDSCHECK"); env && (!std::strcmp(env, "0") ||
                                                                  !std::strcmp(env, "1")))
      k.options.boundscheck = env[0] == '1';
    // Annotated parameters form a signature when no decorator gives one.
    // (Not for a local function, whose captured parameters have no type
    // written: its annotations are not checked, as in Python.)
    bool allAnnotated = !f->params.empty() && !f->isLocal();
    for (auto &prm : f->params)
      allAnnotated &= prm.annotation != nullptr;
    if ((k.kind == KernelKind::Jit || k.kind == KernelKind::Gpu) && k.signatures.empty() &&
        allAnnotated) {
      Signature sig;
      bool ok = true;
      for (auto &prm : f->params) {
        auto t = typeFromExpr(*prm.annotation, file, diags);
        if (!t) {
          ok = false;
          break;
        }
        sig.args.push_back(*t);
      }
      if (ok && f->returns) {
        auto t = typeFromExpr(*f->returns, file, diags);
        if (t)
          sig.result = *t;
        else
          ok = false;
      }
      if (ok)
        k.signatures.push_back(sig);
    }
    p->Kernels.push_back(std::move(k));
  }
  // Gufunc layouts against their functions: known without argument types.
  for (auto &k : p->Kernels) {
    if (k.kind != KernelKind::Gufunc || k.layout.inputs.empty())
      continue;
    for (auto &name : k.layout.outputs[0]) {
      bool found = false;
      for (auto &in : k.layout.inputs)
        found |= std::find(in.begin(), in.end(), name) != in.end();
      if (!found)
        diags.error(file, k.def->nameRange,
                    fmt::format("the output dimension '{}' of gufunc '{}' (layout \"{}\") does "
                                "not appear in any input, so its size is unknown",
                                name, k.def->name, k.layout.text));
    }
    size_t nIn = k.layout.inputs.size(), nOut = k.layout.outputs.size();
    size_t n = k.def->params.size();
    if (n != nIn && n != nIn + nOut)
      diags.error(file, k.def->nameRange,
                  fmt::format("gufunc '{}' has the layout \"{}\" with {} input(s) and {} output, "
                              "so it takes {} parameters (returning its output) or {} (writing "
                              "the last one), not {}",
                              k.def->name, k.layout.text, nIn, nOut, nIn, nIn + nOut, n));
  }
  // Names and unsupported features.
  Resolver resolver(*p, p->ModuleAliases, p->FromImports, diags);
  for (auto &k : p->Kernels)
    resolver.run(*k.def);
  if (diags.numErrors() != errorsBefore)
    return nullptr;
  // Explicit signatures are checked eagerly.
  for (auto &k : p->Kernels)
    if (k.kind == KernelKind::Jit || k.kind == KernelKind::Gpu)
      for (auto &sig : k.signatures)
        p->specialize(k, sig.args, diags);
  if (diags.numErrors() != errorsBefore)
    return nullptr;
  return p;
}

const Signature *Program::matchSignature(const KernelDecl &k, const std::vector<Type> &args,
                                         std::string &error) const {
  for (auto &sig : k.signatures)
    if (sig.args == args)
      return &sig;
  for (auto &sig : k.signatures) {
    if (sig.args.size() != args.size())
      continue;
    bool ok = true;
    for (size_t i = 0; i < args.size() && ok; ++i)
      ok = canConvert(args[i], sig.args[i]);
    if (ok)
      return &sig;
  }
  std::string given, accepted;
  for (size_t i = 0; i < args.size(); ++i)
    given += (i ? ", " : "") + args[i].str();
  for (auto &sig : k.signatures)
    accepted += "\n  " + sig.str();
  error = fmt::format("no signature of '{}' accepts argument types ({}); its signatures are:{}",
                      k.def->name, given, accepted);
  return nullptr;
}

std::vector<Type> Program::signatureTypes(const Signature &sig, const std::vector<Type> &args) {
  std::vector<Type> types = sig.args;
  for (size_t i = 0; i < types.size() && i < args.size(); ++i)
    if (args[i].isNone())
      types[i] = args[i];
  return types;
}

/// A readable symbol: matmul__f64a2__f64a2C. A local function's qualified
/// name `f.<locals>.g` is spelled `f$g` (`f.<locals>.<lambda#2>`:
/// `f$lambda$2`): symbols of PTX, the JIT and object files take letters,
/// digits, `_` and `$`, and no Python name holds a `$`.
/// A function's name as it may be spelled in a symbol (PTX takes no `<`,
/// `>` or `.`): `f.<locals>.<lambda#2>` is `f$lambda$2`.
static std::string symbolName(const std::string &name) {
  std::string s;
  for (size_t i = 0; i < name.size();) {
    if (name.compare(i, 10, ".<locals>.") == 0) {
      s += '$';
      i += 10;
    } else if (name[i] == '#') {
      s += '$';
      ++i;
    } else {
      if (name[i] != '<' && name[i] != '>')
        s += name[i];
      ++i;
    }
  }
  return s;
}

static std::string mangle(const std::string &name, const std::vector<Type> &args) {
  std::string s = symbolName(name);
  for (auto &t : args) {
    s += "__";
    std::function<void(const Type &)> m = [&](const Type &ty) {
      switch (ty.kind()) {
      case Type::Kind::Scalar:
        s += scalarName(ty.scalarKind());
        break;
      case Type::Kind::Array:
        s += fmt::format("{}a{}{}", scalarName(ty.scalarKind()), ty.rank(),
                         ty.layout() == Type::Layout::C ? "C" : "");
        break;
      case Type::Kind::Tuple:
        s += "T";
        for (auto &e : ty.elements())
          m(e);
        s += "E";
        break;
      case Type::Kind::Function: { // F<length><name><captures>E
        std::string fn = symbolName(ty.functionName());
        s += fmt::format("F{}{}", fn.size(), fn);
        for (auto &e : ty.elements())
          m(e);
        s += "E";
        break;
      }
      default:
        s += "none";
      }
    };
    m(t);
  }
  return s;
}

size_t Program::hostArity(const KernelDecl &k) {
  if (k.kind == KernelKind::Gufunc)
    return k.layout.inputs.size();
  return k.def->writtenParams();
}

size_t Program::requiredArity(const KernelDecl &k) {
  size_t n = hostArity(k);
  for (size_t i = 0; i < n && i < k.defaults.size(); ++i)
    if (k.defaults[i])
      return i;
  return n;
}

void Program::notePartialResult(const TypedFunction &f) {
  for (Typing &t : InProgress) {
    if (t.tf != &f)
      continue;
    // What was typed on the narrower result is typed again when called.
    for (const std::string &key : t.dependents)
      if (auto it = Specializations.find(key); it != Specializations.end()) {
        Retired.push_back(std::move(it->second));
        Specializations.erase(it);
      }
    t.dependents.clear();
  }
}

TypedFunction *Program::specialize(const KernelDecl &k, const std::vector<Type> &args,
                                   DiagnosticEngine &diags, bool hasOut) {
  return specializeAs(k, k.kind, args, hasOut, diags);
}


TypedFunction *Program::specializeAs(const KernelDecl &k, KernelKind kind,
                                     const std::vector<Type> &args, bool hasOut,
                                     DiagnosticEngine &diags) {
  // Jit specializations keep readable symbols; the generated drivers of the
  // other kinds are named after their kind.
  std::string key = mangle(kind == KernelKind::Jit ? k.def->name
                                                   : std::string(kernelKindName(kind)) + "_" +
                                                         k.def->name,
                           args);
  if (hasOut)
    key += "__out";
  if (auto f = Failures.find(key); f != Failures.end()) {
    for (const Diagnostic &d : f->second)
      diags.report(d.severity, d.file, d.range, d.message, d.hint);
    return nullptr;
  }
  auto it = Specializations.find(key);
  if (it != Specializations.end()) {
    // Typed on the partial result of a specialization still being typed:
    // so is every one typed above that one now.
    for (size_t i = 0; i < InProgress.size(); ++i)
      if (InProgress[i].dependents.count(key))
        for (size_t j = i + 1; j < InProgress.size(); ++j)
          InProgress[i].dependents.insert(InProgress[j].key);
    return it->second.get();
  }
  size_t want = kind == KernelKind::Gufunc ? hostArity(k) : k.def->params.size();
  if (args.size() != want + (hasOut ? 1 : 0)) { // a signature (stn ir --sig) of another length
    diags.error(File, k.def->nameRange,
                fmt::format("'{}' takes {} arguments but the signature gives {}", k.def->name,
                            want, args.size() - (hasOut ? 1 : 0)));
    return nullptr;
  }
  for (size_t i = 0; i < InProgress.size(); ++i) {
    Typing &t = InProgress[i];
    if (t.key != key && !(t.decl == &k && t.kind == kind && kind != KernelKind::Jit))
      continue;
    if (kind != KernelKind::Jit) {
      diags.error(File, k.def->nameRange,
                  fmt::format("'{}' calls itself (directly or through other kernels); "
                              "recursion is supported only in @jit functions{}",
                              k.def->name, kind == KernelKind::Gpu ? ", not in GPU code" : ""));
      return nullptr;
    }
    // A recursive call: the result so far.
    if (!t.tf->resultType.isValid()) {
      // The failure of each specialization in between rests on this one's
      // result, which a later pass may find (mutual recursion whose base
      // case comes later): not kept in Failures.
      std::string through;
      for (size_t j = i + 1; j < InProgress.size(); ++j) {
        t.dependents.insert(InProgress[j].key);
        std::string name = fmt::format("'{}'", InProgress[j].decl->def->name);
        if (InProgress[j].decl != &k && through.find(name) == std::string::npos)
          through += (through.empty() ? " (through " : ", ") + name;
      }
      if (!through.empty())
        through += ")";
      diags.error(File, k.def->nameRange,
                  fmt::format("cannot infer the result type of '{}': every return reached so "
                              "far calls '{}' again{}",
                              k.def->name, k.def->name, through),
                  "return the base case's value in a return statement of its own (`if n < "
                  "2: return n`), or give the result type in a signature");
      return nullptr;
    }
    for (size_t j = i + 1; j < InProgress.size(); ++j)
      t.dependents.insert(InProgress[j].key);
    return t.tf;
  }
  // A kernel specialized within its own specialization again and again with
  // ever other argument types (f(x) calling f((x, x))) would not end.
  if (std::count_if(InProgress.begin(), InProgress.end(),
                    [&](const Typing &t) { return t.decl == &k; }) >= 8) {
    diags.error(File, k.def->nameRange,
                fmt::format("'{}' calls itself with ever new argument types (8 nested "
                            "specializations, the last ({}))",
                            k.def->name, argumentList(args)),
                "recursive calls must come back to argument types seen before");
    return nullptr;
  }
  auto tf = std::make_unique<TypedFunction>();
  tf->decl = &k;
  tf->def = k.def;
  tf->file = File;
  tf->symbol = key;
  tf->argTypes = args;
  tf->kind = kind;
  tf->hasOut = hasOut;
  if ((kind == KernelKind::Jit || kind == KernelKind::Gpu) && !k.signatures.empty() &&
      k.kind == kind) {
    for (auto &sig : k.signatures)
      if (sig.args == args && sig.result)
        tf->resultType = *sig.result;
  }
  InProgress.push_back({key, &k, kind, tf.get(), {}});
  // Diagnostics are collected here first, so that a failure can be
  // reported again without typing again (below).
  DiagnosticEngine local;
  bool ok = false;
  switch (kind) {
  case KernelKind::Jit:
  case KernelKind::Gpu: {
    FunctionChecker checker(*this, *tf, local);
    ok = checker.run();
    if (ok && kind == KernelKind::Jit && k.gpuLoops())
      ok = planGpuRegions(*tf, local);
    break;
  }
  case KernelKind::Stencil:
    ok = typeStencil(*tf, local);
    break;
  case KernelKind::Ufunc:
    ok = typeUfunc(*tf, local);
    break;
  case KernelKind::Gufunc:
    ok = typeGufunc(*tf, local);
    break;
  }
  InProgress.pop_back();
  for (const Diagnostic &d : local.diagnostics())
    diags.report(d.severity, d.file, d.range, d.message, d.hint);
  if (!ok) {
    // Callers type their calls in several passes: a failure is kept (unless
    // it rests on the partial result of a recursion still being typed), so
    // that they do not type it again each time (which, along a chain of
    // specializations, would take exponential time).
    if (std::none_of(InProgress.begin(), InProgress.end(),
                     [&](const Typing &t) { return t.dependents.count(key) != 0; }))
      Failures[key] = local.diagnostics();
    return nullptr;
  }
  TypedFunction *raw = tf.get();
  Specializations[key] = std::move(tf);
  return raw;
}

/// Stencils: the body is checked with its relative parameters' subscripts
/// read as offsets; the output has the relative inputs' shape.
bool Program::typeStencil(TypedFunction &tf, DiagnosticEngine &diags) {
  const KernelDecl &k = *tf.decl;
  const auto &params = k.def->params;
  auto &info = tf.stencil;
  info.relative.assign(params.size(), false);
  std::set<std::string> relative;
  int rank = -1;
  const std::string *firstRelative = nullptr;
  for (size_t i = 0; i < params.size(); ++i) {
    const Type &t = tf.argTypes[i];
    bool standard = std::find(k.stencil.standardIndexing.begin(),
                              k.stencil.standardIndexing.end(),
                              params[i].name) != k.stencil.standardIndexing.end();
    if (!t.isArray() || standard)
      continue;
    if (rank >= 0 && static_cast<int>(t.rank()) != rank) {
      diags.error(File, params[i].range,
                  fmt::format("stencil input '{}' has {} dimension{} but '{}' has {}; "
                              "relatively indexed inputs must have the same shape",
                              params[i].name, t.rank(), t.rank() == 1 ? "" : "s",
                              *firstRelative, rank));
      return false;
    }
    if (!firstRelative)
      firstRelative = &params[i].name;
    rank = static_cast<int>(t.rank());
    info.relative[i] = true;
    relative.insert(params[i].name);
  }
  if (rank < 0) {
    diags.error(File, k.def->nameRange,
                fmt::format("stencil '{}' needs at least one array argument indexed relatively "
                            "(called with ({}))",
                            k.def->name, argumentList(tf.argTypes)));
    return false;
  }
  if (rank > 4) {
    diags.error(File, k.def->nameRange, "stencils support arrays of 1 to 4 dimensions");
    return false;
  }
  info.rank = static_cast<unsigned>(rank);
  if (k.stencil.hasNeighborhood && k.stencil.neighborhood.size() != info.rank) {
    diags.error(File, k.def->nameRange,
                fmt::format("the declared neighborhood has {} but the inputs of '{}' have {}",
                            counted(k.stencil.neighborhood.size(), "axis", "axes"), k.def->name,
                            counted(info.rank, "dimension", "dimensions")));
    return false;
  }
  // The body is checked without the out= argument.
  std::vector<Type> fullArgs = tf.argTypes;
  std::vector<Type> bodyArgs(tf.argTypes.begin(), tf.argTypes.begin() + params.size());
  tf.argTypes = bodyArgs;
  {
    FunctionChecker checker(*this, tf, diags);
    checker.RelativeNames = relative;
    if (!checker.run())
      return false;
  }
  if (!tf.resultType.isScalar()) {
    diags.error(File, k.def->nameRange,
                fmt::format("a stencil kernel returns one number per output element, but '{}' "
                            "returns '{}'",
                            k.def->name, tf.resultType.describe()));
    return false;
  }
  info.bodyKind = tf.resultType.scalarKind();
  // The neighborhood: declared (and checked), or the extent of the offsets.
  // Accesses in source order, so that errors come out in a stable order.
  std::vector<std::pair<const ast::Expr *, const TypedFunction::StencilAccess *>> ordered;
  for (auto &[expr, acc] : info.accesses)
    ordered.push_back({expr, &acc});
  std::sort(ordered.begin(), ordered.end(), [](auto &a, auto &b) {
    return a.first->range().begin < b.first->range().begin;
  });
  if (k.stencil.hasNeighborhood) {
    info.neighborhood = k.stencil.neighborhood;
    bool ok = true;
    for (auto &[expr, accp] : ordered)
      for (unsigned d = 0; d < info.rank; ++d) {
        const auto &acc = *accp;
        if (acc.offsetExprs[d])
          continue;
        auto [lo, hi] = info.neighborhood[d];
        if (acc.constOffsets[d] < lo || acc.constOffsets[d] > hi) {
          const ast::Expr *idx = static_cast<const ast::Subscript *>(expr)->index.get();
          if (auto *t = dyn_cast<ast::Tuple>(idx))
            idx = t->elts[d].get();
          diags.error(File, idx->range(),
                      fmt::format("offset {} on axis {} is outside the declared neighborhood "
                                  "({}, {})",
                                  acc.constOffsets[d], d, lo, hi));
          ok = false;
        }
      }
    if (!ok)
      return false;
  } else {
    info.neighborhood.assign(info.rank, {0, 0});
    for (auto &[expr, acc] : info.accesses)
      for (unsigned d = 0; d < info.rank; ++d) {
        info.neighborhood[d].first = std::min(info.neighborhood[d].first, acc.constOffsets[d]);
        info.neighborhood[d].second = std::max(info.neighborhood[d].second, acc.constOffsets[d]);
      }
  }
  info.outKind = k.dtype ? *k.dtype : info.bodyKind;
  tf.argTypes = fullArgs;
  if (tf.hasOut) {
    const Type &out = fullArgs.back();
    if (!out.isArray() || out.rank() != info.rank) {
      diags.error(File, k.def->nameRange,
                  fmt::format("out= for stencil '{}' must be a {}-dimensional array, not '{}'",
                              k.def->name, info.rank, out.describe()));
      return false;
    }
    info.outKind = out.scalarKind();
    tf.resultType = out;
  } else {
    tf.resultType = Type::array(info.outKind, info.rank, Type::Layout::C);
  }
  // The border gets cval: it must be representable in the output (a float
  // cval on an integer output would otherwise be truncated silently).
  if (k.stencil.boundary == BoundaryMode::Constant && isInteger(info.outKind) &&
      k.stencil.cval.type.isScalar()) {
    const ConstValue &c = k.stencil.cval;
    ScalarKind ck = c.type.scalarKind();
    double v = isFloat(ck) ? c.f : isUnsignedInt(ck) ? double(c.u) : double(c.i);
    unsigned bits = bitWidth(info.outKind);
    double lo = isUnsignedInt(info.outKind) ? 0.0 : -std::ldexp(1.0, int(bits) - 1);
    double hi = isUnsignedInt(info.outKind) ? std::ldexp(1.0, int(bits)) : std::ldexp(1.0, int(bits) - 1);
    bool integral = !isFloat(ck) || (std::isfinite(v) && std::trunc(v) == v);
    if (!integral || v < lo || v >= hi) {
      diags.error(File, k.def->nameRange,
                  fmt::format("cval={} of stencil '{}' cannot be stored in its {} output",
                              isFloat(ck)          ? fmt::format("{}", v)
                              : isUnsignedInt(ck) ? fmt::format("{}", c.u)
                                                  : fmt::format("{}", c.i),
                              k.def->name, numpyName(info.outKind)),
                  "use a cval the output type can hold, or dtype= / out= of a type that holds it");
      return false;
    }
  }
  return true;
}

static bool sameKindClass(ScalarKind a, ScalarKind b) { return kindClass(a) == kindClass(b); }

/// "no signature of ufunc 'f' accepts element types (...); its signatures
/// are: ..." for ufuncs and gufuncs.
static std::string noSignatureMessage(const char *what, const KernelDecl &k,
                                      const std::string &given) {
  std::string accepted;
  for (auto &sig : k.signatures)
    accepted += "\n  " + sig.str();
  return fmt::format("no signature of {} '{}' accepts {} ({}); its signatures are:{}", what,
                     k.def->name, std::string(what) == "ufunc" ? "element types" : "input types",
                     given, accepted);
}

bool Program::typeUfunc(TypedFunction &tf, DiagnosticEngine &diags) {
  const KernelDecl &k = *tf.decl;
  size_t n = k.def->params.size();
  std::vector<Type> elems;
  unsigned rank = 0;
  for (size_t i = 0; i < n; ++i) {
    const Type &t = tf.argTypes[i];
    if (!t.isArray() && !t.isScalar()) {
      diags.error(File, k.def->params[i].range,
                  fmt::format("ufunc argument '{}' must be an array or a number, not '{}'",
                              k.def->params[i].name, t.describe()));
      return false;
    }
    elems.push_back(t.isArray() ? t.dtypeType() : t);
    rank = std::max(rank, t.isArray() ? t.rank() : 0u);
  }
  std::optional<ScalarKind> declared = k.dtype;
  if (!k.signatures.empty()) {
    const Signature *match = nullptr;
    for (auto &sig : k.signatures)
      if (sig.args == elems)
        match = &sig;
    if (!match) {
      diags.error(File, k.def->nameRange, noSignatureMessage("ufunc", k, argumentList(elems)));
      return false;
    }
    if (match->result && match->result->isScalar() && !declared)
      declared = match->result->scalarKind();
  }
  TypedFunction *core = specializeAs(k, KernelKind::Jit, elems, false, diags);
  if (!core)
    return false;
  if (!core->resultType.isScalar()) {
    diags.error(File, k.def->nameRange,
                fmt::format("a ufunc returns one number per element, but '{}' returns '{}'",
                            k.def->name, core->resultType.describe()));
    return false;
  }
  tf.core = core;
  tf.callees.push_back(core);
  tf.ufuncRank = rank;
  ScalarKind outKind = declared ? *declared : core->resultType.scalarKind();
  if (tf.hasOut) {
    const Type &out = tf.argTypes.back();
    if (!out.isArray() || out.rank() != rank) {
      diags.error(File, k.def->nameRange,
                  fmt::format("out= for ufunc '{}' must be a {}-dimensional array, not '{}'",
                              k.def->name, rank, out.describe()));
      return false;
    }
    tf.resultType = out;
    return true;
  }
  tf.resultType = rank == 0 ? Type::scalar(outKind) : Type::array(outKind, rank, Type::Layout::C);
  return true;
}

bool Program::typeGufunc(TypedFunction &tf, DiagnosticEngine &diags) {
  const KernelDecl &k = *tf.decl;
  auto &g = tf.gufunc;
  g.numInputs = static_cast<unsigned>(k.layout.inputs.size());
  size_t nParams = k.def->params.size();
  size_t nOut = k.layout.outputs.size();
  if (nParams == g.numInputs)
    g.returnStyle = true;
  else if (nParams == g.numInputs + nOut)
    g.returnStyle = false;
  else {
    diags.error(File, k.def->nameRange,
                fmt::format("gufunc '{}' has the layout \"{}\" with {} input(s) and {} output, "
                            "so it takes {} parameters (returning its output) or {} (writing "
                            "the last one), not {}",
                            k.def->name, k.layout.text, g.numInputs, nOut, g.numInputs,
                            g.numInputs + nOut, nParams));
    return false;
  }
  if (k.stencilCore && !g.returnStyle) {
    diags.error(File, k.def->nameRange,
                "a @gufunc stacked on a @stencil returns its output (one parameter per input)");
    return false;
  }
  std::vector<Type> core;
  unsigned outer = 0;
  for (unsigned i = 0; i < g.numInputs; ++i) {
    const Type &t = tf.argTypes[i];
    unsigned kr = static_cast<unsigned>(k.layout.inputs[i].size());
    g.inputCoreRanks.push_back(kr);
    if (!(t.isArray() || (t.isScalar() && kr == 0))) {
      diags.error(File, k.def->params[i].range,
                  fmt::format("gufunc input '{}' of '{}' must be an array with at least {} "
                              "dimension{} for its core \"({})\", not '{}'",
                              k.def->params[i].name, k.def->name, kr, kr == 1 ? "" : "s",
                              fmt::join(k.layout.inputs[i], ","), t.describe()));
      return false;
    }
    unsigned r = t.isArray() ? t.rank() : 0;
    if (r < kr) {
      diags.error(File, k.def->params[i].range,
                  fmt::format("gufunc input '{}' of '{}' has {} dimension{}, fewer than its "
                              "core \"({})\" needs",
                              k.def->params[i].name, k.def->name, r, r == 1 ? "" : "s",
                              fmt::join(k.layout.inputs[i], ",")));
      return false;
    }
    outer = std::max(outer, r - kr);
    core.push_back(kr == 0 ? (t.isArray() ? t.dtypeType() : t)
                           : Type::array(t.scalarKind(), kr, t.layout()));
  }
  unsigned kout = static_cast<unsigned>(k.layout.outputs[0].size());
  g.outputCoreRanks = {kout};
  for (auto &name : k.layout.outputs[0]) {
    bool found = false;
    for (auto &in : k.layout.inputs)
      found |= std::find(in.begin(), in.end(), name) != in.end();
    if (!found) {
      diags.error(File, k.def->nameRange,
                  fmt::format("the output dimension '{}' of gufunc '{}' (layout \"{}\") does "
                              "not appear in any input, so its size is unknown",
                              name, k.def->name, k.layout.text));
      return false;
    }
  }
  g.outerRank = outer;
  ScalarKind firstIn = tf.argTypes[0].scalarKind();
  std::optional<ScalarKind> declared = k.dtype;
  if (!declared && !k.signatures.empty()) {
    const Signature *match = nullptr;
    for (auto &sig : k.signatures) {
      bool ok = sig.args.size() >= g.numInputs;
      for (unsigned i = 0; ok && i < g.numInputs; ++i)
        ok = sig.args[i].scalarKind() == core[i].scalarKind();
      if (ok && !match)
        match = &sig;
    }
    if (!match) {
      diags.error(File, k.def->nameRange, noSignatureMessage("gufunc", k, argumentList(core)));
      return false;
    }
    if (match->args.size() > g.numInputs)
      declared = match->args[g.numInputs].scalarKind();
    else if (match->result && !match->result->isNone())
      declared = match->result->scalarKind();
  }
  if (tf.hasOut)
    declared = tf.argTypes.back().scalarKind();
  unsigned resultRank = outer + kout;
  if (tf.hasOut && (!tf.argTypes.back().isArray() || tf.argTypes.back().rank() != resultRank)) {
    diags.error(File, k.def->nameRange,
                fmt::format("out= for gufunc '{}' must be a {}-dimensional array, not '{}'",
                            k.def->name, resultRank, tf.argTypes.back().describe()));
    return false;
  }
  Type::Layout outLayout =
      tf.hasOut ? tf.argTypes.back().layout() : Type::Layout::C;
  auto outCore = [&](ScalarKind kind) {
    return Type::array(kind, kout == 0 ? 1 : kout, kout == 0 ? Type::Layout::C : outLayout);
  };
  TypedFunction *c = nullptr;
  ScalarKind outKind;
  if (k.stencilCore) {
    TypedFunction *probe = specializeAs(k, KernelKind::Stencil, core, false, diags);
    if (!probe)
      return false;
    if (kout != probe->stencil.rank) {
      diags.error(File, k.def->nameRange,
                  fmt::format("the stencil under gufunc '{}' produces {}-dimensional output "
                              "but the layout's output core has {}",
                              k.def->name, probe->stencil.rank,
                              counted(kout, "dimension", "dimensions")));
      return false;
    }
    ScalarKind natural = probe->stencil.outKind;
    outKind = declared ? *declared : sameKindClass(natural, firstIn) ? firstIn : natural;
    std::vector<Type> withOut = core;
    withOut.push_back(Type::array(outKind, kout, outLayout));
    c = specializeAs(k, KernelKind::Stencil, withOut, true, diags);
  } else if (g.returnStyle) {
    c = specializeAs(k, KernelKind::Jit, core, false, diags);
    if (!c)
      return false;
    const Type &r = c->resultType;
    bool ok = kout == 0 ? r.isScalar() : (r.isArray() && r.rank() == kout);
    if (!ok) {
      diags.error(File, k.def->nameRange,
                  fmt::format("gufunc '{}' must return {} for its output core \"({})\", but "
                              "returns '{}'",
                              k.def->name,
                              kout == 0 ? std::string("a number")
                                        : fmt::format("a {}-dimensional array", kout),
                              fmt::join(k.layout.outputs[0], ","), r.describe()));
      return false;
    }
    ScalarKind natural = r.scalarKind();
    outKind = declared ? *declared : sameKindClass(natural, firstIn) ? firstIn : natural;
  } else {
    outKind = declared ? *declared : firstIn;
    std::vector<Type> withOut = core;
    withOut.push_back(outCore(outKind));
    c = specializeAs(k, KernelKind::Jit, withOut, false, diags);
  }
  if (!c)
    return false;
  tf.core = c;
  tf.callees.push_back(c);
  g.outKind = outKind;
  if (tf.hasOut)
    tf.resultType = tf.argTypes.back();
  else if (resultRank == 0)
    tf.resultType = Type::scalar(outKind);
  else
    tf.resultType = Type::array(outKind, resultRank, Type::Layout::C);
  return true;
}

} // namespace stn
