//===- ArrayOwnership.h - Array variables a kernel may free early -*- C++ -*-===//
//
// A kernel that reassigns an array variable in a loop,
//
//   for i in range(10000):
//       v2 = np.sin(v1)
//       v1 = np.arcsin(v2)
//
// would keep every iteration's arrays until the call returns (the arena of
// runtime/lib/KernelRuntime.cpp frees them then). MLIRGen frees the old
// value of such a variable when it is overwritten, if
//
//   - the variable is *unique*: its value never reaches another variable,
//     a tuple, a view kept in a variable, or a kernel that could return
//     it (uniqueArrayVariables), so nothing else can refer to the array;
//   - the old value was allocated by the kernel for this variable
//     (isFreshArray: an array expression or an array-creating builtin),
//     tracked at run time by a flag per variable that MLIRGen keeps in SSA
//     form next to the variable (parallel regions start it at false: the
//     value from before the loop is shared by the threads);
//   - the new value does not share the old one's memory (checked at run
//     time).
//
// This header has no MLIR: the analysis walks the typed syntax tree.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_ARRAYOWNERSHIP_H
#define STN_COMPILER_ARRAYOWNERSHIP_H

#include "stn/Compiler/Sema.h"

#include <set>
#include <string>

namespace stn {

/// The array variables (parameters included) of `f` that are unique.
std::set<std::string> uniqueArrayVariables(const TypedFunction &f);

/// Whether evaluating `e` allocates a new array that nothing else refers
/// to: an elementwise array expression or an array-valued builtin call.
bool isFreshArray(const TypedFunction &f, const ast::Expr &e);

} // namespace stn

#endif // STN_COMPILER_ARRAYOWNERSHIP_H
