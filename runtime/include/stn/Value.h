//===- Value.h - Kernel arguments and results -------------------*- C++ -*-===//
//
// Part of the stn public API. `Scalar` is a typed number, `Arg` is what a
// kernel is called with (a scalar or an array view), `Value` is what a
// kernel returns (nothing, a scalar, an owning array, or a tuple).
//
//===----------------------------------------------------------------------===//

#ifndef STN_VALUE_H
#define STN_VALUE_H

#include "stn/Array.h"

#include <complex>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace stn {

/// A typed scalar. Integers are held as int64/uint64, floats as double,
/// complex as std::complex<double>; `dtype` says which stn type it has.
class Scalar {
public:
  Scalar() : DT(DType::Int64), I(0) {}
  Scalar(bool v) : DT(DType::Bool), I(v) {}
  Scalar(int8_t v) : DT(DType::Int8), I(v) {}
  Scalar(int16_t v) : DT(DType::Int16), I(v) {}
  Scalar(int32_t v) : DT(DType::Int32), I(v) {}
  Scalar(long v) : DT(DType::Int64), I(v) {}
  Scalar(long long v) : DT(DType::Int64), I(v) {}
  Scalar(uint8_t v) : DT(DType::UInt8), U(v) {}
  Scalar(uint16_t v) : DT(DType::UInt16), U(v) {}
  Scalar(uint32_t v) : DT(DType::UInt32), U(v) {}
  Scalar(unsigned long v) : DT(DType::UInt64), U(v) {}
  Scalar(unsigned long long v) : DT(DType::UInt64), U(v) {}
  Scalar(float v) : DT(DType::Float32), F(v) {}
  Scalar(double v) : DT(DType::Float64), F(v) {}
  Scalar(std::complex<float> v) : DT(DType::Complex64), C(v) {}
  Scalar(std::complex<double> v) : DT(DType::Complex128), C(v) {}

  /// A scalar of type `dt` converted from `v` (C++ conversion rules).
  static Scalar ofType(DType dt, double v);
  static Scalar ofType(DType dt, int64_t v);

  DType dtype() const { return DT; }
  bool isBool() const { return DT == DType::Bool; }
  bool isSigned() const;
  bool isUnsigned() const;
  bool isInteger() const { return isSigned() || isUnsigned(); }
  bool isFloat() const { return DT == DType::Float32 || DT == DType::Float64; }
  bool isComplex() const { return DT == DType::Complex64 || DT == DType::Complex128; }

  /// Converting accessors (C++ conversion rules).
  bool asBool() const;
  int64_t asInt() const;
  uint64_t asUInt() const;
  double asDouble() const;
  std::complex<double> asComplex() const;

  /// Writes the value in the dtype's native representation (itemSize bytes).
  void store(void *dst) const;
  /// Reads a value of type `dt` from native memory.
  static Scalar load(DType dt, const void *src);

  /// JSON text: `true`, `42`, `2.5`, `NaN`, `{"real": 1.0, "imag": 2.0}`.
  std::string toJSON() const;

private:
  DType DT;
  union {
    int64_t I;
    uint64_t U;
    double F;
  };
  std::complex<double> C{};
};

/// One argument of a kernel call: a scalar, an array view, or None (for a
/// parameter a @jit function tests with `x is None`).
class Arg {
public:
  template <class T, class = decltype(Scalar(std::declval<T>()))>
  Arg(T v) : V(Scalar(v)) {}
  Arg(const Scalar &s) : V(s) {}
  Arg(const ArrayView &a) : V(a) {}
  Arg(const Array &a) : V(a.view()) {}
  /// Python's None.
  static Arg none() { return Arg(std::monostate{}); }

  bool isArray() const { return std::holds_alternative<ArrayView>(V); }
  bool isNone() const { return std::holds_alternative<std::monostate>(V); }
  /// The scalar (throws stn::Error for an array or None).
  const Scalar &scalar() const;
  const ArrayView &array() const { return std::get<ArrayView>(V); }

private:
  explicit Arg(std::monostate) : V(std::monostate{}) {}
  std::variant<Scalar, ArrayView, std::monostate> V;
};

/// A kernel's result: None, a scalar, an owning array, or a tuple of values.
class Value {
public:
  enum class Kind { None, Scalar, Array, Tuple };

  Value() = default;
  Value(const stn::Scalar &s) : K(Kind::Scalar), S(s) {}
  Value(stn::Array a) : K(Kind::Array), A(std::move(a)) {}
  static Value tuple(std::vector<Value> elts) {
    Value v;
    v.K = Kind::Tuple;
    v.T = std::move(elts);
    return v;
  }

  Kind kind() const { return K; }
  bool isNone() const { return K == Kind::None; }
  bool isScalar() const { return K == Kind::Scalar; }
  bool isArray() const { return K == Kind::Array; }
  bool isTuple() const { return K == Kind::Tuple; }

  /// Accessors; each throws stn::Error if the value has another kind.
  const stn::Scalar &scalar() const;
  const stn::Array &array() const;
  const std::vector<Value> &elements() const;
  const Value &operator[](size_t i) const { return elements().at(i); }
  size_t size() const { return elements().size(); }

  /// Shortcuts for scalar results.
  double asDouble() const { return scalar().asDouble(); }
  int64_t asInt() const { return scalar().asInt(); }
  bool asBool() const { return scalar().asBool(); }
  std::complex<double> asComplex() const { return scalar().asComplex(); }

  /// JSON text of a scalar, None (`null`) or a tuple of those (a list).
  /// Arrays print as `{"array": "<dtype>", "shape": [...]}`.
  std::string toJSON() const;

private:
  Kind K = Kind::None;
  stn::Scalar S;
  stn::Array A;
  std::vector<Value> T;
};

} // namespace stn

#endif // STN_VALUE_H
