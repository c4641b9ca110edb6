//===- Backend.h - The code generator as a loadable plugin ------*- C++ -*-===//
//
// Everything that needs MLIR or LLVM (MLIR generation, the pass pipeline,
// machine code, the ORC JIT) is built into libstn-backend.so, which libstn
// loads with dlopen the first time a kernel must be compiled or an IR stage
// printed. A process that only loads cached kernels (a warm start) never
// maps libLLVM or libMLIR, whose initialization alone costs ~26 ms.
//
// The interface is a table of plain functions; both sides are built from
// the same sources in one build, and `abiVersion` guards against mixing
// builds.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_BACKEND_H
#define STN_COMPILER_BACKEND_H

#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/Sema.h"

#include <string>
#include <utility>
#include <vector>

namespace stn {

constexpr unsigned BackendABIVersion = 5; ///< 5: compileGPUSimulator's writes

struct BackendPlugin {
  unsigned abiVersion;
  /// Compiles `f` into an object file exporting `symbol` with the packed
  /// entry ABI (Pipeline.h). False on error (reported to diags).
  bool (*compileToObject)(const TypedFunction &f, const std::string &symbol, unsigned optLevel,
                          std::string &object, DiagnosticEngine &diags);
  /// Prints stage `stage` (an IRStage) of `f`. False on error.
  bool (*emitStage)(const TypedFunction &f, int stage, unsigned optLevel, std::string &out,
                    DiagnosticEngine &diags);
  /// A JIT for the host in which `symbols` are predefined; null with a
  /// message in `error` on failure.
  void *(*createJIT)(const std::vector<std::pair<std::string, void *>> &symbols,
                     std::string &error);
  /// Links `object` into `jit` and returns the address of `symbol`.
  void *(*addObject)(void *jit, const std::string &object, const std::string &symbol,
                     std::string &error);
  void (*destroyJIT)(void *jit);
  /// "triple cpu +feature,..." as LLVM sees the host (for stn sysinfo).
  std::string (*hostDescription)();
  /// GPU kernels (GPUPipeline.h): PTX, and a cubin when ptxas is found, for
  /// `arch` ("sm_90"). False on error (reported to diags).
  bool (*compileGPU)(const TypedFunction &f, const std::string &arch, unsigned optLevel,
                     GPUBinary &out, DiagnosticEngine &diags);
  /// Prints stage `stage` (an IRStage) of the GPU kernel `f` for `arch`.
  bool (*emitGPUStage)(const TypedFunction &f, int stage, const std::string &arch,
                       unsigned optLevel, std::string &out, DiagnosticEngine &diags);
  /// The GPU kernel `f` as CPU code for the CUDA simulator
  /// (CodegenOptions::gpuSimulator): like compileToObject, and in `writes`
  /// the parameters the kernel may write, as GPUBinary::writes (so that
  /// the simulator copies back what a GPU launch would).
  bool (*compileGPUSimulator)(const TypedFunction &f, const std::string &symbol,
                              unsigned optLevel, std::string &object, std::vector<bool> &writes,
                              DiagnosticEngine &diags);
};

} // namespace stn

/// The plugin's one exported entry point.
extern "C" const stn::BackendPlugin *stn_backend_plugin();

#endif // STN_COMPILER_BACKEND_H
