//===- Types.cpp - stn's type system and its promotion rules --------------===//
//
// Implements Types.h. The promotion tables mirror NumPy's promote_types for
// mixed kinds and Numba's widening of narrow integers in arithmetic; the
// unit tests and the lit tests of the typed stage pin them down.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Types.h"
#include "stn/Compiler/Parser.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>

using llvm::dyn_cast;
using llvm::isa;

namespace stn {

//===----------------------------------------------------------------------===//
// Scalar kinds
//===----------------------------------------------------------------------===//

bool isBool(ScalarKind k) { return k == ScalarKind::Bool; }
bool isSignedInt(ScalarKind k) { return k >= ScalarKind::I8 && k <= ScalarKind::I64; }
bool isUnsignedInt(ScalarKind k) { return k >= ScalarKind::U8 && k <= ScalarKind::U64; }
bool isFloat(ScalarKind k) { return k == ScalarKind::F32 || k == ScalarKind::F64; }
bool isComplex(ScalarKind k) { return k == ScalarKind::C64 || k == ScalarKind::C128; }

unsigned bitWidth(ScalarKind k) {
  switch (k) {
  case ScalarKind::Bool: return 1;
  case ScalarKind::I8: case ScalarKind::U8: return 8;
  case ScalarKind::I16: case ScalarKind::U16: return 16;
  case ScalarKind::I32: case ScalarKind::U32: case ScalarKind::F32: return 32;
  case ScalarKind::I64: case ScalarKind::U64: case ScalarKind::F64:
  case ScalarKind::C64: return 64;
  case ScalarKind::C128: return 128;
  }
  return 64;
}

unsigned byteSize(ScalarKind k) { return k == ScalarKind::Bool ? 1 : bitWidth(k) / 8; }

ScalarKind complexPart(ScalarKind k) {
  return k == ScalarKind::C64 ? ScalarKind::F32 : ScalarKind::F64;
}

const char *scalarName(ScalarKind k) {
  static const char *names[] = {"bool", "i8",  "i16", "i32", "i64", "u8",  "u16",
                                "u32",  "u64", "f32", "f64", "c64", "c128"};
  return names[static_cast<int>(k)];
}

char messageLetter(ScalarKind k) {
  return k == ScalarKind::Bool   ? 'b'
         : k == ScalarKind::F64  ? 'd'
         : isFloat(k)            ? 'f'
         : k == ScalarKind::C128 ? 'z'
         : isComplex(k)          ? 'y'
         : isUnsignedInt(k)      ? 'u'
                                 : 'i';
}

const char *numpyName(ScalarKind k) {
  static const char *names[] = {"bool",   "int8",    "int16",   "int32",    "int64",
                                "uint8",  "uint16",  "uint32",  "uint64",   "float32",
                                "float64", "complex64", "complex128"};
  return names[static_cast<int>(k)];
}

std::optional<ScalarKind> parseScalarName(std::string_view n) {
  using S = ScalarKind;
  struct Entry {
    const char *name;
    S kind;
  };
  static const Entry table[] = {
      {"bool", S::Bool},      {"bool_", S::Bool},       {"boolean", S::Bool},
      {"b1", S::Bool},        {"int8", S::I8},          {"i8", S::I8},
      {"i1", S::I8},          {"byte", S::I8},          {"int16", S::I16},
      {"i16", S::I16},        {"i2", S::I16},           {"short", S::I16},
      {"int32", S::I32},      {"i32", S::I32},          {"i4", S::I32},
      {"intc", S::I32},       {"int64", S::I64},        {"i64", S::I64},
      {"int_", S::I64},       {"intp", S::I64},         {"int", S::I64},
      {"uint8", S::U8},       {"u8", S::U8},            {"u1", S::U8},
      {"ubyte", S::U8},       {"uint16", S::U16},       {"u16", S::U16},
      {"u2", S::U16},         {"uint32", S::U32},       {"u32", S::U32},
      {"u4", S::U32},         {"uintc", S::U32},        {"uint64", S::U64},
      {"u64", S::U64},        {"uintp", S::U64},        {"float32", S::F32},
      {"f32", S::F32},        {"f4", S::F32},           {"single", S::F32},
      {"float64", S::F64},    {"f64", S::F64},          {"f8", S::F64},
      {"double", S::F64},     {"float_", S::F64},       {"float", S::F64},
      {"complex64", S::C64},  {"c64", S::C64},          {"c8", S::C64},
      {"csingle", S::C64},    {"complex128", S::C128},  {"c128", S::C128},
      {"c16", S::C128},       {"cdouble", S::C128},     {"complex_", S::C128},
      {"cfloat", S::C128},    {"complex", S::C128},
  };
  for (const Entry &e : table)
    if (n == e.name)
      return e.kind;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Type
//===----------------------------------------------------------------------===//

Type Type::none() {
  Type t;
  t.K = Kind::None;
  return t;
}

Type Type::scalar(ScalarKind k) {
  Type t;
  t.K = Kind::Scalar;
  t.SK = k;
  return t;
}

Type Type::array(ScalarKind dtype, unsigned rank, Layout layout) {
  Type t;
  t.K = Kind::Array;
  t.SK = dtype;
  t.Rank = static_cast<uint8_t>(rank);
  t.L = layout;
  return t;
}

Type Type::tuple(std::vector<Type> elements) {
  Type t;
  t.K = Kind::Tuple;
  t.Elts = std::make_shared<const std::vector<Type>>(std::move(elements));
  return t;
}

Type Type::function(const std::string &name, std::vector<Type> captures) {
  Type t;
  t.K = Kind::Function;
  t.Elts = std::make_shared<const std::vector<Type>>(std::move(captures));
  t.Name = std::make_shared<const std::string>(name);
  return t;
}

const std::string &Type::functionName() const {
  static const std::string none;
  return Name ? *Name : none;
}

Type Type::list(ScalarKind k) {
  Type t;
  t.K = Kind::List;
  t.SK = k;
  t.Rank = 1;
  return t;
}

Type Type::list(const Type &item) {
  if (item.isArray()) {
    Type t = list(item.scalarKind());
    t.Elts = std::make_shared<const std::vector<Type>>(std::vector<Type>{item});
    return t;
  }
  if (!item.isTuple())
    return list(item.scalarKind());
  std::vector<Type> leaves;
  item.collectLeaves(leaves);
  Type t = list(leaves.empty() ? ScalarKind::F64 : leaves.front().scalarKind());
  for (const Type &l : leaves)
    t.SK = promote(t.SK, l.scalarKind());
  t.Elts = std::make_shared<const std::vector<Type>>(std::vector<Type>{item});
  return t;
}

Type Type::listItem() const { return Elts ? elements().front() : scalar(SK); }

bool Type::isArrayList() const { return isTupleList() && elements().front().isArray(); }

bool Type::keepsArrays() const {
  return isArrayList() || (isKnownDict() && dictValue().isArray());
}

std::vector<ScalarKind> listFieldKinds(const Type &item) {
  if (item.isArray())
    return std::vector<ScalarKind>(listArrayFields(item.rank()), ScalarKind::I64);
  std::vector<Type> leaves;
  item.collectLeaves(leaves);
  std::vector<ScalarKind> kinds;
  for (const Type &l : leaves)
    kinds.push_back(l.scalarKind());
  return kinds;
}

Type Type::emptyList() {
  Type t;
  t.K = Kind::List;
  t.SK = ScalarKind::F64;
  t.Rank = 0;
  return t;
}

Type Type::dict(const Type &key, const Type &value) {
  Type t;
  t.K = Kind::Dict;
  t.Rank = 1;
  t.Elts = std::make_shared<const std::vector<Type>>(std::vector<Type>{key, value});
  return t;
}

Type Type::defaultDict() {
  return dict(scalar(ScalarKind::I64), scalar(ScalarKind::F64));
}

Type Type::emptyDict() {
  Type t;
  t.K = Kind::Dict;
  t.Rank = 0;
  return t;
}

Type Type::set(const Type &item) {
  Type t = dict(item, none());
  t.IsSet = true;
  return t;
}

Type Type::emptySet() {
  Type t = emptyDict();
  t.IsSet = true;
  return t;
}

Type Type::defaultSet() { return set(scalar(ScalarKind::I64)); }

const char *Type::containerName() const {
  return isSet() ? "set" : isDict() ? "dict" : "list";
}

const std::vector<Type> &Type::elements() const {
  static const std::vector<Type> empty;
  return Elts ? *Elts : empty;
}

bool Type::operator==(const Type &o) const {
  if (K != o.K)
    return false;
  switch (K) {
  case Kind::Invalid:
  case Kind::None:
    return true;
  case Kind::Scalar:
    return SK == o.SK;
  case Kind::Array:
    return SK == o.SK && Rank == o.Rank && L == o.L;
  case Kind::Tuple:
    return elements() == o.elements();
  case Kind::List:
    return Rank == o.Rank && (Rank == 0 || (SK == o.SK && elements() == o.elements()));
  case Kind::Dict:
    return IsSet == o.IsSet && Rank == o.Rank && elements() == o.elements();
  case Kind::Function:
    return functionName() == o.functionName() && elements() == o.elements();
  }
  return false;
}

std::string Type::str() const {
  switch (K) {
  case Kind::Invalid:
    return "<invalid>";
  case Kind::None:
    return "none";
  case Kind::Scalar:
    return scalarName(SK);
  case Kind::Array: {
    std::string s = std::string(scalarName(SK)) + "[";
    for (unsigned i = 0; i < Rank; ++i) {
      if (i)
        s += ", ";
      s += (L == Layout::C && i + 1 == Rank) ? "::1" : ":";
    }
    return s + "]";
  }
  case Kind::Tuple: {
    std::string s = "(";
    for (size_t i = 0; i < elements().size(); ++i) {
      if (i)
        s += ", ";
      s += elements()[i].str();
    }
    if (elements().size() == 1)
      s += ",";
    return s + ")";
  }
  case Kind::List:
    return !Rank  ? "list(?)"
           : Elts ? fmt::format("list({})", listItem().str())
                  : fmt::format("list({})", scalarName(SK));
  case Kind::Dict:
    if (IsSet)
      return !Rank ? "set(?)" : fmt::format("set({})", dictKey().str());
    return !Rank ? "dict(?)" : fmt::format("dict({}, {})", dictKey().str(), dictValue().str());
  case Kind::Function: {
    std::string s = "fn(" + functionName();
    for (size_t i = 0; i < elements().size(); ++i)
      s += (i ? ", " : "; ") + elements()[i].str();
    return s + ")";
  }
  }
  return "?";
}

std::string Type::describe() const {
  switch (K) {
  case Kind::Scalar:
    return numpyName(SK);
  case Kind::Array:
    return fmt::format("array({}, {}d, {})", numpyName(SK), Rank,
                       L == Layout::C ? "C" : "A");
  case Kind::Tuple: {
    std::string s = "Tuple(";
    for (size_t i = 0; i < elements().size(); ++i) {
      if (i)
        s += ", ";
      s += elements()[i].describe();
    }
    return s + ")";
  }
  case Kind::List:
    return !Rank  ? "list(unknown)"
           : Elts ? fmt::format("list({})", listItem().describe())
                  : fmt::format("list({})", numpyName(SK));
  case Kind::Dict:
    if (IsSet)
      return !Rank ? "set(unknown)" : fmt::format("set({})", dictKey().describe());
    return !Rank ? "dict(unknown)"
                 : fmt::format("dict({}, {})", dictKey().describe(), dictValue().describe());
  case Kind::Function:
    return fmt::format("function({})", functionName());
  default:
    return str();
  }
}

unsigned Type::numLeaves() const {
  if (!isTuple() && !isFunction())
    return 1;
  unsigned n = 0;
  for (const Type &e : elements())
    n += e.numLeaves();
  return n;
}

void Type::collectLeaves(std::vector<Type> &out) const {
  if (isTuple() || isFunction()) {
    for (const Type &e : elements())
      e.collectLeaves(out);
  } else if (isScalar() || isArray()) {
    out.push_back(*this);
  } else if (isList()) {
    for (ScalarKind k : listFieldKinds(listItem()))
      out.push_back(Type::array(k, 1));
    out.push_back(Type::scalar(ScalarKind::I64));
  } else if (isDict()) {
    // Entries in insertion order: one 1-d storage per number of the key,
    // then per number of the value, whose extent is the capacity; whether
    // each entry is live (bool: pop() kills one); the hash index (int64,
    // twice the capacity: an entry's position, -1 where empty); then the
    // number of entries used (live or not) and the length (live ones).
    if (isKnownDict()) { // (an array value: its descriptor's fields)
      for (ScalarKind k : listFieldKinds(dictKey()))
        out.push_back(Type::array(k, 1));
      for (ScalarKind k : listFieldKinds(dictValue()))
        out.push_back(Type::array(k, 1));
    }
    out.push_back(Type::array(ScalarKind::Bool, 1));
    out.push_back(Type::array(ScalarKind::I64, 1));
    out.push_back(Type::scalar(ScalarKind::I64));
    out.push_back(Type::scalar(ScalarKind::I64));
  }
}

bool Type::hasArrayLeaf() const {
  if (isTuple() || isFunction())
    return std::any_of(elements().begin(), elements().end(),
                       [](const Type &e) { return e.hasArrayLeaf(); });
  return isArray();
}

//===----------------------------------------------------------------------===//
// Promotion
//===----------------------------------------------------------------------===//

static ScalarKind intOfWidth(bool isSigned, unsigned bits) {
  using S = ScalarKind;
  switch (bits) {
  case 8: return isSigned ? S::I8 : S::U8;
  case 16: return isSigned ? S::I16 : S::U16;
  case 32: return isSigned ? S::I32 : S::U32;
  default: return isSigned ? S::I64 : S::U64;
  }
}

ScalarKind promote(ScalarKind a, ScalarKind b) {
  using S = ScalarKind;
  if (a == b)
    return a;
  if (isBool(a))
    return b;
  if (isBool(b))
    return a;
  if (isComplex(a) || isComplex(b)) {
    if (a == S::C128 || b == S::C128)
      return S::C128;
    ScalarKind other = isComplex(a) ? b : a;
    // complex64 holds float32 parts: exact for float32 and ints up to 16 bits.
    if (other == S::F64 || (isInteger(other) && bitWidth(other) > 16))
      return S::C128;
    return S::C64;
  }
  if (isFloat(a) || isFloat(b)) {
    if (a == S::F64 || b == S::F64)
      return S::F64;
    ScalarKind other = isFloat(a) ? b : a;
    return (isInteger(other) && bitWidth(other) > 16) ? S::F64 : S::F32;
  }
  // Both integers.
  if (isSignedInt(a) == isSignedInt(b))
    return intOfWidth(isSignedInt(a), std::max(bitWidth(a), bitWidth(b)));
  ScalarKind s = isSignedInt(a) ? a : b;
  ScalarKind u = isSignedInt(a) ? b : a;
  if (bitWidth(s) > bitWidth(u))
    return s;
  if (bitWidth(u) < 64)
    return intOfWidth(true, bitWidth(u) * 2);
  return S::F64; // int64 with uint64: NumPy's answer
}

/// Numba computes integer arithmetic at the machine width.
static ScalarKind widenInt(ScalarKind k) {
  if (isBool(k) || isSignedInt(k))
    return ScalarKind::I64;
  if (isUnsignedInt(k))
    return ScalarKind::U64;
  return k;
}

static std::string operandError(const char *op, ScalarKind l, ScalarKind r) {
  return fmt::format("unsupported operand types for {}: '{}' and '{}'", op,
                     numpyName(l), numpyName(r));
}

std::optional<BinaryRule> binaryRule(ast::BinOpKind op, ScalarKind l, ScalarKind r,
                                     std::string &error) {
  using B = ast::BinOpKind;
  ScalarKind c = promote(l, r);
  switch (op) {
  case B::Add:
  case B::Sub:
  case B::Mul: {
    ScalarKind k = isInteger(c) || isBool(c) ? widenInt(c) : c;
    return BinaryRule{k, k};
  }
  case B::FloorDiv:
  case B::Mod: {
    if (isComplex(c)) {
      error = fmt::format("'{}' is not defined for complex numbers", spelling(op));
      return std::nullopt;
    }
    ScalarKind k = isInteger(c) || isBool(c) ? widenInt(c) : c;
    return BinaryRule{k, k};
  }
  case B::Div: {
    if (isInteger(c) || isBool(c))
      return BinaryRule{ScalarKind::F64, ScalarKind::F64};
    return BinaryRule{c, c};
  }
  case B::Pow: {
    // Numba raises a float or complex to an integer power in the base's own
    // type (float32 ** int64 stays float32).
    if ((isFloat(l) || isComplex(l)) && (isInteger(r) || isBool(r)))
      return BinaryRule{l, l};
    ScalarKind k = isInteger(c) || isBool(c) ? widenInt(c) : c;
    if (k == ScalarKind::U64 && isSignedInt(r))
      k = ScalarKind::I64;
    return BinaryRule{k, k};
  }
  case B::BitAnd:
  case B::BitOr:
  case B::BitXor: {
    if (isBool(l) && isBool(r))
      return BinaryRule{ScalarKind::Bool, ScalarKind::Bool};
    if (!(isInteger(l) || isBool(l)) || !(isInteger(r) || isBool(r)) || isFloat(c)) {
      error = operandError(spelling(op), l, r);
      return std::nullopt;
    }
    ScalarKind k = widenInt(c);
    return BinaryRule{k, k};
  }
  case B::LShift:
  case B::RShift: {
    if (!(isInteger(l) || isBool(l)) || !(isInteger(r) || isBool(r))) {
      error = operandError(spelling(op), l, r);
      return std::nullopt;
    }
    ScalarKind k = isFloat(c) ? ScalarKind::I64 : widenInt(c);
    return BinaryRule{k, k};
  }
  case B::MatMul:
    error = "the '@' operator multiplies matrices, not scalars; use '*'";
    return std::nullopt;
  }
  error = "unknown operator";
  return std::nullopt;
}

std::optional<ScalarKind> compareRule(ast::CmpOpKind op, ScalarKind l, ScalarKind r,
                                      std::string &error) {
  using C = ast::CmpOpKind;
  if (op == C::Is || op == C::IsNot || op == C::In || op == C::NotIn) {
    // Sema handles these before it compares numbers (noneTest, membership).
    error = fmt::format("internal compiler error: '{}' is not a comparison of numbers",
                        spelling(op));
    return std::nullopt;
  }
  ScalarKind c = promote(l, r);
  if (isComplex(c) && op != C::Eq && op != C::Ne) {
    error = fmt::format("'{}' is not defined for complex numbers", spelling(op));
    return std::nullopt;
  }
  return c;
}

std::optional<ScalarKind> unaryRule(ast::UnaryOpKind op, ScalarKind k, std::string &error) {
  using U = ast::UnaryOpKind;
  switch (op) {
  case U::Not:
    return ScalarKind::Bool;
  case U::Neg:
  case U::Pos:
    return isInteger(k) || isBool(k) ? widenInt(k) : k;
  case U::Invert:
    if (isFloat(k) || isComplex(k)) {
      error = fmt::format("bad operand type for unary ~: '{}'", numpyName(k));
      return std::nullopt;
    }
    return widenInt(k);
  }
  return std::nullopt;
}

int kindClass(ScalarKind k) {
  return isBool(k) ? 0 : isInteger(k) ? 1 : isFloat(k) ? 2 : 3;
}

ScalarKind promoteArrayOperand(ScalarKind array, ScalarKind other, bool otherIsWeak) {
  if (!otherIsWeak)
    return promote(array, other);
  int a = kindClass(array), o = kindClass(other);
  if (o <= a)
    return array;
  switch (o) {
  case 1:
    return ScalarKind::I64; // an int literal with a bool array
  case 2:
    return ScalarKind::F64; // a float literal with an integer or bool array
  default:
    return array == ScalarKind::F32 ? ScalarKind::C64 : ScalarKind::C128;
  }
}

bool isWeakScalarExpr(const ast::Expr &e) {
  if (isa<ast::IntLit>(&e) || isa<ast::FloatLit>(&e) || isa<ast::ImagLit>(&e))
    return true;
  if (auto *u = dyn_cast<ast::UnaryOp>(&e))
    return (u->op == ast::UnaryOpKind::Neg || u->op == ast::UnaryOpKind::Pos) &&
           isWeakScalarExpr(*u->operand);
  return false;
}

std::optional<BinaryRule> arrayBinaryRule(ast::BinOpKind op, ScalarKind l, bool lArray,
                                          bool lWeak, ScalarKind r, bool rArray, bool rWeak,
                                          std::string &error) {
  using B = ast::BinOpKind;
  ScalarKind c = lArray && rArray ? promote(l, r)
                 : lArray         ? promoteArrayOperand(l, r, rWeak)
                                  : promoteArrayOperand(r, l, lWeak);
  switch (op) {
  case B::Add:
  case B::Sub:
  case B::Mul:
  case B::Pow:
    if (isBool(c)) {
      error = fmt::format("'{}' on bool arrays is not supported; convert with .astype(np.int64)",
                          spelling(op));
      return std::nullopt;
    }
    return BinaryRule{c, c};
  case B::FloorDiv:
  case B::Mod:
    if (isComplex(c) || isBool(c)) {
      error = fmt::format("'{}' is not defined for {} arrays", spelling(op), numpyName(c));
      return std::nullopt;
    }
    return BinaryRule{c, c};
  case B::Div:
    if (isInteger(c) || isBool(c))
      return BinaryRule{ScalarKind::F64, ScalarKind::F64};
    return BinaryRule{c, c};
  case B::BitAnd:
  case B::BitOr:
  case B::BitXor:
  case B::LShift:
  case B::RShift:
    if (!(isInteger(c) || isBool(c))) {
      error = operandError(spelling(op), l, r);
      return std::nullopt;
    }
    if (isBool(c) && (op == B::LShift || op == B::RShift))
      return BinaryRule{ScalarKind::I64, ScalarKind::I64};
    return BinaryRule{c, c};
  case B::MatMul:
    error = "'@=' is not supported: a matrix product is a new array; write a = a @ b";
    return std::nullopt;
  }
  error = "unknown operator";
  return std::nullopt;
}

std::optional<Type> unify(const Type &a, const Type &b) {
  if (!a.isValid())
    return b;
  if (!b.isValid() || a == b)
    return a;
  if (a.isScalar() && b.isScalar())
    return Type::scalar(promote(a.scalarKind(), b.scalarKind()));
  if (a.isNone() && b.isArray())
    return b;
  if (a.isArray() && b.isNone())
    return a;
  if (a.isArray() && b.isArray()) {
    if (a.scalarKind() != b.scalarKind() || a.rank() != b.rank())
      return std::nullopt;
    return Type::array(a.scalarKind(), a.rank(), Type::Layout::Any);
  }
  if (a.isList() && b.isList()) {
    // [] takes the kind of what is appended; numbers promote as in
    // arithmetic ([1, 2] with an appended 2.5 holds float64).
    if (!a.isKnownList())
      return b;
    if (!b.isKnownList())
      return a;
    auto item = unify(a.listItem(), b.listItem());
    if (!item || (item->hasArrayLeaf() && !item->isArray()))
      return std::nullopt;
    return Type::list(*item);
  }
  if (a.isDict() && b.isDict()) {
    // {} takes the types of what is stored; keys and values promote.
    if (a.isSet() != b.isSet())
      return std::nullopt;
    if (!a.isKnownDict())
      return b;
    if (!b.isKnownDict())
      return a;
    auto key = unify(a.dictKey(), b.dictKey());
    auto value = unify(a.dictValue(), b.dictValue());
    if (!key || !value || key->hasArrayLeaf() || (value->hasArrayLeaf() && !value->isArray()))
      return std::nullopt;
    return a.isSet() ? Type::set(*key) : Type::dict(*key, *value);
  }
  if (a.isTuple() && b.isTuple() && a.elements().size() == b.elements().size()) {
    std::vector<Type> elts;
    for (size_t i = 0; i < a.elements().size(); ++i) {
      auto u = unify(a.elements()[i], b.elements()[i]);
      if (!u)
        return std::nullopt;
      elts.push_back(*u);
    }
    return Type::tuple(std::move(elts));
  }
  return std::nullopt;
}

bool canConvert(const Type &from, const Type &to) {
  if (from == to)
    return true;
  if (from.isScalar() && to.isScalar())
    return !(isComplex(from.scalarKind()) && !isComplex(to.scalarKind()));
  if (from.isArray() && to.isArray())
    return from.scalarKind() == to.scalarKind() && from.rank() == to.rank() &&
           (to.layout() == Type::Layout::Any || from.layout() == Type::Layout::C);
  if (from.isNone() && to.isArray())
    return true;
  if (from.isTuple() && to.isTuple() && from.elements().size() == to.elements().size()) {
    for (size_t i = 0; i < from.elements().size(); ++i)
      if (!canConvert(from.elements()[i], to.elements()[i]))
        return false;
    return true;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// Type syntax
//===----------------------------------------------------------------------===//

std::string Signature::str() const {
  std::string s;
  if (result)
    s += result->isNone() ? "void" : result->str();
  s += "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i)
      s += ", ";
    s += args[i].str();
  }
  return s + ")";
}

/// `nb.float64` and `numba.types.float64` name the same type as `float64`.
static const std::string *typeName(const ast::Expr &e) {
  if (auto *n = dyn_cast<ast::Name>(&e))
    return &n->id;
  if (auto *a = dyn_cast<ast::Attribute>(&e))
    return &a->attr;
  return nullptr;
}

static bool isEmptySlice(const ast::Expr &e, bool &contiguous) {
  auto *s = dyn_cast<ast::Slice>(&e);
  if (!s || s->lower || s->upper)
    return false;
  contiguous = false;
  if (!s->step)
    return true;
  auto *one = dyn_cast<ast::IntLit>(s->step.get());
  if (!one || one->value != 1)
    return false;
  contiguous = true;
  return true;
}

std::optional<Type> typeFromExpr(const ast::Expr &e,
                                 const std::shared_ptr<const SourceFile> &file,
                                 DiagnosticEngine &diags) {
  if (const std::string *name = typeName(e)) {
    if (*name == "void" || *name == "none" || *name == "None")
      return Type::none();
    if (auto k = parseScalarName(*name))
      return Type::scalar(*k);
    diags.error(file, e.range(), fmt::format("unknown type '{}'", *name),
                "scalar types are bool, int8..int64 (i8..i64), uint8..uint64 "
                "(u8..u64), float32/float64 (f32/f64, f4/f8), complex64/complex128");
    return std::nullopt;
  }
  if (isa<ast::NoneLit>(&e))
    return Type::none();
  if (auto *sub = dyn_cast<ast::Subscript>(&e)) {
    auto base = typeFromExpr(*sub->value, file, diags);
    if (!base)
      return std::nullopt;
    if (!base->isScalar()) {
      diags.error(file, sub->value->range(), "array element type must be a scalar type");
      return std::nullopt;
    }
    std::vector<const ast::Expr *> dims;
    if (auto *t = dyn_cast<ast::Tuple>(sub->index.get()))
      for (auto &d : t->elts)
        dims.push_back(d.get());
    else
      dims.push_back(sub->index.get());
    Type::Layout layout = Type::Layout::Any;
    for (size_t i = 0; i < dims.size(); ++i) {
      bool contiguous = false;
      if (!isEmptySlice(*dims[i], contiguous)) {
        diags.error(file, dims[i]->range(),
                    "array dimensions are written ':' (or '::1' for the "
                    "contiguous last dimension)");
        return std::nullopt;
      }
      if (contiguous && i + 1 == dims.size())
        layout = Type::Layout::C;
    }
    if (dims.size() > 8) {
      diags.error(file, e.range(), "arrays of more than 8 dimensions are not supported");
      return std::nullopt;
    }
    return Type::array(base->scalarKind(), dims.size(), layout);
  }
  if (auto *tup = dyn_cast<ast::Tuple>(&e)) {
    std::vector<Type> elts;
    for (auto &el : tup->elts) {
      auto t = typeFromExpr(*el, file, diags);
      if (!t)
        return std::nullopt;
      elts.push_back(*t);
    }
    return Type::tuple(std::move(elts));
  }
  if (auto *call = dyn_cast<ast::Call>(&e)) {
    const std::string *callee = typeName(*call->func);
    if (callee && *callee == "Tuple" && call->args.size() == 1) {
      const ast::Expr &inner = *call->args[0];
      if (auto *l = dyn_cast<ast::List>(&inner)) {
        std::vector<Type> elts;
        for (auto &el : l->elts) {
          auto t = typeFromExpr(*el, file, diags);
          if (!t)
            return std::nullopt;
          elts.push_back(*t);
        }
        return Type::tuple(std::move(elts));
      }
      return typeFromExpr(inner, file, diags);
    }
    if (callee && *callee == "UniTuple" && call->args.size() == 2) {
      auto t = typeFromExpr(*call->args[0], file, diags);
      auto *n = dyn_cast<ast::IntLit>(call->args[1].get());
      if (!t)
        return std::nullopt;
      if (!n || n->value > 64) {
        diags.error(file, call->args[1]->range(), "UniTuple needs a small integer count");
        return std::nullopt;
      }
      return Type::tuple(std::vector<Type>(n->value, *t));
    }
  }
  diags.error(file, e.range(), "expected a type such as 'f64', 'i32[:]' or 'f8[:, ::1]'");
  return std::nullopt;
}

static bool isTupleTypeCall(const ast::Expr &e) {
  auto *call = dyn_cast<ast::Call>(&e);
  if (!call)
    return false;
  const std::string *callee = typeName(*call->func);
  return callee && (*callee == "Tuple" || *callee == "UniTuple");
}

std::optional<Signature> signatureFromExpr(const ast::Expr &e,
                                           const std::shared_ptr<const SourceFile> &file,
                                           DiagnosticEngine &diags) {
  Signature sig;
  auto addArgs = [&](const std::vector<ast::ExprPtr> &args) {
    for (auto &a : args) {
      auto t = typeFromExpr(*a, file, diags);
      if (!t)
        return false;
      if (t->isNone()) {
        diags.error(file, a->range(), "'void' is only valid as a result type");
        return false;
      }
      sig.args.push_back(*t);
    }
    return true;
  };
  if (auto *call = dyn_cast<ast::Call>(&e); call && !isTupleTypeCall(e)) {
    if (!call->keywords.empty()) {
      diags.error(file, e.range(), "keywords are not allowed in a signature");
      return std::nullopt;
    }
    auto ret = typeFromExpr(*call->func, file, diags);
    if (!ret)
      return std::nullopt;
    sig.result = *ret;
    if (!addArgs(call->args))
      return std::nullopt;
    return sig;
  }
  if (auto *tup = dyn_cast<ast::Tuple>(&e)) {
    if (!addArgs(tup->elts))
      return std::nullopt;
    return sig;
  }
  auto t = typeFromExpr(e, file, diags);
  if (!t)
    return std::nullopt;
  sig.args.push_back(*t);
  return sig;
}

std::optional<Signature> parseSignatureString(const std::string &text,
                                              const std::string &bufferName,
                                              DiagnosticEngine &diags) {
  auto file = std::make_shared<const SourceFile>(bufferName, text);
  if (text.find_first_not_of(" \t") == std::string::npos)
    return Signature{};
  ast::ExprPtr e = parseExpression(file, diags, 0, static_cast<uint32_t>(text.size()));
  if (!e)
    return std::nullopt;
  return signatureFromExpr(*e, file, diags);
}

} // namespace stn
