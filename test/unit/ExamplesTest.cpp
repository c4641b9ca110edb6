//===- ExamplesTest.cpp - dsl-examples/ kernels vs plain C++ references ---===//
//
// Every kernel of dsl-examples/ is loaded from its file, called through the
// public host API and compared with an independent C++ reference written
// here that performs the arithmetic the kernel's Numba typing rules imply
// (which operations are float32, float64, int64, complex128, and where
// values are converted). Each test names the dtypes the example claims.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <complex>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#ifndef STN_EXAMPLES_DIR
#error "STN_EXAMPLES_DIR must name the dsl-examples/ directory"
#endif

namespace {

/// Deterministic pseudo-random numbers, identical on every platform
/// (std::uniform_real_distribution is implementation-defined).
class Rng {
public:
  explicit Rng(uint64_t seed) : Gen(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Gen() >> 11) * 0x1.0p-53;
  }
  int64_t integer(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Gen() % static_cast<uint64_t>(hi - lo + 1));
  }

private:
  std::mt19937_64 Gen;
};

class ExamplesTest : public ::testing::Test {
protected:
  stn::Module load(const char *file) {
    return engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/" + file);
  }
  stn::Engine engine;
};

TEST_F(ExamplesTest, EveryExampleLoads) {
  struct File {
    const char *name;
    std::vector<std::string> kernels;
  };
  const File files[] = {
      {"matmul.stn", {"matrix_multiplication", "matrix_multiplication_sig"}},
      {"closest.stn", {"closest", "closest_inferred"}},
      {"mandelbrot.stn", {"mandel", "create_fractal"}},
      {"do_sum.stn", {"do_sum", "do_sum_fast"}},
      {"average.stn", {"average_numbers"}},
      {"hypot.stn", {"square", "hypot"}},
  };
  for (const File &f : files) {
    SCOPED_TRACE(f.name);
    stn::Module mod = load(f.name);
    EXPECT_EQ(mod.kernelNames(), f.kernels);
  }
  stn::Module mod = load("mandelbrot.stn");
  EXPECT_EQ(mod.kernel("create_fractal").parameterNames(),
            (std::vector<std::string>{"xmin", "xmax", "ymin", "ymax", "image", "iters"}));
  EXPECT_THROW(mod.kernel("no_such_kernel"), stn::Error);
}

//===----------------------------------------------------------------------===//
// matmul.stn
//===----------------------------------------------------------------------===//

/// The kernel's arithmetic: `tmp = 0.` is float64; `A[i, k]*B[k, j]` is
/// computed in the element type (float32*float32 stays float32, int64*int64
/// is int64) and then added to the float64 `tmp`; `C[i, j] = tmp` converts
/// float64 to C's dtype. `a(i, k)` and `b(k, j)` read the inputs.
template <class T, class GetA, class GetB>
std::vector<T> referenceMatmul(int64_t n, GetA a, GetB b) {
  std::vector<T> c(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double tmp = 0.;
      for (int64_t k = 0; k < n; ++k) {
        T prod = static_cast<T>(a(i, k) * b(k, j));
        tmp += static_cast<double>(prod);
      }
      c[static_cast<size_t>(i * n + j)] = static_cast<T>(tmp);
    }
  return c;
}

/// Reads element (i, j) of a 2-D view of T (any strides).
template <class T> T at2(const stn::ArrayView &v, int64_t i, int64_t j) {
  const char *p = static_cast<const char *>(v.data) + i * v.strides[0] + j * v.strides[1];
  return *reinterpret_cast<const T *>(p);
}

template <class T> std::vector<T> randomMatrix(Rng &rng, int64_t rows, int64_t cols) {
  std::vector<T> m(static_cast<size_t>(rows * cols));
  for (T &x : m) {
    if constexpr (std::is_integral_v<T>)
      x = static_cast<T>(rng.integer(-50, 50));
    else
      x = static_cast<T>(rng.uniform(-1.0, 1.0));
  }
  return m;
}

/// Compares C (read through the view `c`) with the reference. float64 is
/// compared to a relative 1e-13: exact equality holds as long as neither
/// side fuses `tmp + a*b` into an FMA, which is a code generation choice,
/// not a semantic one. float32 and int64 results are compared exactly (the
/// final rounding to float32 hides any difference of the float64 sums; the
/// int64 sums are exact in float64).
template <class T>
void expectMatrixEq(const stn::ArrayView &c, const std::vector<T> &want, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T got = at2<T>(c, i, j), ref = want[static_cast<size_t>(i * n + j)];
      bool ok;
      if constexpr (std::is_same_v<T, double>)
        ok = std::abs(got - ref) <= 1e-13 * std::max(1.0, std::abs(ref));
      else
        ok = got == ref;
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "C[" << i << ", " << j << "] = " << got << ", expected " << ref;
    }
  EXPECT_EQ(bad, 0) << "mismatching elements of C";
}

template <class T> void checkMatmulContiguous(stn::Module &mod, const char *kernel, int64_t n) {
  SCOPED_TRACE(std::string(kernel) + " " + std::string(stn::dtypeName(stn::DTypeOf<T>::value)) +
               " n=" + std::to_string(n));
  Rng rng(1000 + static_cast<uint64_t>(n));
  std::vector<T> a = randomMatrix<T>(rng, n, n), b = randomMatrix<T>(rng, n, n);
  std::vector<T> c(static_cast<size_t>(n * n), T(7)); // overwritten by the kernel
  stn::ArrayView va = stn::ArrayView::of(a.data(), {n, n});
  stn::ArrayView vb = stn::ArrayView::of(b.data(), {n, n});
  stn::ArrayView vc = stn::ArrayView::of(c.data(), {n, n});
  stn::Value r = mod.kernel(kernel)(va, vb, vc);
  EXPECT_TRUE(r.isNone());
  auto want = referenceMatmul<T>(n, [&](int64_t i, int64_t k) { return at2<T>(va, i, k); },
                                 [&](int64_t k, int64_t j) { return at2<T>(vb, k, j); });
  expectMatrixEq<T>(vc, want, n);
}

TEST_F(ExamplesTest, MatmulInferredFloat64) {
  stn::Module mod = load("matmul.stn");
  for (int64_t n : {1, 2, 17, 64})
    checkMatmulContiguous<double>(mod, "matrix_multiplication", n);
}

TEST_F(ExamplesTest, MatmulInferredFloat32) {
  stn::Module mod = load("matmul.stn");
  for (int64_t n : {3, 33})
    checkMatmulContiguous<float>(mod, "matrix_multiplication", n);
}

TEST_F(ExamplesTest, MatmulInferredInt64) {
  // tmp is float64; the int64 products are added to it and the sum is
  // converted back to int64 when stored into C.
  stn::Module mod = load("matmul.stn");
  for (int64_t n : {5, 31})
    checkMatmulContiguous<int64_t>(mod, "matrix_multiplication", n);
}

TEST_F(ExamplesTest, MatmulSignatureFloat64) {
  stn::Module mod = load("matmul.stn");
  for (int64_t n : {4, 40})
    checkMatmulContiguous<double>(mod, "matrix_multiplication_sig", n);
}

TEST_F(ExamplesTest, MatmulNonContiguousViews) {
  stn::Module mod = load("matmul.stn");
  const int64_t n = 23, d = sizeof(double);
  Rng rng(77);
  std::vector<double> at = randomMatrix<double>(rng, n, n);     // A transposed
  std::vector<double> wide = randomMatrix<double>(rng, n, 2 * n); // every other column
  std::vector<double> b = randomMatrix<double>(rng, n, n);
  stn::ArrayView vb = stn::ArrayView::of(b.data(), {n, n});

  // A as the transpose of a C-ordered buffer: A[i, k] = at[k*n + i].
  stn::ArrayView transposed(at.data(), stn::DType::Float64, {n, n}, {d, n * d});
  // A as columns 0, 2, 4, ... of an n x 2n buffer.
  stn::ArrayView strided(wide.data(), stn::DType::Float64, {n, n}, {2 * n * d, 2 * d});
  // A with its rows reversed (negative stride): A[i, k] = at[(n-1-i)*n + k].
  stn::ArrayView reversed(at.data() + (n - 1) * n, stn::DType::Float64, {n, n}, {-n * d, d});

  struct Case {
    const char *what;
    stn::ArrayView a;
    bool fortranC; // write the result into a column-major C
  };
  for (const Case &cs : {Case{"transposed", transposed, false}, Case{"strided", strided, true},
                         Case{"reversed", reversed, false}}) {
    for (const char *kernel : {"matrix_multiplication", "matrix_multiplication_sig"}) {
      SCOPED_TRACE(std::string(kernel) + " with a " + cs.what + " A");
      std::vector<double> c(static_cast<size_t>(n * n), -1.0);
      stn::ArrayView vc = cs.fortranC
                              ? stn::ArrayView::fortran(c.data(), stn::DType::Float64, {n, n})
                              : stn::ArrayView::of(c.data(), {n, n});
      mod.kernel(kernel)(cs.a, vb, vc);
      auto want = referenceMatmul<double>(
          n, [&](int64_t i, int64_t k) { return at2<double>(cs.a, i, k); },
          [&](int64_t k, int64_t j) { return at2<double>(vb, k, j); });
      expectMatrixEq<double>(vc, want, n);
    }
  }
}

TEST_F(ExamplesTest, MatmulSignatureRejectsOtherDTypes) {
  // An explicit signature fixes the array types: arrays are never converted
  // (Numba raises TypeError "No matching definition").
  stn::Module mod = load("matmul.stn");
  stn::Kernel sig = mod.kernel("matrix_multiplication_sig");
  const int64_t n = 4;
  std::vector<float> f(n * n, 1.0f);
  stn::ArrayView vf = stn::ArrayView::of(f.data(), {n, n});
  EXPECT_THROW(sig(vf, vf, vf), stn::Error);
  std::vector<int64_t> i(n * n, 1);
  stn::ArrayView vi = stn::ArrayView::of(i.data(), {n, n});
  EXPECT_THROW(sig(vi, vi, vi), stn::Error);
  std::vector<double> d1(n, 1.0);
  stn::ArrayView v1 = stn::ArrayView::of(d1.data(), {n}); // wrong rank
  EXPECT_THROW(sig(v1, v1, v1), stn::Error);
  std::vector<double> a(n * n, 1.0), b(n * n, 2.0), c(n * n, 0.0);
  stn::ArrayView va = stn::ArrayView::of(a.data(), {n, n});
  stn::ArrayView vb = stn::ArrayView::of(b.data(), {n, n});
  stn::ArrayView vc = stn::ArrayView::of(c.data(), {n, n});
  EXPECT_THROW(sig(va, vb), stn::Error); // wrong argument count
  EXPECT_THROW(sig(va, vb, 1.0), stn::Error); // a scalar for an array
  EXPECT_NO_THROW(sig(va, vb, vc));
  EXPECT_EQ(c[0], 8.0);
  EXPECT_EQ(c[n * n - 1], 8.0);
}

//===----------------------------------------------------------------------===//
// closest.stn
//===----------------------------------------------------------------------===//

struct ClosestRef {
  int64_t i = -1, j = -1;
  double distance2 = 999999.;
};

/// The kernel's loop, in double: `x**2` of a float64 is x*x exactly.
ClosestRef referenceClosest(const std::vector<double> &p, int64_t n) {
  ClosestRef r;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      double dx = p[2 * i] - p[2 * j], dy = p[2 * i + 1] - p[2 * j + 1];
      double d2 = dx * dx + dy * dy;
      if (d2 < r.distance2) {
        r.distance2 = d2;
        r.i = i;
        r.j = j;
      }
    }
  return r;
}

void expectPoint(const stn::Value &v, double x, double y) {
  ASSERT_TRUE(v.isArray());
  const stn::Array &a = v.array();
  ASSERT_EQ(a.dtype(), stn::DType::Float64);
  ASSERT_EQ(a.shape(), std::vector<int64_t>{2});
  EXPECT_EQ(a.at<double>({0}), x);
  EXPECT_EQ(a.at<double>({1}), y);
}

TEST_F(ExamplesTest, ClosestPair) {
  stn::Module mod = load("closest.stn");
  const int64_t n = 700;
  Rng rng(2022);
  std::vector<double> pts(2 * n);
  for (double &x : pts)
    x = rng.uniform(-1.0, 1.0);
  ClosestRef ref = referenceClosest(pts, n);
  ASSERT_GE(ref.i, 0);
  const double x1 = pts[2 * ref.i], y1 = pts[2 * ref.i + 1];
  const double x2 = pts[2 * ref.j], y2 = pts[2 * ref.j + 1];

  // The same points in column-major order: float64[:,:] accepts any layout.
  std::vector<double> fpts(2 * n);
  for (int64_t i = 0; i < n; ++i) {
    fpts[i] = pts[2 * i];
    fpts[n + i] = pts[2 * i + 1];
  }

  for (const char *kernel : {"closest", "closest_inferred"}) {
    for (bool fortran : {false, true}) {
      SCOPED_TRACE(std::string(kernel) + (fortran ? " (Fortran order)" : " (C order)"));
      stn::ArrayView v = fortran ? stn::ArrayView::fortran(fpts.data(), stn::DType::Float64, {n, 2})
                                 : stn::ArrayView::of(pts.data(), {n, 2});
      stn::Value r = mod.kernel(kernel)(v);
      ASSERT_TRUE(r.isTuple());
      ASSERT_EQ(r.size(), 3u);
      expectPoint(r[0], x1, y1);
      expectPoint(r[1], x2, y2);
      ASSERT_TRUE(r[2].isScalar());
      EXPECT_EQ(r[2].scalar().dtype(), stn::DType::Float64);
      EXPECT_DOUBLE_EQ(r[2].asDouble(), std::sqrt(ref.distance2));
    }
  }

  // Returned arrays are copies: changing the input afterwards leaves them alone.
  stn::Value r = mod.kernel("closest")(stn::ArrayView::of(pts.data(), {n, 2}));
  for (double &x : pts)
    x = 42.0;
  expectPoint(r[0], x1, y1);
  expectPoint(r[1], x2, y2);
}

TEST_F(ExamplesTest, ClosestSignatureRejectsFloat32) {
  stn::Module mod = load("closest.stn");
  std::vector<float> pts = {0.f, 0.f, 1.f, 1.f, 0.5f, 0.5f};
  EXPECT_THROW(mod.kernel("closest")(stn::ArrayView::of(pts.data(), {3, 2})), stn::Error);
}

//===----------------------------------------------------------------------===//
// mandelbrot.stn
//===----------------------------------------------------------------------===//

/// mandel with its signature u32(f32, f32, u32): complex(x, y) of two
/// float32 values is a complex128, so the iteration runs in double.
/// (std::complex<double> multiplication of finite values is the textbook
/// (ac - bd) + (ad + bc)i, the same formula Numba and MLIR use.)
uint32_t referenceMandel(float x, float y, uint32_t maxIters) {
  std::complex<double> c(static_cast<double>(x), static_cast<double>(y));
  std::complex<double> z = 0.0;
  for (uint32_t i = 0; i < maxIters; ++i) {
    z = z * z + c;
    if (z.real() * z.real() + z.imag() * z.imag() >= 4)
      return i;
  }
  return maxIters;
}

/// create_fractal with bounds of type T (float or double), an int64 `iters`
/// and a uint8 image. With T = float: `xmax - xmin` is float32, dividing it
/// by the int64 width gives float64 (Numba promotes float32 with int64 to
/// float64), so `real` is float64 and is converted to float32 when passed
/// to mandel's explicit f32 signature (iters: int64 -> uint32); the uint32
/// color is truncated to uint8 on the store.
template <class T>
std::vector<uint8_t> referenceFractal(T xmin, T xmax, T ymin, T ymax, int64_t height,
                                      int64_t width, int64_t iters) {
  std::vector<uint8_t> image(static_cast<size_t>(height * width));
  T dx = xmax - xmin, dy = ymax - ymin;
  double pixelSizeX = static_cast<double>(dx) / static_cast<double>(width);
  double pixelSizeY = static_cast<double>(dy) / static_cast<double>(height);
  for (int64_t x = 0; x < width; ++x) {
    double real = static_cast<double>(xmin) + static_cast<double>(x) * pixelSizeX;
    for (int64_t y = 0; y < height; ++y) {
      double imag = static_cast<double>(ymin) + static_cast<double>(y) * pixelSizeY;
      uint32_t color = referenceMandel(static_cast<float>(real), static_cast<float>(imag),
                                       static_cast<uint32_t>(iters));
      image[static_cast<size_t>(y * width + x)] = static_cast<uint8_t>(color);
    }
  }
  return image;
}

TEST_F(ExamplesTest, MandelExplicitSignature) {
  stn::Module mod = load("mandelbrot.stn");
  stn::Kernel mandel = mod.kernel("mandel");
  stn::Value r = mandel(-0.5f, 0.0f, uint32_t{50}); // inside the set
  ASSERT_TRUE(r.isScalar());
  EXPECT_EQ(r.scalar().dtype(), stn::DType::UInt32);
  EXPECT_EQ(r.asInt(), 50);
  EXPECT_EQ(mandel(1.0f, 1.0f, uint32_t{50}).asInt(), referenceMandel(1.0f, 1.0f, 50));
  EXPECT_EQ(mandel(-0.75f, 0.1f, uint32_t{200}).asInt(), referenceMandel(-0.75f, 0.1f, 200));
  // Arguments of other types are converted to the signature's f32, f32, u32
  // (like Numba): float64 -> float32, int64 -> uint32.
  stn::Value conv = mandel(-0.7435, 0.1314, int64_t{100});
  EXPECT_EQ(conv.scalar().dtype(), stn::DType::UInt32);
  EXPECT_EQ(conv.asInt(), referenceMandel(static_cast<float>(-0.7435),
                                          static_cast<float>(0.1314), 100));
  EXPECT_EQ(mandel(0, 0, 7).asInt(), 7); // int32 arguments
}

/// Compares a 64x96 image pixel by pixel. A pixel whose point lies within
/// one rounding step of an escape boundary could change its count if either
/// compiler fused a multiply-add into an FMA (`xmin + x*pixel_size_x`, the
/// complex square); neither should without fastmath, so we expect 0
/// differences but tolerate 2 of 6144 pixels to keep the test independent
/// of such code generation choices. Any semantic error (float32 instead of
/// float64 pixel sizes, complex64 instead of complex128, a wrong
/// conversion) changes far more pixels.
void expectImagesMatch(const std::vector<uint8_t> &got, const std::vector<uint8_t> &want,
                       int64_t width) {
  ASSERT_EQ(got.size(), want.size());
  int64_t differing = 0;
  std::string report;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i] && differing++ < 8)
      report += "  pixel (y=" + std::to_string(static_cast<int64_t>(i) / width) +
                ", x=" + std::to_string(static_cast<int64_t>(i) % width) +
                ") = " + std::to_string(got[i]) + ", expected " + std::to_string(want[i]) + "\n";
  EXPECT_LE(differing, 2) << differing << " pixels differ:\n" << report;
  if (differing > 0 && differing <= 2)
    std::cout << "note: " << differing << " boundary pixel(s) differ (tolerated):\n" << report;
}

TEST_F(ExamplesTest, CreateFractalFloat32Bounds) {
  // The course's call: float32 bounds, a Python int iters (int64), uint8 image.
  stn::Module mod = load("mandelbrot.stn");
  const int64_t height = 64, width = 96, iters = 50;
  std::vector<uint8_t> image(height * width, 0);
  stn::Value r = mod.kernel("create_fractal")(-2.0f, 1.0f, -1.0f, 1.0f,
                                              stn::ArrayView::of(image.data(), {height, width}),
                                              iters);
  EXPECT_TRUE(r.isNone());
  std::vector<uint8_t> want = referenceFractal<float>(-2.0f, 1.0f, -1.0f, 1.0f, height, width, iters);
  // The image must be non-trivial: interior points (50) and several escape counts.
  int64_t inside = 0;
  for (uint8_t p : want)
    inside += p == iters;
  ASSERT_GT(inside, 100);
  ASSERT_LT(inside, height * width / 2);
  expectImagesMatch(image, want, width);
}

TEST_F(ExamplesTest, CreateFractalFloat64Bounds) {
  // A second specialization of create_fractal: float64 bounds.
  stn::Module mod = load("mandelbrot.stn");
  const int64_t height = 64, width = 96, iters = 80;
  std::vector<uint8_t> image(height * width, 0);
  mod.kernel("create_fractal")(-1.5, 0.5, -1.25, 1.25,
                               stn::ArrayView::of(image.data(), {height, width}), iters);
  std::vector<uint8_t> want = referenceFractal<double>(-1.5, 0.5, -1.25, 1.25, height, width, iters);
  expectImagesMatch(image, want, width);
}

//===----------------------------------------------------------------------===//
// do_sum.stn
//===----------------------------------------------------------------------===//

/// `acc = 0.` (float64) += np.sqrt(x): np.sqrt of float32 is float32 (then
/// widened), of an integer is float64.
template <class T> double referenceSqrtSum(const std::vector<T> &a, size_t step = 1) {
  double acc = 0.;
  for (size_t i = 0; i < a.size(); i += step) {
    if constexpr (std::is_same_v<T, float>)
      acc += static_cast<double>(std::sqrt(a[i]));
    else
      acc += std::sqrt(static_cast<double>(a[i]));
  }
  return acc;
}

/// do_sum must match the serial loop exactly; do_sum_fast may reassociate
/// the float64 sum (relative 1e-12 is plenty for 10^4 positive terms) and,
/// for float32 input, may compute the float32 square roots approximately
/// (Numba's fastmath gives an 8.8e-9 relative difference on this data
/// through LLVM's sqrt estimate), hence `fastTolerance`.
void checkDoSum(stn::Module &mod, double want, const stn::ArrayView &view,
                double fastTolerance = 1e-12) {
  SCOPED_TRACE(std::string(stn::dtypeName(view.dtype)) + " n=" + std::to_string(view.shape[0]));
  stn::Value strict = mod.kernel("do_sum")(view);
  ASSERT_TRUE(strict.isScalar());
  EXPECT_EQ(strict.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(strict.asDouble(), want); // strict order: bit-identical to the serial loop
  stn::Value fast = mod.kernel("do_sum_fast")(view);
  EXPECT_EQ(fast.scalar().dtype(), stn::DType::Float64);
  EXPECT_NEAR(fast.asDouble(), want, fastTolerance * std::abs(want));
}

TEST_F(ExamplesTest, DoSum) {
  stn::Module mod = load("do_sum.stn");
  Rng rng(5);
  const int64_t n = 10007; // not a multiple of any vector width

  std::vector<double> d(n);
  for (double &x : d)
    x = rng.uniform(0.0, 4.0);
  checkDoSum(mod, referenceSqrtSum(d), stn::ArrayView::of(d.data(), {n}));

  // Every other element (a strided 1-D view).
  stn::ArrayView everyOther(d.data(), stn::DType::Float64, {(n + 1) / 2},
                            {2 * static_cast<int64_t>(sizeof(double))});
  checkDoSum(mod, referenceSqrtSum(d, 2), everyOther);

  std::vector<float> f(n);
  for (float &x : f)
    x = static_cast<float>(rng.uniform(0.0, 100.0));
  checkDoSum(mod, referenceSqrtSum(f), stn::ArrayView::of(f.data(), {n}), 1e-6);

  std::vector<int64_t> i(n);
  for (int64_t &x : i)
    x = rng.integer(0, 1000000);
  checkDoSum(mod, referenceSqrtSum(i), stn::ArrayView::of(i.data(), {n}));

  std::vector<double> empty;
  EXPECT_EQ(mod.kernel("do_sum")(stn::ArrayView::of(empty.data(), {0})).asDouble(), 0.0);
}

//===----------------------------------------------------------------------===//
// average.stn
//===----------------------------------------------------------------------===//

TEST_F(ExamplesTest, AverageNumbers) {
  stn::Module mod = load("average.stn");
  stn::Kernel avg = mod.kernel("average_numbers");
  stn::Value r = avg(int32_t{3}, int32_t{4});
  ASSERT_TRUE(r.isScalar());
  EXPECT_EQ(r.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(r.asDouble(), 3.5);
  EXPECT_EQ(avg(int32_t{-7}, int32_t{2}).asDouble(), -2.5);
  // int32 + int32 is computed in int64 (Numba's integer typing), so this
  // does not overflow.
  EXPECT_EQ(avg(int32_t{INT32_MAX}, int32_t{INT32_MAX}).asDouble(), 2147483647.0);
  // Numba converts arguments to an explicit signature's types: int64 -> int32.
  EXPECT_EQ(avg(int64_t{3}, int64_t{4}).asDouble(), 3.5);
  EXPECT_EQ(avg(int16_t{10}, uint8_t{5}).asDouble(), 7.5);
}

//===----------------------------------------------------------------------===//
// hypot.stn
//===----------------------------------------------------------------------===//

TEST_F(ExamplesTest, HypotCallsSquare) {
  stn::Module mod = load("hypot.stn");
  stn::Kernel hypot = mod.kernel("hypot"), square = mod.kernel("square");

  stn::Value r = hypot(3.0, 4.0);
  ASSERT_TRUE(r.isScalar());
  EXPECT_EQ(r.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(r.asDouble(), 5.0);

  // int64 arguments: square() returns int64, math.sqrt of an int64 is float64.
  stn::Value ri = hypot(int64_t{3}, int64_t{4});
  EXPECT_EQ(ri.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(ri.asDouble(), 5.0);
  EXPECT_EQ(hypot(int32_t{5}, int32_t{12}).asDouble(), 13.0);

  // float32 stays float32: float32 ** int is float32, math.sqrt(float32) too.
  stn::Value rf = hypot(3.0f, 4.0f);
  EXPECT_EQ(rf.scalar().dtype(), stn::DType::Float32);
  EXPECT_EQ(rf.asDouble(), 5.0);

  EXPECT_EQ(hypot(0.3, 0.4).asDouble(), std::sqrt(0.3 * 0.3 + 0.4 * 0.4));
  const double big = 1e150; // big*big is 9.999999999999999e+299, not 1e300
  EXPECT_EQ(hypot(-big, big).asDouble(), std::sqrt(big * big + big * big));

  stn::Value s = square(int64_t{-7});
  EXPECT_EQ(s.scalar().dtype(), stn::DType::Int64);
  EXPECT_EQ(s.asInt(), 49);
  EXPECT_EQ(square(1.5).asDouble(), 2.25);
}

} // namespace
