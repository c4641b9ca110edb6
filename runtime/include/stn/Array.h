//===- Array.h - dtypes, array views and owning arrays ----------*- C++ -*-===//
//
// Part of the stn public API.
//
// `ArrayView` describes memory the caller owns in any NumPy layout (byte
// strides, negative and non-contiguous included). `Array` owns a buffer
// (C-contiguous when created by stn) and is what kernels return.
//
//===----------------------------------------------------------------------===//

#ifndef STN_ARRAY_H
#define STN_ARRAY_H

#include <complex>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stn {

/// Element types of arrays and scalars.
enum class DType : uint8_t {
  Bool,
  Int8, Int16, Int32, Int64,
  UInt8, UInt16, UInt32, UInt64,
  Float32, Float64,
  Complex64, Complex128,
};

/// Size of one element in bytes.
size_t itemSize(DType dt);
/// The NumPy name: "bool", "int8", ..., "complex128".
std::string_view dtypeName(DType dt);
/// The short name used in stn signatures: "bool", "i8", ..., "c128".
std::string_view dtypeShortName(DType dt);
/// Parses a NumPy name ("float64"), a short name ("f64", "f8", "i4") or
/// "bool"; nullopt if unknown.
std::optional<DType> parseDType(std::string_view name);

/// Maps a C++ element type to its DType.
template <class T> struct DTypeOf;
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::Int16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::UInt16; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::UInt32; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::UInt64; };
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::Float64; };
template <> struct DTypeOf<std::complex<float>> { static constexpr DType value = DType::Complex64; };
template <> struct DTypeOf<std::complex<double>> { static constexpr DType value = DType::Complex128; };

/// A non-owning view of an n-d array: data pointer, dtype, shape and byte
/// strides (NumPy conventions). The memory must outlive every call that uses
/// the view.
struct ArrayView {
  void *data = nullptr;
  DType dtype = DType::Float64;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides; ///< in bytes, one per dimension
  bool readonly = false;        ///< kernels may not write through it

  ArrayView() = default;
  ArrayView(void *data, DType dtype, std::vector<int64_t> shape,
            std::vector<int64_t> strides, bool readonly = false)
      : data(data), dtype(dtype), shape(std::move(shape)),
        strides(std::move(strides)), readonly(readonly) {}

  /// A C-contiguous (row-major) view of `data`.
  static ArrayView contiguous(void *data, DType dtype, std::vector<int64_t> shape);
  /// A Fortran-ordered (column-major) view of `data`.
  static ArrayView fortran(void *data, DType dtype, std::vector<int64_t> shape);
  /// A C-contiguous view of typed memory: `ArrayView::of(ptr, {n, m})`.
  template <class T>
  static ArrayView of(T *data, std::vector<int64_t> shape) {
    return contiguous(const_cast<std::remove_const_t<T> *>(data),
                      DTypeOf<std::remove_const_t<T>>::value, std::move(shape));
  }

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t size() const; ///< number of elements
  bool isCContiguous() const;
  bool isFContiguous() const;
};

/// An owning n-d array. Copies share the buffer (like a NumPy reference);
/// use `clone()` for a deep copy.
class Array {
public:
  Array() = default;
  /// A new zero-filled C-contiguous array.
  Array(DType dtype, std::vector<int64_t> shape);
  /// Wraps an existing buffer; `owner` keeps it alive.
  Array(std::shared_ptr<void> owner, void *data, DType dtype,
        std::vector<int64_t> shape, std::vector<int64_t> strides);

  /// A C-contiguous deep copy of any view.
  static Array copyOf(const ArrayView &view);

  DType dtype() const { return DT; }
  const std::vector<int64_t> &shape() const { return Shape; }
  const std::vector<int64_t> &strides() const { return Strides; }
  int64_t rank() const { return static_cast<int64_t>(Shape.size()); }
  int64_t size() const;
  size_t nbytes() const { return static_cast<size_t>(size()) * itemSize(DT); }
  void *data() const { return Data; }
  template <class T> T *data() const { return static_cast<T *>(Data); }
  bool empty() const { return Data == nullptr && Shape.empty(); }

  /// Element access by index (bounds are the caller's business).
  template <class T> T &at(std::initializer_list<int64_t> idx) const {
    char *p = static_cast<char *>(Data);
    size_t d = 0;
    for (int64_t i : idx)
      p += i * Strides[d++];
    return *reinterpret_cast<T *>(p);
  }

  ArrayView view() const { return ArrayView(Data, DT, Shape, Strides); }
  operator ArrayView() const { return view(); }
  Array clone() const { return copyOf(view()); }

private:
  std::shared_ptr<void> Owner;
  void *Data = nullptr;
  DType DT = DType::Float64;
  std::vector<int64_t> Shape;
  std::vector<int64_t> Strides;
};

/// NumPy's str() of the array: `[[1.  2.5]\n [3.  4. ]]`, with NumPy's
/// default print options (8 digits at most after the point, rows wrapped at
/// 75 columns, arrays of more than 1000 elements summarized with "...").
/// What print(a) shows in kernel code. Throws stn::Error for a view whose
/// strides do not match its shape.
std::string toString(const ArrayView &a);

} // namespace stn

#endif // STN_ARRAY_H
