//===- GpuFaultTest.cpp - Errors raised by GPU code ------------------------===//
//
// GPU code raises as CPU code does (KernelFaults.h): `raise`, `assert` and
// boundscheck=True in @cuda.jit kernels, their device functions, GPU loops
// of @jit(target="cuda") kernels and target="cuda" ufuncs become an
// stn::Error pointing at the failing statement, with the values of the
// failing thread. Each test also checks that the kernel keeps working
// after an error (the fault record is cleared), that launches that do not
// fail give the results of C++ loops, and that an error stops the host part
// of a target="cuda" kernel from launching more loops.
//
// The tests need a GPU, or the CUDA simulator (ctest gpu-simulator, with
// STN_CUDA_SIM=1); without either they skip.
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using stn::test::errorOf;
using stn::test::noCache;

#define SKIP_WITHOUT_GPU()                                                                     \
  do {                                                                                         \
    if (!stn::gpu::available())                                                                \
      GTEST_SKIP() << "no CUDA GPU: " << stn::gpu::unavailableReason();                      \
  } while (0)

const char *FaultSource = R"stn(import math
import numpy as np
from numba import cuda, jit, prange, vectorize

@cuda.jit
def check_positive(x, y):
    i = cuda.grid(1)
    if i < x.shape[0]:
        assert x[i] > 0, "x must be positive"
        y[i] = math.sqrt(x[i])

@cuda.jit(boundscheck=True)
def shift(x, y, by):
    i = cuda.grid(1)
    if i < x.shape[0]:
        y[i + by] = x[i]

@jit
def checked_log(v, i):
    if v <= 0.0:
        raise ValueError("log of", v, "at", i)
    return math.log(v)

@cuda.jit
def logs(x, y):
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        y[i] = checked_log(x[i], i)

@vectorize(["float32(float32)"], target="cuda")
def reciprocal(v):
    if v == 0:
        raise ZeroDivisionError("reciprocal of 0")
    return np.float32(1.0) / v

@jit(target="cuda")
def two_loops(x, y):
    for i in prange(x.shape[0]):
        if x[i] < 0:
            raise ValueError("negative", x[i], i)
    for i in prange(y.shape[0]):
        y[i] = 1
)stn";

class GpuFaults : public ::testing::Test {
protected:
  void SetUp() override { SKIP_WITHOUT_GPU(); }
  stn::Engine Engine{noCache()};
  stn::Module Mod = Engine.loadString(FaultSource, "faults.stn");
};

TEST_F(GpuFaults, AssertInAKernel) {
  const int64_t n = 1000;
  std::vector<double> x(n), y(n, -1.0);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<double>(i + 1);
  stn::Kernel k = Mod.kernel("check_positive");
  k.launch(stn::Dim3(4), stn::Dim3(256), stn::ArrayView::of(x.data(), {n}),
           stn::ArrayView::of(y.data(), {n}));
  for (int64_t i = 0; i < n; ++i)
    ASSERT_DOUBLE_EQ(y[i], std::sqrt(x[i])) << i;
  // Threads 17 and 900 fail: one error, the statement's.
  x[17] = -1.0;
  x[900] = 0.0;
  std::string e = errorOf([&] {
    k.launch(stn::Dim3(4), stn::Dim3(256), stn::ArrayView::of(x.data(), {n}),
             stn::ArrayView::of(y.data(), {n}));
  });
  const std::string statement = "assert x[i] > 0, \"x must be positive\"";
  EXPECT_NE(e.find("faults.stn:9:9: error: AssertionError: x must be positive\n        " +
                   statement + "\n        ^" + std::string(statement.size() - 1, '~')),
            std::string::npos)
      << e;
  // The record is cleared: the next launch without a failing thread works,
  // on device arrays too (waited for, since the kernel may raise).
  x[17] = 18.0;
  x[900] = 901.0;
  stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {n}));
  stn::DeviceArray dy = stn::DeviceArray::empty(stn::DType::Float64, {n});
  k.launch(stn::Dim3(4), stn::Dim3(256), dx, dy);
  stn::Array back = dy.toHost();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_DOUBLE_EQ(back.at<double>({i}), std::sqrt(x[i])) << i;
  x[999] = -5.0;
  dx.copyFromHost(stn::ArrayView::of(x.data(), {n}));
  e = errorOf([&] { k.launch(stn::Dim3(4), stn::Dim3(256), dx, dy); });
  EXPECT_NE(e.find("error: AssertionError: x must be positive"), std::string::npos) << e;
}

TEST_F(GpuFaults, BoundsCheckedKernel) {
  const int64_t n = 300;
  std::vector<int32_t> x(n), y(n + 2, 0);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<int32_t>(3 * i - 7);
  stn::Kernel k = Mod.kernel("shift");
  k.launch(stn::Dim3(2), stn::Dim3(256), stn::ArrayView::of(x.data(), {n}),
           stn::ArrayView::of(y.data(), {n + 2}), int64_t{2});
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(y[i + 2], x[i]) << i;
  // Every thread from i = n - 2 on writes past the end; -(n + 3) is too
  // small for every thread, even after Python's wrap-around.
  std::string e = errorOf([&] {
    k.launch(stn::Dim3(2), stn::Dim3(256), stn::ArrayView::of(x.data(), {n}),
             stn::ArrayView::of(y.data(), {n}), int64_t{3});
  });
  EXPECT_NE(e.find("faults.stn:16:9: error: index "), std::string::npos) << e;
  EXPECT_NE(e.find(" is out of bounds for axis 0 of 'y' with shape (300,)\n"
                   "        y[i + by] = x[i]\n"
                   "        ^~~~~~~~~\n"
                   "hint: boundscheck=True"),
            std::string::npos)
      << e;
  // One thread only: the index is exact.
  e = errorOf([&] {
    k.launch(stn::Dim3(1), stn::Dim3(1), stn::ArrayView::of(x.data(), {n}),
             stn::ArrayView::of(y.data(), {n}), int64_t{-(n + 3)});
  });
  EXPECT_NE(e.find("error: index -303 is out of bounds for axis 0 of 'y' with shape (300,)"),
            std::string::npos)
      << e;
}

TEST_F(GpuFaults, RaiseInADeviceFunction) {
  const int64_t n = 5000;
  std::vector<double> x(n), y(n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    x[i] = 0.5 + static_cast<double>(i);
  stn::Kernel k = Mod.kernel("logs");
  k.launch(stn::Dim3(3), stn::Dim3(128), stn::ArrayView::of(x.data(), {n}),
           stn::ArrayView::of(y.data(), {n}));
  for (int64_t i = 0; i < n; ++i)
    ASSERT_DOUBLE_EQ(y[i], std::log(x[i])) << i;
  x[4321] = -0.25;
  std::string e = errorOf([&] {
    k.launch(stn::Dim3(3), stn::Dim3(128), stn::ArrayView::of(x.data(), {n}),
             stn::ArrayView::of(y.data(), {n}));
  });
  EXPECT_NE(e.find("faults.stn:21:9: error: ValueError: ('log of', -0.25, 'at', 4321)\n"
                   "        raise ValueError(\"log of\", v, \"at\", i)\n"),
            std::string::npos)
      << e;
  // The caller stops where its callee raised: y[4321] is not written (on
  // device arrays, which stay as the kernel left them).
  stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {n}));
  std::vector<double> poison(n, -1.0);
  stn::DeviceArray dy = stn::DeviceArray::fromHost(stn::ArrayView::of(poison.data(), {n}));
  e = errorOf([&] { k.launch(stn::Dim3(3), stn::Dim3(128), dx, dy); });
  EXPECT_NE(e.find("ValueError: ('log of', -0.25, 'at', 4321)"), std::string::npos) << e;
  EXPECT_EQ(dy.toHost().at<double>({4321}), -1.0);
}

TEST_F(GpuFaults, RaiseInATargetCudaUfunc) {
  std::vector<float> x = {1.0f, 2.0f, 4.0f, -8.0f, 0.5f};
  std::vector<float> out(x.size(), 0.0f);
  stn::Kernel k = Mod.kernel("reciprocal");
  k.call({stn::ArrayView::of(x.data(), {5})}, {{"out", stn::ArrayView::of(out.data(), {5})}});
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(out[i], 1.0f / x[i]) << i;
  x[2] = 0.0f;
  std::string e = errorOf([&] {
    k.call({stn::ArrayView::of(x.data(), {5})}, {{"out", stn::ArrayView::of(out.data(), {5})}});
  });
  EXPECT_NE(e.find("faults.stn:32:9: error: ZeroDivisionError: reciprocal of 0"),
            std::string::npos)
      << e;
}

TEST_F(GpuFaults, RaiseInAGpuLoopStopsTheHostPart) {
  const int64_t n = 700;
  std::vector<int64_t> x(n), y(n, 0);
  for (int64_t i = 0; i < n; ++i)
    x[i] = i;
  stn::Kernel k = Mod.kernel("two_loops");
  stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {n}));
  stn::DeviceArray dy = stn::DeviceArray::fromHost(stn::ArrayView::of(y.data(), {n}));
  x[650] = -3;
  dx.copyFromHost(stn::ArrayView::of(x.data(), {n}));
  std::string e = errorOf([&] { k.callOnDevice({dx, dy}); });
  EXPECT_NE(e.find("faults.stn:39:13: error: ValueError: ('negative', -3, 650)"),
            std::string::npos)
      << e;
  // The second loop did not run.
  stn::Array back = dy.toHost();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(back.at<int64_t>({i}), 0) << i;
  x[650] = 650;
  dx.copyFromHost(stn::ArrayView::of(x.data(), {n}));
  k.callOnDevice({dx, dy});
  back = dy.toHost();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(back.at<int64_t>({i}), 1) << i;
}

TEST_F(GpuFaults, FaultTextsOfCachedKernels) {
  // A kernel's fault texts travel with its GPU binary through the cache
  // (the simulator compiles in memory and caches nothing).
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("stn-gpu-fault-cache-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::vector<double> x = {1.0, 2.0, -3.0}, y(3, 0.0);
  for (int round = 0; round < 2; ++round) {
    stn::EngineOptions o;
    o.cacheDir = dir.string();
    stn::Engine engine(o);
    stn::Module mod = engine.loadString(FaultSource, "faults.stn");
    std::string e = errorOf([&] {
      mod.kernel("check_positive")
          .launch(stn::Dim3(1), stn::Dim3(32), stn::ArrayView::of(x.data(), {3}),
                  stn::ArrayView::of(y.data(), {3}));
    });
    EXPECT_NE(e.find("faults.stn:9:9: error: AssertionError: x must be positive"),
              std::string::npos)
        << "round " << round << ": " << e;
    if (!stn::gpu::simulated()) {
      EXPECT_EQ(engine.cacheStats().hits, round == 0 ? 0u : 1u) << "round " << round;
    }
  }
  std::filesystem::remove_all(dir);
}

} // namespace
