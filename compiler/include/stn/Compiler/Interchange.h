//===- Interchange.h - Scalar expansion + loop interchange ------*- C++ -*-===//
//
// Recognizes, on the typed syntax tree, the loop nest of the textbook matrix
// product
//
//   for j in range(J):          # `outer`
//       tmp = <init>            # `init`
//       for k in range(K):      # `inner`
//           tmp += <e>          # `update`
//       C[<idx>] = tmp          # `store`
//
// whose inner loop walks a column of B. MLIRGen then emits it with `tmp`
// expanded into a row buffer T[0:J] and the two loops interchanged:
//
//   for j: T[j] = <init>
//   for k: for j: T[j] += <e>     # the inner loop walks rows: it vectorizes
//   for j: C[<idx>] = T[j]
//
// Every T[j] sees the same operations in the same order as tmp did for that
// j, so the results are bit-identical. The arrays read by `init` and
// `update` must not overlap the stored array: the code generator checks
// their address ranges at run time and runs the original nest when they do
// (docs/performance.md, "Loop interchange", lists the conditions).
//
// This header has no MLIR: the analysis lives in libstn with Sema.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_INTERCHANGE_H
#define STN_COMPILER_INTERCHANGE_H

#include "stn/Compiler/Sema.h"

#include <optional>
#include <string>
#include <vector>

namespace stn {

/// A loop nest that may be scalar-expanded and interchanged.
struct InterchangePlan {
  const ast::For *outer = nullptr;   ///< `for j in range(...)`
  const ast::Assign *init = nullptr; ///< `tmp = <init>`
  const ast::For *inner = nullptr;   ///< `for k in range(...)`
  const ast::Stmt *update = nullptr; ///< `tmp += e` or `tmp = <expr of tmp>`
  const ast::Assign *store = nullptr; ///< `C[idx] = <expr of tmp>`
  std::string acc;                   ///< tmp
  std::string target;                ///< C
  /// Arrays (by variable name) read by `init`, `update` or the inner loop's
  /// bounds; none is `target`. Each must not overlap `target` at run time.
  std::vector<std::string> reads;
};

/// The plan for `loop` in `f`, or nothing when the nest does not have the
/// shape above or the transformation could change what the kernel does.
std::optional<InterchangePlan> findInterchange(const TypedFunction &f, const ast::For &loop);

/// False when the environment variable STN_INTERCHANGE is "0" (read once).
bool interchangeEnabled();

} // namespace stn

#endif // STN_COMPILER_INTERCHANGE_H
