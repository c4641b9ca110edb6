//===- main.cpp - A host program built against the installed stn ----------===//
//
// Compiles a kernel from a source string, calls it with an array and a
// scalar, and checks both the returned value and the array it writes
// against the same computation in C++. Exits non-zero on any mismatch or
// stn::Error.
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include <cstdio>
#include <vector>

static const char *Source = R"(from numba import njit

@njit
def scale_and_sum(a, s):
    acc = 0.0
    for i in range(a.shape[0]):
        a[i] = a[i] * s
        acc += a[i]
    return acc
)";

int main() {
  try {
    stn::Engine engine;
    stn::Module mod = engine.loadString(Source, "install_test.stn");
    stn::Kernel kernel = mod.kernel("scale_and_sum");

    const int64_t n = 1000;
    const double s = 1.5;
    std::vector<double> a(n), want(n);
    for (int64_t i = 0; i < n; ++i)
      a[i] = 0.5 * static_cast<double>(i) - 100.0;
    double wantSum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      want[i] = a[i] * s;
      wantSum += want[i];
    }

    stn::Value r = kernel(stn::ArrayView::of(a.data(), {n}), s);
    // Multiples of 0.25: every product and partial sum is exact.
    if (!r.isScalar() || r.asDouble() != wantSum) {
      std::fprintf(stderr, "install test: result %s, expected %.17g\n", r.toJSON().c_str(),
                   wantSum);
      return 1;
    }
    for (int64_t i = 0; i < n; ++i)
      if (a[i] != want[i]) {
        std::fprintf(stderr, "install test: a[%lld] = %.17g, expected %.17g\n",
                     static_cast<long long>(i), a[i], want[i]);
        return 1;
      }
    std::printf("install test: stn %s, scale_and_sum = %.17g: ok\n", stn::version(),
                r.asDouble());
    return 0;
  } catch (const stn::Error &e) {
    std::fprintf(stderr, "install test: stn::Error:\n%s\n", e.what());
    return 1;
  }
}
