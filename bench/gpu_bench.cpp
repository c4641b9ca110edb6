//===- gpu_bench.cpp - GPU kernels against a device-to-device copy --------===//
//
// Issue 7's GPU measurements, for a machine with an NVIDIA GPU (see
// docs/gpu.md for carrying a build there). Kernels of dsl-examples/, all on
// data resident on the device, timed with CUDA events:
//   smooth     the seed's 3x3 int8 smooth over a 256x1000x1000 stack
//              (cuda_smooth.stn), against cuMemcpyDtoD of the same bytes:
//              bandwidth counts bytes read + written (2 x 256 MB); also
//              hand-written with 8 rows per thread (smooth_kernel_rows,
//              "smooth rows/thread": 3 loads per output). The same
//              smooth without a hand-written kernel (cuda_targets.stn),
//              called with Kernel::callOnDevice on a DeviceArray into a
//              preallocated DeviceArray: @stencil(target="cuda") with its
//              int64 result as Numba types it (256 MB read + 2 GB written),
//              the same stencil into an int8 out= (the bytes of the
//              hand-written kernel), and the seed's "aspirational"
//              @gufunc("(n, m) -> (n, m)", target="cuda") on @stencil (int8).
//              And the @jit(target="cuda") smooth of cuda_jit.stn ("smooth
//              jit cuda i8"), three nested pranges over the interior plus two
//              GPU loops writing the zero border, called with
//              Kernel::callOnDevice({dx, out}) on the same resident stack
//              into its own preallocated int8 DeviceArray.
//              Each smooth row also reports its bandwidth as a fraction of
//              the copy's.
//   mandelbrot the course's kernel on a 1024x1536 uint8 image, 50 iterations
//              (cuda_mandelbrot.stn, the course's 32x16 grid of 32x8 blocks,
//              and a grid covering the image)
//   matmul     the tiled shared-memory float32 matrix product, n = 2048
//              (cuda_matmul.stn), and the plain one
//   sum of squares
//              cuda_jit.stn's @jit(target="cuda") reduction over 2^26
//              float32 resident on the device (GB/s of the 4 x 2^26 bytes
//              read), a float64 sum: sum_of_squares through
//              Kernel::callWithDeviceArrays, which returns it to the host.
//              Each run includes what the reduction costs the host part: its
//              result cell to the GPU and back, and waiting for the GPU.
// Each result is checked once against the same file's CPU kernel (smooth on
// one image, Mandelbrot on the whole image) before timing; the
// target="cuda" and @jit(target="cuda") smooths against the hand-written
// kernel on the whole stack too (the @jit one also against the CPU kernel
// on image 0, into an output first filled with 77 so that its border loops
// are checked); the sum of squares (and sum_of_squares, returning it,
// called once on a host array) against a double-precision C++ sum, to a
// relative 1e-6.
//
// Variants are interleaved (A B A B ...) and each reported as the median of
// --reps runs after warm-up (first launch = compile + load, excluded).
// Prints one table; exits 1 with a message when there is no GPU.
//
//   stn-bench-gpu [--reps N] [--examples DIR] [--small]
//
// --small shrinks every size (smooth 2x64x64, Mandelbrot 64x96, matmul
// n = 64, sum of squares n = 2^12) to check every row in seconds, also in
// the CUDA simulator: STN_CUDA_SIM=1 stn-bench-gpu --small --reps 2. Row
// names follow the sizes.
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Variant {
  std::string name;
  double bytes = 0; ///< moved through device memory per run (0: not a bandwidth number)
  double flops = 0;
  std::function<void()> run;
  std::vector<double> ms;
};

/// "256 MB", "8 KB": decimal units, as the row names have always been.
std::string bytesText(double bytes) {
  char buf[32];
  if (bytes >= 1e6)
    std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f KB", bytes / 1e3);
  return buf;
}

/// Keeps results the timed calls return.
volatile double benchmarkSink = 0;

} // namespace

int main(int argc, char **argv) {
  int reps = 20;
  bool small = false;
  std::string examples = STN_EXAMPLES_DIR;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--examples") && i + 1 < argc)
      examples = argv[++i];
    else if (!std::strcmp(argv[i], "--small"))
      small = true;
    else {
      std::fprintf(stderr, "usage: stn-bench-gpu [--reps N] [--examples DIR] [--small]\n");
      return 2;
    }
  }
  if (!stn::gpu::available()) {
    std::fprintf(stderr, "stn-bench-gpu: no GPU: %s\n", stn::gpu::unavailableReason().c_str());
    return 1;
  }
  try {
    stn::gpu::DeviceInfo info = stn::gpu::deviceInfo();
    std::printf("device: %s (%s, %d SMs, %.1f GiB), driver %d\n", info.name.c_str(),
                info.arch().c_str(), info.multiprocessors, info.totalMemory / 1073741824.0,
                stn::gpu::driverVersion());
    stn::Engine engine;
    std::mt19937_64 rng(12345);
    std::vector<Variant> variants;

    // Smooth: a 256 x 1000 x 1000 int8 stack on the device.
    stn::Module sm = engine.loadFile(examples + "/cuda_smooth.stn");
    const int64_t K = small ? 2 : 256, N = small ? 64 : 1000, M = small ? 64 : 1000;
    std::vector<int8_t> host(K * N * M);
    for (auto &v : host)
      v = static_cast<int8_t>(rng() & 0xff);
    stn::DeviceArray dx = stn::DeviceArray::fromHost(stn::ArrayView::of(host.data(), {K, N, M}));
    stn::DeviceArray dout = stn::DeviceArray::empty(stn::DType::Int8, {K, N, M});
    stn::DeviceArray dcopy = stn::DeviceArray::empty(stn::DType::Int8, {K, N, M});
    stn::Kernel smooth = sm.kernel("smooth_kernel");
    stn::Dim3 sblock(128, 2), sgrid((M + 127) / 128, (N + 1) / 2, K);
    smooth.launch(sgrid, sblock, dx, dout);
    // The CPU kernel on image 0: the reference of the GPU smooths.
    std::vector<int8_t> cpu0(N * M, 77);
    sm.kernel("smooth")(stn::ArrayView::of(host.data(), {1, N, M}),
                        stn::ArrayView::of(cpu0.data(), {1, N, M}));
    {
      std::vector<int8_t> gpu(K * N * M);
      dout.copyToHost(stn::ArrayView::of(gpu.data(), {K, N, M}));
      if (!std::equal(cpu0.begin(), cpu0.end(), gpu.begin())) {
        std::fprintf(stderr, "smooth: GPU and CPU results differ\n");
        return 1;
      }
    }
    double stackBytes = 2.0 * K * N * M;
    std::string stackName =
        std::to_string(K) + "x" + std::to_string(N) + "x" + std::to_string(M);
    variants.push_back({"copy DtoD " + bytesText(K * N * M), stackBytes, 0,
                        [&] { dcopy.copyFrom(dx); }, {}});
    variants.push_back({"smooth " + stackName + " i8", stackBytes, 0,
                        [&] { smooth.launch(sgrid, sblock, dx, dout); }, {}});
    // The hand-written kernel with 8 rows per thread (3 loads per output).
    stn::Kernel smoothRows = sm.kernel("smooth_kernel_rows");
    stn::DeviceArray drows = stn::DeviceArray::empty(stn::DType::Int8, {K, N, M});
    stn::Dim3 rgrid((M + 127) / 128, ((N + 7) / 8 + 1) / 2, K);
    smoothRows.launch(rgrid, sblock, dx, drows);
    variants.push_back({"smooth rows/thread " + stackName + " i8", stackBytes, 0,
                        [&] { smoothRows.launch(rgrid, sblock, dx, drows); }, {}});

    // The same smooth as target="cuda" stencil and stacked gufunc: no grid,
    // no indices; the results go into preallocated device arrays.
    stn::Module tm = engine.loadFile(examples + "/cuda_targets.stn");
    stn::Kernel stencil = tm.kernel("smooth_stencil"), stacked = tm.kernel("smooth");
    stn::DeviceArray dwide = stn::DeviceArray::empty(stn::DType::Int64, {K, N, M});
    stn::DeviceArray dnarrow = stn::DeviceArray::empty(stn::DType::Int8, {K, N, M});
    stn::DeviceArray dstacked = stn::DeviceArray::empty(stn::DType::Int8, {K, N, M});
    stencil.callOnDevice({dx}, dwide);
    stencil.callOnDevice({dx}, dnarrow);
    stacked.callOnDevice({dx}, dstacked);
    // And as a @jit(target="cuda") kernel whose pranges run on the GPU, into
    // an output filled with 77 so that the check sees its border loops.
    stn::Module jm = engine.loadFile(examples + "/cuda_jit.stn");
    stn::Kernel jitSmooth = jm.kernel("smooth");
    stn::DeviceArray djit;
    {
      std::vector<int8_t> fill(K * N * M, 77);
      djit = stn::DeviceArray::fromHost(stn::ArrayView::of(fill.data(), {K, N, M}));
    }
    jitSmooth.callOnDevice({dx, djit});
    {
      // Against the hand-written kernel, checked above, on the whole stack.
      std::vector<int8_t> ref(K * N * M), got(K * N * M);
      dout.copyToHost(stn::ArrayView::of(ref.data(), {K, N, M}));
      for (auto [name, d] :
           {std::pair<const char *, stn::DeviceArray *>{"stencil int8 out", &dnarrow},
            {"stacked gufunc", &dstacked},
            {"rows/thread", &drows},
            {"jit cuda", &djit}}) {
        d->copyToHost(stn::ArrayView::of(got.data(), {K, N, M}));
        if (got != ref) {
          std::fprintf(stderr, "smooth %s: differs from the hand-written kernel\n", name);
          return 1;
        }
      }
      // The @jit one against the CPU kernel too (image 0).
      if (!std::equal(cpu0.begin(), cpu0.end(), got.begin())) {
        std::fprintf(stderr, "smooth jit cuda: GPU and CPU results differ\n");
        return 1;
      }
      std::vector<int64_t> wide(K * N * M);
      dwide.copyToHost(stn::ArrayView::of(wide.data(), {K, N, M}));
      if (!std::equal(wide.begin(), wide.end(), ref.begin())) {
        std::fprintf(stderr, "smooth stencil int64: differs from the hand-written kernel\n");
        return 1;
      }
    }
    variants.push_back({"smooth @stencil cuda -> i64", 9.0 * K * N * M, 0,
                        [&] { stencil.callOnDevice({dx}, dwide); }, {}});
    variants.push_back({"smooth @stencil cuda -> i8 out=", stackBytes, 0,
                        [&] { stencil.callOnDevice({dx}, dnarrow); }, {}});
    variants.push_back({"smooth @gufunc+@stencil cuda i8", stackBytes, 0,
                        [&] { stacked.callOnDevice({dx}, dstacked); }, {}});
    variants.push_back({"smooth jit cuda i8", stackBytes, 0,
                        [&] { jitSmooth.callOnDevice({dx, djit}); }, {}});
    const size_t firstSmooth = 1, lastSmooth = variants.size() - 1;

    // Mandelbrot.
    stn::Module md = engine.loadFile(examples + "/cuda_mandelbrot.stn");
    const int64_t H = small ? 64 : 1024, W = small ? 96 : 1536;
    stn::DeviceArray dimg = stn::DeviceArray::empty(stn::DType::UInt8, {H, W});
    stn::Kernel mandel = md.kernel("create_fractal_kernel");
    auto launchMandel = [&](stn::Dim3 g, stn::Dim3 b) {
      mandel.launch(g, b, -2.0f, 1.0f, -1.0f, 1.0f, dimg, uint32_t{50});
    };
    launchMandel(stn::Dim3(32, 16), stn::Dim3(32, 8));
    {
      std::vector<uint8_t> gpu(H * W), cpu(H * W);
      dimg.copyToHost(stn::ArrayView::of(gpu.data(), {H, W}));
      md.kernel("create_fractal")(-2.0f, 1.0f, -1.0f, 1.0f, stn::ArrayView::of(cpu.data(), {H, W}),
                                  uint32_t{50});
      int64_t differ = 0;
      for (int64_t i = 0; i < H * W; ++i)
        differ += gpu[i] != cpu[i];
      if (differ > H * W / 1000) {
        std::fprintf(stderr, "mandelbrot: %lld pixels differ from the CPU\n",
                     static_cast<long long>(differ));
        return 1;
      }
    }
    variants.push_back({"mandelbrot grid 32x16 (course)", 0, 0,
                        [&] { launchMandel(stn::Dim3(32, 16), stn::Dim3(32, 8)); }, {}});
    variants.push_back({"mandelbrot grid covering image", 0, 0,
                        [&] { launchMandel(stn::Dim3(W / 32, H / 8), stn::Dim3(32, 8)); }, {}});

    // Matrix multiplication, float32, n = 2048 (a multiple of the 16 x 16
    // tiles).
    stn::Module mm = engine.loadFile(examples + "/cuda_matmul.stn");
    const int64_t n = small ? 64 : 2048;
    std::vector<float> a(n * n), b(n * n);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto &v : a)
      v = u(rng);
    for (auto &v : b)
      v = u(rng);
    stn::DeviceArray da = stn::DeviceArray::fromHost(stn::ArrayView::of(a.data(), {n, n}));
    stn::DeviceArray db = stn::DeviceArray::fromHost(stn::ArrayView::of(b.data(), {n, n}));
    stn::DeviceArray dc = stn::DeviceArray::empty(stn::DType::Float32, {n, n});
    stn::Dim3 mgrid(n / 16, n / 16), mblock(16, 16);
    for (const char *k : {"matrix_multiplication_cuda_fast", "matrix_multiplication_cuda"}) {
      stn::Kernel kern = mm.kernel(k);
      kern.launch(mgrid, mblock, da, db, dc);
      // Spot check a few elements against double precision.
      std::vector<float> c(n * n);
      dc.copyToHost(stn::ArrayView::of(c.data(), {n, n}));
      for (int t = 0; t < 16; ++t) {
        int64_t i = rng() % n, j = rng() % n;
        double ref = 0;
        for (int64_t kk = 0; kk < n; ++kk)
          ref += double(a[i * n + kk]) * b[kk * n + j];
        if (std::abs(c[i * n + j] - ref) > 1e-3 * (1 + std::abs(ref))) {
          std::fprintf(stderr, "%s: C[%lld, %lld] = %g, expected %g\n", k,
                       static_cast<long long>(i), static_cast<long long>(j), c[i * n + j], ref);
          return 1;
        }
      }
      variants.push_back({std::string(k == std::string("matrix_multiplication_cuda")
                                           ? "matmul plain f32 n="
                                           : "matmul tiled f32 n=") +
                              std::to_string(n),
                          0, 2.0 * n * n * n, [kern, mgrid, mblock, &da, &db, &dc] {
                            kern.launch(mgrid, mblock, da, db, dc);
                          },
                          {}});
    }

    // Sum of squares: a @jit(target="cuda") reduction over 2^26 float32 on
    // the device, returned to the host.
    const int log2Sum = small ? 12 : 26;
    const int64_t ns = int64_t{1} << log2Sum;
    std::vector<float> xs(ns);
    for (auto &v : xs)
      v = u(rng);
    double sumRef = 0;
    for (float v : xs)
      sumRef += double(v) * double(v);
    stn::DeviceArray dxs = stn::DeviceArray::fromHost(stn::ArrayView::of(xs.data(), {ns}));
    stn::Kernel sumSq = jm.kernel("sum_of_squares");
    {
      auto check = [&](const char *what, double got) {
        if (!(std::abs(got - sumRef) <= 1e-6 * sumRef)) {
          std::fprintf(stderr, "%s: %.17g, expected %.17g\n", what, got, sumRef);
          return false;
        }
        return true;
      };
      // On the host array (copied in), and on the resident one.
      if (!check("sum_of_squares (host array)",
                 sumSq(stn::ArrayView::of(xs.data(), {ns})).asDouble()))
        return 1;
      if (!check("sum_of_squares (device array)",
                 sumSq.callWithDeviceArrays({dxs}).asDouble()))
        return 1;
    }
    variants.push_back({"sum of squares jit cuda f32 n=2^" + std::to_string(log2Sum), 4.0 * ns, 0,
                        [&] { benchmarkSink = sumSq.callWithDeviceArrays({dxs}).asDouble(); },
                        {}});

    // Warm up, then interleave.
    stn::gpu::Timer timer;
    for (auto &v : variants)
      v.run();
    stn::gpu::synchronize();
    for (int r = 0; r < reps; ++r)
      for (auto &v : variants) {
        timer.start();
        v.run();
        timer.stop();
        v.ms.push_back(timer.elapsedMs());
      }
    std::printf("\n%-34s %12s %12s %12s\n", "variant", "median ms", "GB/s", "GFLOP/s");
    double copyMs = median(variants[0].ms);
    for (auto &v : variants) {
      double ms = median(v.ms);
      std::printf("%-34s %12.4f %12s %12s\n", v.name.c_str(), ms,
                  v.bytes ? std::to_string(int(v.bytes / ms / 1e6)).c_str() : "-",
                  v.flops ? std::to_string(int(v.flops / ms / 1e6)).c_str() : "-");
    }
    // Bandwidth of each smooth as a fraction of the copy's.
    double copyBw = variants[0].bytes / copyMs;
    std::printf("\n");
    for (size_t i = firstSmooth; i <= lastSmooth; ++i)
      std::printf("%-34s %5.1f%% of copy bandwidth\n", variants[i].name.c_str(),
                  100.0 * variants[i].bytes / median(variants[i].ms) / copyBw);
    return 0;
  } catch (const stn::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
