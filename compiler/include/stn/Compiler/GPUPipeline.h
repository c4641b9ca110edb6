//===- GPUPipeline.h - From a typed GPU kernel to PTX and a cubin -*- C++ -*-===//
//
// The GPU counterpart of Pipeline.h, for explicit SIMT kernels
// (KernelKind::Gpu). Every pass is ordered in GPUPipeline.cpp:
//
//   TypedFunction --MLIRGen + GPUGen--> gpu.module (gpu, memref, arith, scf, cf)
//     --lowerToNVVM--> gpu.module in the LLVM and NVVM dialects
//     --gpu-module-to-binary{format=isa}, libdevice linked--> PTX
//     --ptxas (when the CUDA toolkit has it)--> cubin
//
// Kernel ABI: the kernel is a PTX `.entry` named after the specialization's
// symbol. Each scalar argument is one parameter; each array argument is
// its memref descriptor spelled out: allocated pointer, aligned pointer,
// offset, sizes[rank], strides[rank] (offset and strides in elements).
// A kernel whose code may raise has a global fault record (KernelFaults.h)
// that the runtime reads after each launch.
//
// No MLIR or LLVM types here: libstn includes this header (Backend.h).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_GPUPIPELINE_H
#define STN_COMPILER_GPUPIPELINE_H

#include "stn/Compiler/Pipeline.h"
#include "stn/Compiler/Sema.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace stn {

/// A compiled GPU kernel, as the runtime loads it.
struct GPUBinary {
  std::string arch;       ///< the target, e.g. "sm_90"
  std::string kernelName; ///< the PTX .entry
  std::string ptx;        ///< always present (the driver can JIT it)
  std::string cubin;      ///< ptxas's output for `arch`; empty without ptxas
  /// Per parameter: the kernel may write through this array (host arrays
  /// are copied back only then).
  std::vector<bool> writes;
  /// The texts the fault record's GpuFaultText word indexes (KernelFaults.h);
  /// not empty exactly where the kernel's code may raise, and then its
  /// module has a fault record.
  std::vector<std::string> faultTexts;
};

struct GPUOptions {
  std::string arch = "sm_90"; ///< "sm_XY"
  unsigned optLevel = 3;
};

/// Whether `k` runs on the GPU when the host calls it: a stencil, ufunc or
/// gufunc with target="cuda" (or "gpu"). Its driver is compiled as a GPU
/// kernel that writes an out= array; calls from other kernels run it on
/// the caller's target.
inline bool isGpuDriver(const KernelDecl &k) {
  return (k.kind == KernelKind::Stencil || k.kind == KernelKind::Ufunc ||
          k.kind == KernelKind::Gufunc) &&
         (k.options.target == "cuda" || k.options.target == "gpu");
}

/// Output rows each thread of a target="cuda" stencil computes (also of a
/// gufunc stacked on one) when the stencil has rank 2 or more: the
/// elements at the same column of consecutive rows (the axis before the
/// innermost). Their neighborhoods overlap, so where they are all interior
/// the kernel loads each input element of the thread's window once and
/// keeps it in a register (MLIRGen.cpp, stencilRows): 3.75 loads per output
/// instead of 9 for a 3x3 stencil. One byte per thread leaves a warp's
/// load instructions moving 32 bytes each, so on int8 images the load
/// units, not the memory, bound a one-row-per-thread kernel.
constexpr int64_t GpuStencilRows = 8;

/// The rows per thread of GPU stencils: GpuStencilRows, unless the
/// environment variable STN_GPU_STENCIL_ROWS gives another count from 1
/// (one element per thread) to 64, for measurements; other values are
/// ignored. Part of the cache key when it is not the default.
inline int64_t gpuStencilRows() {
  static const int64_t rows = [] {
    const char *v = std::getenv("STN_GPU_STENCIL_ROWS");
    if (!v || !*v)
      return GpuStencilRows;
    char *end = nullptr;
    long n = std::strtol(v, &end, 10);
    return *end == '\0' && n >= 1 && n <= 64 ? static_cast<int64_t>(n) : GpuStencilRows;
  }();
  return rows;
}

/// The loop nest a GPU stencil driver's grid covers: the output's
/// `extents`, with the row axis of a stencil of rank `stencilRank` >= 2
/// (the innermost axes are the stencil's) divided among gpuStencilRows()
/// rows per thread.
inline std::vector<int64_t> gpuStencilLoop(std::vector<int64_t> extents, size_t stencilRank) {
  if (stencilRank >= 2 && extents.size() >= 2) {
    int64_t &rows = extents[extents.size() - 2];
    rows = (rows + gpuStencilRows() - 1) / gpuStencilRows();
  }
  return extents;
}

/// The launch configuration of a GPU driver over a loop nest of `extents`
/// (the output's shape; a gufunc's outer dimensions). The generated kernel
/// (MLIRGen.cpp, gpuLoopNest) takes the innermost axis along x, so that the
/// threads of a warp touch consecutive elements; the axis before it along
/// y; for rank 3 the first axis along z; for rank 4 and more the axes
/// before the innermost, linearized, along y. Every axis is a grid-stride
/// loop, so any grid covers any extent: the grid is capped at the
/// hardware's limits (2^31-1 blocks in x, 65535 in y and z).
/// The most threads gpuDriverLaunch puts in a block (the block reductions
/// of GPU loops size their shared buffers by it).
constexpr int64_t GpuDriverBlockThreads = 256;
/// The most shared memory the block reduction of a GPU loop uses at once
/// (MLIRGen.cpp, blockReduce): more reductions than fit go through it in
/// turn.
constexpr int64_t GpuReduceGroupBytes = 16 * 1024;

struct GpuLaunchShape {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
};
inline GpuLaunchShape gpuDriverLaunch(const std::vector<int64_t> &extents) {
  GpuLaunchShape s;
  size_t r = extents.size();
  if (r == 0)
    return s; // one element: the first thread computes it
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  auto cap = [](int64_t v, int64_t hi) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min(v, hi)));
  };
  constexpr int64_t kThreads = GpuDriverBlockThreads;
  int64_t nx = extents[r - 1];
  // A warp-multiple along x, the rest of the block along y.
  int64_t bx = std::min<int64_t>(kThreads, std::max<int64_t>(32, ceilDiv(nx, 32) * 32));
  s.block[0] = static_cast<unsigned>(bx);
  s.grid[0] = cap(ceilDiv(nx, bx), (int64_t(1) << 31) - 1);
  if (r == 1)
    return s;
  int64_t ny = extents[r - 2];
  if (r > 3) {
    ny = 1;
    for (size_t d = 0; d + 1 < r; ++d)
      ny *= extents[d];
  }
  int64_t by = std::max<int64_t>(1, std::min(kThreads / bx, ny));
  s.block[1] = static_cast<unsigned>(by);
  s.grid[1] = cap(ceilDiv(ny, by), 65535);
  if (r == 3)
    s.grid[2] = cap(extents[0], 65535);
  return s;
}

/// Prints one stage of the GPU kernel `f`: MLIR (the gpu.module), Lowered
/// (NVVM), LLVM (the device module's LLVM IR, before libdevice and
/// optimization), Asm or PTX (the PTX). False on error (reported).
bool emitGPUStage(const TypedFunction &f, IRStage stage, const GPUOptions &opts,
                  std::string &out, DiagnosticEngine &diags);

/// Compiles the GPU kernel `f` to PTX, and to a cubin when ptxas is found
/// ($STN_PTXAS, else the toolkit's bin/ptxas, else PATH; STN_PTXAS=""
/// skips it). False on error (reported).
bool compileGPU(const TypedFunction &f, const GPUOptions &opts, GPUBinary &out,
                DiagnosticEngine &diags);

/// GPUBinary::writes of the GPU kernel `f` without compiling it (the CUDA
/// simulator copies back the same arrays as a GPU launch). False on error
/// (reported).
bool gpuWrittenParameters(const TypedFunction &f, std::vector<bool> &writes,
                          DiagnosticEngine &diags);

/// The CUDA toolkit used for libdevice and ptxas: $CUDA_HOME, $CUDA_PATH or
/// /usr/local/cuda, the first that has nvvm/libdevice/libdevice.10.bc;
/// empty if none has.
std::string findCudaToolkit();

} // namespace stn

#endif // STN_COMPILER_GPUPIPELINE_H
