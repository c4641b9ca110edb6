//===- Passes.h - stn's own MLIR passes -------------------------*- C++ -*-===//
//
// Passes stn adds to the upstream pipeline, one per file under
// compiler/lib/Transforms; only the create functions are exported. The order
// they run in is decided in Pipeline.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_PASSES_H
#define STN_COMPILER_PASSES_H

#include <memory>

namespace mlir {
class Pass;
} // namespace mlir

namespace stn {

/// `stn-narrow-integers`: computes integer arithmetic in 16 or 32 bits where
/// integer range analysis proves the operands and the result fit, so the
/// result is bit-identical to the 64-bit computation Numba's typing rules
/// prescribe (int8 + int8 is int64) while vector loops get 4x more lanes.
/// Runs on upstream-dialect IR (before lowering to LLVM).
std::unique_ptr<mlir::Pass> createNarrowIntegersPass();

} // namespace stn

#endif // STN_COMPILER_PASSES_H
