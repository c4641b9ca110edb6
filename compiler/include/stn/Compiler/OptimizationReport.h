//===- OptimizationReport.h - What the compiler did to a kernel -*- C++ -*-===//
//
// `stn ir FILE KERNEL --emit=diagnostics` (like Numba's
// parallel_diagnostics): which loops run on threads with which reductions
// and private variables, which array expressions were fused into one loop
// nest, and which loops LLVM vectorized (and at what width) or why not.
//
// The facts come from two places. MLIRGen records its own decisions in a
// CodegenLog while it generates the module; LLVM reports the vectorizers'
// decisions as optimization remarks during O3, which are collected only for
// this report (the normal compilation installs no handler and carries no
// debug info). OptimizationReport.cpp formats both, sorted by source line.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_OPTIMIZATIONREPORT_H
#define STN_COMPILER_OPTIMIZATIONREPORT_H

#include "stn/Compiler/Sema.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
} // namespace llvm

namespace stn {

/// Decisions MLIRGen made, recorded only when a report is requested.
struct CodegenLog {
  /// A prange loop split over a team of threads (MLIRGen's genParallelFor).
  struct ParallelLoop {
    const TypedFunction *fn;
    const ast::For *loop;
    int64_t workPerIteration; ///< MLIRGen's estimate, in simple operations
    int64_t minParallelWork;  ///< below this total the loop runs on one thread
  };
  /// The root of an elementwise array expression tree, computed by one
  /// loop nest (MLIRGen's lazy arrays).
  struct FusedExpression {
    const TypedFunction *fn;
    const ast::Expr *root;
    bool parallel; ///< the loop nest's outer axis is split over threads
  };
  std::vector<ParallelLoop> parallelLoops;
  std::vector<FusedExpression> fusedExpressions;
};

/// One LLVM optimization remark, reduced to what the report needs.
struct OptimizationRemark {
  enum class Kind { Passed, Missed, Analysis };
  Kind kind = Kind::Passed;
  std::string pass;     ///< "loop-vectorize", "slp-vectorizer"
  std::string name;     ///< the remark's identifier, e.g. "Vectorized"
  std::string message;  ///< LLVM's text
  std::string function; ///< the LLVM function it was emitted in
  std::string file;     ///< the source file of its debug location ("" if none)
  unsigned line = 0, column = 0;
};

/// Makes `ctx` collect the vectorizers' remarks into `out` (and swallow every
/// other diagnostic) from now on. `out` must outlive the optimization.
void collectOptimizationRemarks(llvm::LLVMContext &ctx, std::vector<OptimizationRemark> &out);

/// The readable report for `f` (see docs/cli.md).
std::string formatOptimizationReport(const TypedFunction &f, const CodegenLog &log,
                                     const std::vector<OptimizationRemark> &remarks,
                                     unsigned optLevel);

} // namespace stn

#endif // STN_COMPILER_OPTIMIZATIONREPORT_H
