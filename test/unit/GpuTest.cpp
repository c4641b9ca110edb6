//===- GpuTest.cpp - GPU kernels through the host API ---------------------===//
//
// Two groups. GpuNoDevice runs everywhere: argument checking, the no-driver
// error path (forced with $STN_CUDA_DRIVER), PTX without a GPU. GpuDevice
// runs each CUDA example of dsl-examples/ on the GPU and compares it with
// the same file's CPU kernel or a plain C++ loop; without a GPU or driver
// each test skips with the reason (gpu::unavailableReason()).
//
// target="cuda" stencils, ufuncs and gufuncs (TargetsSource) are checked
// the same way: GpuNoDevice for what happens before the GPU (shape checks,
// the no-driver error, callOnDevice on other kernels, scalar ufunc calls on
// the CPU); GpuDevice.TargetCuda* call them through Kernel::call (host
// arrays, with and without out=) and Kernel::callOnDevice (DeviceArrays,
// with and without out) and compare every result with the same source
// compiled with target="cpu" and with a C++ loop, over odd shapes.
//
// Inputs are random (fresh per run, seed printed on failure) and outputs
// are poisoned before each launch, so unwritten elements show.
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
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
// target="cuda" stencils, ufuncs and gufuncs: the kernels, C++ references
//===----------------------------------------------------------------------===//

/// The target="cuda" kernels of the tests below; with target="cpu"
/// substituted (targetsOn) they are the CPU reference. Float code adds and
/// subtracts before it multiplies, never after: a GPU may contract a * b + c
/// into one FMA where the CPU (without fastmath) rounds twice, and every
/// result is compared exactly.
const char *TargetsSource = R"stn(
from numba import stencil, vectorize, guvectorize, jit, cuda

@stencil(target="cuda")
def smooth2(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9

@stencil(target="cuda")
def smooth3(x):
    return (x[0, -1, -1] + x[0, -1, 0] + x[0, -1, 1] +
            x[0,  0, -1] + x[0,  0, 0] + x[0,  0, 1] +
            x[0,  1, -1] + x[0,  1, 0] + x[0,  1, 1]) // 9

@stencil(target="cuda", cval=-2.5)
def cross2(a):
    return a[0, -1] + a[0, 1] + a[-1, 0] + a[1, 0] - a[0, 0]

@stencil(target="cuda", cval=-2.5)
def cross3(a):
    return (a[-1, 0, 0] + a[1, 0, 0] + a[0, -1, 0] + a[0, 1, 0] +
            a[0, 0, -1] + a[0, 0, 1] - a[0, 0, 0])

@stencil(target="cuda", boundary="wrap")
def shear(a):
    return a[-2, 1] * 3 + a[1, 0] - a[0, -1]

@stencil(target="cuda", boundary="reflect")
def ahead3(a):
    return a[0, 2, 0] * 2 + a[1, 0, 1] - a[0, 1, -1]

@vectorize(target="cuda")
def comb(a, b):
    return (a + b) * (a - b)

@guvectorize("(n)->()", target="cuda")
def total(x, res):
    s = 0.0
    for v in x:
        s += v
    res[0] = s

@guvectorize("(n, m) -> (n, m)", target="cuda")
@stencil
def smooth_stack(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9

@jit
def plain(x):
    return x[0]

@cuda.jit
def explicit(x):
    x[0] = 1
)stn";

/// TargetsSource with every target="cuda" replaced by `target`.
std::string targetsOn(const std::string &target) {
  std::string s = TargetsSource;
  const std::string from = "target=\"cuda\"", to = "target=\"" + target + "\"";
  int replaced = 0;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
    ++replaced;
  }
  EXPECT_EQ(replaced, 9) << "the CPU reference must differ from the GPU kernels in the target";
  return s;
}

/// A C-order host array of T; its storage has at least one element, so that
/// even an empty array's view has a data pointer.
template <class T> struct HostArray {
  HostArray(std::vector<int64_t> shape, T fill) : Shape(std::move(shape)) {
    Data.assign(static_cast<size_t>(std::max<int64_t>(1, size())), fill);
  }
  int64_t size() const {
    int64_t n = 1;
    for (int64_t e : Shape)
      n *= e;
    return n;
  }
  stn::ArrayView view() { return stn::ArrayView::of(Data.data(), Shape); }
  /// The elements (without the spare one of an empty array).
  std::vector<T> elements() const { return {Data.begin(), Data.begin() + size()}; }
  std::vector<int64_t> Shape;
  std::vector<T> Data;
};

/// The elements of a view of any strides, in C order.
template <class T> std::vector<T> elementsOf(const stn::ArrayView &v) {
  std::vector<T> out;
  int64_t n = v.size();
  std::vector<int64_t> idx(v.shape.size(), 0);
  for (int64_t e = 0; e < n; ++e) {
    const char *p = static_cast<const char *>(v.data);
    for (size_t d = 0; d < idx.size(); ++d)
      p += idx[d] * v.strides[d];
    out.push_back(*reinterpret_cast<const T *>(p));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < v.shape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Numba's floor division of an int64 sum by 9.
int64_t floorDiv9(int64_t s) { return s / 9 - ((s % 9 != 0) && (s < 0)); }

/// The seed's smooth over `images` C-order n x m int8 images: the int64
/// floor mean of each interior element's 3x3 neighborhood, 0 on the border.
std::vector<int64_t> smoothRef(const std::vector<int8_t> &x, int64_t images, int64_t n,
                               int64_t m) {
  std::vector<int64_t> r(static_cast<size_t>(images * n * m), 0);
  for (int64_t s = 0; s < images; ++s)
    for (int64_t i = 1; i + 1 < n; ++i)
      for (int64_t j = 1; j + 1 < m; ++j) {
        int64_t sum = 0;
        for (int di = -1; di <= 1; ++di)
          for (int dj = -1; dj <= 1; ++dj)
            sum += x[(s * n + i + di) * m + j + dj];
        r[(s * n + i) * m + j] = floorDiv9(sum);
      }
  return r;
}

/// cross2 on an n x m float32 array: the same additions in the same order
/// (Python's left to right), cval -2.5 on the border.
std::vector<float> cross2Ref(const std::vector<float> &a, int64_t n, int64_t m) {
  std::vector<float> r(static_cast<size_t>(n * m), -2.5f);
  auto at = [&](int64_t i, int64_t j) { return a[i * m + j]; };
  for (int64_t i = 1; i + 1 < n; ++i)
    for (int64_t j = 1; j + 1 < m; ++j)
      r[i * m + j] = at(i, j - 1) + at(i, j + 1) + at(i - 1, j) + at(i + 1, j) - at(i, j);
  return r;
}

/// cross3 on a k x n x m float32 array, likewise.
std::vector<float> cross3Ref(const std::vector<float> &a, int64_t k, int64_t n, int64_t m) {
  std::vector<float> r(static_cast<size_t>(k * n * m), -2.5f);
  auto at = [&](int64_t s, int64_t i, int64_t j) { return a[(s * n + i) * m + j]; };
  for (int64_t s = 1; s + 1 < k; ++s)
    for (int64_t i = 1; i + 1 < n; ++i)
      for (int64_t j = 1; j + 1 < m; ++j)
        r[(s * n + i) * m + j] = at(s - 1, i, j) + at(s + 1, i, j) + at(s, i - 1, j) +
                                 at(s, i + 1, j) + at(s, i, j - 1) + at(s, i, j + 1) -
                                 at(s, i, j);
  return r;
}

/// Index i of an axis of n elements, mapped back inside as boundary
/// "wrap" (periodic) or "reflect" (d c b a | a b c d | d c b a) do.
int64_t wrapIndex(int64_t i, int64_t n) { return ((i % n) + n) % n; }
int64_t reflectIndex(int64_t i, int64_t n) {
  int64_t m = wrapIndex(i, 2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

/// shear (boundary "wrap") on an n x m int32 array, in int64.
std::vector<int64_t> shearRef(const std::vector<int32_t> &a, int64_t n, int64_t m) {
  std::vector<int64_t> r(static_cast<size_t>(n * m));
  auto at = [&](int64_t i, int64_t j) -> int64_t {
    return a[wrapIndex(i, n) * m + wrapIndex(j, m)];
  };
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      r[i * m + j] = at(i - 2, j + 1) * 3 + at(i + 1, j) - at(i, j - 1);
  return r;
}

/// ahead3 (boundary "reflect") on a k x n x m float64 array.
std::vector<double> ahead3Ref(const std::vector<double> &a, int64_t k, int64_t n, int64_t m) {
  std::vector<double> r(static_cast<size_t>(k * n * m));
  auto at = [&](int64_t s, int64_t i, int64_t j) {
    return a[(reflectIndex(s, k) * n + reflectIndex(i, n)) * m + reflectIndex(j, m)];
  };
  for (int64_t s = 0; s < k; ++s)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        r[(s * n + i) * m + j] = at(s, i + 2, j) * 2 + at(s + 1, i, j + 1) - at(s, i + 1, j - 1);
  return r;
}

/// comb on a (n, 1) column and a (m,) row, broadcast to (n, m), in the
/// result type R (float32 stays float32; int32 computes in int64).
template <class R, class T>
std::vector<R> combRef(const std::vector<T> &col, const std::vector<T> &row, int64_t n,
                       int64_t m) {
  std::vector<R> r(static_cast<size_t>(n * m));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      R a = static_cast<R>(col[i]), b = static_cast<R>(row[j]);
      r[i * m + j] = (a + b) * (a - b);
    }
  return r;
}

/// total on k rows of n float64: each row summed from its start.
std::vector<double> totalRef(const std::vector<double> &x, int64_t k, int64_t n) {
  std::vector<double> r(static_cast<size_t>(k), 0.0);
  for (int64_t s = 0; s < k; ++s) {
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
      sum += x[s * n + j];
    r[s] = sum;
  }
  return r;
}

/// Calls `kernel` of `gpu` (target="cuda") with `args` in every way the
/// host API offers and compares each result, of type Out and shape
/// `shape`, with `ref` (a C++ loop): Kernel::call with host arrays (a new
/// array, and out= a poisoned host array), Kernel::callOnDevice with the
/// arrays as DeviceArrays (a new device array, and a poisoned one as out);
/// and the same kernel of `cpu` (target="cpu") gives `ref` too. Host inputs
/// are left as they were.
template <class Out>
void expectEveryPathGives(const stn::Module &gpu, const stn::Module &cpu,
                          const std::string &kernel, const std::vector<stn::Arg> &args,
                          const std::vector<int64_t> &shape, const std::vector<Out> &ref,
                          Out poison) {
  SCOPED_TRACE(kernel + " -> " + shapeString(shape));
  const stn::DType dt = stn::DTypeOf<Out>::value;
  std::vector<std::vector<char>> before;
  for (const stn::Arg &a : args)
    if (a.isArray())
      before.emplace_back(static_cast<const char *>(a.array().data),
                          static_cast<const char *>(a.array().data) +
                              a.array().size() * stn::itemSize(a.array().dtype));
  // The CPU kernel: the reference agrees with Numba's semantics as stn
  // implements them.
  stn::Value c = cpu.kernel(kernel).call(args);
  ASSERT_TRUE(c.isArray());
  EXPECT_EQ(c.array().dtype(), dt);
  EXPECT_EQ(c.array().shape(), shape);
  EXPECT_EQ(elementsOf<Out>(c.array().view()), ref) << "target=\"cpu\"";
  // Host arrays in, a new host array out.
  stn::Value g = gpu.kernel(kernel).call(args);
  ASSERT_TRUE(g.isArray());
  EXPECT_EQ(g.array().dtype(), dt);
  EXPECT_EQ(g.array().shape(), shape);
  EXPECT_EQ(elementsOf<Out>(g.array().view()), ref) << "Kernel::call";
  // out= a host array: every element is written.
  HostArray<Out> out(shape, poison);
  stn::Value o = gpu.kernel(kernel).call(args, {{"out", out.view()}});
  ASSERT_TRUE(o.isArray());
  EXPECT_EQ(o.array().data(), static_cast<void *>(out.Data.data()));
  EXPECT_EQ(out.elements(), ref) << "Kernel::call with out=";
  // The inputs are untouched.
  size_t b = 0;
  for (const stn::Arg &a : args)
    if (a.isArray()) {
      const char *p = static_cast<const char *>(a.array().data);
      EXPECT_TRUE(std::equal(before[b].begin(), before[b].end(), p)) << "input " << b;
      ++b;
    }
  // DeviceArrays in, a new DeviceArray out.
  std::vector<stn::GpuArg> dargs;
  for (const stn::Arg &a : args)
    dargs.push_back(a.isArray() ? stn::GpuArg(stn::DeviceArray::fromHost(a.array()))
                                : stn::GpuArg(a.scalar()));
  stn::DeviceArray d = gpu.kernel(kernel).callOnDevice(dargs);
  EXPECT_EQ(d.dtype(), dt);
  EXPECT_EQ(d.shape(), shape);
  EXPECT_EQ(elementsOf<Out>(d.toHost().view()), ref) << "callOnDevice";
  // Into a preallocated, poisoned DeviceArray, which is returned.
  HostArray<Out> poisoned(shape, poison);
  stn::DeviceArray dout = stn::DeviceArray::fromHost(poisoned.view());
  stn::DeviceArray r = gpu.kernel(kernel).callOnDevice(dargs, dout);
  EXPECT_EQ(r.devicePointer(), dout.devicePointer());
  EXPECT_EQ(elementsOf<Out>(dout.toHost().view()), ref) << "callOnDevice with out";
}

template <class T> std::vector<T> randomValues(std::mt19937_64 &rng, int64_t n, T lo, T hi) {
  std::vector<T> v(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (T &x : v) {
    if constexpr (std::is_floating_point_v<T>)
      x = static_cast<T>(lo + (hi - lo) * std::uniform_real_distribution<double>(0, 1)(rng));
    else
      x = static_cast<T>(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
  }
  return v;
}

/// A HostArray of random values in [lo, hi].
template <class T>
HostArray<T> randomArray(std::mt19937_64 &rng, std::vector<int64_t> shape, T lo, T hi) {
  HostArray<T> a(std::move(shape), T(0));
  std::vector<T> v = randomValues<T>(rng, a.size(), lo, hi);
  std::copy(v.begin(), v.end(), a.Data.begin());
  return a;
}

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
  std::vector<int8_t> x(k * n * m), out(k * n * m, 77), ref;
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<int8_t>((i * 73 + 11) % 256);
  // The kernel stores the int64 mean into int8: the wrapped value.
  for (int64_t v : smoothRef(x, k, n, m))
    ref.push_back(static_cast<int8_t>(v));
  sm.kernel("smooth")(stn::ArrayView::of(x.data(), {k, n, m}),
                      stn::ArrayView::of(out.data(), {k, n, m}));
  EXPECT_EQ(out, ref);
  stn::Module av = engine.loadFile(Examples + "/cuda_average.stn");
  std::vector<double> v = {1, 4, 9, 16};
  EXPECT_DOUBLE_EQ(av.kernel("average_sqrt")(stn::ArrayView::of(v.data(), {4})).asDouble(), 2.5);
}

TEST(GpuNoDevice, TargetCudaCallsCheckShapesThenNeedADriver) {
  if (stn::gpu::available())
    GTEST_SKIP() << "a CUDA driver is loaded in this process; the no-driver path is "
                    "covered on machines without one (and by test/lit/gpu/diag-targets.stn)";
  ScopedEnv env("STN_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(TargetsSource, "targets.stn");
  std::vector<int8_t> img(4 * 5, 3);
  std::vector<int64_t> out(4 * 5, 77);
  stn::ArrayView iv = stn::ArrayView::of(img.data(), {4, 5});
  // A stencil with host arrays goes to the GPU: no driver.
  std::string e = errorOf([&] { mod.kernel("smooth2")(iv); });
  EXPECT_NE(e.find("no CUDA driver: /nonexistent/libcuda.so.1 not found"), std::string::npos)
      << e;
  e = errorOf([&] {
    mod.kernel("smooth2").call({iv}, {{"out", stn::ArrayView::of(out.data(), {4, 5})}});
  });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  EXPECT_EQ(out, std::vector<int64_t>(4 * 5, 77)); // out= untouched
  e = errorOf([&] { mod.kernel("smooth2").callOnDevice({iv}); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  // So do a ufunc, a gufunc and the stacked gufunc.
  std::vector<float> a(3, 1.0f), b(4, 2.0f);
  e = errorOf([&] {
    mod.kernel("comb")(stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(a.data(), {3}));
  });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  e = errorOf([&] { mod.kernel("comb")(stn::ArrayView::of(a.data(), {3}), 2.0f); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  std::vector<double> rows(6, 1.0);
  e = errorOf([&] { mod.kernel("total")(stn::ArrayView::of(rows.data(), {2, 3})); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  e = errorOf([&] { mod.kernel("smooth_stack")(stn::ArrayView::of(img.data(), {1, 4, 5})); });
  EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  // Shapes are checked first, with the CPU call's messages.
  e = errorOf([&] {
    mod.kernel("comb")(stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(b.data(), {4}));
  });
  EXPECT_NE(e.find("cannot broadcast the arguments of 'comb': 'b' has extent 4 on axis 0 but "
                   "'a' has 3"),
            std::string::npos)
      << e;
  e = errorOf([&] {
    mod.kernel("comb").callOnDevice(
        {stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(b.data(), {4})});
  });
  EXPECT_NE(e.find("cannot broadcast the arguments of 'comb'"), std::string::npos) << e;
  e = errorOf([&] {
    mod.kernel("smooth2").call({iv}, {{"out", stn::ArrayView::of(out.data(), {5, 4})}});
  });
  EXPECT_NE(e.find("but the result has shape (4, 5)"), std::string::npos) << e;
  // A gufunc whose result would be one number is refused before the driver.
  e = errorOf([&] { mod.kernel("total")(stn::ArrayView::of(rows.data(), {6})); });
  EXPECT_NE(e.find("'total' has target=\"cuda\" but these arguments (f64[::1]) give a result "
                   "of type float64: GPU calls need an array result"),
            std::string::npos)
      << e;
}

TEST(GpuNoDevice, CallOnDeviceIsForTargetCudaKernels) {
  // All of these are refused before a driver is needed.
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(TargetsSource, "targets.stn");
  std::vector<double> x(4, 1.0);
  stn::ArrayView xv = stn::ArrayView::of(x.data(), {4});
  std::string e = errorOf([&] { mod.kernel("plain").callOnDevice({xv}); });
  EXPECT_NE(e.find("'plain' is not a stencil, ufunc or gufunc with target=\"cuda\": "
                   "callOnDevice runs those; call it with Kernel::call"),
            std::string::npos)
      << e;
  e = errorOf([&] { mod.kernel("explicit").callOnDevice({xv}); });
  EXPECT_NE(e.find("'explicit' is not a stencil, ufunc or gufunc with target=\"cuda\": "
                   "callOnDevice runs those; launch a GPU kernel with Kernel::launch"),
            std::string::npos)
      << e;
  // The same kernels with target="cpu" are not for callOnDevice either.
  stn::Module cpu = engine.loadString(targetsOn("cpu"), "targets-cpu.stn");
  e = errorOf([&] { cpu.kernel("smooth2").callOnDevice({xv}); });
  EXPECT_NE(e.find("'smooth2' is not a stencil, ufunc or gufunc with target=\"cuda\""),
            std::string::npos)
      << e;
  // Argument count, and at least one array.
  e = errorOf([&] { mod.kernel("comb").callOnDevice({xv}); });
  EXPECT_NE(e.find("kernel 'comb' takes 2 arguments but 1 was given"), std::string::npos) << e;
  e = errorOf([&] { mod.kernel("comb").callOnDevice({1.0, 2.0}); });
  EXPECT_NE(e.find("'comb' has target=\"cuda\": a GPU call needs at least one array argument"),
            std::string::npos)
      << e;
}

TEST(GpuNoDevice, TargetCudaUfuncOfScalarsRunsOnTheCPU) {
  // One value needs no grid: computed on the CPU, without a driver.
  std::unique_ptr<ScopedEnv> env;
  if (!stn::gpu::available())
    env = std::make_unique<ScopedEnv>("STN_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(TargetsSource, "targets.stn");
  stn::Value f = mod.kernel("comb")(3.5f, 1.5f);
  ASSERT_TRUE(f.isScalar());
  EXPECT_EQ(f.scalar().dtype(), stn::DType::Float32);
  EXPECT_EQ(f.asDouble(), 10.0); // (3.5 + 1.5) * (3.5 - 1.5)
  stn::Value i = mod.kernel("comb")(int32_t{7}, int32_t{-3});
  ASSERT_TRUE(i.isScalar());
  EXPECT_EQ(i.scalar().dtype(), stn::DType::Int64); // int32 + int32 is int64 (Numba)
  EXPECT_EQ(i.asInt(), 40);
}

TEST(GpuNoDevice, TargetCudaKernelsEmitPTX) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(TargetsSource, "targets.stn");
  std::string ptx = mod.emit("smooth_stack", "i8[:,:,:]", stn::Stage::PTX);
  EXPECT_NE(ptx.find(".visible .entry gufunc_smooth_stack__i8a3__i8a3C__out("),
            std::string::npos);
  EXPECT_NE(ptx.find("%ctaid.z"), std::string::npos); // images along z
  std::string mlir = mod.emit("comb", "f32, f32", stn::Stage::MLIR);
  EXPECT_NE(mlir.find("gpu.func @ufunc_comb__f32a1C__f32a1C__f32a1C__out("), std::string::npos)
      << mlir;
  std::string e = errorOf([&] { mod.emit("cross2", "f32[:,:]", stn::Stage::Diagnostics); });
  EXPECT_NE(e.find("'cross2' is a GPU kernel: --emit=diagnostics reports on CPU kernels"),
            std::string::npos)
      << e;
  // The CPU version of the same source is no GPU kernel.
  stn::Module cpu = engine.loadString(targetsOn("cpu"), "targets-cpu.stn");
  e = errorOf([&] { cpu.emit("smooth2", "i8[:,:]", stn::Stage::PTX); });
  EXPECT_NE(e.find("'smooth2' is not a GPU kernel"), std::string::npos) << e;
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
  std::vector<int8_t> ref; // plain C++: Numba's int64 sum, floor division, as int8
  for (int64_t v : smoothRef(x, k, n, m))
    ref.push_back(static_cast<int8_t>(v));
  stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {k, n, m}));
  stn::DeviceArray dout = stn::DeviceArray::empty(stn::DType::Int8, {k, n, m});
  mod.kernel("smooth_kernel")
      .launch(stn::Dim3((m + 31) / 32, (n + 7) / 8, k), stn::Dim3(32, 8), dx, dout);
  std::vector<int8_t> out(k * n * m, 77);
  dout.copyToHost(stn::ArrayView::of(out.data(), {k, n, m}));
  EXPECT_EQ(out, ref) << seedNote();
  // 8 rows per thread: 5 thread rows cover the 37, the last one 5 rows.
  stn::DeviceArray drows = stn::DeviceArray::empty(stn::DType::Int8, {k, n, m});
  mod.kernel("smooth_kernel_rows")
      .launch(stn::Dim3((m + 31) / 32, 1, k), stn::Dim3(32, (n + 7) / 8), dx, drows);
  std::vector<int8_t> rows(k * n * m, 77);
  drows.copyToHost(stn::ArrayView::of(rows.data(), {k, n, m}));
  EXPECT_EQ(rows, ref) << seedNote();
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
  if (stn::gpu::simulated())
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


/// The target="cuda" kernels and their target="cpu" twins, in one engine.
struct Targets {
  stn::Engine engine{noCache()};
  stn::Module Gpu = engine.loadString(TargetsSource, "targets.stn");
  stn::Module Cpu = engine.loadString(targetsOn("cpu"), "targets-cpu.stn");
};

/// Shapes for 2-d kernels: single elements, thin in either direction,
/// more than one block (256 threads) along a row and more rows than one
/// block covers, an empty axis.
const std::vector<std::pair<int64_t, int64_t>> Shapes2D = {
    {1, 1}, {2, 2}, {3, 3}, {1000, 3}, {3, 1000}, {37, 300}, {300, 37}, {0, 5}, {5, 0}};

TEST_F(GpuDevice, TargetCudaStencil2D) {
  Targets t;
  for (auto [n, m] : Shapes2D) {
    SCOPED_TRACE(seedNote());
    HostArray<int8_t> x = randomArray<int8_t>(Rng, {n, m}, -128, 127);
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "smooth2", {x.view()}, {n, m},
                                  smoothRef(x.elements(), 1, n, m), int64_t{0x7777777777});
    HostArray<float> a = randomArray<float>(Rng, {n, m}, -100.0f, 100.0f);
    expectEveryPathGives<float>(t.Gpu, t.Cpu, "cross2", {a.view()}, {n, m},
                                cross2Ref(a.elements(), n, m), NAN);
  }
}

TEST_F(GpuDevice, TargetCudaStencil3D) {
  Targets t;
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 1, 1}, {3, 3, 3}, {2, 1000, 3}, {3, 3, 1000}, {5, 37, 300}, {4, 70, 9},
      {0, 4, 4}, {4, 0, 4}, {4, 4, 0}};
  for (const auto &s : shapes) {
    SCOPED_TRACE(seedNote());
    HostArray<int8_t> x = randomArray<int8_t>(Rng, s, -128, 127);
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "smooth3", {x.view()}, s,
                                  smoothRef(x.elements(), s[0], s[1], s[2]), int64_t{-77});
    HostArray<float> a = randomArray<float>(Rng, s, -100.0f, 100.0f);
    expectEveryPathGives<float>(t.Gpu, t.Cpu, "cross3", {a.view()}, s,
                                cross3Ref(a.elements(), s[0], s[1], s[2]), NAN);
  }
}

TEST_F(GpuDevice, TargetCudaStencilBoundaryModesAndRowBlocks) {
  Targets t;
  // Each thread computes GpuStencilRows rows of a column: row counts below,
  // at and around multiples of it, neighborhoods reaching two rows back or
  // ahead (a block is interior only if all its rows are), and the border
  // elements mapped back by "wrap" and "reflect" rather than set to cval.
  for (auto [n, m] : Shapes2D) {
    SCOPED_TRACE(seedNote());
    HostArray<int32_t> a = randomArray<int32_t>(Rng, {n, m}, -1000000, 1000000);
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "shear", {a.view()}, {n, m},
                                  shearRef(a.elements(), n, m), int64_t{-9});
  }
  for (int64_t n : {1, 7, 8, 9, 11, 16, 17, 25, 64}) {
    SCOPED_TRACE(seedNote());
    HostArray<int32_t> a = randomArray<int32_t>(Rng, {n, 40}, -1000, 1000);
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "shear", {a.view()}, {n, 40},
                                  shearRef(a.elements(), n, 40), int64_t{-9});
    for (int64_t k : {1, 3}) {
      // Small integers: every float64 result is exact.
      HostArray<double> b = randomArray<double>(Rng, {k, n, 33}, -1000.0, 1000.0);
      for (double &v : b.Data)
        v = std::round(v);
      expectEveryPathGives<double>(t.Gpu, t.Cpu, "ahead3", {b.view()}, {k, n, 33},
                                   ahead3Ref(b.elements(), k, n, 33), NAN);
    }
  }
}

TEST_F(GpuDevice, TargetCudaStencilOfAStridedHostView) {
  Targets t;
  // The transpose of a C-order array: the host view is copied in whatever
  // its strides, and the result has the view's shape.
  const int64_t n = 45, m = 70;
  HostArray<int8_t> x = randomArray<int8_t>(Rng, {m, n}, -128, 127);
  stn::ArrayView tv(x.Data.data(), stn::DType::Int8, {n, m}, {1, n});
  std::vector<int8_t> tc = elementsOf<int8_t>(tv);
  std::vector<int64_t> ref = smoothRef(tc, 1, n, m);
  expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "smooth2", {tv}, {n, m}, ref, int64_t{5});
  // out= a Fortran-order host view: written through its strides.
  std::vector<int64_t> f(n * m, 5);
  stn::ArrayView fv(f.data(), stn::DType::Int64, {n, m}, {8, 8 * n});
  t.Gpu.kernel("smooth2").call({tv}, {{"out", fv}});
  EXPECT_EQ(elementsOf<int64_t>(fv), ref) << seedNote();
}

TEST_F(GpuDevice, TargetCudaUfuncBroadcastsAColumnAndARow) {
  Targets t;
  // (n, 1) with (m,) gives (n, m).
  for (auto [n, m] : Shapes2D) {
    SCOPED_TRACE(seedNote());
    HostArray<float> fc = randomArray<float>(Rng, {n, 1}, -1000.0f, 1000.0f);
    HostArray<float> fr = randomArray<float>(Rng, {m}, -1000.0f, 1000.0f);
    expectEveryPathGives<float>(t.Gpu, t.Cpu, "comb", {fc.view(), fr.view()}, {n, m},
                                combRef<float>(fc.elements(), fr.elements(), n, m), NAN);
    HostArray<int32_t> ic = randomArray<int32_t>(Rng, {n, 1}, -1000000, 1000000);
    HostArray<int32_t> ir = randomArray<int32_t>(Rng, {m}, -1000000, 1000000);
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "comb", {ic.view(), ir.view()}, {n, m},
                                  combRef<int64_t>(ic.elements(), ir.elements(), n, m),
                                  int64_t{0x5555555555});
  }
}

TEST_F(GpuDevice, TargetCudaUfuncWithAScalarAndHigherRanks) {
  Targets t;
  SCOPED_TRACE(seedNote());
  // A scalar argument is a kernel parameter.
  HostArray<float> a = randomArray<float>(Rng, {300, 5}, -10.0f, 10.0f);
  std::vector<float> one(1, 2.5f);
  expectEveryPathGives<float>(t.Gpu, t.Cpu, "comb", {a.view(), 2.5f}, {300, 5},
                              combRef<float>(a.elements(), one, 1500, 1), NAN);
  // Rank 3 (images along z) and rank 4 (outer axes linearized along y),
  // broadcasting the last axis.
  for (std::vector<int64_t> s : {std::vector<int64_t>{3, 40, 50}, {2, 3, 4, 70}, {1, 1, 1, 1}}) {
    HostArray<int32_t> x = randomArray<int32_t>(Rng, s, -30000, 30000);
    HostArray<int32_t> y = randomArray<int32_t>(Rng, {s.back()}, -30000, 30000);
    int64_t rows = x.size() / s.back();
    std::vector<int64_t> ref(static_cast<size_t>(x.size()));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < s.back(); ++j) {
        int64_t u = x.Data[r * s.back() + j], v = y.Data[j];
        ref[r * s.back() + j] = (u + v) * (u - v);
      }
    expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "comb", {x.view(), y.view()}, s, ref, int64_t{-1});
  }
}

TEST_F(GpuDevice, TargetCudaUfuncBeyondTheGridLimitInZ) {
  Targets t;
  // More images than blocks along z (65535): the z loop strides over them.
  SCOPED_TRACE(seedNote());
  const int64_t k = 70000;
  HostArray<int32_t> x = randomArray<int32_t>(Rng, {k, 1, 2}, -1000, 1000);
  HostArray<int32_t> y = randomArray<int32_t>(Rng, {2}, -1000, 1000);
  std::vector<int64_t> ref(static_cast<size_t>(2 * k));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = 0; j < 2; ++j) {
      int64_t u = x.Data[r * 2 + j], v = y.Data[j];
      ref[r * 2 + j] = (u + v) * (u - v);
    }
  expectEveryPathGives<int64_t>(t.Gpu, t.Cpu, "comb", {x.view(), y.view()}, {k, 1, 2}, ref,
                                int64_t{-1});
}

TEST_F(GpuDevice, TargetCudaGufuncOneThreadPerRow) {
  Targets t;
  for (auto [k, n] : Shapes2D) {
    SCOPED_TRACE(seedNote());
    HostArray<double> x = randomArray<double>(Rng, {k, n}, -1.0, 1.0);
    expectEveryPathGives<double>(t.Gpu, t.Cpu, "total", {x.view()}, {k},
                                 totalRef(x.elements(), k, n), NAN);
  }
  // Two outer axes.
  SCOPED_TRACE(seedNote());
  HostArray<double> x = randomArray<double>(Rng, {7, 40, 9}, -1.0, 1.0);
  expectEveryPathGives<double>(t.Gpu, t.Cpu, "total", {x.view()}, {7, 40},
                               totalRef(x.elements(), 7 * 40, 9), NAN);
}

TEST_F(GpuDevice, TargetCudaGufuncStackedOnAStencil) {
  Targets t;
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 1, 1}, {1, 3, 3}, {4, 1000, 3}, {3, 3, 1000}, {6, 37, 300}, {0, 5, 5}, {3, 0, 5}};
  for (const auto &s : shapes) {
    SCOPED_TRACE(seedNote());
    HostArray<int8_t> x = randomArray<int8_t>(Rng, s, -128, 127);
    std::vector<int64_t> wide = smoothRef(x.elements(), s[0], s[1], s[2]);
    std::vector<int8_t> ref(wide.begin(), wide.end());
    expectEveryPathGives<int8_t>(t.Gpu, t.Cpu, "smooth_stack", {x.view()}, s, ref, int8_t{77});
  }
  // One image (no outer axis).
  SCOPED_TRACE(seedNote());
  HostArray<int8_t> x = randomArray<int8_t>(Rng, {50, 60}, -128, 127);
  std::vector<int64_t> wide = smoothRef(x.elements(), 1, 50, 60);
  expectEveryPathGives<int8_t>(t.Gpu, t.Cpu, "smooth_stack", {x.view()}, {50, 60},
                               std::vector<int8_t>(wide.begin(), wide.end()), int8_t{77});
}

TEST_F(GpuDevice, TargetCudaResultsStayOnTheDevice) {
  Targets t;
  // A chain of calls on device arrays, one copy back at the end; a host
  // array and a DeviceArray mixed in one call.
  SCOPED_TRACE(seedNote());
  const int64_t k = 3, n = 40, m = 50;
  HostArray<int8_t> x = randomArray<int8_t>(Rng, {k, n, m}, -128, 127);
  stn::DeviceArray dx = stn::DeviceArray::fromHost(x.view());
  stn::DeviceArray once = t.Gpu.kernel("smooth_stack").callOnDevice({dx});
  stn::DeviceArray twice = stn::DeviceArray::empty(stn::DType::Int8, {k, n, m});
  t.Gpu.kernel("smooth_stack").callOnDevice({once}, twice);
  std::vector<int64_t> r1 = smoothRef(x.elements(), k, n, m);
  std::vector<int8_t> r1n(r1.begin(), r1.end());
  std::vector<int64_t> r2 = smoothRef(r1n, k, n, m);
  EXPECT_EQ(elementsOf<int8_t>(twice.toHost().view()), std::vector<int8_t>(r2.begin(), r2.end()));
  HostArray<float> col = randomArray<float>(Rng, {n, 1}, -5.0f, 5.0f);
  HostArray<float> row = randomArray<float>(Rng, {m}, -5.0f, 5.0f);
  stn::DeviceArray drow = stn::DeviceArray::fromHost(row.view());
  stn::DeviceArray mixed = t.Gpu.kernel("comb").callOnDevice({col.view(), drow});
  EXPECT_EQ(elementsOf<float>(mixed.toHost().view()),
            combRef<float>(col.elements(), row.elements(), n, m));
  // An out of another dtype gets the result converted, as on the CPU: the
  // int64 smooth into int8.
  stn::DeviceArray narrow = stn::DeviceArray::empty(stn::DType::Int8, {k, n, m});
  t.Gpu.kernel("smooth3").callOnDevice({dx}, narrow);
  EXPECT_EQ(elementsOf<int8_t>(narrow.toHost().view()), r1n);
  // A device out= of the wrong shape is refused like a host one.
  stn::DeviceArray bad = stn::DeviceArray::empty(stn::DType::Int8, {k, m, n});
  std::string e = errorOf([&] { t.Gpu.kernel("smooth_stack").callOnDevice({dx}, bad); });
  EXPECT_NE(e.find("but the result has shape (3, 40, 50)"), std::string::npos) << e;
}

TEST_F(GpuDevice, TargetCudaExampleMatchesItsCPUVersion) {
  // dsl-examples/cuda_targets.stn against the same file with target="cpu".
  std::ifstream in(Examples + "/cuda_targets.stn");
  std::stringstream text;
  text << in.rdbuf();
  std::string src = text.str();
  int replaced = 0;
  for (size_t p = src.find("target=\"cuda\""); p != std::string::npos;
       p = src.find("target=\"cuda\"", p)) {
    src.replace(p, 13, "target=\"cpu\"");
    ++replaced;
  }
  ASSERT_GE(replaced, 3); // the three decorators (and the comments)
  stn::Engine engine(noCache());
  stn::Module gpu = engine.loadFile(Examples + "/cuda_targets.stn");
  stn::Module cpu = engine.loadString(src, "cuda_targets-cpu.stn");
  for (auto [kernel, sig] : {std::pair<const char *, const char *>{"smooth_stencil", "i8[:,:,:]"},
                             {"smooth", "i8[:,:,:]"},
                             {"hypot", "f32, f32"}}) { // really CPU kernels
    std::string e = errorOf([&] { cpu.emit(kernel, sig, stn::Stage::PTX); });
    EXPECT_NE(e.find("is not a GPU kernel"), std::string::npos) << kernel << ": " << e;
  }
  SCOPED_TRACE(seedNote());
  const int64_t k = 3, n = 37, m = 300;
  HostArray<int8_t> x = randomArray<int8_t>(Rng, {k, n, m}, -128, 127);
  std::vector<int64_t> ref = smoothRef(x.elements(), k, n, m);
  expectEveryPathGives<int64_t>(gpu, cpu, "smooth_stencil", {x.view()}, {k, n, m}, ref,
                                int64_t{99});
  expectEveryPathGives<int8_t>(gpu, cpu, "smooth", {x.view()}, {k, n, m},
                               std::vector<int8_t>(ref.begin(), ref.end()), int8_t{99});
  // hypot: a GPU may contract a * a + b * b into an FMA, so the last bits
  // may differ from the CPU's.
  HostArray<float> a = randomArray<float>(Rng, {n, 1}, -100.0f, 100.0f);
  HostArray<float> b = randomArray<float>(Rng, {m}, -100.0f, 100.0f);
  stn::Value g = gpu.kernel("hypot")(a.view(), b.view());
  stn::Value c = cpu.kernel("hypot")(a.view(), b.view());
  ASSERT_EQ(g.array().shape(), (std::vector<int64_t>{n, m}));
  ASSERT_EQ(g.array().dtype(), stn::DType::Float32);
  std::vector<float> gv = elementsOf<float>(g.array().view());
  std::vector<float> cv = elementsOf<float>(c.array().view());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double ref = std::hypot(double(a.Data[i]), double(b.Data[j]));
      ASSERT_NEAR(gv[i * m + j], ref, 1e-6 * ref) << i << ", " << j;
      ASSERT_NEAR(cv[i * m + j], ref, 1e-6 * ref) << i << ", " << j;
    }
  EXPECT_EQ(gpu.kernel("hypot")(3.0, 4.0).asDouble(), 5.0); // scalars: on the CPU
}


//===----------------------------------------------------------------------===//
// @jit(target="cuda"): prange nests on the GPU, the rest on the host
//===----------------------------------------------------------------------===//

/// Kernels whose GPU loops are compared with C++ loops below. Integer
/// arithmetic where results are compared exactly; float sums with a
/// tolerance (the GPU combines per-thread partials atomically, in any
/// order).
const char *JitSource = R"stn(
import numpy as np
from numba import jit, prange

@jit(target="cuda")
def scale_add(x, y, out, c):
    for i in prange(x.shape[0]):
        out[i] = x[i] * c + y[i]

@jit(target="cuda")
def backwards(out):
    n = out.shape[0]
    for i in prange(n - 1, -1, -3):
        out[i] = i * 10

@jit(target="cuda")
def heat_steps(u, v, steps):
    n, m = u.shape
    for t in range(steps):
        for i in prange(1, n - 1):
            for j in prange(1, m - 1):
                v[i, j] = u[i, j] + (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4 * u[i, j]) // 8
        for i in prange(1, n - 1):
            for j in prange(1, m - 1):
                u[i, j] = v[i, j] + (v[i - 1, j] + v[i + 1, j] + v[i, j - 1] + v[i, j + 1] - 4 * v[i, j]) // 8

@jit(target="cuda")
def cube(a, out, w):
    k, n, m = a.shape
    for i in prange(k):
        for j in prange(n):
            for l in prange(m):
                s = 0
                for q in range(w):
                    if q == 2:
                        continue
                    s += a[i, j, l] * q
                out[i, j, l] = s + i * 1000000 + j * 1000 + l

@jit(target="cuda")
def rows(a, out):
    n, m = a.shape
    for i in prange(n):
        s = 0
        for j in prange(m):
            s += a[i, j]
        out[i] = s

# More sums than fit in shared memory at once: the block reduction goes
# through them in groups (a byte-sized bool first, so that the next group's
# float64 slots overlap this group's first ones).
@jit(target="cuda")
def many_sums(x, flags):
    seen = False
    count = 0
    s0 = 0.0
    s1 = 1.0
    s2 = 2.0
    s3 = 3.0
    s4 = 4.0
    s5 = 5.0
    s6 = 6.0
    s7 = 7.0
    s8 = 8.0
    s9 = 9.0
    s10 = 10.0
    s11 = 11.0
    s12 = 12.0
    s13 = 13.0
    s14 = 14.0
    s15 = 15.0
    s16 = 16.0
    s17 = 17.0
    for i in prange(x.shape[0]):
        seen |= flags[i]
        count += 1
        s0 += x[i] * 1
        s1 += x[i] * 2
        s2 += x[i] * 3
        s3 += x[i] * 4
        s4 += x[i] * 5
        s5 += x[i] * 6
        s6 += x[i] * 7
        s7 += x[i] * 8
        s8 += x[i] * 9
        s9 += x[i] * 10
        s10 += x[i] * 11
        s11 += x[i] * 12
        s12 += x[i] * 13
        s13 += x[i] * 14
        s14 += x[i] * 15
        s15 += x[i] * 16
        s16 += x[i] * 17
        s17 += x[i] * 18
    return (seen, count, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17)

@jit(target="cuda")
def stats(x, flags):
    total = 10
    lo = 1 << 40
    hi = -(1 << 40)
    bits = 0
    prod = 1
    count = 0
    anyset = False
    allset = True
    fsum = 0.5
    fmin = 1e300
    for i in prange(x.shape[0]):
        v = x[i]
        total += v
        lo = min(lo, v)
        hi = max(hi, v)
        bits ^= v
        if i < 20:
            prod *= v % 3 + 1
        if v > 0:
            count += 1
        anyset |= flags[i]
        allset &= flags[i]
        fsum += v * 0.25
        fmin = min(fmin, v * 0.5)
    return total, lo, hi, bits, prod, count, anyset, allset, fsum, fmin

@jit(target="cuda")
def privates(x, out):
    t = 5
    for i in prange(x.shape[0]):
        t = x[i] * 2
        out[i] = t
    return t

@jit(target="cuda")
def interior(x, out):
    inner = x[1:-1]
    dst = out[1:-1]
    for i in prange(inner.shape[0]):
        dst[i] = inner[i] + 1

@jit(target="cuda")
def complex_terms(a, out, w):
    z = w * 1j
    pair = (2.0, np.complex64(z))
    s = 0j
    part = np.complex64(1.5 - 1j)
    for i in prange(a.shape[0]):
        out[i] = a[i] * z + pair[1] * pair[0]
        s += out[i]
        part -= a[i]
    return s, part

@jit(target="cuda")
def row_weights(m, v, out):
    for i in prange(m.shape[0]):
        s = 0.0
        for j, (x, y) in enumerate(zip(m[i], reversed(v)), 1):
            s += j * x * y
        out[i] = s
)stn";

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

TEST(GpuNoDevice, JitCudaHostPartErrorsNeedNoDriver) {
  // Compile-time errors come before the driver is needed.
  std::unique_ptr<ScopedEnv> env;
  if (!stn::gpu::available())
    env = std::make_unique<ScopedEnv>("STN_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(R"stn(
from numba import jit, prange
import numpy as np

@jit(target="cuda")
def reads(a):
    x = a[0]
    for i in prange(a.shape[0]):
        a[i] = x

@jit(target="cuda")
def allocates(a):
    t = np.zeros(a.shape[0])
    for i in prange(a.shape[0]):
        t[i] = a[i]

@jit(target="cuda")
def returns(a):
    for i in prange(a.shape[0]):
        a[i] = 1.0
    return a
)stn",
                                      "jit-errors.stn");
  std::vector<double> x(4, 1.0);
  stn::ArrayView xv = stn::ArrayView::of(x.data(), {4});
  std::string e = errorOf([&] { mod.kernel("reads")(xv); });
  EXPECT_NE(e.find("jit-errors.stn:7:9: error: this reads or writes array elements in the host "
                   "part of target=\"cuda\" kernel 'reads'"),
            std::string::npos)
      << e;
  e = errorOf([&] { mod.kernel("allocates")(xv); });
  EXPECT_NE(e.find("this creates a new array in the host part of target=\"cuda\" kernel "
                   "'allocates'"),
            std::string::npos)
      << e;
  e = errorOf([&] { mod.kernel("returns")(xv); });
  EXPECT_NE(e.find("target=\"cuda\" kernel 'returns' returns an array"), std::string::npos) << e;
  EXPECT_EQ(x, std::vector<double>(4, 1.0));
  // Without a driver, a correct kernel stops at the driver.
  if (!stn::gpu::available()) {
    stn::Module ok = engine.loadString(JitSource, "jit.stn");
    std::vector<int64_t> out(4, 0);
    e = errorOf([&] { ok.kernel("backwards")(stn::ArrayView::of(out.data(), {4})); });
    EXPECT_NE(e.find("no CUDA driver"), std::string::npos) << e;
  }
}

TEST(GpuNoDevice, JitCudaEmitsTheHostPartAndEachGPULoop) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  std::string mlir = mod.emit("heat_steps", "i64[:,:], i64[:,:], i64", stn::Stage::MLIR);
  EXPECT_NE(mlir.find("call @_stn_gpu_launch("), std::string::npos) << mlir;
  EXPECT_NE(mlir.find("// stn: GPU loop 0 of 'heat_steps' (line 20), kernel "
                      "heat_steps__i64a2__i64a2__i64__gpu0"),
            std::string::npos)
      << mlir;
  EXPECT_NE(mlir.find("// stn: GPU loop 1 of 'heat_steps' (line 23)"), std::string::npos);
  std::string ptx = mod.emit("heat_steps", "i64[:,:], i64[:,:], i64", stn::Stage::PTX);
  EXPECT_NE(ptx.find(".visible .entry heat_steps__i64a2__i64a2__i64__gpu1("), std::string::npos)
      << ptx;
  EXPECT_EQ(ptx.find("_stn_gpu_launch"), std::string::npos); // host code is not in the PTX
}

TEST_F(GpuDevice, JitCudaOneDimensionalLoops) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  for (int64_t n : {0, 1, 31, 1000, 70001}) {
    SCOPED_TRACE(seedNote() + ", n = " + std::to_string(n));
    HostArray<int32_t> x = randomArray<int32_t>(Rng, {n}, -1000, 1000);
    HostArray<int32_t> y = randomArray<int32_t>(Rng, {n}, -1000, 1000);
    HostArray<int32_t> out({n}, 7);
    stn::Value r = mod.kernel("scale_add")(x.view(), y.view(), out.view(), int64_t{-3});
    EXPECT_TRUE(r.isNone());
    std::vector<int32_t> ref(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      ref[i] = static_cast<int32_t>(int64_t{x.Data[i]} * -3 + y.Data[i]);
    EXPECT_EQ(out.elements(), ref);
    HostArray<int64_t> b({n}, -1);
    mod.kernel("backwards")(b.view());
    std::vector<int64_t> bref(static_cast<size_t>(n), -1);
    for (int64_t i = n - 1; i >= 0; i -= 3)
      bref[i] = i * 10;
    EXPECT_EQ(b.elements(), bref);
  }
}

TEST_F(GpuDevice, JitCudaHeatStepsOnATwoDimensionalGrid) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {1, 1}, {3, 3}, {2, 50}, {300, 3}, {3, 300}, {37, 261}, {0, 5}};
  for (auto [n, m] : shapes) {
    SCOPED_TRACE(seedNote() + ", shape " + shapeString({n, m}));
    HostArray<int64_t> u = randomArray<int64_t>(Rng, {n, m}, -100000, 100000);
    HostArray<int64_t> v({n, m}, 0);
    std::vector<int64_t> ru = u.elements(), rv = v.elements();
    auto step = [&](const std::vector<int64_t> &a, std::vector<int64_t> &b) {
      for (int64_t i = 1; i + 1 < n; ++i)
        for (int64_t j = 1; j + 1 < m; ++j) {
          auto at = [&](int64_t p, int64_t q) { return a[p * m + q]; };
          b[i * m + j] = at(i, j) + floorDiv(at(i - 1, j) + at(i + 1, j) + at(i, j - 1) +
                                                 at(i, j + 1) - 4 * at(i, j),
                                             8);
        }
    };
    const int64_t steps = 4;
    for (int64_t t = 0; t < steps; ++t) {
      step(ru, rv);
      step(rv, ru);
    }
    mod.kernel("heat_steps")(u.view(), v.view(), steps);
    EXPECT_EQ(u.elements(), ru);
    EXPECT_EQ(v.elements(), rv);
  }
}

TEST_F(GpuDevice, JitCudaThreeDimensionalGridWithSerialLoopsInside) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  for (const std::vector<int64_t> &s :
       std::vector<std::vector<int64_t>>{{1, 1, 1}, {3, 4, 5}, {2, 70, 300}, {70, 2, 3}}) {
    SCOPED_TRACE(seedNote() + ", shape " + shapeString(s));
    HostArray<int64_t> a = randomArray<int64_t>(Rng, s, -1000, 1000);
    HostArray<int64_t> out(s, 0);
    const int64_t w = 6;
    mod.kernel("cube")(a.view(), out.view(), w);
    std::vector<int64_t> ref(out.elements().size());
    for (int64_t i = 0; i < s[0]; ++i)
      for (int64_t j = 0; j < s[1]; ++j)
        for (int64_t l = 0; l < s[2]; ++l) {
          int64_t e = (i * s[1] + j) * s[2] + l, acc = 0;
          for (int64_t q = 0; q < w; ++q)
            if (q != 2)
              acc += a.Data[e] * q;
          ref[e] = acc + i * 1000000 + j * 1000 + l;
        }
    EXPECT_EQ(out.elements(), ref);
    // A prange that is not the whole body stays serial in each thread.
    const int64_t n = s[0] * s[1], m = s[2];
    HostArray<int64_t> sums({n}, -1);
    mod.kernel("rows")(stn::ArrayView::of(a.Data.data(), {n, m}), sums.view());
    for (int64_t i = 0; i < n; ++i) {
      int64_t acc = 0;
      for (int64_t j = 0; j < m; ++j)
        acc += a.Data[i * m + j];
      EXPECT_EQ(sums.Data[i], acc) << i;
    }
  }
}

TEST_F(GpuDevice, JitCudaReductions) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  for (int64_t n : {0, 1, 5, 1000, 300000}) {
    SCOPED_TRACE(seedNote() + ", n = " + std::to_string(n));
    HostArray<int64_t> x = randomArray<int64_t>(Rng, {n}, -1000000, 1000000);
    std::vector<uint8_t> flagData(static_cast<size_t>(n) + 1, 0);
    for (int64_t i = 0; i < n; ++i)
      flagData[i] = (x.Data[i] % 5) != 0 || n < 100;
    stn::ArrayView flags(flagData.data(), stn::DType::Bool, {n}, {1});
    int64_t total = 10, lo = int64_t(1) << 40, hi = -(int64_t(1) << 40), bits = 0, prod = 1,
            count = 0;
    bool anyset = false, allset = true;
    double fsum = 0.5, fmin = 1e300;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = x.Data[i];
      total += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      bits ^= v;
      if (i < 20)
        prod *= (v % 3 + 3) % 3 + 1; // Python's %
      count += v > 0;
      anyset |= flagData[i] != 0;
      allset &= flagData[i] != 0;
      fsum += v * 0.25;
      fmin = std::min(fmin, v * 0.5);
    }
    stn::Value r = mod.kernel("stats")(x.view(), flags);
    ASSERT_TRUE(r.isTuple());
    const auto &t = r.elements();
    ASSERT_EQ(t.size(), 10u);
    EXPECT_EQ(t[0].asInt(), total);
    EXPECT_EQ(t[1].asInt(), lo);
    EXPECT_EQ(t[2].asInt(), hi);
    EXPECT_EQ(t[3].asInt(), bits);
    EXPECT_EQ(t[4].asInt(), prod);
    EXPECT_EQ(t[5].asInt(), count);
    EXPECT_EQ(t[6].scalar().asBool(), anyset);
    EXPECT_EQ(t[7].scalar().asBool(), allset);
    // Multiples of 0.25 below 2^53: every order of additions is exact.
    EXPECT_EQ(t[8].asDouble(), fsum);
    EXPECT_EQ(t[9].asDouble(), fmin);
  }
}

TEST_F(GpuDevice, JitCudaMoreReductionsThanSharedMemoryHolds) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  // 18 float64 sums, an int64 count and a bool: 39 KiB of partials per
  // block, reduced 16 KiB at a time.
  for (int64_t n : {0, 1, 5, 1000, 300000}) {
    SCOPED_TRACE(seedNote() + ", n = " + std::to_string(n));
    HostArray<double> x = randomArray<double>(Rng, {n}, -1000.0, 1000.0);
    for (double &v : x.Data)
      v = std::round(4 * v) / 4; // quarters: every order of additions is exact
    std::vector<uint8_t> flagData(static_cast<size_t>(n) + 1, 0);
    if (n > 3)
      flagData[n - 2] = 1;
    stn::ArrayView flags(flagData.data(), stn::DType::Bool, {n}, {1});
    stn::Value r = mod.kernel("many_sums")(x.view(), flags);
    ASSERT_TRUE(r.isTuple());
    const auto &t = r.elements();
    ASSERT_EQ(t.size(), 20u);
    EXPECT_EQ(t[0].scalar().asBool(), n > 3);
    EXPECT_EQ(t[1].asInt(), n);
    for (int k = 0; k < 18; ++k) {
      double s = k;
      for (int64_t i = 0; i < n; ++i)
        s += x.Data[i] * (k + 1);
      EXPECT_EQ(t[2 + k].asDouble(), s) << "s" << k;
    }
  }
}

/// Complex values of the host part (a scalar, and one in a tuple) reach
/// the GPU loop as two floats each; complex sums reduce their parts in two
/// cells. Small integers and halves: every order of additions is exact.
template <class C> void checkComplexTerms(stn::Module &mod, std::mt19937_64 &rng) {
  using R = typename C::value_type;
  for (int64_t n : {0, 1, 7, 1000, 20000}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    HostArray<int64_t> parts = randomArray<int64_t>(rng, {2 * n}, -100, 100);
    HostArray<C> a({n}, C()), out({n}, C(-9, -9));
    for (int64_t i = 0; i < n; ++i)
      a.Data[i] = C(R(parts.Data[2 * i]), R(parts.Data[2 * i + 1]));
    stn::Value r = mod.kernel("complex_terms")(a.view(), out.view(), 0.5);
    ASSERT_TRUE(r.isTuple());
    const std::complex<double> z(0, 0.5);
    std::complex<double> s = 0;
    C part(1.5, -1);
    for (int64_t i = 0; i < n; ++i) {
      std::complex<double> o = std::complex<double>(a.Data[i]) * z + z * 2.0;
      EXPECT_EQ(out.Data[i], C(o)) << i;
      s += C(o);
      part -= a.Data[i];
    }
    EXPECT_EQ(r.elements()[0].asComplex(), s);
    EXPECT_EQ(r.elements()[1].scalar().dtype(), stn::DTypeOf<C>::value);
    EXPECT_EQ(r.elements()[1].asComplex(), std::complex<double>(part));
  }
}

TEST_F(GpuDevice, JitCudaComplexValuesAndSums) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  SCOPED_TRACE(seedNote());
  {
    SCOPED_TRACE("complex64");
    checkComplexTerms<std::complex<float>>(mod, Rng);
  }
  {
    SCOPED_TRACE("complex128");
    checkComplexTerms<std::complex<double>>(mod, Rng);
  }
}

TEST_F(GpuDevice, JitCudaPrivatesViewsAndStridedHostArrays) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  SCOPED_TRACE(seedNote());
  const int64_t n = 500;
  HostArray<int64_t> x = randomArray<int64_t>(Rng, {n}, -1000, 1000);
  HostArray<int64_t> out({n}, 0);
  // A variable assigned in the GPU loop is private: after it, the value
  // from before.
  EXPECT_EQ(mod.kernel("privates")(x.view(), out.view()).asInt(), 5);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(out.Data[i], 2 * x.Data[i]) << i;
  // Views made on the host, of strided host arrays (every other element):
  // copied to the GPU and back through their strides.
  std::vector<int64_t> big(2 * n, -7), dst(2 * n, -9);
  for (int64_t i = 0; i < n; ++i)
    big[2 * i] = x.Data[i];
  stn::ArrayView sx(big.data(), stn::DType::Int64, {n}, {16});
  stn::ArrayView sd(dst.data(), stn::DType::Int64, {n}, {16});
  mod.kernel("interior")(sx, sd);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(dst[2 * i], i == 0 || i == n - 1 ? -9 : x.Data[i] + 1) << i;
    EXPECT_EQ(dst[2 * i + 1], -9) << i; // between the view's elements: untouched
  }
}

TEST_F(GpuDevice, JitCudaLoopsOverEnumerateZipReversed) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  SCOPED_TRACE(seedNote());
  const int64_t rows = 300, cols = 7;
  HostArray<double> m = randomArray<double>(Rng, {rows, cols}, -1.0, 1.0);
  HostArray<double> v = randomArray<double>(Rng, {cols - 2}, -1.0, 1.0); // zip stops here
  HostArray<double> out({rows}, 0.0);
  mod.kernel("row_weights")(m.view(), v.view(), out.view());
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (int64_t j = 0; j < cols - 2; ++j)
      s += double(j + 1) * m.Data[size_t(i * cols + j)] * v.Data[size_t(cols - 3 - j)];
    EXPECT_NEAR(out.Data[size_t(i)], s, 1e-12) << i;
  }
}

TEST_F(GpuDevice, JitCudaDeviceArraysStayOnTheDevice) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(JitSource, "jit.stn");
  SCOPED_TRACE(seedNote());
  const int64_t n = 40, m = 70;
  HostArray<int64_t> u = randomArray<int64_t>(Rng, {n, m}, -1000, 1000);
  HostArray<int64_t> v({n, m}, 0);
  stn::DeviceArray du = stn::DeviceArray::fromHost(u.view());
  stn::DeviceArray dv = stn::DeviceArray::fromHost(v.view());
  EXPECT_TRUE(mod.kernel("heat_steps").callOnDevice({du, dv, int64_t{2}}).isNull());
  EXPECT_TRUE(mod.kernel("heat_steps").callOnDevice({du, dv, int64_t{1}}).isNull());
  mod.kernel("heat_steps")(u.view(), v.view(), int64_t{3}); // the same on host arrays
  EXPECT_EQ(elementsOf<int64_t>(du.toHost().view()), u.elements());
  EXPECT_EQ(elementsOf<int64_t>(dv.toHost().view()), v.elements());
  HostArray<int64_t> x = randomArray<int64_t>(Rng, {5}, -10, 10);
  stn::DeviceArray dx = stn::DeviceArray::fromHost(x.view());
  std::string e = errorOf([&] { mod.kernel("privates").callOnDevice({dx, dx}); });
  EXPECT_NE(e.find("kernel 'privates' returns a value, which callOnDevice drops"),
            std::string::npos)
      << e;
  e = errorOf([&] { mod.kernel("interior").callOnDevice({dx, dx}, dx); });
  EXPECT_NE(e.find("kernel 'interior' does not take out= (it is a @jit kernel)"),
            std::string::npos)
      << e;
  // Kernels with a result, on arrays that stay on the device.
  stn::DeviceArray dy = stn::DeviceArray::empty(stn::DType::Int64, {5});
  EXPECT_EQ(mod.kernel("privates").callWithDeviceArrays({dx, dy}).asInt(), 5);
  std::vector<int64_t> twice;
  for (int64_t v : x.elements())
    twice.push_back(2 * v);
  EXPECT_EQ(elementsOf<int64_t>(dy.toHost().view()), twice);
  std::vector<uint8_t> flagData(5, 1);
  stn::DeviceArray dflags = stn::DeviceArray::fromHost(
      stn::ArrayView(flagData.data(), stn::DType::Bool, {5}, {1}));
  stn::Value r = mod.kernel("stats").callWithDeviceArrays({dx, dflags});
  ASSERT_TRUE(r.isTuple());
  int64_t total = 10;
  for (int64_t v : x.elements())
    total += v;
  EXPECT_EQ(r.elements()[0].asInt(), total);
  // A host array among them is copied in and back.
  HostArray<int64_t> hy({5}, 0);
  EXPECT_EQ(mod.kernel("privates").callWithDeviceArrays({dx, hy.view()}).asInt(), 5);
  EXPECT_EQ(hy.elements(), twice);
  e = errorOf([&] { mod.kernel("privates").callWithDeviceArrays({dx}); });
  EXPECT_NE(e.find("kernel 'privates' takes 2 arguments but 1 was given"), std::string::npos)
      << e;
}

/// A @jit(target="cuda") kernel with default values: left out, passed by
/// keyword or as None, from host arrays and from DeviceArrays; `w is None`
/// is known in the GPU loop (no value is passed for it).
TEST_F(GpuDevice, DefaultValuesAndNoneInGpuLoops) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(R"stn(
from numba import njit, prange

@njit(target="cuda")
def weigh(a, w=None, scale=2.0):
    s = 0.0
    for i in prange(a.shape[0]):
        if w is None:
            a[i] = a[i] * scale
        else:
            a[i] = a[i] * w[i]
        s += a[i]
    return s
)stn",
                                      "gpu_defaults.stn");
  std::vector<double> x = {1, 2, 3}, w = {0.5, -1, 4};
  std::vector<double> a = x;
  EXPECT_DOUBLE_EQ(mod.kernel("weigh")(stn::ArrayView::of(a.data(), {3})).asDouble(), 12.0);
  EXPECT_EQ(a, (std::vector<double>{2, 4, 6}));
  a = x;
  EXPECT_DOUBLE_EQ(mod.kernel("weigh")
                       .call({stn::ArrayView::of(a.data(), {3})}, {{"scale", 3.0}})
                       .asDouble(),
                   18.0);
  a = x;
  EXPECT_DOUBLE_EQ(mod.kernel("weigh")(stn::ArrayView::of(a.data(), {3}),
                                       stn::ArrayView::of(w.data(), {3}))
                       .asDouble(),
                   0.5 - 2 + 12);
  stn::DeviceArray da = stn::DeviceArray::fromHost(stn::ArrayView::of(x.data(), {3}));
  EXPECT_DOUBLE_EQ(mod.kernel("weigh").callWithDeviceArrays({da}).asDouble(), 12.0);
  EXPECT_DOUBLE_EQ(mod.kernel("weigh").callWithDeviceArrays({da, stn::GpuArg::none(), 0.5})
                       .asDouble(),
                   6.0);
  EXPECT_EQ(elementsOf<double>(da.toHost().view()), (std::vector<double>{1, 2, 3}));
}

TEST(GpuNoDevice, CallWithDeviceArraysTakesJitCudaKernelsOnly) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(R"stn(
from numba import njit, vectorize

@njit
def host(a):
    return a[0]

@vectorize(["f64(f64)"], target="cuda")
def twice(x):
    return 2 * x
)stn",
                                      "kinds.stn");
  std::string e = errorOf([&] { mod.kernel("host").callWithDeviceArrays({1.0}); });
  EXPECT_NE(e.find("'host' is not a @jit(target=\"cuda\") kernel: callWithDeviceArrays runs "
                   "those; call it with Kernel::call"),
            std::string::npos)
      << e;
  e = errorOf([&] { mod.kernel("twice").callWithDeviceArrays({1.0}); });
  EXPECT_NE(e.find("run a target=\"cuda\" stencil, ufunc or gufunc with callOnDevice"),
            std::string::npos)
      << e;
}

//===----------------------------------------------------------------------===//
// Generator expressions in reductions (no list: GPU code may use them)
//===----------------------------------------------------------------------===//

const char *GeneratorSource = R"stn(
import numpy as np
from numba import cuda, jit, prange

@cuda.jit
def matmul_gen(A, B, C):
    i, j = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        C[i, j] = sum(A[i, k] * B[k, j] for k in range(A.shape[1]))

@cuda.jit
def row_stats(A, big, pos):
    i = cuda.grid(1)
    if i < A.shape[0]:
        big[i] = max(abs(v) for v in A[i] if v != 0)
        pos[i] = any(v > 0 for v in A[i]) and all(v > -50 for v in A[i])

@jit(target="cuda")
def row_squares(A, out):
    for i in prange(A.shape[0]):
        out[i] = sum(v * v for v in A[i] if v % 2 == 0)
)stn";

TEST_F(GpuDevice, GeneratorReductionsInGpuCode) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(GeneratorSource, "gen.stn");
  const int64_t n = 37, m = 23, p = 29;
  HostArray<int64_t> a = randomArray<int64_t>(Rng, {n, m}, -100, 100);
  HostArray<int64_t> b = randomArray<int64_t>(Rng, {m, p}, -100, 100);
  for (int64_t j = 0; j < m; ++j)
    a.Data[j] = j + 1; // row 0 has no zero, no negative
  HostArray<int64_t> c({n, p}, -1);
  mod.kernel("matmul_gen").launch(stn::Dim3(3, 2), stn::Dim3(16, 16), a.view(), b.view(), c.view());
  std::vector<int64_t> cref(n * p, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j)
      for (int64_t k = 0; k < m; ++k)
        cref[i * p + j] += a.Data[i * m + k] * b.Data[k * p + j];
  EXPECT_EQ(c.elements(), cref) << seedNote();

  HostArray<int64_t> big({n}, -1);
  HostArray<uint8_t> pos({n}, 2);
  mod.kernel("row_stats")
      .launch(stn::Dim3(2), stn::Dim3(32), a.view(),
              big.view(), stn::ArrayView(pos.Data.data(), stn::DType::Bool, {n}, {1}));
  HostArray<int64_t> sq({n}, -1);
  mod.kernel("row_squares")(a.view(), sq.view());
  for (int64_t i = 0; i < n; ++i) {
    int64_t mx = 0, s = 0;
    bool any = false, all = true, some = false;
    for (int64_t k = 0; k < m; ++k) {
      int64_t v = a.Data[i * m + k];
      if (v != 0) {
        mx = std::max(mx, std::abs(v));
        some = true;
      }
      any |= v > 0;
      all &= v > -50;
      if (v % 2 == 0)
        s += v * v;
    }
    if (some) { // a row of zeros raises ValueError instead
      EXPECT_EQ(big.Data[i], mx) << i << ", " << seedNote();
    }
    EXPECT_EQ(pos.Data[i], uint8_t(any && all)) << i << ", " << seedNote();
    EXPECT_EQ(sq.Data[i], s) << i << ", " << seedNote();
  }
}

} // namespace
