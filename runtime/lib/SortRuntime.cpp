//===- SortRuntime.cpp - What np.sort and np.argsort call -----------------===//
//
// Compiled kernels call these on contiguous lanes (MLIRGen.cpp copies a lane
// that is not contiguous into a temporary first):
//
//   void _stn_sort(int64_t data, int64_t n, int32_t kind)
//       sorts the n elements at address `data` in place;
//   void _stn_argsort(int64_t keys, int64_t index, int64_t n, int32_t kind)
//       writes to the n int64 at `index` the positions 0..n-1 ordered by the
//       keys at `keys` (stable: equal keys keep their order).
//
// `kind` is the element's stn::ScalarKind. The order is NumPy's: NaN after
// every number (complex numbers by real part, then imaginary part, with a
// NaN in either part last), bools False first.
//
//===----------------------------------------------------------------------===//

#include "KernelRuntime.h"

#include "stn/Compiler/Types.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numeric>
#include <vector>

namespace {


/// NumPy's sort order: a < b with NaN last.
template <class T> struct Less {
  bool operator()(const T &a, const T &b) const {
    if constexpr (std::is_floating_point_v<T>)
      return a < b || (std::isnan(b) && !std::isnan(a));
    else
      return a < b;
  }
};

template <class F> struct Less<std::complex<F>> {
  bool operator()(const std::complex<F> &a, const std::complex<F> &b) const {
    bool an = std::isnan(a.real()) || std::isnan(a.imag());
    bool bn = std::isnan(b.real()) || std::isnan(b.imag());
    if (an || bn)
      return !an && bn;
    return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
  }
};

template <class T> void sortAt(int64_t data, int64_t n) {
  T *p = reinterpret_cast<T *>(static_cast<uintptr_t>(data));
  std::sort(p, p + n, Less<T>());
}

template <class T> void argsortAt(int64_t keys, int64_t index, int64_t n) {
  const T *k = reinterpret_cast<const T *>(static_cast<uintptr_t>(keys));
  int64_t *idx = reinterpret_cast<int64_t *>(static_cast<uintptr_t>(index));
  std::iota(idx, idx + n, int64_t{0});
  Less<T> less;
  std::stable_sort(idx, idx + n, [&](int64_t a, int64_t b) { return less(k[a], k[b]); });
}

/// Calls f.template operator()<T>() with T the C++ type of `kind`.
template <class Fn> void withType(int32_t kind, Fn &&f) {
  using stn::ScalarKind;
  switch (static_cast<ScalarKind>(kind)) {
  case ScalarKind::Bool: f.template operator()<uint8_t>(); break;
  case ScalarKind::I8: f.template operator()<int8_t>(); break;
  case ScalarKind::I16: f.template operator()<int16_t>(); break;
  case ScalarKind::I32: f.template operator()<int32_t>(); break;
  case ScalarKind::I64: f.template operator()<int64_t>(); break;
  case ScalarKind::U8: f.template operator()<uint8_t>(); break;
  case ScalarKind::U16: f.template operator()<uint16_t>(); break;
  case ScalarKind::U32: f.template operator()<uint32_t>(); break;
  case ScalarKind::U64: f.template operator()<uint64_t>(); break;
  case ScalarKind::F32: f.template operator()<float>(); break;
  case ScalarKind::F64: f.template operator()<double>(); break;
  case ScalarKind::C64: f.template operator()<std::complex<float>>(); break;
  case ScalarKind::C128: f.template operator()<std::complex<double>>(); break;
  }
}

/// -1, 0 or 1 as element a of the numbers at `base` sorts before, with or
/// after element b.
template <class T> int compareAt(const char *base, int64_t a, int64_t b) {
  const T *p = reinterpret_cast<const T *>(base);
  Less<T> less;
  return less(p[a], p[b]) ? -1 : less(p[b], p[a]) ? 1 : 0;
}

template <class T> void permuteAt(char *base, const std::vector<int64_t> &order) {
  T *p = reinterpret_cast<T *>(base);
  std::vector<T> from(p, p + order.size());
  for (size_t i = 0; i < order.size(); ++i)
    p[i] = from[static_cast<size_t>(order[i])];
}

} // namespace

/// Sorts the n items of a list of tuples in place, as Python sorts tuples
/// (the first numbers, then the second where they tie, ...; each number
/// in NumPy's order, NaN last), stably. `items` is the address of `n,
/// the number of fields, then kind and address of each field's storage`.
extern "C" __attribute__((visibility("default"))) void _stn_sort_items(int64_t items) {
  const int64_t *w = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(items));
  int64_t n = w[0], fields = w[1];
  if (n < 2)
    return;
  std::vector<int (*)(const char *, int64_t, int64_t)> compare;
  std::vector<char *> base;
  for (int64_t f = 0; f < fields; ++f) {
    withType(static_cast<int32_t>(w[2 + 2 * f]),
             [&]<class T>() { compare.push_back(&compareAt<T>); });
    base.push_back(reinterpret_cast<char *>(static_cast<uintptr_t>(w[3 + 2 * f])));
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    for (size_t f = 0; f < compare.size(); ++f)
      if (int c = compare[f](base[f], a, b))
        return c < 0;
    return false;
  });
  for (int64_t f = 0; f < fields; ++f)
    withType(static_cast<int32_t>(w[2 + 2 * f]),
             [&]<class T>() { permuteAt<T>(base[static_cast<size_t>(f)], order); });
}

extern "C" __attribute__((visibility("default"))) void _stn_sort(int64_t data, int64_t n,
                                                                  int32_t kind) {
  if (n > 1)
    withType(kind, [&]<class T>() { sortAt<T>(data, n); });
}

extern "C" __attribute__((visibility("default"))) void
_stn_argsort(int64_t keys, int64_t index, int64_t n, int32_t kind) {
  if (n > 0)
    withType(kind, [&]<class T>() { argsortAt<T>(keys, index, n); });
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> sortRuntimeSymbols() {
  return {
      {"_stn_sort", reinterpret_cast<void *>(&_stn_sort)},
      {"_stn_argsort", reinterpret_cast<void *>(&_stn_argsort)},
      {"_stn_sort_items", reinterpret_cast<void *>(&_stn_sort_items)},
  };
}

} // namespace stn::detail
