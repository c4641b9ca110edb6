//===- Types.h - stn's type system and its promotion rules ------*- C++ -*-===//
//
// Scalars (bool, int8..64, uint8..64, float32/64, complex64/128), arrays of
// scalars with a rank and a layout (C-contiguous or any strides), tuples,
// lists and dicts (a kernel's own growable containers) and None. The
// promotion rules follow Numba's rules for scalars: integers
// narrower than 64 bits compute at 64 bits, `/` on integers gives float64,
// float32 stays float32 with float32 operands, int64 mixed with uint64 gives
// float64. Both the type checker and the code generator use these functions,
// so the two can never disagree about an operation's type.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_TYPES_H
#define STN_COMPILER_TYPES_H

#include "stn/Compiler/AST.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stn {

/// Scalar kinds, in the same order as the public stn::DType.
enum class ScalarKind : uint8_t {
  Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, C64, C128
};

bool isBool(ScalarKind k);
bool isSignedInt(ScalarKind k);
bool isUnsignedInt(ScalarKind k);
inline bool isInteger(ScalarKind k) { return isSignedInt(k) || isUnsignedInt(k); }
bool isFloat(ScalarKind k);
bool isComplex(ScalarKind k);
/// Bits of the value (bool: 1; complex64: 64).
unsigned bitWidth(ScalarKind k);
/// Bytes of one element in memory (bool: 1).
unsigned byteSize(ScalarKind k);
/// The float kind of a complex kind's parts (C64 -> F32).
ScalarKind complexPart(ScalarKind k);
/// Short name: "bool", "i8".."i64", "u8".."u64", "f32", "f64", "c64", "c128".
const char *scalarName(ScalarKind k);
/// NumPy name: "bool", "int8", ..., "complex128".
const char *numpyName(ScalarKind k);
/// 0 for bool, 1 for integers, 2 for floats, 3 for complex: NumPy's kinds,
/// which "same_kind" casting and weak (literal) operands compare.
int kindClass(ScalarKind k);
/// How a value of kind `k` is shown in a run-time error message: the letter
/// after kRaisedValue (KernelFaults.h, KernelFaultKind::Raise).
char messageLetter(ScalarKind k);
/// Parses every dtype spelling stn accepts (NumPy names, bit-count short
/// names i8..c128, unambiguous byte-count names i4/f8/c16, numba aliases).
std::optional<ScalarKind> parseScalarName(std::string_view name);

class Type {
public:
  enum class Kind : uint8_t { Invalid, None, Scalar, Array, Tuple, List, Dict, Function };
  enum class Layout : uint8_t { Any, C };

  Type() = default;
  static Type none();
  static Type scalar(ScalarKind k);
  static Type array(ScalarKind dtype, unsigned rank, Layout layout = Layout::Any);
  static Type tuple(std::vector<Type> elements);
  /// A list of numbers of kind `k`: a kernel-local, growable sequence
  /// (`[]`, `[1, 2]`, `xs.append(x)`).
  static Type list(ScalarKind k);
  /// A list of `item`: a number (as list(k)), a tuple of numbers or an
  /// array, stored as one sequence per number of the tuple (per field of
  /// the array's descriptor: listFieldKinds). Its scalarKind() is the
  /// common kind of those numbers (the array's dtype): the dtype of the
  /// array of its items (np.array(xs), 2-d for tuples, one more axis than
  /// the items for arrays).
  static Type list(const Type &item);
  /// The type of `[]` before appends decide its element kind.
  static Type emptyList();
  /// A dict from `key` to `value` (each a number or a flat tuple of
  /// numbers): a kernel-local hash table that keeps insertion order.
  static Type dict(const Type &key, const Type &value);
  /// The type of `{}` and `dict()` before stores decide its types.
  static Type emptyDict();
  /// The types of a `{}` nothing is stored into: dict(int64, float64).
  static Type defaultDict();
  /// A set of `item`s (a number or a flat tuple of numbers): a dict whose
  /// values are none (no storage), so isDict() holds for it too and it
  /// shares the dict's storage and code; isSet() tells them apart.
  static Type set(const Type &item);
  /// The type of `set()` before adds decide its item type.
  static Type emptySet();
  /// A function as a value: the @jit function `name` of the module (a
  /// local function's qualified name), with the values it reads from the
  /// functions around it (`captures`), which are its leaves as a tuple's
  /// elements are. Each function is a type of its own: a call through the
  /// value is a call of that function, known when the caller is typed.
  static Type function(const std::string &name, std::vector<Type> captures);
  /// The type of a `set()` nothing is added to: set(int64).
  static Type defaultSet();

  Kind kind() const { return K; }
  bool isValid() const { return K != Kind::Invalid; }
  bool isNone() const { return K == Kind::None; }
  bool isScalar() const { return K == Kind::Scalar; }
  bool isArray() const { return K == Kind::Array; }
  bool isTuple() const { return K == Kind::Tuple; }
  bool isList() const { return K == Kind::List; }
  bool isFunction() const { return K == Kind::Function; }
  /// A function value's function (Type::function).
  const std::string &functionName() const;
  /// A dict or a set (a set is a dict without values).
  bool isDict() const { return K == Kind::Dict; }
  bool isSet() const { return K == Kind::Dict && IsSet; }
  /// A dict whose key and value types are known (not the type of `{}`).
  bool isKnownDict() const { return isDict() && Rank == 1; }
  /// A list, a dict or a set: a container one variable owns.
  bool isContainer() const { return isList() || isDict(); }
  /// "list", "dict" or "set", for messages.
  const char *containerName() const;
  /// A dict's key and value types.
  Type dictKey() const { return elements().at(0); }
  Type dictValue() const { return elements().at(1); }
  /// A list whose element kind is known (not the type of `[]`).
  bool isKnownList() const { return isList() && Rank == 1; }
  /// A list whose items are stored field by field: a list of tuples or of
  /// arrays (isArrayList()).
  bool isTupleList() const { return isList() && Elts != nullptr; }
  /// A list of arrays (of one dtype and rank).
  bool isArrayList() const;
  /// A list of arrays, or a dict whose values are arrays: a container that
  /// keeps the arrays put into it.
  bool keepsArrays() const;
  /// The item type of a list: a scalar, or a tuple or an array for
  /// isTupleList().
  Type listItem() const;
  bool isScalarOf(ScalarKind s) const { return isScalar() && SK == s; }
  bool isIntegerScalar() const { return isScalar() && isInteger(SK); }
  bool isNumericScalar() const { return isScalar(); }

  /// The scalar kind of a scalar, or the dtype of an array or a list.
  ScalarKind scalarKind() const { return SK; }
  unsigned rank() const { return Rank; }
  Layout layout() const { return L; }
  const std::vector<Type> &elements() const;
  /// The element type of an array or a list as a scalar Type.
  Type dtypeType() const { return scalar(SK); }
  /// An array type with the same dtype, `rank` dims and `layout`.
  Type withRank(unsigned rank, Layout layout) const { return array(SK, rank, layout); }

  bool operator==(const Type &o) const;
  bool operator!=(const Type &o) const { return !(*this == o); }

  /// The language's own syntax: "f64", "f64[:, :]", "f64[:, ::1]",
  /// "(f64[:], i64)", "none", "list(f64)".
  std::string str() const;
  /// Numba-like description for messages: "array(float64, 2d, C)",
  /// "list(float64)".
  std::string describe() const;

  /// Number of scalar leaves of a (possibly nested) tuple (or a function's
  /// captures); 1 otherwise.
  unsigned numLeaves() const;
  /// The scalar and array leaves of a (possibly nested) tuple in order:
  /// the values an MLIR function passes for it (itself for a scalar or an
  /// array, nothing for none; for a list, its storage as a 1-d array whose
  /// extent is the capacity, one per number of a tuple item, then its
  /// length as an int64; for a dict, see Type::dict's storage in
  /// Types.cpp).
  void collectLeaves(std::vector<Type> &out) const;
  /// Whether it is an array or a tuple holding one.
  bool hasArrayLeaf() const;

private:
  Kind K = Kind::Invalid;
  ScalarKind SK = ScalarKind::I64;
  uint8_t Rank = 0;
  Layout L = Layout::Any;
  bool IsSet = false;
  std::shared_ptr<const std::vector<Type>> Elts;
  std::shared_ptr<const std::string> Name; ///< Function
};

//===----------------------------------------------------------------------===//
// Promotion rules
//===----------------------------------------------------------------------===//

/// The common kind of two scalars for arithmetic (Numba's rules; see file
/// comment). Never fails.
ScalarKind promote(ScalarKind a, ScalarKind b);

/// How a binary operator computes: operands are converted to `operand`, the
/// result has type `result`. Fails (nullopt) with a message in `error`.
struct BinaryRule {
  ScalarKind operand;
  ScalarKind result;
};
std::optional<BinaryRule> binaryRule(ast::BinOpKind op, ScalarKind lhs,
                                     ScalarKind rhs, std::string &error);
/// Comparison: operands converted to the returned kind; the result is bool.
std::optional<ScalarKind> compareRule(ast::CmpOpKind op, ScalarKind lhs,
                                      ScalarKind rhs, std::string &error);
/// Unary operators: the result kind (operand converted to it first, except
/// `not` which always yields bool).
std::optional<ScalarKind> unaryRule(ast::UnaryOpKind op, ScalarKind operand,
                                    std::string &error);

/// The type a variable gets when it is assigned values of types `a` and `b`
/// (Numba's unification). nullopt if they cannot be unified.
std::optional<Type> unify(const Type &a, const Type &b);

/// The kinds of the sequences a list of `item`s stores: one per number of
/// a number or a tuple; for an array, its descriptor as int64 fields (the
/// allocated and the aligned address, the offset, the extents, the
/// strides: ListArrayFields).
std::vector<ScalarKind> listFieldKinds(const Type &item);
/// The number of int64 fields of an array of rank `rank` in a list.
inline unsigned listArrayFields(unsigned rank) { return 3 + 2 * rank; }

/// NumPy 2 (NEP 50) promotion of an array's dtype with another operand: an
/// array or a typed scalar promotes normally; a Python literal ("weak") keeps
/// the array's dtype unless it is of a higher kind (an int literal times an
/// int8 array stays int8; a float literal with an int array gives float64).
ScalarKind promoteArrayOperand(ScalarKind array, ScalarKind other, bool otherIsWeak);

/// How a binary operator computes on arrays (elementwise, NumPy's rules:
/// no widening to 64 bits). `lArray`/`rArray` say which sides are arrays;
/// a weak side is a Python literal.
std::optional<BinaryRule> arrayBinaryRule(ast::BinOpKind op, ScalarKind l, bool lArray,
                                          bool lWeak, ScalarKind r, bool rArray, bool rWeak,
                                          std::string &error);

/// Whether an expression is a Python literal (NEP 50's weak scalars).
bool isWeakScalarExpr(const ast::Expr &e);

/// Whether a value of type `from` may be implicitly converted to `to` where
/// a declared type is known (explicit signatures, stores into arrays).
bool canConvert(const Type &from, const Type &to);

//===----------------------------------------------------------------------===//
// Type syntax
//===----------------------------------------------------------------------===//

/// A kernel signature: argument types and an optional declared result.
struct Signature {
  std::vector<Type> args;
  std::optional<Type> result; ///< `void` -> Type::none()
  std::string str() const;
};

/// Converts a type expression (`f64`, `float64[:, ::1]`, `nb.int32`,
/// `Tuple((f8[:], f8))`, `UniTuple(i4, 3)`, `(f8, i4)`) to a Type. On
/// failure reports to `diags` and returns nullopt.
std::optional<Type> typeFromExpr(const ast::Expr &e,
                                 const std::shared_ptr<const SourceFile> &file,
                                 DiagnosticEngine &diags);

/// Converts a signature expression: `ret(args...)`, `(args...)` or a bare
/// comma-separated argument list (`--sig`).
std::optional<Signature>
signatureFromExpr(const ast::Expr &e, const std::shared_ptr<const SourceFile> &file,
                  DiagnosticEngine &diags);

/// Parses a signature string ("f8[:,:](f8[:,:])" or "f64, i32") held in its
/// own buffer (used for `stn ir --sig`).
std::optional<Signature> parseSignatureString(const std::string &text,
                                              const std::string &bufferName,
                                              DiagnosticEngine &diags);

} // namespace stn

#endif // STN_COMPILER_TYPES_H
