//===- KernelFault.h - Errors raised by running kernels ---------*- C++ -*-===//
//
// Compiled kernels check what only the running program can know (an index
// out of bounds under boundscheck=True, an integer division by zero under
// error_model="python", operands that do not broadcast) and report a
// failure by calling _stn_raise (the contract is in
// stn/Compiler/KernelFaults.h).
//
// The host call that runs the kernel owns a KernelFault. The first raise
// is recorded there. On the thread that called the kernel, outside any
// parallel region, _stn_raise does not return: it longjmps back to
// runKernel, which sits between the host code and the kernel (the kernel's
// frames are JIT-compiled code with nothing to unwind; its allocations are
// freed with the call's arena). Inside an OpenMP region (where jumping out
// would corrupt the OpenMP runtime) it returns, the kernel goes on with safe
// values (a dummy element, divisor 1: MLIRGen emits them), and
// _stn_check_raised, called after every parallel region, jumps out then.
// The host finally turns the record into an stn::Error with the source
// line and a caret (formatFault).
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_KERNELFAULT_H
#define STN_RUNTIME_KERNELFAULT_H

#include "stn/Compiler/KernelFaults.h"

#include <atomic>
#include <csetjmp>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace stn {
class SourceFile;
}

namespace stn::detail {

struct KernelFault {
  std::atomic<bool> raised{false};
  KernelFaultKind kind = KernelFaultKind::Index;
  uint32_t begin = 0, end = 0;
  std::string text;
  std::vector<int64_t> values;
  std::jmp_buf *jump = nullptr; ///< set while runKernel runs the kernel
  std::thread::id host;         ///< the thread that may jump
};

/// The current thread's fault record (null outside host calls).
KernelFault *currentFault();
/// Makes `f` the current thread's record; returns the previous one.
KernelFault *exchangeFault(KernelFault *f);

/// How deeply the current thread is nested in parallel regions of kernels
/// (ParallelRuntime.cpp counts in _stn_parallel_enter/exit).
int parallelDepth();

/// Records a fault in `f` (the arguments of _stn_raise, `v` holding n
/// values) unless it holds one: only the first fault of a call is kept.
/// Returns whether the caller may jump out of the kernel (runKernel's
/// thread, outside parallel regions).
bool recordFault(KernelFault &f, int32_t kind, int32_t begin, int32_t end, const char *text,
                 int64_t n, const int64_t *v);

/// Calls `fn(args)` with `f` as the current record; returns normally both
/// when the kernel finishes and when it raised (then f.raised is set).
void runKernel(void (*fn)(void **), void **args, KernelFault &f);

/// A message (a raise's, a print's) with its values filled in where
/// kRaisedValue marks them: as Python's str() shows them, or with
/// `gpuFloats` floats as printf's %f (GPU code prints with the driver's
/// printf).
std::string fillMessage(const std::string &text, const std::vector<int64_t> &values,
                        bool gpuFloats = false);

/// The message of a raised fault: "file:L:C: error: ...", the source line
/// and a caret under the failing expression.
std::string formatFault(const KernelFault &f, const SourceFile &file);

/// Symbols compiled kernels import for raising errors.
std::vector<std::pair<std::string, void *>> faultRuntimeSymbols();

} // namespace stn::detail

#endif // STN_RUNTIME_KERNELFAULT_H
