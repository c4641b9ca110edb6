//===- CudaSim.h - The CUDA simulator: GPU kernels on the CPU ---*- C++ -*-===//
//
// Internal to libstn. With $STN_CUDA_SIM=1 the CUDA driver is replaced by a
// simulator in this process, in the spirit of Numba's NUMBA_ENABLE_CUDASIM:
// one device ("stn CUDA simulator"), device memory is host memory, copies
// are memcpy, and a launch runs the kernel compiled for the CPU
// (CodegenOptions::gpuSimulator, GPUGen.h) once per thread of the grid,
// block after block. Threads of a block that calls syncthreads() run as
// fibers (ucontext) that switch at every barrier, so shared memory and
// barriers behave as on a GPU; other blocks run their threads one after
// the other. It is slow and meant for testing and debugging GPU code on
// machines without a GPU (docs/gpu.md): every GPU test runs under it in CI.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_CUDASIM_H
#define STN_RUNTIME_CUDASIM_H

#include "Cuda.h"
#include "KernelFault.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stn::detail {

/// $STN_CUDA_SIM is set to something other than "" or "0".
bool cudaSimulatorEnabled();

/// The simulator as a driver table (Cuda.h), initialized.
const CudaDriver *cudaSimulatorDriver();

/// A kernel compiled for the simulator: what its CUfunction points to.
struct SimKernel {
  /// The packed entry (Pipeline.h): one pointer per argument, arrays as
  /// whole descriptors.
  void (*entry)(void **) = nullptr;
  /// Per argument: -1 for a scalar, else the array's rank (the launch
  /// passes descriptors field by field; the entry wants them whole).
  std::vector<int> ranks;
  /// Calls syncthreads() (then a block's threads run as fibers).
  bool barriers = false;
  /// Keeps the compiled code loaded.
  std::shared_ptr<void> code;
};

/// The simulator's runtime functions, for the JIT.
std::vector<std::pair<std::string, void *>> cudaSimulatorSymbols();

/// Moves the first fault the simulated threads of this host thread raised
/// (_stn_sim_raise, KernelFaults.h) since the last call into `out`; false
/// if none did.
bool takeSimulatedFault(KernelFault &out);

} // namespace stn::detail

#endif // STN_RUNTIME_CUDASIM_H
