//===- Value.cpp - Kernel arguments and results ---------------------------===//
//
// Part of the stn runtime.
//
// Design note: a `Scalar` keeps one wide representation per kind (int64 for
// signed integers and bool, uint64 for unsigned, double for floats,
// complex<double> for complex) plus its dtype; narrowing happens only in
// `store` and when a value is built with `ofType`. Conversions from floating
// point to integers saturate and map NaN to 0, so no input is undefined
// behaviour. JSON output follows Python's `repr` style for floats (shortest
// round-trip digits, always with a '.' or an exponent) and uses the
// `NaN`/`Infinity` tokens that Python's json module reads back.
//
//===----------------------------------------------------------------------===//

#include "stn/Value.h"
#include "stn/Error.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace stn {

namespace {
/// float -> integer without undefined behaviour: NaN becomes 0, values out
/// of range saturate, everything else truncates toward zero.
template <class T> T saturatingCast(double v) {
  if (std::isnan(v))
    return 0;
  if (v <= static_cast<double>(std::numeric_limits<T>::min()))
    return std::numeric_limits<T>::min();
  // max() of 64-bit types is not exactly representable; compare with 2^N.
  if (v >= std::ldexp(1.0, std::numeric_limits<T>::digits))
    return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

/// Python-style repr of a double (or of a float when `single`).
std::string formatFloat(double v, bool single) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v < 0 ? "-Infinity" : "Infinity";
  std::string s = single ? fmt::format("{}", static_cast<float>(v)) : fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}
} // namespace

//===----------------------------------------------------------------------===//
// Scalar
//===----------------------------------------------------------------------===//

Scalar Scalar::ofType(DType dt, double v) {
  switch (dt) {
  case DType::Bool: return Scalar(v != 0.0);
  case DType::Int8: return Scalar(saturatingCast<int8_t>(v));
  case DType::Int16: return Scalar(saturatingCast<int16_t>(v));
  case DType::Int32: return Scalar(saturatingCast<int32_t>(v));
  case DType::Int64: return Scalar(static_cast<long long>(saturatingCast<int64_t>(v)));
  case DType::UInt8: return Scalar(saturatingCast<uint8_t>(v));
  case DType::UInt16: return Scalar(saturatingCast<uint16_t>(v));
  case DType::UInt32: return Scalar(saturatingCast<uint32_t>(v));
  case DType::UInt64:
    return Scalar(static_cast<unsigned long long>(saturatingCast<uint64_t>(v)));
  case DType::Float32: return Scalar(static_cast<float>(v));
  case DType::Float64: return Scalar(v);
  case DType::Complex64: return Scalar(std::complex<float>(static_cast<float>(v), 0.0f));
  case DType::Complex128: return Scalar(std::complex<double>(v, 0.0));
  }
  return Scalar(v);
}

Scalar Scalar::ofType(DType dt, int64_t v) {
  switch (dt) {
  case DType::Bool: return Scalar(v != 0);
  case DType::Int8: return Scalar(static_cast<int8_t>(v));
  case DType::Int16: return Scalar(static_cast<int16_t>(v));
  case DType::Int32: return Scalar(static_cast<int32_t>(v));
  case DType::Int64: return Scalar(static_cast<long long>(v));
  case DType::UInt8: return Scalar(static_cast<uint8_t>(v));
  case DType::UInt16: return Scalar(static_cast<uint16_t>(v));
  case DType::UInt32: return Scalar(static_cast<uint32_t>(v));
  case DType::UInt64: return Scalar(static_cast<unsigned long long>(v));
  case DType::Float32: return Scalar(static_cast<float>(v));
  case DType::Float64: return Scalar(static_cast<double>(v));
  case DType::Complex64:
    return Scalar(std::complex<float>(static_cast<float>(v), 0.0f));
  case DType::Complex128:
    return Scalar(std::complex<double>(static_cast<double>(v), 0.0));
  }
  return Scalar(static_cast<long long>(v));
}

bool Scalar::isSigned() const {
  return DT == DType::Int8 || DT == DType::Int16 || DT == DType::Int32 ||
         DT == DType::Int64;
}

bool Scalar::isUnsigned() const {
  return DT == DType::UInt8 || DT == DType::UInt16 || DT == DType::UInt32 ||
         DT == DType::UInt64;
}

bool Scalar::asBool() const {
  if (isBool() || isSigned())
    return I != 0;
  if (isUnsigned())
    return U != 0;
  if (isFloat())
    return F != 0.0;
  return C != std::complex<double>(0.0, 0.0);
}

int64_t Scalar::asInt() const {
  if (isBool() || isSigned())
    return I;
  if (isUnsigned())
    return static_cast<int64_t>(U);
  if (isFloat())
    return saturatingCast<int64_t>(F);
  return saturatingCast<int64_t>(C.real());
}

uint64_t Scalar::asUInt() const {
  if (isBool() || isSigned())
    return static_cast<uint64_t>(I);
  if (isUnsigned())
    return U;
  double v = isFloat() ? F : C.real();
  // Negative floats follow the int64 route, as C would through a signed type.
  if (v < 0)
    return static_cast<uint64_t>(saturatingCast<int64_t>(v));
  return saturatingCast<uint64_t>(v);
}

double Scalar::asDouble() const {
  if (isBool() || isSigned())
    return static_cast<double>(I);
  if (isUnsigned())
    return static_cast<double>(U);
  if (isFloat())
    return F;
  return C.real();
}

std::complex<double> Scalar::asComplex() const {
  if (isComplex())
    return C;
  return {asDouble(), 0.0};
}

void Scalar::store(void *dst) const {
  auto put = [dst](auto v) { std::memcpy(dst, &v, sizeof(v)); };
  switch (DT) {
  case DType::Bool: put(static_cast<uint8_t>(asBool() ? 1 : 0)); break;
  case DType::Int8: put(static_cast<int8_t>(asInt())); break;
  case DType::Int16: put(static_cast<int16_t>(asInt())); break;
  case DType::Int32: put(static_cast<int32_t>(asInt())); break;
  case DType::Int64: put(static_cast<int64_t>(asInt())); break;
  case DType::UInt8: put(static_cast<uint8_t>(asUInt())); break;
  case DType::UInt16: put(static_cast<uint16_t>(asUInt())); break;
  case DType::UInt32: put(static_cast<uint32_t>(asUInt())); break;
  case DType::UInt64: put(static_cast<uint64_t>(asUInt())); break;
  case DType::Float32: put(static_cast<float>(F)); break;
  case DType::Float64: put(F); break;
  case DType::Complex64: put(std::complex<float>(C)); break;
  case DType::Complex128: put(C); break;
  }
}

Scalar Scalar::load(DType dt, const void *src) {
  auto get = [src](auto v) {
    std::memcpy(&v, src, sizeof(v));
    return v;
  };
  switch (dt) {
  case DType::Bool: return Scalar(get(uint8_t{}) != 0);
  case DType::Int8: return Scalar(get(int8_t{}));
  case DType::Int16: return Scalar(get(int16_t{}));
  case DType::Int32: return Scalar(get(int32_t{}));
  case DType::Int64: return Scalar(static_cast<long long>(get(int64_t{})));
  case DType::UInt8: return Scalar(get(uint8_t{}));
  case DType::UInt16: return Scalar(get(uint16_t{}));
  case DType::UInt32: return Scalar(get(uint32_t{}));
  case DType::UInt64: return Scalar(static_cast<unsigned long long>(get(uint64_t{})));
  case DType::Float32: return Scalar(get(float{}));
  case DType::Float64: return Scalar(get(double{}));
  case DType::Complex64: return Scalar(get(std::complex<float>{}));
  case DType::Complex128: return Scalar(get(std::complex<double>{}));
  }
  return Scalar();
}

std::string Scalar::toJSON() const {
  if (isBool())
    return I ? "true" : "false";
  if (isSigned())
    return fmt::format("{}", I);
  if (isUnsigned())
    return fmt::format("{}", U);
  if (isFloat())
    return formatFloat(F, DT == DType::Float32);
  bool single = DT == DType::Complex64;
  return fmt::format("{{\"real\": {}, \"imag\": {}}}", formatFloat(C.real(), single),
                     formatFloat(C.imag(), single));
}

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

namespace {
const char *describe(Value::Kind k) {
  switch (k) {
  case Value::Kind::None: return "None";
  case Value::Kind::Scalar: return "a scalar";
  case Value::Kind::Array: return "an array";
  case Value::Kind::Tuple: return "a tuple";
  }
  return "?";
}

[[noreturn]] void wrongKind(Value::Kind have, const char *want) {
  throw Error(fmt::format("result is {}, not {}", describe(have), want));
}
} // namespace

const Scalar &Arg::scalar() const {
  if (const Scalar *s = std::get_if<Scalar>(&V))
    return *s;
  throw Error(isNone() ? "error: None where a number is expected"
                       : "error: an array where a number is expected");
}

const Scalar &Value::scalar() const {
  if (K != Kind::Scalar)
    wrongKind(K, "a scalar");
  return S;
}

const Array &Value::array() const {
  if (K != Kind::Array)
    wrongKind(K, "an array");
  return A;
}

const std::vector<Value> &Value::elements() const {
  if (K != Kind::Tuple)
    wrongKind(K, "a tuple");
  return T;
}

std::string Value::toJSON() const {
  switch (K) {
  case Kind::None:
    return "null";
  case Kind::Scalar:
    return S.toJSON();
  case Kind::Array: {
    std::string s = fmt::format("{{\"array\": \"{}\", \"shape\": [", dtypeName(A.dtype()));
    for (size_t i = 0; i < A.shape().size(); ++i)
      s += fmt::format("{}{}", i ? ", " : "", A.shape()[i]);
    return s + "]}";
  }
  case Kind::Tuple: {
    std::string s = "[";
    for (size_t i = 0; i < T.size(); ++i) {
      if (i)
        s += ", ";
      s += T[i].toJSON();
    }
    return s + "]";
  }
  }
  return "null";
}

} // namespace stn
