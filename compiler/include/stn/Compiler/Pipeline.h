//===- Pipeline.h - From a typed kernel to text or machine code -*- C++ -*-===//
//
// The compilation pipeline after type inference. Every pass is ordered in
// Pipeline.cpp, one stage per function:
//
//   TypedFunction --MLIRGen--> MLIR (func/arith/math/memref/scf/cf/complex)
//     --lowerToLLVMDialect--> MLIR (llvm dialect)
//     --translateToLLVMIR + entry wrapper--> LLVM IR
//     --optimize (O3, host CPU)--> LLVM IR
//     --emit--> assembly / object file
//
// Entry ABI of a compiled specialization (the "packed" convention):
//   void entry(void **args)
// args[i] (i < #params) points to argument i: a scalar in its native
// representation (bool: one byte 0/1, complex: {re, im}) or an array
// descriptor {void *allocated; void *aligned; int64_t offset;
// int64_t sizes[rank]; int64_t strides[rank]} with offset and strides in
// elements. args[#params + k] points to storage for leaf k of the result
// (tuples are flattened; arrays come back as descriptors).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_PIPELINE_H
#define STN_COMPILER_PIPELINE_H

#include "stn/Compiler/Sema.h"

#include <memory>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace stn {

/// PTX: GPU kernels (GPUPipeline.h). Diagnostics: not a stage but the
/// optimization report (OptimizationReport.h) of a compilation to LLVM IR.
enum class IRStage { MLIR, Lowered, LLVM, Asm, PTX, Diagnostics };

struct CodegenOptions {
  unsigned optLevel = 3;
  /// Compile a GPU kernel (an explicit one, or a target="cuda" driver that
  /// writes its out= array) as CPU code for the CUDA simulator
  /// (GPUGen.h): the entry returns nothing and the runtime calls it once
  /// per simulated thread.
  bool gpuSimulator = false;
};

/// Prints one stage of `f` into `out`. False on error (reported to diags).
bool emitStage(const TypedFunction &f, IRStage stage, const CodegenOptions &opts,
               std::string &out, DiagnosticEngine &diags);

/// Compiles `f` into an object file exporting `entrySymbol` with the packed
/// entry ABI. Null on error (reported to diags).
std::unique_ptr<llvm::MemoryBuffer> compileToObject(const TypedFunction &f,
                                                    const std::string &entrySymbol,
                                                    const CodegenOptions &opts,
                                                    DiagnosticEngine &diags);

/// The host CPU name and LLVM version, for diagnostics and `stn --version`.
std::string hostCPUName();
const char *llvmVersionString();

} // namespace stn

#endif // STN_COMPILER_PIPELINE_H
