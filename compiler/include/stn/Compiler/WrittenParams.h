//===- WrittenParams.h - Which array arguments a kernel writes ---*- C++ -*-===//
//
// The host API refuses a call that would write into an array the host
// marked read-only (ArrayView::readonly). This analysis of the typed syntax
// tree finds, for each parameter of a specialization, the first place that
// may write into the array passed for it: an element or slice store, an
// in-place update (`a += 1`, `a[i] *= 2`), a masked store, a store through
// a local that may be a view of it (`r = a[1:]; r[0] = 0`), or a call of a
// kernel that writes the corresponding parameter (out= of a stencil, ufunc
// or gufunc included). It over-approximates: a local assigned from an
// expression that mentions an alias and is not a fresh array is an alias.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_WRITTENPARAMS_H
#define STN_COMPILER_WRITTENPARAMS_H

#include "stn/Compiler/Sema.h"

#include <optional>
#include <vector>

namespace stn {

/// Where a parameter may be written.
struct ParamWrite {
  const TypedFunction *function = nullptr; ///< the function that contains the write
  SourceRange range;
};

/// For each argument of `f` (out= last where f.hasOut), the first write
/// found, or nothing.
std::vector<std::optional<ParamWrite>> writtenParameters(const TypedFunction &f);

} // namespace stn

#endif // STN_COMPILER_WRITTENPARAMS_H
