//===- Gpu.h - NVIDIA GPUs: device arrays, launch arguments -----*- C++ -*-===//
//
// Part of the stn public API (docs/gpu.md). GPU kernels (@cuda.jit or
// @kernel in a .stn file) are launched with Kernel::launch (Engine.h):
//
//   stn::DeviceArray d = stn::DeviceArray::fromHost(stn::ArrayView::of(x, {n}));
//   mod.kernel("scale").launch(stn::Dim3(blocks), stn::Dim3(256), d, 2.0f);
//   d.copyToHost(stn::ArrayView::of(x, {n}));
//
// The CUDA driver (libcuda.so.1) is loaded when a GPU function is first
// used; stn neither links against it nor needs it for anything else.
// Without it every function here (but gpu::available and
// gpu::unavailableReason) throws stn::Error("no CUDA driver: ...").
//
//===----------------------------------------------------------------------===//

#ifndef STN_GPU_H
#define STN_GPU_H

#include "stn/Array.h"
#include "stn/Value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace stn {

/// Extents of a launch grid (in blocks) or of a block (in threads), like
/// CUDA's dim3: unset dimensions are 1.
struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  Dim3(uint32_t x = 1, uint32_t y = 1, uint32_t z = 1) : x(x), y(y), z(z) {}
};

namespace detail {
struct DeviceBuffer;
} // namespace detail

/// A C-contiguous array in GPU memory. It stays on the GPU across launches
/// (pipelines of kernels need no transfers); copies of a DeviceArray share
/// the memory, which is freed with the last copy.
class DeviceArray {
public:
  DeviceArray() = default;
  /// Uninitialized memory of `dtype` and `shape` on `device` (-1: the
  /// current device, gpu::setDevice).
  static DeviceArray empty(DType dtype, std::vector<int64_t> shape, int device = -1);
  /// A device copy of host memory of any layout.
  static DeviceArray fromHost(const ArrayView &host, int device = -1);

  /// Copies host memory of the same dtype and shape into this array.
  void copyFromHost(const ArrayView &host);
  /// Copies this array into writable host memory of the same dtype and shape.
  void copyToHost(const ArrayView &host) const;
  /// A new host array holding a copy.
  Array toHost() const;
  /// Device-to-device copy from an array of the same dtype and shape.
  void copyFrom(const DeviceArray &other);

  DType dtype() const { return DT; }
  const std::vector<int64_t> &shape() const { return Shape; }
  int64_t size() const;
  size_t nbytes() const;
  int device() const;
  /// The CUdeviceptr, for interoperating with other CUDA code.
  uint64_t devicePointer() const;
  bool isNull() const { return !Buf; }

private:
  std::shared_ptr<detail::DeviceBuffer> Buf;
  DType DT = DType::Float64;
  std::vector<int64_t> Shape;
};

/// One argument of a GPU launch: a scalar, a host array (copied to the GPU
/// for the launch, and back if the kernel may write it) or a DeviceArray.
class GpuArg {
public:
  template <class T, class = decltype(Scalar(std::declval<T>()))>
  GpuArg(T v) : V(Scalar(v)) {}
  GpuArg(const Scalar &s) : V(s) {}
  GpuArg(const ArrayView &a) : V(a) {}
  GpuArg(const Array &a) : V(a.view()) {}
  GpuArg(const DeviceArray &d) : V(d) {}
  /// Python's None (for a parameter of a @jit(target="cuda") kernel tested
  /// with `x is None` in its host part).
  static GpuArg none() { return GpuArg(std::monostate{}); }

  bool isScalar() const { return std::holds_alternative<Scalar>(V); }
  bool isHostArray() const { return std::holds_alternative<ArrayView>(V); }
  bool isDeviceArray() const { return std::holds_alternative<DeviceArray>(V); }
  bool isNone() const { return std::holds_alternative<std::monostate>(V); }
  const Scalar &scalar() const { return std::get<Scalar>(V); }
  const ArrayView &hostArray() const { return std::get<ArrayView>(V); }
  const DeviceArray &deviceArray() const { return std::get<DeviceArray>(V); }

private:
  explicit GpuArg(std::monostate) : V(std::monostate{}) {}
  std::variant<Scalar, ArrayView, DeviceArray, std::monostate> V;
};

namespace gpu {

/// A CUDA driver is loaded and has at least one device. Never throws.
bool available();
/// Why available() is false ("" when it is true). Never throws.
std::string unavailableReason();
/// GPU code runs in the CUDA simulator on the CPU ($STN_CUDA_SIM=1,
/// docs/gpu.md) instead of on a GPU. Never throws.
bool simulated();

/// The number of CUDA devices.
int deviceCount();
/// The device this thread launches on and allocates on (default 0).
void setDevice(int device);
int currentDevice();

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0; ///< compute capability
  int multiprocessors = 0;
  int maxThreadsPerBlock = 0;
  uint64_t totalMemory = 0; ///< bytes
  /// The compiler's target for this device, e.g. "sm_90".
  std::string arch() const { return "sm_" + std::to_string(major) + std::to_string(minor); }
};
DeviceInfo deviceInfo(int device = -1);
/// The driver's CUDA version, e.g. 13000.
int driverVersion();

/// Waits until the device has finished all launched work. Launches with
/// only device arrays return at once; errors a kernel hits while running
/// (an out-of-bounds access, say) are reported here or by the next call.
void synchronize(int device = -1);

/// Times device work with CUDA events (for benchmarks).
class Timer {
public:
  explicit Timer(int device = -1);
  ~Timer();
  Timer(const Timer &) = delete;
  Timer &operator=(const Timer &) = delete;
  void start();
  void stop();
  /// Milliseconds between start() and stop(); waits for stop().
  double elapsedMs();

private:
  int Device;
  void *Start = nullptr, *Stop = nullptr;
};

} // namespace gpu
} // namespace stn

#endif // STN_GPU_H
