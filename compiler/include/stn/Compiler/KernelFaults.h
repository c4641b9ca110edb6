//===- KernelFaults.h - Errors compiled kernels raise at run time -*- C++ -*-===//
//
// The contract between generated code (MLIRGen.cpp) and the runtime
// (runtime/lib/KernelFault.cpp) for errors only a running kernel can see.
// A kernel that detects one calls
//
//   void _stn_raise(int32_t kind, int32_t begin, int32_t end,
//                   const char *text, int64_t n, int64_t v0, ..., int64_t v9)
//
// with [begin, end) the byte range of the failing expression in the
// kernel's source file, `text` and the n values v0..v(n-1) as listed for
// each kind below. The call does not return on the host thread outside
// parallel regions; elsewhere it does, and the kernel must go on with safe
// values. After each parallel region kernels call _stn_check_raised().
//
// GPU code cannot call the host. A GPU thread that detects a fault records
// it in a global of its module (GpuFaultRecord) unless another thread of
// the launch did so first, and ends (its kernel returns; in a GPU loop, its
// iteration); the runtime reads the record after the launch
// (runtime/lib/Cuda.cpp). In the CUDA simulator the kernel calls
//
//   void _stn_sim_raise(int32_t kind, int32_t begin, int32_t end,
//                       const char *text, int64_t n, int64_t v0, ..., int64_t v9)
//
// instead, which keeps the first fault of the launch (CudaSim.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_KERNELFAULTS_H
#define STN_COMPILER_KERNELFAULTS_H

#include <cstdint>

namespace stn {

enum class KernelFaultKind : int32_t {
  /// boundscheck: text = the array; values = index, axis, the array's shape.
  Index = 1,
  /// error_model="python": text = the operator ("//" or "%"); no values.
  ZeroDivision = 2,
  /// Operands that do not broadcast: values = rank of a, a's shape, rank of
  /// b, b's shape.
  Broadcast = 3,
  /// An assignment whose value does not fit its target: text = the target;
  /// values = rank of the value, its shape, rank of the target, its shape.
  AssignShape = 4,
  /// Arguments of a stencil, ufunc or gufunc called from kernel code whose
  /// shapes disagree: text = what must hold; values as for Broadcast.
  CallShapes = 5,
  /// `raise` and `assert` statements: text = the message, "ValueError: n
  /// is -3", with each value shown as kRaisedValue and a letter for how
  /// to print it, in the values' order: 'i' int64, 'u' uint64, 'b' bool,
  /// 'd' float64 and 'f' float32 (both the bits of a float64), 'z'
  /// complex128 and 'y' complex64 (two values: the real and the imaginary
  /// part, each the bits of a float64). An f-string's field with a format
  /// spec is kRaisedValue, 'S', the spec, kRaisedValue, then the letter
  /// (FormatSpec.h).
  Raise = 6,
  /// An integer-array (fancy) index out of bounds; fancy indices are always
  /// checked, as NumPy does: values as for Index.
  IndexArray = 7,
  /// Index arrays whose shapes do not broadcast together: values as for
  /// Broadcast.
  IndexShapes = 8,
  /// A boolean index along one axis whose length is not the axis's: text =
  /// the array; values = the axis, its length, the index's length.
  MaskLength = 9,
  /// A value stored through index arrays that does not broadcast to the
  /// indexed shape: values as for Broadcast (the value's, the indexed).
  IndexValue = 10,
};

/// Marks where a value goes in a KernelFaultKind::Raise text.
constexpr char kRaisedValue = '\x01';

/// How many values _stn_raise takes (unused ones are 0).
constexpr int kMaxFaultValues = 10;

/// The fault record of a GPU kernel's module: a global of GpuFaultWords
/// int64 words, zero while no thread has raised. A thread that raises
/// exchanges word GpuFaultClaimed with 1 atomically; only the thread that
/// read 0 back writes the rest: the kind, the source range, the index of
/// the text in the kernel's GPUBinary::faultTexts, the number of values
/// and the values (as for _stn_raise). The runtime reads it after a launch
/// that may raise and zeroes it again once it has seen a fault.
constexpr const char *GpuFaultRecord = "__stn_fault";
enum GpuFaultWord : int {
  GpuFaultClaimed = 0,
  GpuFaultKind = 1,
  GpuFaultBegin = 2,
  GpuFaultEnd = 3,
  GpuFaultText = 4,
  GpuFaultCount = 5,
  GpuFaultValues = 6, ///< kMaxFaultValues words from here
  GpuFaultWords = GpuFaultValues + kMaxFaultValues,
};

} // namespace stn

#endif // STN_COMPILER_KERNELFAULTS_H
