//===- Cuda.h - The CUDA driver, loaded at run time -------------*- C++ -*-===//
//
// Internal to libstn. libstn has no link-time dependency on CUDA: the driver
// (libcuda.so.1) is opened with dlopen on first use, every function of the
// driver API stn uses is declared once in STN_CUDA_DRIVER_FUNCTIONS, and
// every CUresult is checked and turned into an stn::Error naming the
// driver's error (cuGetErrorName). Without a driver every GPU entry point
// throws "no CUDA driver: ..."; nothing else changes.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_CUDA_H
#define STN_RUNTIME_CUDA_H

#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/Types.h"
#include "stn/Gpu.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stn {
struct KernelDecl;
class SourceFile;
} // namespace stn

namespace stn::detail {

// The driver's types, as its ABI defines them (cuda.h is not needed).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

// name, exported symbol, signature.
#define STN_CUDA_DRIVER_FUNCTIONS(X)                                                          \
  X(cuInit, "cuInit", CUresult(unsigned))                                                     \
  X(cuDriverGetVersion, "cuDriverGetVersion", CUresult(int *))                                \
  X(cuGetErrorName, "cuGetErrorName", CUresult(CUresult, const char **))                      \
  X(cuGetErrorString, "cuGetErrorString", CUresult(CUresult, const char **))                  \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult(int *))                                    \
  X(cuDeviceGet, "cuDeviceGet", CUresult(CUdevice *, int))                                    \
  X(cuDeviceGetName, "cuDeviceGetName", CUresult(char *, int, CUdevice))                      \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult(int *, int, CUdevice))             \
  X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", CUresult(size_t *, CUdevice))                    \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult(CUcontext *, CUdevice))    \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", CUresult(CUdevice))            \
  X(cuCtxPushCurrent, "cuCtxPushCurrent_v2", CUresult(CUcontext))                             \
  X(cuCtxPopCurrent, "cuCtxPopCurrent_v2", CUresult(CUcontext *))                             \
  X(cuCtxSynchronize, "cuCtxSynchronize", CUresult())                                         \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult(CUdeviceptr *, size_t))                             \
  X(cuMemFree, "cuMemFree_v2", CUresult(CUdeviceptr))                                         \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", CUresult(CUdeviceptr, const void *, size_t))             \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", CUresult(void *, CUdeviceptr, size_t))                   \
  X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", CUresult(CUdeviceptr, CUdeviceptr, size_t))              \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                                 \
    CUresult(CUmodule *, const void *, unsigned, int *, void **))                             \
  X(cuModuleUnload, "cuModuleUnload", CUresult(CUmodule))                                     \
  X(cuModuleGetFunction, "cuModuleGetFunction", CUresult(CUfunction *, CUmodule, const char *)) \
  X(cuModuleGetGlobal, "cuModuleGetGlobal_v2",                                                \
    CUresult(CUdeviceptr *, size_t *, CUmodule, const char *))                                \
  X(cuLaunchKernel, "cuLaunchKernel",                                                         \
    CUresult(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,          \
             unsigned, CUstream, void **, void **))                                           \
  X(cuEventCreate, "cuEventCreate", CUresult(CUevent *, unsigned))                            \
  X(cuEventDestroy, "cuEventDestroy_v2", CUresult(CUevent))                                   \
  X(cuEventRecord, "cuEventRecord", CUresult(CUevent, CUstream))                              \
  X(cuEventSynchronize, "cuEventSynchronize", CUresult(CUevent))                              \
  X(cuEventElapsedTime, "cuEventElapsedTime_v2", CUresult(float *, CUevent, CUevent))

/// The loaded driver: one pointer per function of the list.
struct CudaDriver {
#define STN_CUDA_MEMBER(name, symbol, sig) std::add_pointer_t<sig> name = nullptr;
  STN_CUDA_DRIVER_FUNCTIONS(STN_CUDA_MEMBER)
#undef STN_CUDA_MEMBER
  int deviceCount = 0;
};

/// The driver, loaded and initialized on first use ($STN_CUDA_DRIVER names
/// another library file). Throws stn::Error("no CUDA driver: ...") if it
/// cannot be loaded or initialized.
const CudaDriver &cudaDriver();

/// Throws stn::Error "`what`: CUDA_ERROR_NAME (description)" unless r == 0.
void cudaCheck(CUresult r, const std::string &what);

/// Makes `device`'s primary context current on this thread for a scope.
class ScopedContext {
public:
  explicit ScopedContext(int device);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;
};

/// Device memory; freed when the last DeviceArray using it goes.
struct DeviceBuffer {
  CUdeviceptr ptr = 0;
  size_t bytes = 0;
  int device = 0;
  DeviceBuffer(int device, size_t bytes);
  ~DeviceBuffer();
};

/// The target to compile GPU kernels for: $STN_CUDA_ARCH ("sm_90", "90" or
/// "9.0"), else the compute capability of `device`.
std::string gpuTargetArch(int device);

struct SimKernel;

/// A GPU kernel's module loaded on one device.
struct LoadedKernel {
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  CUdeviceptr faultRecord = 0; ///< where the binary has one (KernelFaults.h)
};

/// One compiled GPU kernel specialization and where it is loaded.
struct GpuSpec {
  GPUBinary binary;
  /// Under the CUDA simulator (CudaSim.h): the kernel compiled for the CPU
  /// (then `binary` holds only the kernel's name and writes).
  std::shared_ptr<SimKernel> sim;
  std::vector<Type> argTypes;
  std::mutex mutex;                   ///< guards loaded
  std::map<int, LoadedKernel> loaded; ///< by device
  /// Held from the launch of a kernel that may raise to the read of its
  /// fault record: concurrent calls of one kernel share the record.
  std::mutex faultMutex;
  ~GpuSpec();
};

/// The argument type a GPU launch specializes on: host arrays are copied
/// into C-contiguous device memory, so both kinds of array are C arrays.
Type gpuArgumentType(const GpuArg &a, const std::string &param);

/// Launches `spec` (see Kernel::launch in Engine.h for the transfers). A
/// kernel whose code may raise (GPUBinary::faultTexts, and every kernel in the
/// simulator) is waited for, and a fault its threads raised is thrown as
/// an stn::Error pointing into `file`, the kernel's source.
void launchGpu(GpuSpec &spec, const KernelDecl &k, const SourceFile &file, Dim3 grid,
               Dim3 block, const std::vector<GpuArg> &args, int device);

/// One GPU region of a `@jit(target="cuda")` kernel (GpuRegions.h): its
/// compiled kernel and the layout of its launch slots.
struct GpuRegionLaunch {
  std::shared_ptr<GpuSpec> spec;
  unsigned paramSlots = 0; ///< slots of the kernel's free variables and bounds
  unsigned reductions = 0; ///< then one slot per reduction cell (gpuRegionReductionCells)
  unsigned dims = 1;       ///< grid loops (1 to 3)
};

/// Runs the host part of the `@jit(target="cuda")` kernel `k` on `device`:
/// host arrays among `args` are copied to the GPU (and back afterwards
/// where `writes` says the kernel may write them, unless read-only);
/// `run` gets one pointer per parameter (scalars converted to `types`,
/// arrays as descriptors of device memory) and calls the host part, whose
/// `_stn_gpu_launch` calls launch `regions`. Waits for the GPU; throws
/// stn::Error for driver errors, failed launches and the first fault a GPU
/// loop raised (each launch of a loop that may raise is waited for; the
/// host part stops launching after a fault).
void runGpuLoops(const KernelDecl &k, const SourceFile &file, const std::vector<Type> &types,
                 const std::vector<GpuArg> &args, const std::vector<bool> &writes,
                 const std::vector<GpuRegionLaunch> &regions, int device,
                 const std::function<void(std::vector<void *> &)> &run);

/// The cache entry's payload of a GPU kernel (an opaque "object").
std::string serializeGpuBinary(const GPUBinary &b);
bool parseGpuBinary(std::string_view bytes, GPUBinary &out);

} // namespace stn::detail

#endif // STN_RUNTIME_CUDA_H
