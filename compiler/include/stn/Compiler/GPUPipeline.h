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
//
// No MLIR or LLVM types here: libstn includes this header (Backend.h).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_GPUPIPELINE_H
#define STN_COMPILER_GPUPIPELINE_H

#include "stn/Compiler/Pipeline.h"
#include "stn/Compiler/Sema.h"

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
};

struct GPUOptions {
  std::string arch = "sm_90"; ///< "sm_XY"
  unsigned optLevel = 3;
};

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

/// The CUDA toolkit used for libdevice and ptxas: $CUDA_HOME, $CUDA_PATH or
/// /usr/local/cuda, the first that has nvvm/libdevice/libdevice.10.bc;
/// empty if none has.
std::string findCudaToolkit();

} // namespace stn

#endif // STN_COMPILER_GPUPIPELINE_H
