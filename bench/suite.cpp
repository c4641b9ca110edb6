//===- suite.cpp - Issue 5's benchmark suite: stn against C++ references --===//
//
// One program that runs every workload of issue 5 as stn kernels (the forms
// users write) and as hand-written C++ references compiled into this file
// with -O3 -march=native -fopenmp (linked against LLVM's libomp, the runtime
// stn's parallel loops use: one OpenMP runtime, one thread pool), plus
// memcpy of the same bytes on 1 and all threads as the bandwidth reference.
//
// For every workload: inputs are made once, every variant is called once and
// its result compared with the C++ reference (exact for integers, a stated
// tolerance for floats; a mismatch fails the workload and the exit status),
// then the variants are timed in rounds, each round calling every variant
// once in a fresh random order, and the medians are compared as ratios.
// tools/bench-suite.sh builds and runs it; bench/README.md explains the
// table.
//
//   stn-bench-suite [--reps N] [--quick] [--filter REGEX] [--json FILE]
//                   [--list] [--seed N]
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "ParallelWorkloads.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef STN_EXAMPLES_DIR
#error "STN_EXAMPLES_DIR must name the dsl-examples/ directory"
#endif

namespace {

using namespace stn::bench;

//===--- Kernels that are not in dsl-examples/ ---------------------------===//

// The parallel matmul, the smooth with target="parallel" and the forms of
// np.sin (Monte Carlo pi, Mandelbrot and the heat step are in
// ParallelWorkloads.h).
const char *SuiteSource = R"stn(
import math
import numpy as np
from numba import jit, njit, prange, vectorize, gufunc, stencil

@jit(parallel=True)
def matmul_prange(A, B, C):
    n = len(A[0])
    for i in prange(n):
        for j in range(n):
            tmp = 0.
            for k in range(n):
                tmp += A[i, k] * B[k, j]
            C[i, j] = tmp

@njit(parallel=True)
def np_sin(a):
    return np.sin(a)

@vectorize
def vsin(x):
    return math.sin(x)

@vectorize(target="parallel")
def vsin_parallel(x):
    return math.sin(x)

@gufunc("(n, m) -> (n, m)", target="parallel")
@stencil
def smooth_parallel(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9
)stn";

//===--- Harness ---------------------------------------------------------===//

using Clock = std::chrono::steady_clock;

struct Options {
  int Reps = 9;
  bool Quick = false;
  std::string Filter;
  std::string Json;
  bool List = false;
  uint64_t Seed = 0;
};

/// One timed thing: an stn call or a C++ reference.
struct Variant {
  std::string Key;   ///< short name used by rows and JSON ("stn_fresh")
  std::string Label; ///< what it is, for the legend
  std::function<void()> Run;
  double Bytes = 0;             ///< bytes moved per call, for GB/s (0: not shown)
  std::vector<double> Samples;  ///< seconds
  std::vector<double> CpuShare; ///< process CPU time / wall time, per sample

  Variant(std::string Key, std::string Label, std::function<void()> Run, double Bytes)
      : Key(std::move(Key)), Label(std::move(Label)), Run(std::move(Run)), Bytes(Bytes) {}
  double median() const {
    std::vector<double> Sorted = Samples;
    std::sort(Sorted.begin(), Sorted.end());
    size_t Size = Sorted.size();
    return Size % 2 ? Sorted[Size / 2] : 0.5 * (Sorted[Size / 2 - 1] + Sorted[Size / 2]);
  }
  double minimum() const { return *std::min_element(Samples.begin(), Samples.end()); }
  double maximum() const { return *std::max_element(Samples.begin(), Samples.end()); }
  /// Median cores busy during a call (process CPU time over wall time):
  /// about 1 for a serial call, about the thread count for a parallel one
  /// that got its cores; less means the threads waited for a CPU.
  double cores() const {
    std::vector<double> C = CpuShare;
    std::sort(C.begin(), C.end());
    return C.empty() ? 0 : C[C.size() / 2];
  }
};

double processCpuSeconds() {
  timespec T;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &T);
  return double(T.tv_sec) + double(T.tv_nsec) * 1e-9;
}

double loadAverage() {
  double L[1] = {0};
  return getloadavg(L, 1) == 1 ? L[0] : -1;
}

enum class Target {
  None,      ///< information only
  AtLeast,   ///< Ref / Stn >= Threshold (C++ time over stn time)
  AtMost,    ///< Stn / Ref <= Threshold (fresh output over out=)
  Bandwidth, ///< Ref / Stn >= Threshold, Ref being memcpy of the same bytes
};

/// One line of the ratio table.
struct Row {
  std::string Workload;
  std::string StnKey, RefKey;
  Target Kind = Target::None;
  double Threshold = 0;
  // Filled in after timing.
  std::string Group;
  double StnMs = 0, RefMs = 0, Ratio = 0, GBps = 0, StnCores = 0, RefCores = 0;
  bool Met = false;
  bool Failed = false;
  std::string Error;

  Row() = default;
  Row(std::string Workload, std::string StnKey, std::string RefKey, Target Kind, double Threshold)
      : Workload(std::move(Workload)), StnKey(std::move(StnKey)), RefKey(std::move(RefKey)),
        Kind(Kind), Threshold(Threshold) {}
};

struct Suite {
  Options Opts;
  std::mt19937_64 Order;
  std::vector<Row> Rows;
  std::vector<std::pair<std::string, std::vector<Variant>>> Groups;
  std::vector<std::string> Failures;
  double LoadStart = loadAverage();
  stn::Engine Engine;
  stn::Module Local;
  stn::Module Parallel; ///< ParallelWorkloads.h: monte_carlo_pi, mandelbrot, heat
  stn::Module SmoothFile, MatmulFile, ClosestFile, MandelbrotFile;

  explicit Suite(const Options &O)
      : Opts(O), Order(O.Seed), Local(Engine.loadString(SuiteSource, "suite.stn")),
        Parallel(Engine.loadString(stn::bench::ParallelKernels, "parallel.stn")),
        SmoothFile(Engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/smooth.stn")),
        MatmulFile(Engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/matmul.stn")),
        ClosestFile(Engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/closest.stn")),
        MandelbrotFile(Engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/mandelbrot.stn")) {}

  /// Times the variants of one workload: at least Reps rounds (and more for
  /// cheap workloads, up to 4 x Reps or about one second of timing), each
  /// round calling every variant once in a random order.
  void measure(const std::string &Group, std::vector<Variant> &Vs) {
    std::vector<size_t> Idx(Vs.size());
    for (size_t I = 0; I < Idx.size(); ++I)
      Idx[I] = I;
    double Spent = 0;
    for (int Round = 0; Round < 4 * Opts.Reps; ++Round) {
      if (Round >= Opts.Reps && Spent >= 1.0)
        break;
      std::shuffle(Idx.begin(), Idx.end(), Order);
      for (size_t I : Idx) {
        double C0 = processCpuSeconds();
        auto T0 = Clock::now();
        Vs[I].Run();
        double S = std::chrono::duration<double>(Clock::now() - T0).count();
        Vs[I].CpuShare.push_back((processCpuSeconds() - C0) / S);
        Vs[I].Samples.push_back(S);
        Spent += S;
      }
    }
    std::printf("  %-44s %9s %9s %9s %8s %5s %3s\n", "variant (ms)", "median", "min", "max", "GB/s",
                "cores", "n");
    for (const Variant &V : Vs) {
      double Med = V.median();
      std::printf("  %-44s %9.2f %9.2f %9.2f ", V.Label.c_str(), Med * 1e3, V.minimum() * 1e3,
                  V.maximum() * 1e3);
      if (V.Bytes > 0)
        std::printf("%8.1f", V.Bytes / Med * 1e-9);
      else
        std::printf("%8s", "");
      std::printf(" %5.2f %3zu\n", V.cores(), V.Samples.size());
    }
    std::fflush(stdout);
    Groups.emplace_back(Group, Vs);
  }

  const Variant *find(const std::string &Group, const std::string &Key) const {
    for (const auto &G : Groups)
      if (G.first == Group)
        for (const Variant &V : G.second)
          if (V.Key == Key)
            return &V;
    return nullptr;
  }

  void addRow(const std::string &Group, Row R) {
    const Variant *S = find(Group, R.StnKey), *F = find(Group, R.RefKey);
    if (!S || !F)
      throw std::logic_error("row '" + R.Workload + "' names an unknown variant");
    R.StnMs = S->median() * 1e3;
    R.RefMs = F->median() * 1e3;
    R.Ratio = R.Kind == Target::AtMost ? R.StnMs / R.RefMs : R.RefMs / R.StnMs;
    R.GBps = S->Bytes > 0 ? S->Bytes / S->median() * 1e-9 : 0;
    R.Group = Group;
    R.StnCores = S->cores();
    R.RefCores = F->cores();
    // Judged on the ratio as the table prints it (two decimals), so that a
    // row never reads "1.00x NO".
    double Shown = std::round(R.Ratio * 100) / 100;
    R.Met = R.Kind == Target::None ||
            (R.Kind == Target::AtMost ? Shown <= R.Threshold : Shown >= R.Threshold);
    Rows.push_back(R);
  }

  void fail(const std::string &Workload, const std::string &Why) {
    std::fprintf(stderr, "\nMISMATCH in %s: %s\n\n", Workload.c_str(), Why.c_str());
    Failures.push_back(Workload + ": " + Why);
    Row R;
    R.Workload = Workload;
    R.Failed = true;
    R.Error = Why;
    Rows.push_back(R);
  }
};

/// A Check failure: the stn result differs from the reference.
struct Mismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T> void checkExact(const T *Got, const T *Want, size_t N, const char *What) {
  for (size_t I = 0; I < N; ++I)
    if (!(Got[I] == Want[I])) {
      std::ostringstream OS;
      OS << What << ": element " << I << " is " << +Got[I] << ", the C++ reference has "
         << +Want[I];
      throw Mismatch(OS.str());
    }
}

/// |got - want| <= Abs + Rel * |want| for every element.
template <class T>
void checkClose(const T *Got, const T *Want, size_t N, double Abs, double Rel, const char *What) {
  for (size_t I = 0; I < N; ++I) {
    double G = double(Got[I]), W = double(Want[I]);
    if (!(std::fabs(G - W) <= Abs + Rel * std::fabs(W))) {
      std::ostringstream OS;
      OS.precision(17);
      OS << What << ": element " << I << " is " << G << ", the C++ reference has " << W
         << " (tolerance " << Abs << " + " << Rel << " * |ref|)";
      throw Mismatch(OS.str());
    }
  }
}

/// Memory of `N` elements that the caller fills; page-faulted in once.
template <class T> struct Buffer {
  std::unique_ptr<T[]> P;
  size_t N;
  explicit Buffer(size_t N) : P(new T[N]()), N(N) {}
  T *data() { return P.get(); }
  const T *data() const { return P.get(); }
};

/// memcpy of `Bytes` bytes split over `Threads` threads.
void parallelMemcpy(void *Dst, const void *Src, size_t Bytes, int Threads) {
#pragma omp parallel for num_threads(Threads) schedule(static)
  for (int T = 0; T < Threads; ++T) {
    size_t Lo = Bytes * size_t(T) / size_t(Threads);
    size_t Hi = Bytes * size_t(T + 1) / size_t(Threads);
    std::memcpy(static_cast<char *>(Dst) + Lo, static_cast<const char *>(Src) + Lo, Hi - Lo);
  }
}

int allThreads() { return omp_get_max_threads(); }

//===--- Seed smooth: 256 x 1000 x 1000 int8 -----------------------------===//

/// Hand-written separable 3x3 box filter with the seed's semantics (sum of
/// nine int8 values, floor division by 9, border cells 0): column sums of
/// three rows in int16, then the sum of three column sums, images split
/// over the threads.
__attribute__((noinline)) void smoothCpp(const int8_t *__restrict In, int8_t *__restrict Out,
                                         int64_t K, int64_t N, int64_t M) {
#pragma omp parallel
  {
    std::vector<int16_t> Col(static_cast<size_t>(M));
    int16_t *__restrict V = Col.data();
#pragma omp for schedule(dynamic)
    for (int64_t Z = 0; Z < K; ++Z) {
      const int8_t *X = In + Z * N * M;
      int8_t *Y = Out + Z * N * M;
      std::memset(Y, 0, size_t(M));
      std::memset(Y + (N - 1) * M, 0, size_t(M));
      for (int64_t I = 1; I < N - 1; ++I) {
        const int8_t *A = X + (I - 1) * M, *B = X + I * M, *C = X + (I + 1) * M;
        for (int64_t J = 0; J < M; ++J)
          V[J] = int16_t(A[J] + B[J] + C[J]);
        int8_t *O = Y + I * M;
        O[0] = 0;
        O[M - 1] = 0;
        for (int64_t J = 1; J < M - 1; ++J) {
          int16_t S = int16_t(V[J - 1] + V[J] + V[J + 1]);
          int16_t Q = int16_t(S / 9);
          Q = int16_t(Q - (Q * 9 > S)); // floor, like Python's //
          O[J] = int8_t(Q);
        }
      }
    }
  }
}

void benchSmooth(Suite &S) {
  const std::string G = "smooth";
  const int64_t K = S.Opts.Quick ? 64 : 256, N = 1000, M = 1000;
  const size_t Total = size_t(K * N * M);
  std::printf("\n== seed smooth, %lldx%lldx%lld int8 (dsl-examples/smooth.stn `smooth`)\n",
              (long long)K, (long long)N, (long long)M);
  Buffer<int8_t> In(Total), OutStn(Total), OutPar(Total), OutCpp(Total), OutCopy(Total);
  {
    std::mt19937_64 Gen(7);
    for (size_t I = 0; I < Total; I += 8) {
      uint64_t R = Gen();
      std::memcpy(In.data() + I, &R, std::min<size_t>(8, Total - I));
    }
  }
  stn::Kernel Smooth = S.SmoothFile.kernel("smooth");
  stn::Kernel SmoothPar = S.Local.kernel("smooth_parallel");
  stn::ArrayView X = stn::ArrayView::of(In.data(), {K, N, M});
  stn::ArrayView Y = stn::ArrayView::of(OutStn.data(), {K, N, M});
  stn::ArrayView YP = stn::ArrayView::of(OutPar.data(), {K, N, M});

  smoothCpp(In.data(), OutCpp.data(), K, N, M);
  try {
    stn::Value Fresh = Smooth(X);
    if (Fresh.array().dtype() != stn::DType::Int8)
      throw Mismatch("smooth(x) does not return int8");
    checkExact(Fresh.array().data<int8_t>(), OutCpp.data(), Total, "smooth(x)");
    Smooth.call({X}, {{"out", Y}});
    checkExact(OutStn.data(), OutCpp.data(), Total, "smooth(x, out=y)");
    SmoothPar.call({X}, {{"out", YP}});
    checkExact(OutPar.data(), OutCpp.data(), Total, "smooth_parallel(x, out=y)");
  } catch (const Mismatch &E) {
    return S.fail("seed smooth", E.what());
  }
  parallelMemcpy(OutCopy.data(), In.data(), Total, allThreads());

  const double Bytes = 2.0 * double(Total); // one byte read, one written
  std::vector<Variant> Vs;
  Vs.push_back(
      {"stn_fresh", "stn smooth(x), as written (fresh)", [&] { stn::Value V = Smooth(X); }, Bytes});
  Vs.push_back({"stn_out", "stn smooth(x, out=y)", [&] { Smooth.call({X}, {{"out", Y}}); }, Bytes});
  Vs.push_back({"stn_par_out", "stn @gufunc(target=\"parallel\"), out=",
                [&] {
                  SmoothPar.call({X}, {{"out", YP}});
                },
                Bytes});
  Vs.push_back({"cpp", "C++ separable, OpenMP",
                [&] { smoothCpp(In.data(), OutCpp.data(), K, N, M); }, Bytes});
  Vs.push_back({"memcpy1", "memcpy, 1 thread",
                [&] { parallelMemcpy(OutCopy.data(), In.data(), Total, 1); }, Bytes});
  Vs.push_back({"memcpyN", "memcpy, " + std::to_string(allThreads()) + " threads",
                [&] { parallelMemcpy(OutCopy.data(), In.data(), Total, allThreads()); }, Bytes});
  S.measure(G, Vs);
  const std::string Stack = std::to_string(K) + "x1000x1000";
  S.addRow(G,
           {"seed smooth " + Stack + " vs C++ OpenMP", "stn_fresh", "cpp", Target::AtLeast, 1.3});
  S.addRow(G, {"seed smooth vs memcpy " + std::to_string(allThreads()) + " threads (bw)",
               "stn_fresh", "memcpyN", Target::Bandwidth, 0.5});
  S.addRow(G, {"seed smooth out= vs C++ OpenMP", "stn_out", "cpp", Target::AtLeast, 1.3});
  S.addRow(G, {"smooth target=parallel out= vs C++", "stn_par_out", "cpp", Target::AtLeast, 1.3});
  S.addRow(G, {"smooth fresh vs out= (time ratio)", "stn_fresh", "stn_out", Target::AtMost, 1.3});
}

//===--- Mandelbrot: 1024 x 1536, 50 iterations --------------------------===//


void benchMandelbrot(Suite &S) {
  const std::string G = "mandelbrot";
  const int64_t H = 1024, W = 1536, Iters = 50;
  std::printf("\n== Mandelbrot %lldx%lld, %lld iterations\n", (long long)H, (long long)W,
              (long long)Iters);
  Buffer<int64_t> ImgStn(size_t(H * W)), ImgCpp(size_t(H * W));
  stn::Kernel K = S.Parallel.kernel("mandelbrot");
  stn::ArrayView V = stn::ArrayView::of(ImgStn.data(), {H, W});
  mandelbrotCpp(ImgCpp.data(), H, W, Iters);
  try {
    K(V, Iters);
    checkExact(ImgStn.data(), ImgCpp.data(), size_t(H * W), "mandelbrot");
  } catch (const Mismatch &E) {
    return S.fail("Mandelbrot", E.what());
  }
  std::vector<Variant> Vs;
  Vs.push_back({"stn", "stn prange over rows", [&] { K(V, Iters); }, 0});
  Vs.push_back(
      {"cpp", "C++ OpenMP over rows", [&] { mandelbrotCpp(ImgCpp.data(), H, W, Iters); }, 0});
  S.measure(G, Vs);
  S.addRow(G, {"Mandelbrot 1024x1536 prange", "stn", "cpp", Target::AtLeast, 1.0});
}

// The course's form (dsl-examples/mandelbrot.stn): complex128 z = z*z + c,
// one thread. The reference spells out the product as CPython, NumPy and
// Numba compute it, (ac - bd) + (ad + bc)i, with mandel's float32 arguments.
uint32_t mandelCpp(float X, float Y, uint32_t MaxIters) {
  double Cr = X, Ci = Y, Zr = 0, Zi = 0;
  for (uint32_t I = 0; I < MaxIters; ++I) {
    double Re = Zr * Zr - Zi * Zi, Im = Zr * Zi + Zi * Zr;
    Zr = Re + Cr;
    Zi = Im + Ci;
    if (Zr * Zr + Zi * Zi >= 4)
      return I;
  }
  return MaxIters;
}

__attribute__((noinline)) void createFractalCpp(float XMin, float XMax, float YMin, float YMax,
                                                uint8_t *Image, int64_t H, int64_t W,
                                                uint32_t Iters) {
  double PixelX = double(XMax - XMin) / double(W), PixelY = double(YMax - YMin) / double(H);
  for (int64_t X = 0; X < W; ++X) {
    double Real = double(XMin) + double(X) * PixelX;
    for (int64_t Y = 0; Y < H; ++Y) {
      double Imag = double(YMin) + double(Y) * PixelY;
      Image[Y * W + X] = uint8_t(mandelCpp(float(Real), float(Imag), Iters));
    }
  }
}

void benchMandelbrotComplex(Suite &S) {
  const std::string G = "mandelbrot_complex";
  const int64_t H = S.Opts.Quick ? 256 : 512, W = S.Opts.Quick ? 384 : 768, Iters = 50;
  std::printf("\n== Mandelbrot %lldx%lld, %lld iterations, complex numbers, 1 thread "
              "(dsl-examples/mandelbrot.stn `create_fractal`)\n",
              (long long)H, (long long)W, (long long)Iters);
  Buffer<uint8_t> ImgStn(size_t(H * W)), ImgCpp(size_t(H * W));
  stn::Kernel K = S.MandelbrotFile.kernel("create_fractal");
  stn::ArrayView V = stn::ArrayView::of(ImgStn.data(), {H, W});
  auto RunStn = [&] { K(-2.0f, 1.0f, -1.0f, 1.0f, V, Iters); };
  auto RunCpp = [&] { createFractalCpp(-2.0f, 1.0f, -1.0f, 1.0f, ImgCpp.data(), H, W, Iters); };
  RunCpp();
  try {
    RunStn();
    checkExact(ImgStn.data(), ImgCpp.data(), size_t(H * W), "mandelbrot_complex");
  } catch (const Mismatch &E) {
    return S.fail("Mandelbrot complex", E.what());
  }
  std::vector<Variant> Vs;
  Vs.push_back({"stn", "stn @jit, complex z*z + c", RunStn, 0});
  Vs.push_back({"cpp", "C++ (ac-bd) + (ad+bc)i", RunCpp, 0});
  S.measure(G, Vs);
  S.addRow(G, {"Mandelbrot complex (course) 1 thread", "stn", "cpp", Target::AtLeast, 1.0});
}

//===--- Matmul: f64, n = 1000 -------------------------------------------===//

__attribute__((noinline)) void matmulIjkCpp(const double *A, const double *B, double *C,
                                            int64_t N) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t I = 0; I < N; ++I)
    for (int64_t J = 0; J < N; ++J) {
      double T = 0;
      for (int64_t K = 0; K < N; ++K)
        T += A[I * N + K] * B[K * N + J];
      C[I * N + J] = T;
    }
}

__attribute__((noinline)) void matmulIkjCpp(const double *A, const double *B, double *__restrict C,
                                            int64_t N) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t I = 0; I < N; ++I) {
    double *Row = C + I * N;
    for (int64_t J = 0; J < N; ++J)
      Row[J] = 0;
    for (int64_t K = 0; K < N; ++K) {
      double Aik = A[I * N + K];
      const double *Brow = B + K * N;
      for (int64_t J = 0; J < N; ++J)
        Row[J] += Aik * Brow[J];
    }
  }
}

void benchMatmul(Suite &S) {
  const std::string G = "matmul";
  const int64_t N = S.Opts.Quick ? 500 : 1000;
  std::printf("\n== matmul f64 n=%lld (dsl-examples/matmul.stn, i-j-k)\n", (long long)N);
  const size_t NN = size_t(N * N);
  Buffer<double> A(NN), B(NN), Cs(NN), Cp(NN), Cref(NN), Cikj(NN);
  std::mt19937_64 Gen(42);
  for (size_t I = 0; I < NN; ++I) {
    A.data()[I] = double(Gen() >> 11) * 0x1.0p-53;
    B.data()[I] = double(Gen() >> 11) * 0x1.0p-53;
  }
  stn::Kernel Serial = S.MatmulFile.kernel("matrix_multiplication");
  stn::Kernel Par = S.Local.kernel("matmul_prange");
  auto VA = stn::ArrayView::of(A.data(), {N, N}), VB = stn::ArrayView::of(B.data(), {N, N});
  auto VCs = stn::ArrayView::of(Cs.data(), {N, N}), VCp = stn::ArrayView::of(Cp.data(), {N, N});
  matmulIjkCpp(A.data(), B.data(), Cref.data(), N);
  matmulIkjCpp(A.data(), B.data(), Cikj.data(), N);
  try {
    // Same products summed in the same k order: equal up to rounding of
    // a different association, which neither side does without fastmath.
    const double Rel = 1e-12;
    checkClose(Cikj.data(), Cref.data(), NN, 0, Rel, "C++ i-k-j vs i-j-k");
    Serial(VA, VB, VCs);
    checkClose(Cs.data(), Cref.data(), NN, 0, Rel, "matrix_multiplication");
    Par(VA, VB, VCp);
    checkClose(Cp.data(), Cref.data(), NN, 0, Rel, "matmul_prange");
  } catch (const Mismatch &E) {
    return S.fail("matmul", E.what());
  }
  std::vector<Variant> Vs;
  Vs.push_back({"stn_serial", "stn i-j-k @jit (course, serial)", [&] { Serial(VA, VB, VCs); }, 0});
  Vs.push_back({"stn_prange", "stn i-j-k prange over i", [&] { Par(VA, VB, VCp); }, 0});
  Vs.push_back({"cpp_ijk", "C++ i-j-k OpenMP over i",
                [&] { matmulIjkCpp(A.data(), B.data(), Cref.data(), N); }, 0});
  Vs.push_back({"cpp_ikj", "C++ i-k-j OpenMP over i",
                [&] { matmulIkjCpp(A.data(), B.data(), Cikj.data(), N); }, 0});
  S.measure(G, Vs);
  const std::string Size = "n=" + std::to_string(N) + " ";
  S.addRow(G, {"matmul " + Size + "i-j-k prange vs C++ i-j-k", "stn_prange", "cpp_ijk",
               Target::AtLeast, 1.0});
  S.addRow(G, {"matmul " + Size + "i-j-k prange vs C++ i-k-j", "stn_prange", "cpp_ikj",
               Target::AtLeast, 1.0});
  S.addRow(G, {"matmul " + Size + "i-j-k serial vs C++ i-j-k", "stn_serial", "cpp_ijk",
               Target::None, 0});
}

//===--- Monte Carlo pi: 10 x 10^6 samples --------------------------------===//



void benchMonteCarlo(Suite &S) {
  const std::string G = "montecarlo";
  const int64_t Experiments = 10, Samples = 1000000;
  std::printf("\n== Monte Carlo pi, %lld x %lld samples\n", (long long)Experiments,
              (long long)Samples);
  stn::Kernel K = S.Parallel.kernel("monte_carlo_pi");
  double Sink = 0;
  try {
    // Different generators: both estimates must be within 0.005 of pi
    // (the standard error of 10^7 samples is 0.0005).
    double Cpp = monteCarloCpp(Experiments, Samples);
    double Stn = K(Experiments, Samples).asDouble();
    for (double V : {Cpp, Stn})
      if (!(std::fabs(V - M_PI) < 0.005))
        throw Mismatch("pi estimate " + std::to_string(V) + " is not within 0.005 of pi");
  } catch (const Mismatch &E) {
    return S.fail("Monte Carlo pi", E.what());
  }
  std::vector<Variant> Vs;
  Vs.push_back({"stn", "stn prange, np.random.random()",
                [&] { Sink += K(Experiments, Samples).asDouble(); }, 0});
  Vs.push_back(
      {"cpp", "C++ OpenMP, xoshiro256**", [&] { Sink += monteCarloCpp(Experiments, Samples); }, 0});
  S.measure(G, Vs);
  S.addRow(G, {"Monte Carlo pi 10x10^6 prange", "stn", "cpp", Target::AtLeast, 1.0});
  if (Sink == 0)
    std::printf("(unused)\n");
}

//===--- Closest pair: 8100 points ---------------------------------------===//

struct Pair {
  int64_t I = -1, J = -1;
  double D = 0;
};

/// The course's O(N^2) loop, serial like the stn kernel (its prange is a
/// plain range without parallel=True).
__attribute__((noinline)) Pair closestCpp(const double *P, int64_t N) {
  double Best = 999999.;
  Pair R;
  for (int64_t I = 0; I < N; ++I)
    for (int64_t J = I + 1; J < N; ++J) {
      double Dx = P[2 * I] - P[2 * J], Dy = P[2 * I + 1] - P[2 * J + 1];
      double D2 = Dx * Dx + Dy * Dy;
      if (D2 < Best) {
        Best = D2;
        R.I = I;
        R.J = J;
      }
    }
  R.D = std::sqrt(Best);
  return R;
}

void benchClosest(Suite &S) {
  const std::string G = "closest";
  const int64_t N = 8100;
  std::printf("\n== closest pair, %lld points (dsl-examples/closest.stn `closest`)\n",
              (long long)N);
  Buffer<double> P(size_t(2 * N));
  std::mt19937_64 Gen(3);
  for (int64_t I = 0; I < 2 * N; ++I)
    P.data()[I] = double(Gen() >> 11) * 0x1.0p-53 * 1000.0;
  stn::Kernel K = S.ClosestFile.kernel("closest");
  stn::ArrayView V = stn::ArrayView::of(P.data(), {N, 2});
  Pair Ref = closestCpp(P.data(), N);
  try {
    stn::Value R = K(V);
    const double *P1 = R[0].array().data<double>(), *P2 = R[1].array().data<double>();
    double D = R[2].asDouble();
    // `**2` may be pow(x, 2): allow 1e-12 relative on the distance; the
    // points must be the same rows.
    checkClose(&D, &Ref.D, 1, 0, 1e-12, "closest distance");
    checkExact(P1, P.data() + 2 * Ref.I, 2, "closest point 1");
    checkExact(P2, P.data() + 2 * Ref.J, 2, "closest point 2");
  } catch (const Mismatch &E) {
    return S.fail("closest pair", E.what());
  }
  double Sink = 0;
  std::vector<Variant> Vs;
  Vs.push_back({"stn", "stn closest (course, serial)", [&] { Sink += K(V)[2].asDouble(); }, 0});
  Vs.push_back({"cpp", "C++ serial double loop", [&] { Sink += closestCpp(P.data(), N).D; }, 0});
  S.measure(G, Vs);
  S.addRow(G, {"closest pair 8100 pts (serial)", "stn", "cpp", Target::AtLeast, 1.0});
  if (Sink == 0)
    std::printf("(unused)\n");
}

//===--- Heat step: 8192 x 8192 float32 ----------------------------------===//


void benchHeat(Suite &S) {
  const std::string G = "heat";
  const int64_t N = S.Opts.Quick ? 4096 : 8192;
  const size_t NN = size_t(N * N);
  std::printf("\n== heat step %lldx%lld float32\n", (long long)N, (long long)N);
  Buffer<float> U(NN), OutStn(NN), OutCpp(NN), Copy(NN);
  for (size_t I = 0; I < NN; ++I)
    U.data()[I] = float(I % 97) * 0.01f;
  stn::Kernel K = S.Parallel.kernel("heat");
  auto VU = stn::ArrayView::of(U.data(), {N, N}), VO = stn::ArrayView::of(OutStn.data(), {N, N});
  heatCpp(U.data(), OutCpp.data(), N, N);
  try {
    K(VU, VO);
    // The same float32 operations in the same order (no contraction on
    // either side): bit-identical.
    checkExact(OutStn.data(), OutCpp.data(), NN, "heat");
  } catch (const Mismatch &E) {
    return S.fail("heat step", E.what());
  }
  const double Bytes = 2.0 * double(NN) * sizeof(float); // u read, out written
  std::vector<Variant> Vs;
  Vs.push_back({"stn", "stn prange over rows, out param", [&] { K(VU, VO); }, Bytes});
  Vs.push_back(
      {"cpp", "C++ OpenMP over rows", [&] { heatCpp(U.data(), OutCpp.data(), N, N); }, Bytes});
  Vs.push_back({"memcpyN", "memcpy, " + std::to_string(allThreads()) + " threads",
                [&] { parallelMemcpy(Copy.data(), U.data(), NN * sizeof(float), allThreads()); },
                Bytes});
  S.measure(G, Vs);
  S.addRow(
      G, {"heat step " + std::to_string(N) + "^2 f32 prange", "stn", "cpp", Target::AtLeast, 1.0});
  S.addRow(G, {"heat step vs memcpy " + std::to_string(allThreads()) + " threads (bw)", "stn",
               "memcpyN", Target::None, 0});
}

//===--- np.sin over 64M float32 -----------------------------------------===//

__attribute__((noinline)) void sinCpp(const float *__restrict A, float *__restrict Out, int64_t N) {
#pragma omp parallel for schedule(dynamic, 1 << 16)
  for (int64_t I = 0; I < N; ++I)
    Out[I] = std::sin(A[I]);
}

void benchSin(Suite &S) {
  const std::string G = "sin";
  const int64_t N = S.Opts.Quick ? (16 << 20) : (64 << 20);
  std::printf("\n== np.sin over %lldM float32\n", (long long)(N >> 20));
  const size_t Count = static_cast<size_t>(N);
  Buffer<float> A(Count), OutCpp(Count), OutV(Count), OutVP(Count);
  std::mt19937 Gen(11);
  std::uniform_real_distribution<float> Dist(-6.3f, 6.3f); // about [-2 pi, 2 pi]
  for (int64_t I = 0; I < N; ++I)
    A.data()[I] = Dist(Gen);
  stn::Kernel NpSin = S.Local.kernel("np_sin");
  stn::Kernel VSin = S.Local.kernel("vsin");
  stn::Kernel VSinPar = S.Local.kernel("vsin_parallel");
  auto VA = stn::ArrayView::of(A.data(), {N});
  auto VO = stn::ArrayView::of(OutV.data(), {N}), VOP = stn::ArrayView::of(OutVP.data(), {N});
  sinCpp(A.data(), OutCpp.data(), N);
  try {
    // Both sides call a float32 sine; allow 2 ulp-ish (|sin| <= 1): 2.5e-7.
    const double Abs = 2.5e-7;
    stn::Value R = NpSin(VA);
    if (R.array().dtype() != stn::DType::Float32)
      throw Mismatch("np.sin(a) of float32 does not return float32");
    checkClose(R.array().data<float>(), OutCpp.data(), size_t(N), Abs, 0, "np_sin");
    stn::Value R2 = VSin(VA);
    checkClose(R2.array().data<float>(), OutCpp.data(), size_t(N), Abs, 0, "vsin(a)");
    VSin.call({VA}, {{"out", VO}});
    checkClose(OutV.data(), OutCpp.data(), size_t(N), Abs, 0, "vsin(a, out=b)");
    VSinPar.call({VA}, {{"out", VOP}});
    checkClose(OutVP.data(), OutCpp.data(), size_t(N), Abs, 0, "vsin_parallel(a, out=b)");
  } catch (const Mismatch &E) {
    return S.fail("np.sin", E.what());
  }
  // Compute-bound (a libm call per element): no GB/s column.
  const double Bytes = 0;
  std::vector<Variant> Vs;
  Vs.push_back(
      {"stn_np", "stn @njit(parallel=True) np.sin(a)", [&] { stn::Value R = NpSin(VA); }, Bytes});
  Vs.push_back(
      {"stn_v_fresh", "stn @vectorize sin(a) (fresh)", [&] { stn::Value R = VSin(VA); }, Bytes});
  Vs.push_back({"stn_v_out", "stn @vectorize sin(a, out=b)",
                [&] {
                  VSin.call({VA}, {{"out", VO}});
                },
                Bytes});
  Vs.push_back({"stn_vp_out", "stn @vectorize(target=\"parallel\"), out=",
                [&] {
                  VSinPar.call({VA}, {{"out", VOP}});
                },
                Bytes});
  Vs.push_back(
      {"cpp", "C++ OpenMP std::sin into b", [&] { sinCpp(A.data(), OutCpp.data(), N); }, Bytes});
  S.measure(G, Vs);
  S.addRow(G, {"np.sin " + std::to_string(N >> 20) + "M f32 parallel=True (fresh)", "stn_np", "cpp",
               Target::AtLeast, 1.0});
  S.addRow(G, {"sin @vectorize out= vs C++", "stn_v_out", "cpp", Target::AtLeast, 1.0});
  S.addRow(G, {"sin @vectorize(parallel) out= vs C++", "stn_vp_out", "cpp", Target::AtLeast, 1.0});
  S.addRow(G, {"sin @vectorize fresh vs out= (time ratio)", "stn_v_fresh", "stn_v_out",
               Target::AtMost, 1.3});
}

//===--- Driver ----------------------------------------------------------===//

struct Workload {
  const char *Name;
  void (*Run)(Suite &);
};

const Workload Workloads[] = {
    {"smooth", benchSmooth},   {"mandelbrot", benchMandelbrot},
      {"mandelbrot_complex", benchMandelbrotComplex},
    {"matmul", benchMatmul},   {"montecarlo", benchMonteCarlo},
    {"closest", benchClosest}, {"heat", benchHeat},
    {"sin", benchSin},
};

const char *targetText(const Row &R, char *Buf, size_t N) {
  switch (R.Kind) {
  case Target::None:
    return "-";
  case Target::AtLeast:
    std::snprintf(Buf, N, ">= %.2fx", R.Threshold);
    return Buf;
  case Target::AtMost:
    std::snprintf(Buf, N, "<= %.2fx", R.Threshold);
    return Buf;
  case Target::Bandwidth:
    std::snprintf(Buf, N, ">= %.0f%% bw", R.Threshold * 100);
    return Buf;
  }
  return "";
}

void printTable(const Suite &S) {
  std::printf("\n%-42s %9s %9s %8s %7s %11s %5s %10s\n", "workload (stn vs reference)", "stn ms",
              "ref ms", "ratio", "GB/s", "target", "met", "cores");
  std::printf("%s\n", std::string(108, '-').c_str());
  for (const Row &R : S.Rows) {
    if (R.Failed) {
      std::printf("%-42s %s\n", R.Workload.c_str(), "FAILED: result differs (see above)");
      continue;
    }
    char Buf[32], Ratio[32], GB[16];
    if (R.Kind == Target::Bandwidth || R.RefKey.rfind("memcpy", 0) == 0)
      std::snprintf(Ratio, sizeof Ratio, "%.0f%%", R.Ratio * 100);
    else
      std::snprintf(Ratio, sizeof Ratio, "%.2fx", R.Ratio);
    if (R.GBps > 0)
      std::snprintf(GB, sizeof GB, "%.1f", R.GBps);
    else
      std::snprintf(GB, sizeof GB, "-");
    char Cores[32];
    std::snprintf(Cores, sizeof Cores, "%.1f/%.1f", R.StnCores, R.RefCores);
    std::printf("%-42s %9.2f %9.2f %8s %7s %11s %5s %10s\n", R.Workload.c_str(), R.StnMs, R.RefMs,
                Ratio, GB, targetText(R, Buf, sizeof Buf),
                R.Kind == Target::None ? "-" : (R.Met ? "yes" : "NO"), Cores);
  }
  std::printf("\nratio: reference time / stn time (> 1: stn faster); for \"fresh vs out=\" "
              "rows,\nfresh time / out= time; for \"vs memcpy\" rows, the share of memcpy's "
              "bandwidth\n(memcpy time / stn time). cores: CPUs busy during a call, stn/reference\n"
              "(median process CPU time / wall time). Medians of interleaved rounds; %d threads;\n"
              "load average %.2f at the start, %.2f at the end (well above 0 means the\n"
              "machine was shared: see each workload's cores column).\n",
              allThreads(), S.LoadStart, loadAverage());
}

std::string jsonEscape(const std::string &S) {
  std::string R;
  for (char C : S) {
    if (C == '"' || C == '\\')
      R += '\\';
    R += C;
  }
  return R;
}

void writeJson(const Suite &S, const std::string &Path) {
  std::ofstream OS(Path);
  if (!OS)
    throw std::runtime_error("cannot write " + Path);
  OS.precision(6);
  OS << "{\n  \"stn_version\": \"" << stn::version() << "\",\n  \"threads\": " << allThreads()
     << ",\n  \"load_average_start\": " << S.LoadStart
     << ",\n  \"load_average_end\": " << loadAverage() << ",\n  \"reps\": " << S.Opts.Reps
     << ",\n  \"quick\": " << (S.Opts.Quick ? "true" : "false") << ",\n  \"variants\": [";
  bool First = true;
  for (const auto &G : S.Groups)
    for (const Variant &V : G.second) {
      OS << (First ? "\n" : ",\n") << "    {\"workload\": \"" << G.first << "\", \"variant\": \""
         << V.Key << "\", \"label\": \"" << jsonEscape(V.Label)
         << "\", \"median_ms\": " << V.median() * 1e3 << ", \"min_ms\": " << V.minimum() * 1e3
         << ", \"max_ms\": " << V.maximum() * 1e3 << ", \"cores\": " << V.cores()
         << ", \"samples\": " << V.Samples.size();
      if (V.Bytes > 0)
        OS << ", \"gb_per_s\": " << V.Bytes / V.median() * 1e-9;
      OS << "}";
      First = false;
    }
  OS << "\n  ],\n  \"rows\": [";
  First = true;
  for (const Row &R : S.Rows) {
    OS << (First ? "\n" : ",\n") << "    {\"workload\": \"" << jsonEscape(R.Workload) << "\"";
    if (R.Failed) {
      OS << ", \"failed\": true, \"error\": \"" << jsonEscape(R.Error) << "\"}";
    } else {
      const char *Kind[] = {"none", "at_least", "at_most", "bandwidth_fraction"};
      OS << ", \"group\": \"" << R.Group << "\", \"stn\": \"" << R.StnKey << "\", \"reference\": \""
         << R.RefKey << "\", \"stn_ms\": " << R.StnMs << ", \"ref_ms\": " << R.RefMs
         << ", \"stn_cores\": " << R.StnCores << ", \"ref_cores\": " << R.RefCores
         << ", \"ratio\": " << R.Ratio << ", \"target\": \"" << Kind[int(R.Kind)] << "\"";
      if (R.Kind != Target::None)
        OS << ", \"threshold\": " << R.Threshold << ", \"met\": " << (R.Met ? "true" : "false");
      if (R.GBps > 0)
        OS << ", \"gb_per_s\": " << R.GBps;
      OS << "}";
    }
    First = false;
  }
  OS << "\n  ]\n}\n";
}

[[noreturn]] void usage(int Code) {
  std::fprintf(Code ? stderr : stdout,
               "usage: stn-bench-suite [--reps N] [--quick] [--filter REGEX] [--json FILE]\n"
               "                       [--seed N] [--list]\n"
               "  --reps N      timed rounds per workload (default 9; cheap workloads run\n"
               "                more rounds, up to 4 N or about 1 s of timing)\n"
               "  --quick       3 rounds and smaller inputs (a smoke test, not the issue's sizes)\n"
               "  --filter RE   only workloads whose name matches RE (see --list)\n"
               "  --json FILE   also write the medians and the ratio table as JSON\n"
               "  --seed N      seed of the random order of variants in each round\n");
  std::exit(Code);
}

} // namespace

int main(int Argc, char **Argv) {
  Options O;
  O.Seed = std::random_device{}();
  bool RepsGiven = false;
  for (int I = 1; I < Argc; ++I) {
    std::string A = Argv[I];
    auto Next = [&]() -> std::string {
      if (I + 1 >= Argc)
        usage(2);
      return Argv[++I];
    };
    if (A == "--reps") {
      O.Reps = std::max(1, std::atoi(Next().c_str()));
      RepsGiven = true;
    } else if (A == "--quick")
      O.Quick = true;
    else if (A == "--filter")
      O.Filter = Next();
    else if (A == "--json")
      O.Json = Next();
    else if (A == "--seed")
      O.Seed = std::strtoull(Next().c_str(), nullptr, 10);
    else if (A == "--list")
      O.List = true;
    else if (A == "-h" || A == "--help")
      usage(0);
    else
      usage(2);
  }
  if (O.Quick && !RepsGiven)
    O.Reps = 3;
  if (O.List) {
    for (const Workload &W : Workloads)
      std::printf("%s\n", W.Name);
    return 0;
  }
  std::regex Re;
  try {
    Re = std::regex(O.Filter.empty() ? std::string(".*") : O.Filter);
  } catch (const std::regex_error &E) {
    std::fprintf(stderr, "error: --filter '%s' is not a regular expression: %s\n", O.Filter.c_str(),
                 E.what());
    return 2;
  }
  try {
    Suite S(O);
    std::printf("stn %s, %d threads, %d rounds per workload%s, order seed %llu\n", stn::version(),
                allThreads(), O.Reps, O.Quick ? " (quick: smaller inputs)" : "",
                (unsigned long long)O.Seed);
    if (S.LoadStart > 1.0)
      std::printf("note: load average %.2f: other processes compete for the %d CPUs, so\n"
                  "parallel calls may not get their threads (see the cores column)\n",
                  S.LoadStart, allThreads());
    int Matched = 0;
    for (const Workload &W : Workloads)
      if (std::regex_search(W.Name, Re)) {
        W.Run(S);
        ++Matched;
      }
    if (Matched == 0) {
      std::fprintf(stderr, "error: no workload matches --filter '%s' (see --list)\n",
                   O.Filter.c_str());
      return 2;
    }
    printTable(S);
    if (!O.Json.empty()) {
      writeJson(S, O.Json);
      std::printf("JSON written to %s\n", O.Json.c_str());
    }
    if (!S.Failures.empty()) {
      std::fprintf(stderr, "\n%zu workload(s) FAILED the result check:\n", S.Failures.size());
      for (const std::string &F : S.Failures)
        std::fprintf(stderr, "  %s\n", F.c_str());
      return 1;
    }
  } catch (const stn::Error &E) {
    std::fprintf(stderr, "stn error: %s\n", E.what());
    return 1;
  } catch (const std::exception &E) {
    std::fprintf(stderr, "error: %s\n", E.what());
    return 1;
  }
  return 0;
}
