//===- SysInfo.h - What stn sees of the machine (`stn sysinfo`) -*- C++ -*-===//
//
// Part of the stn public API. Collects what a bug report needs, like
// `numba -s`: the CPU and the features the code generator targets, the
// cores, the stn/LLVM/MLIR versions, the CUDA driver and its devices (or why
// there are none), the kernel cache and the thread count.
//
// Nothing here fails: what cannot be found is reported as such in the
// fields (`backendError`, `cudaStatus`).
//
//===----------------------------------------------------------------------===//

#ifndef STN_SYSINFO_H
#define STN_SYSINFO_H

#include <cstdint>
#include <string>
#include <vector>

namespace stn {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int computeMajor = 0, computeMinor = 0; ///< compute capability, e.g. 9.0
  int multiprocessors = 0;
  uint64_t memoryBytes = 0;
};

struct SystemInfo {
  // The machine.
  std::string os;          ///< uname: system, release, machine
  std::string cpuName;     ///< /proc/cpuinfo's model name
  unsigned logicalCores = 0;   ///< online logical CPUs
  unsigned availableCores = 0; ///< CPUs this process may run on (affinity)
  // The code generator's view of the host (empty when it cannot be loaded,
  // with the reason in backendError).
  std::string hostTriple;  ///< e.g. x86_64-unknown-linux-gnu
  std::string llvmCpu;     ///< e.g. sapphirerapids, znver4
  std::vector<std::string> cpuFeatures; ///< enabled features, LLVM's names (avx2, avx512f, ...)
  std::string backendPath;
  std::string backendError;
  // Versions.
  std::string stnVersion, llvmVersion, mlirVersion;
  // CUDA, through the driver library (libcuda.so.1) loaded at run time.
  bool cudaAvailable = false;   ///< the driver loaded and initialized
  int cudaDriverVersion = 0;    ///< e.g. 12040 for 12.4
  std::string cudaStatus;       ///< "ok", or why there is no usable driver or device
  std::vector<CudaDeviceInfo> cudaDevices;
  // The kernel cache (docs/caching.md).
  std::string cacheDir;
  bool cacheEnabled = false;
  std::string cacheDisabledBecause;
  uint64_t cacheEntries = 0, cacheBytes = 0, cacheLimit = 0;
  // Threads used by stn: $STN_NUM_THREADS if set, else the available cores.
  unsigned threads = 0;
  std::string threadsFrom; ///< "STN_NUM_THREADS" or "available cores"
};

/// Collects the information (loads the code generator for the CPU's
/// features, and the CUDA driver if there is one).
SystemInfo systemInfo();

} // namespace stn

#endif // STN_SYSINFO_H
