//===- MathRuntime.cpp - What math.fsum calls -----------------------------===//
//
// Compiled kernels call
//
//   double _stn_fsum(int64_t data, int64_t n, int64_t stride, int64_t status)
//
// with the address of n float64 numbers `stride` numbers apart (a view's
// stride: no copy), and of an int64 it sets
// to 0, or to 1 where infinities of both signs meet (Python's ValueError
// "-inf + inf in fsum"), or 2 where finite numbers overflow on the way
// (OverflowError "intermediate overflow in fsum"). The sum is the float64
// nearest the exact sum of the numbers, as Python's math.fsum gives it:
// Shewchuk's method keeps the running sum as a list of non-overlapping
// partial sums (each addition split into its rounded sum and the exact
// error of it), and the partials are added from the largest at the end,
// with a last correction for a sum that lies halfway between two floats.
//
//===----------------------------------------------------------------------===//

#include "KernelRuntime.h"

#include <cmath>
#include <cstdint>
#include <vector>

extern "C" __attribute__((visibility("default"))) double
_stn_fsum(int64_t data, int64_t n, int64_t stride, int64_t status) {
  const double *x = reinterpret_cast<const double *>(static_cast<uintptr_t>(data));
  int64_t *st = reinterpret_cast<int64_t *>(static_cast<uintptr_t>(status));
  *st = 0;
  std::vector<double> partials;
  double special = 0.0, infinities = 0.0; // the sum of the non-finite numbers
  for (int64_t k = 0; k < n; ++k) {
    double v = x[k * stride], given = v;
    size_t kept = 0;
    for (double p : partials) {
      double big = std::fabs(v) < std::fabs(p) ? p : v;
      double small = std::fabs(v) < std::fabs(p) ? v : p;
      double hi = big + small;
      double lo = small - (hi - big); // exact: big + small == hi + lo
      if (lo != 0.0)
        partials[kept++] = lo;
      v = hi;
    }
    partials.resize(kept);
    if (v == 0.0)
      continue;
    if (!std::isfinite(v)) {
      if (std::isfinite(given)) { // finite numbers that overflowed
        *st = 2;
        return 0.0;
      }
      if (std::isinf(given))
        infinities += given;
      special += given;
      partials.clear();
      continue;
    }
    partials.push_back(v);
  }
  if (special != 0.0) {
    if (std::isnan(infinities)) { // inf + -inf
      *st = 1;
      return 0.0;
    }
    return special;
  }
  // From the largest partial down: the first addition with an error ends
  // it (the partials below are smaller than that error's half ulp)...
  double hi = 0.0, lo = 0.0;
  size_t i = partials.size();
  if (i > 0) {
    hi = partials[--i];
    while (i > 0) {
      double a = hi, b = partials[--i];
      hi = a + b;
      lo = b - (hi - a);
      if (lo != 0.0)
        break;
    }
    // ... but where that error is exactly half an ulp and the next partial
    // has its sign, the exact sum lies beyond the halfway point: round away.
    if (i > 0 && ((lo < 0.0 && partials[i - 1] < 0.0) || (lo > 0.0 && partials[i - 1] > 0.0))) {
      double twice = lo * 2.0, up = hi + twice;
      if (twice == up - hi)
        hi = up;
    }
  }
  return hi;
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> mathRuntimeSymbols() {
  return {{"_stn_fsum", reinterpret_cast<void *>(&_stn_fsum)}};
}

} // namespace stn::detail
