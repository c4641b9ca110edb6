//===- GpuTest.cpp - GPU kernels through the host API ---------------------===//
//
// Two groups. GpuNoDevice runs everywhere: argument checking, the no-driver
// error path (forced with $STN_CUDA_DRIVER), PTX without a GPU. GpuDevice
// runs each CUDA example of dsl-examples/ on the GPU and compares it with
// the same file's CPU kernel or a plain C++ loop; without a GPU or driver
// each test skips with the reason (gpu::unavailableReason()).
//
// Inputs are random (fresh per run, seed printed on failure) and outputs
// are poisoned before each launch, so unwritten elements show.
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

/// $STN_EXAMPLES_DIR when set (a build carried to a GPU machine, whose
/// checkout lives elsewhere; docs/gpu.md), else the source tree's.
const std::string Examples = [] {
  const char *e = std::getenv("STN_EXAMPLES_DIR");
  return std::string(e && *e ? e : STN_EXAMPLES_DIR);
}();

stn::EngineOptions noCache() {
  stn::EngineOptions o;
  o.cacheEnabled = false;
  return o;
}

#define SKIP_WITHOUT_GPU()                                                                     \
  do {                                                                                         \
    if (!stn::gpu::available())                                                                \
      GTEST_SKIP() << "no CUDA GPU: " << stn::gpu::unavailableReason();                      \
  } while (0)

/// Sets an environment variable for one scope.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : Name(name) {
    if (const char *old = std::getenv(name))
      Old = old, HadOld = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (HadOld)
      setenv(Name, Old.c_str(), 1);
    else
      unsetenv(Name);
  }

private:
  const char *Name;
  std::string Old;
  bool HadOld = false;
};

using stn::test::errorOf;

//===----------------------------------------------------------------------===//
// Without a device
//===----------------------------------------------------------------------===//

TEST(GpuNoDevice, NoDriverIsAnError) {
  if (stn::gpu::available())
    GTEST_SKIP() << "a CUDA driver is loaded in this process; the no-driver path is "
                    "covered on machines without one (and by test/lit/gpu/cli.test)";
  ScopedEnv env("STN_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  EXPECT_FALSE(stn::gpu::available());
  EXPECT_NE(stn::gpu::unavailableReason().find("no CUDA driver"), std::string::npos);
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_average.stn");
  std::vector<double> x(100, 1.0), avg(1, 0.0);
  std::string e = errorOf([&] {
    mod.kernel("average_sqrt_kernel")
        .launch(stn::Dim3(2), stn::Dim3(32), stn::ArrayView::of(x.data(), {100}),
                stn::ArrayView::of(avg.data(), {1}));
  });
  EXPECT_NE(e.find("no CUDA driver: /nonexistent/libcuda.so.1 not found"), std::string::npos)
      << e;
  e = errorOf([] { stn::DeviceArray::empty(stn::DType::Float32, {4}); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  e = errorOf([] { stn::gpu::deviceInfo(); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  e = errorOf([] { stn::gpu::synchronize(); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  // The host data is untouched.
  EXPECT_EQ(avg[0], 0.0);
}

TEST(GpuNoDevice, LaunchChecksKernelAndArguments) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_average.stn");
  std::vector<double> x(8, 1.0), avg(1, 0.0);
  stn::ArrayView xv = stn::ArrayView::of(x.data(), {8});
  // A GPU kernel cannot be called, a CPU kernel cannot be launched.
  std::string e = errorOf([&] { mod.kernel("average_sqrt_kernel")(xv, xv); });
  EXPECT_NE(e.find("'average_sqrt_kernel' is a GPU kernel: launch it"), std::string::npos) << e;
  e = errorOf([&] { mod.kernel("average_sqrt").launch(stn::Dim3(1), stn::Dim3(1), xv); });
  EXPECT_NE(e.find("'average_sqrt' is not a GPU kernel"), std::string::npos) << e;
  // Argument count, before any driver is needed.
  e = errorOf([&] { mod.kernel("average_sqrt_kernel").launch(stn::Dim3(1), stn::Dim3(1), xv); });
  EXPECT_NE(e.find("takes 2 arguments (x, avg) but 1 was given"), std::string::npos) << e;
  // An empty DeviceArray is rejected by name.
  e = errorOf([&] {
    mod.kernel("average_sqrt_kernel").launch(stn::Dim3(1), stn::Dim3(1), xv, stn::DeviceArray());
  });
  EXPECT_NE(e.find("argument 'avg': an empty DeviceArray"), std::string::npos) << e;
  // An explicit signature rejects other dtypes (Mandelbrot takes u1[:,:]).
  stn::Module mm = engine.loadFile(Examples + "/cuda_mandelbrot.stn");
  std::vector<float> img(4);
  e = errorOf([&] {
    mm.kernel("create_fractal_kernel")
        .launch(stn::Dim3(1), stn::Dim3(1), -2.0, 1.0, -1.0, 1.0,
                stn::ArrayView::of(img.data(), {2, 2}), 50);
  });
  EXPECT_NE(e.find("no signature of 'create_fractal_kernel' accepts"), std::string::npos) << e;
}

TEST(GpuNoDevice, EmitsPTXWithoutAGPU) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_matmul.stn");
  std::string ptx = mod.emit("matrix_multiplication_cuda_fast", "f32[:,:], f32[:,:], f32[:,:]",
                             stn::Stage::PTX);
  EXPECT_NE(ptx.find(".target sm_90"), std::string::npos);
  EXPECT_NE(ptx.find(".entry kernel_matrix_multiplication_cuda_fast"), std::string::npos);
  EXPECT_NE(ptx.find("bar.sync"), std::string::npos);
  EXPECT_NE(ptx.find("ld.shared.f32"), std::string::npos);
  ScopedEnv arch("STN_CUDA_ARCH", "8.0");
  ptx = mod.emit("matrix_multiplication_cuda", "f32[:,:], f32[:,:], f32[:,:]", stn::Stage::PTX);
  EXPECT_NE(ptx.find(".target sm_80"), std::string::npos);
  std::string e = errorOf([&] {
    mod.emit("matrix_multiplication", "f32[:,:], f32[:,:], f32[:,:]", stn::Stage::PTX);
  });
  EXPECT_NE(e.find("is not a GPU kernel: --emit=ptx"), std::string::npos) << e;
}

TEST(GpuNoDevice, CPUReferencesOfTheExamples) {
  // The CPU kernels the GPU tests compare against, against plain C++.
  stn::Engine engine(noCache());
  stn::Module sm = engine.loadFile(Examples + "/cuda_smooth.stn");
  const int64_t k = 2, n = 5, m = 6;
  std::vector<int8_t> x(k * n * m), out(k * n * m, 77), ref(k * n * m, 0);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<int8_t>((i * 73 + 11) % 256);
  for (int64_t s = 0; s < k; ++s)
    for (int64_t i = 1; i + 1 < n; ++i)
      for (int64_t j = 1; j + 1 < m; ++j) {
        int64_t sum = 0;
        for (int di = -1; di <= 1; ++di)
          for (int dj = -1; dj <= 1; ++dj)
            sum += x[(s * n + i + di) * m + j + dj];
        ref[(s * n + i) * m + j] = static_cast<int8_t>(sum / 9 - ((sum % 9 != 0) && (sum < 0)));
      }
  sm.kernel("smooth")(stn::ArrayView::of(x.data(), {k, n, m}),
                      stn::ArrayView::of(out.data(), {k, n, m}));
  EXPECT_EQ(out, ref);
  stn::Module av = engine.loadFile(Examples + "/cuda_average.stn");
  std::vector<double> v = {1, 4, 9, 16};
  EXPECT_DOUBLE_EQ(av.kernel("average_sqrt")(stn::ArrayView::of(v.data(), {4})).asDouble(), 2.5);
}

//===----------------------------------------------------------------------===//
// On a device
//===----------------------------------------------------------------------===//

class GpuDevice : public ::testing::Test {
protected:
  void SetUp() override {
    SKIP_WITHOUT_GPU();
    Seed = std::random_device{}();
    Rng.seed(Seed);
  }
  std::string seedNote() const { return "seed " + std::to_string(Seed); }
  unsigned Seed = 0;
  std::mt19937_64 Rng;
};

TEST_F(GpuDevice, DeviceInfoAndArrays) {
  stn::gpu::DeviceInfo info = stn::gpu::deviceInfo();
  EXPECT_GE(info.major, 3);
  EXPECT_GT(info.multiprocessors, 0);
  EXPECT_EQ(info.arch(), "sm_" + std::to_string(info.major) + std::to_string(info.minor));
  // Round trips, a non-contiguous host view, device-to-device copies.
  std::vector<int32_t> h(6 * 5);
  for (size_t i = 0; i < h.size(); ++i)
    h[i] = static_cast<int32_t>(Rng() % 1000);
  stn::DeviceArray d = stn::DeviceArray::fromHost(stn::ArrayView::of(h.data(), {6, 5}));
  stn::DeviceArray e = stn::DeviceArray::empty(stn::DType::Int32, {6, 5});
  e.copyFrom(d);
  stn::Array back = e.toHost();
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 5; ++j)
      ASSERT_EQ(back.at<int32_t>({i, j}), h[i * 5 + j]);
  // The transpose (a strided view) goes in and out.
  stn::ArrayView t(h.data(), stn::DType::Int32, {5, 6}, {4, 20});
  stn::DeviceArray dt = stn::DeviceArray::fromHost(t);
  std::vector<int32_t> out(30, -1);
  stn::ArrayView ot(out.data(), stn::DType::Int32, {5, 6}, {4, 20});
  dt.copyToHost(ot);
  EXPECT_EQ(out, h);
  std::string err = errorOf([&] { d.copyToHost(stn::ArrayView::of(out.data(), {30})); });
  EXPECT_NE(err.find("the host array is int32 (30,) but the device array is int32 (6, 5)"),
            std::string::npos)
      << err;
}

TEST_F(GpuDevice, AverageOfSquareRoots) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_average.stn");
  const int64_t n = 1000003; // not a multiple of the grid
  std::vector<double> x(n);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto &v : x)
    v = u(Rng);
  double ref = 0; // plain C++
  for (double v : x)
    ref += std::sqrt(v);
  ref /= n;
  double cpu = mod.kernel("average_sqrt")(stn::ArrayView::of(x.data(), {n})).asDouble();
  EXPECT_NEAR(cpu, ref, 1e-12);
  for (auto [grid, block] : {std::pair<unsigned, unsigned>{30, 128}, {1, 1}, {1000, 256}}) {
    std::vector<double> avg(1, 0.0);
    mod.kernel("average_sqrt_kernel")
        .launch(stn::Dim3(grid), stn::Dim3(block), stn::ArrayView::of(x.data(), {n}),
                stn::ArrayView::of(avg.data(), {1}));
    // Atomic adds in any order: equal up to rounding.
    EXPECT_NEAR(avg[0], ref, 1e-9) << "grid " << grid << " block " << block << ", "
                                   << seedNote();
  }
}

/// C = A * B in double precision, the reference for both GPU kernels.
std::vector<double> matmulRef(const std::vector<float> &a, const std::vector<float> &b,
                              int64_t n) {
  std::vector<double> c(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] += static_cast<double>(a[i * n + k]) * b[k * n + j];
  return c;
}

double relError(const std::vector<float> &c, const std::vector<double> &ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (std::isnan(c[i]))
      return INFINITY;
    num += (c[i] - ref[i]) * (c[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

TEST_F(GpuDevice, MatrixMultiplicationPlainAndTiled) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_matmul.stn");
  const int64_t n = 256; // a multiple of TPB = 16, as the tiled kernel needs
  std::vector<float> a(n * n), b(n * n);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto &v : a)
    v = u(Rng);
  for (auto &v : b)
    v = u(Rng);
  std::vector<double> ref = matmulRef(a, b, n);
  stn::DeviceArray da = stn::DeviceArray::fromHost(stn::ArrayView::of(a.data(), {n, n}));
  stn::DeviceArray db = stn::DeviceArray::fromHost(stn::ArrayView::of(b.data(), {n, n}));
  for (const char *k : {"matrix_multiplication_cuda", "matrix_multiplication_cuda_fast"}) {
    std::vector<float> c(n * n, NAN); // poisoned
    stn::DeviceArray dc = stn::DeviceArray::fromHost(stn::ArrayView::of(c.data(), {n, n}));
    mod.kernel(k).launch(stn::Dim3(n / 16, n / 16), stn::Dim3(16, 16), da, db, dc);
    dc.copyToHost(stn::ArrayView::of(c.data(), {n, n}));
    EXPECT_LT(relError(c, ref), 1e-5) << k << ", " << seedNote();
    // Host arrays instead of device arrays: copied in and back.
    std::vector<float> c2(n * n, NAN);
    mod.kernel(k).launch(stn::Dim3(n / 16, n / 16), stn::Dim3(16, 16),
                         stn::ArrayView::of(a.data(), {n, n}), stn::ArrayView::of(b.data(), {n, n}),
                         stn::ArrayView::of(c2.data(), {n, n}));
    EXPECT_EQ(c2, c) << k;
  }
  // The plain kernel guards its bounds: a size that is no multiple of the block.
  const int64_t m = 77;
  std::vector<float> a3(m * m), b3(m * m), c3(m * m, NAN);
  for (auto &v : a3)
    v = u(Rng);
  for (auto &v : b3)
    v = u(Rng);
  mod.kernel("matrix_multiplication_cuda")
      .launch(stn::Dim3(5, 5), stn::Dim3(16, 16), stn::ArrayView::of(a3.data(), {m, m}),
              stn::ArrayView::of(b3.data(), {m, m}), stn::ArrayView::of(c3.data(), {m, m}));
  EXPECT_LT(relError(c3, matmulRef(a3, b3, m)), 1e-5) << seedNote();
}

TEST_F(GpuDevice, MandelbrotMatchesCPU) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_mandelbrot.stn");
  const int64_t h = 1024, w = 1536;
  std::vector<uint8_t> gpu(h * w, 255), cpu(h * w, 255);
  // The course's launch: a 32x16 grid of 32x8 blocks, smaller than the
  // image (the kernel's grid-stride loops cover it).
  mod.kernel("create_fractal_kernel")
      .launch(stn::Dim3(32, 16), stn::Dim3(32, 8), -2.0f, 1.0f, -1.0f, 1.0f,
              stn::ArrayView::of(gpu.data(), {h, w}), uint32_t{50});
  mod.kernel("create_fractal")(-2.0f, 1.0f, -1.0f, 1.0f, stn::ArrayView::of(cpu.data(), {h, w}),
                               uint32_t{50});
  // Same source, same types; the GPU may contract a*b+c into FMAs, which
  // can move a point on the set's boundary by one iteration.
  int64_t differ = 0;
  for (int64_t i = 0; i < h * w; ++i) {
    ASSERT_NE(gpu[i], 255) << "pixel " << i << " not written";
    differ += gpu[i] != cpu[i];
    ASSERT_LE(std::abs(int(gpu[i]) - int(cpu[i])), 50);
  }
  EXPECT_LT(differ, h * w / 1000) << differ << " pixels differ";
}

TEST_F(GpuDevice, SmoothStackResidentOnDevice) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_smooth.stn");
  const int64_t k = 3, n = 37, m = 70;
  std::vector<int8_t> x(k * n * m);
  for (auto &v : x)
    v = static_cast<int8_t>(Rng() % 256);
  std::vector<int8_t> ref(k * n * m, 0); // plain C++: Numba's int64 sum, floor division
  for (int64_t s = 0; s < k; ++s)
    for (int64_t i = 1; i + 1 < n; ++i)
      for (int64_t j = 1; j + 1 < m; ++j) {
        int64_t sum = 0;
        for (int di = -1; di <= 1; ++di)
          for (int dj = -1; dj <= 1; ++dj)
            sum += x[(s * n + i + di) * m + j + dj];
        int64_t q = sum / 9 - ((sum % 9 != 0) && (sum < 0));
        ref[(s * n + i) * m + j] = static_cast<int8_t>(q);
      }
  stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {k, n, m}));
  stn::DeviceArray dout = stn::DeviceArray::empty(stn::DType::Int8, {k, n, m});
  mod.kernel("smooth_kernel")
      .launch(stn::Dim3((m + 31) / 32, (n + 7) / 8, k), stn::Dim3(32, 8), dx, dout);
  std::vector<int8_t> out(k * n * m, 77);
  dout.copyToHost(stn::ArrayView::of(out.data(), {k, n, m}));
  EXPECT_EQ(out, ref) << seedNote();
  std::vector<int8_t> cpu(k * n * m, 77);
  mod.kernel("smooth")(stn::ArrayView::of(x.data(), {k, n, m}),
                       stn::ArrayView::of(cpu.data(), {k, n, m}));
  EXPECT_EQ(cpu, ref);
}

TEST_F(GpuDevice, AtomicsReturnOldValues) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(R"(
from numba import cuda

@cuda.jit
def count(a, olds):
    i = cuda.grid(1)
    if i < olds.shape[0]:
        olds[i] = cuda.atomic.add(a, 0, 1)
        cuda.atomic.max(a, 1, i)
        cuda.atomic.min(a, 2, i)
        cuda.atomic.sub(a, 3, 2)
        if i == 5:
            cuda.atomic.exch(a, 4, 42)
        cuda.atomic.cas(a, 5, 0, i + 1)
)",
                                      "atomics.stn");
  const int64_t n = 1000;
  std::vector<int64_t> a = {0, -1, 1 << 30, 0, 0, 0}, olds(n, -1);
  mod.kernel("count").launch(stn::Dim3(4), stn::Dim3(256), stn::ArrayView::of(a.data(), {6}),
                             stn::ArrayView::of(olds.data(), {n}));
  EXPECT_EQ(a[0], n);
  EXPECT_EQ(a[1], n - 1);
  EXPECT_EQ(a[2], 0);
  EXPECT_EQ(a[3], -2 * n);
  EXPECT_EQ(a[4], 42);
  EXPECT_GE(a[5], 1); // exactly one thread's cas succeeded
  EXPECT_LE(a[5], n);
  // The old values of the counter are a permutation of 0..n-1.
  std::vector<int> seen(n, 0);
  for (int64_t v : olds) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, n);
    seen[v]++;
  }
  for (int s : seen)
    EXPECT_EQ(s, 1);
}

TEST_F(GpuDevice, CachedKernelsLoadInANewEngine) {
  if (const char *sim = std::getenv("STN_CUDA_SIM"); sim && *sim && std::string(sim) != "0")
    GTEST_SKIP() << "the CUDA simulator compiles kernels in memory; it writes no cache entries";
  std::string dir = ::testing::TempDir() + "/stn-gpu-cache-" + std::to_string(Seed);
  stn::EngineOptions o;
  o.cacheDir = dir;
  std::vector<double> x(64, 4.0);
  for (int round = 0; round < 2; ++round) {
    stn::Engine engine(o);
    stn::Module mod = engine.loadFile(Examples + "/cuda_average.stn");
    std::vector<double> avg(1, 0.0);
    mod.kernel("average_sqrt_kernel")
        .launch(stn::Dim3(2), stn::Dim3(32), stn::ArrayView::of(x.data(), {64}),
                stn::ArrayView::of(avg.data(), {1}));
    EXPECT_DOUBLE_EQ(avg[0], 2.0);
    stn::CacheStats s = engine.cacheStats();
    EXPECT_EQ(s.hits, round == 0 ? 0u : 1u) << "round " << round;
  }
  stn::cache::clear(dir);
}

TEST_F(GpuDevice, LaunchErrorsNameTheDriverError) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadFile(Examples + "/cuda_average.stn");
  std::vector<double> x(8, 1.0), avg(1, 0.0);
  // More threads per block than any device allows.
  std::string e = errorOf([&] {
    mod.kernel("average_sqrt_kernel")
        .launch(stn::Dim3(1), stn::Dim3(4096), stn::ArrayView::of(x.data(), {8}),
                stn::ArrayView::of(avg.data(), {1}));
  });
  EXPECT_NE(e.find("CUDA_ERROR_INVALID_VALUE"), std::string::npos) << e;
}

} // namespace
