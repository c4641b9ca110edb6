//===- Array.cpp - dtypes, array views and owning arrays ------------------===//
//
// Part of the stn runtime.
//
// Design note: an `Array` owns its buffer through a `shared_ptr<void>` whose
// deleter frees the raw allocation, so copies of an Array share memory like
// NumPy references. New buffers are 64-byte aligned (a cache line and an
// AVX-512 vector) and come from BlockPool.h's allocateBuffer: large ones are
// recycled blocks (zero-filled here) or fresh mappings (already zero, so a
// fresh buffer costs no memset); copies skip the zero fill. Strided copies
// walk the view with an odometer over all but the innermost dimension,
// which is copied with a tight loop; negative and zero strides need no
// special case since all addressing is `base + i*stride`.
//
//===----------------------------------------------------------------------===//

#include "stn/Array.h"
#include "stn/Error.h"

#include "BlockPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace stn {

//===----------------------------------------------------------------------===//
// DType names
//===----------------------------------------------------------------------===//

size_t itemSize(DType dt) {
  switch (dt) {
  case DType::Bool:
  case DType::Int8:
  case DType::UInt8:
    return 1;
  case DType::Int16:
  case DType::UInt16:
    return 2;
  case DType::Int32:
  case DType::UInt32:
  case DType::Float32:
    return 4;
  case DType::Int64:
  case DType::UInt64:
  case DType::Float64:
  case DType::Complex64:
    return 8;
  case DType::Complex128:
    return 16;
  }
  return 0;
}

std::string_view dtypeName(DType dt) {
  switch (dt) {
  case DType::Bool: return "bool";
  case DType::Int8: return "int8";
  case DType::Int16: return "int16";
  case DType::Int32: return "int32";
  case DType::Int64: return "int64";
  case DType::UInt8: return "uint8";
  case DType::UInt16: return "uint16";
  case DType::UInt32: return "uint32";
  case DType::UInt64: return "uint64";
  case DType::Float32: return "float32";
  case DType::Float64: return "float64";
  case DType::Complex64: return "complex64";
  case DType::Complex128: return "complex128";
  }
  return "?";
}

std::string_view dtypeShortName(DType dt) {
  switch (dt) {
  case DType::Bool: return "bool";
  case DType::Int8: return "i8";
  case DType::Int16: return "i16";
  case DType::Int32: return "i32";
  case DType::Int64: return "i64";
  case DType::UInt8: return "u8";
  case DType::UInt16: return "u16";
  case DType::UInt32: return "u32";
  case DType::UInt64: return "u64";
  case DType::Float32: return "f32";
  case DType::Float64: return "f64";
  case DType::Complex64: return "c64";
  case DType::Complex128: return "c128";
  }
  return "?";
}

namespace {
struct DTypeAlias {
  std::string_view name;
  DType dtype;
};

// Short names count bits (i8 is int8, as in stn signatures); the NumPy
// byte-count codes are accepted only where they cannot be read as bit counts
// (i1 i2 i4 u1 u2 u4 f4 f8 c8 c16). Python's builtin type names follow NumPy
// on 64-bit Linux (int -> int64, float -> float64, complex -> complex128).
constexpr DTypeAlias DTypeAliases[] = {
    // bool
    {"bool", DType::Bool}, {"b1", DType::Bool}, {"bool_", DType::Bool},
    {"boolean", DType::Bool},
    // signed integers
    {"int8", DType::Int8}, {"i8", DType::Int8}, {"i1", DType::Int8},
    {"byte", DType::Int8},
    {"int16", DType::Int16}, {"i16", DType::Int16}, {"i2", DType::Int16},
    {"short", DType::Int16},
    {"int32", DType::Int32}, {"i32", DType::Int32}, {"i4", DType::Int32},
    {"intc", DType::Int32},
    {"int64", DType::Int64}, {"i64", DType::Int64}, {"int_", DType::Int64},
    {"intp", DType::Int64}, {"int", DType::Int64}, {"long", DType::Int64},
    {"longlong", DType::Int64},
    // unsigned integers
    {"uint8", DType::UInt8}, {"u8", DType::UInt8}, {"u1", DType::UInt8},
    {"ubyte", DType::UInt8},
    {"uint16", DType::UInt16}, {"u16", DType::UInt16}, {"u2", DType::UInt16},
    {"ushort", DType::UInt16},
    {"uint32", DType::UInt32}, {"u32", DType::UInt32}, {"u4", DType::UInt32},
    {"uintc", DType::UInt32},
    {"uint64", DType::UInt64}, {"u64", DType::UInt64}, {"uintp", DType::UInt64},
    {"uint", DType::UInt64}, {"ulong", DType::UInt64},
    {"ulonglong", DType::UInt64},
    // floating point
    {"float32", DType::Float32}, {"f32", DType::Float32}, {"f4", DType::Float32},
    {"single", DType::Float32},
    {"float64", DType::Float64}, {"f64", DType::Float64}, {"f8", DType::Float64},
    {"double", DType::Float64}, {"float_", DType::Float64},
    {"float", DType::Float64},
    // complex
    {"complex64", DType::Complex64}, {"c64", DType::Complex64},
    {"c8", DType::Complex64}, {"csingle", DType::Complex64},
    {"complex128", DType::Complex128}, {"c128", DType::Complex128},
    {"c16", DType::Complex128}, {"cdouble", DType::Complex128},
    {"cfloat", DType::Complex128}, {"complex_", DType::Complex128},
    {"complex", DType::Complex128},
};
} // namespace

std::optional<DType> parseDType(std::string_view name) {
  for (const DTypeAlias &a : DTypeAliases)
    if (a.name == name)
      return a.dtype;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Shapes and strides
//===----------------------------------------------------------------------===//

namespace {
/// Number of elements of `shape`; throws on negative extents or overflow.
int64_t checkedSize(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0)
      throw Error("invalid array shape: negative extent " + std::to_string(d));
    if (d == 0)
      zero = true;
    else if (!zero && n > std::numeric_limits<int64_t>::max() / d)
      throw Error("invalid array shape: the number of elements overflows int64");
    else if (!zero)
      n *= d;
  }
  return zero ? 0 : n;
}

// Strides and sizes multiply in uint64 (wrapping, never undefined): the
// values only matter for shapes whose byte size fits, which the allocating
// paths check; empty arrays with huge extents get meaningless strides, as
// they do in NumPy.
std::vector<int64_t> cStrides(const std::vector<int64_t> &shape, size_t item) {
  std::vector<int64_t> strides(shape.size());
  uint64_t s = item;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = static_cast<int64_t>(s);
    s *= shape[i] > 0 ? static_cast<uint64_t>(shape[i]) : 1;
  }
  return strides;
}

std::vector<int64_t> fStrides(const std::vector<int64_t> &shape, size_t item) {
  std::vector<int64_t> strides(shape.size());
  uint64_t s = item;
  for (size_t i = 0; i < shape.size(); ++i) {
    strides[i] = static_cast<int64_t>(s);
    s *= shape[i] > 0 ? static_cast<uint64_t>(shape[i]) : 1;
  }
  return strides;
}

int64_t plainSize(const std::vector<int64_t> &shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0)
      return 0;
    n *= static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(n);
}

/// NumPy's rule: dimensions of extent 1 may have any stride, and an empty
/// array is contiguous in both orders.
bool isContiguous(const std::vector<int64_t> &shape,
                  const std::vector<int64_t> &strides, size_t item,
                  bool fortranOrder) {
  if (strides.size() != shape.size())
    return false;
  for (int64_t d : shape)
    if (d == 0)
      return true;
  int64_t expected = static_cast<int64_t>(item);
  size_t n = shape.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = fortranOrder ? k : n - 1 - k;
    if (shape[i] != 1 && strides[i] != expected)
      return false;
    expected = static_cast<int64_t>(static_cast<uint64_t>(expected) *
                                    static_cast<uint64_t>(shape[i]));
  }
  return true;
}
} // namespace

ArrayView ArrayView::contiguous(void *data, DType dtype, std::vector<int64_t> shape) {
  std::vector<int64_t> strides = cStrides(shape, itemSize(dtype));
  return ArrayView(data, dtype, std::move(shape), std::move(strides));
}

ArrayView ArrayView::fortran(void *data, DType dtype, std::vector<int64_t> shape) {
  std::vector<int64_t> strides = fStrides(shape, itemSize(dtype));
  return ArrayView(data, dtype, std::move(shape), std::move(strides));
}

int64_t ArrayView::size() const { return plainSize(shape); }

bool ArrayView::isCContiguous() const {
  return isContiguous(shape, strides, itemSize(dtype), /*fortranOrder=*/false);
}

bool ArrayView::isFContiguous() const {
  return isContiguous(shape, strides, itemSize(dtype), /*fortranOrder=*/true);
}

//===----------------------------------------------------------------------===//
// Array
//===----------------------------------------------------------------------===//

namespace {
constexpr size_t BufferAlignment = 64;

/// A buffer of `bytes` bytes (at least one cache line, so that even an
/// empty array has a non-null data pointer), 64-byte aligned, zero-filled
/// if `zero`.
std::shared_ptr<void> newBuffer(size_t bytes, bool zero, void *&data) {
  size_t total = std::max(bytes, BufferAlignment);
  bool zeroed = false;
  void *raw = detail::allocateBuffer(total, BufferAlignment, &zeroed);
  if (!raw)
    throw Error("out of memory allocating an array of " +
                std::to_string(bytes) + " bytes");
  if (zero && !zeroed)
    std::memset(raw, 0, total);
  data = raw;
  return std::shared_ptr<void>(raw, [total](void *p) { detail::releaseBuffer(p, total); });
}

/// The byte size of a C-ordered array of `shape`; throws if it is invalid
/// or too large.
size_t checkedBytes(DType dtype, const std::vector<int64_t> &shape) {
  int64_t n = checkedSize(shape);
  size_t item = itemSize(dtype);
  if (static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / item / 2)
    throw Error("cannot allocate an array of " + std::to_string(n) +
                " elements");
  return static_cast<size_t>(n) * item;
}

/// A C-ordered array whose elements are not initialized.
Array uninitializedArray(DType dtype, const std::vector<int64_t> &shape) {
  void *data = nullptr;
  std::shared_ptr<void> owner = newBuffer(checkedBytes(dtype, shape), false, data);
  return Array(std::move(owner), data, dtype, shape, cStrides(shape, itemSize(dtype)));
}

/// Copies the elements of `src` (any strides) to `dst` in C order.
void copyStrided(const ArrayView &src, char *dst) {
  size_t item = itemSize(src.dtype);
  size_t rank = src.shape.size();
  const char *base = static_cast<const char *>(src.data);
  if (rank == 0) {
    std::memcpy(dst, base, item);
    return;
  }
  int64_t inner = src.shape[rank - 1];
  int64_t innerStride = src.strides[rank - 1];
  std::vector<int64_t> idx(rank - 1, 0);
  while (true) {
    const char *row = base;
    for (size_t d = 0; d + 1 < rank; ++d)
      row += idx[d] * src.strides[d];
    if (innerStride == static_cast<int64_t>(item)) {
      std::memcpy(dst, row, static_cast<size_t>(inner) * item);
      dst += inner * item;
    } else {
      switch (item) {
#define STN_COPY_ROW(N)                                                        \
  case N:                                                                      \
    for (int64_t j = 0; j < inner; ++j, dst += N)                              \
      std::memcpy(dst, row + j * innerStride, N);                              \
    break;
        STN_COPY_ROW(1)
        STN_COPY_ROW(2)
        STN_COPY_ROW(4)
        STN_COPY_ROW(8)
        STN_COPY_ROW(16)
#undef STN_COPY_ROW
      }
    }
    // Advance the odometer over the outer dimensions.
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      if (++idx[d] < src.shape[d])
        break;
      idx[d] = 0;
      if (d == 0)
        return;
    }
    if (rank == 1)
      return;
  }
}
} // namespace

Array::Array(DType dtype, std::vector<int64_t> shape) : DT(dtype), Shape(std::move(shape)) {
  Owner = newBuffer(checkedBytes(DT, Shape), /*zero=*/true, Data);
  Strides = cStrides(Shape, itemSize(DT));
}

Array::Array(std::shared_ptr<void> owner, void *data, DType dtype,
             std::vector<int64_t> shape, std::vector<int64_t> strides)
    : Owner(std::move(owner)), Data(data), DT(dtype), Shape(std::move(shape)),
      Strides(std::move(strides)) {
  if (Strides.empty() && !Shape.empty())
    Strides = cStrides(Shape, itemSize(DT));
  if (Strides.size() != Shape.size())
    throw Error("array has " + std::to_string(Shape.size()) +
                " dimensions but " + std::to_string(Strides.size()) + " strides");
}

int64_t Array::size() const { return plainSize(Shape); }

Array Array::copyOf(const ArrayView &view) {
  if (view.strides.size() != view.shape.size())
    throw Error("array view has " + std::to_string(view.shape.size()) +
                " dimensions but " + std::to_string(view.strides.size()) +
                " strides");
  // Every element is written below: no zero fill.
  Array out = uninitializedArray(view.dtype, view.shape);
  int64_t n = out.size();
  if (n == 0)
    return out;
  if (!view.data)
    throw Error("cannot copy an array view with a null data pointer");
  if (view.isCContiguous())
    std::memcpy(out.Data, view.data, out.nbytes());
  else
    copyStrided(view, static_cast<char *>(out.Data));
  return out;
}

} // namespace stn
