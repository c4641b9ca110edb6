//===- CallChecks.h - Shape checks before a kernel call ---------*- C++ -*-===//
//
// What a kernel's kind demands of its arguments' shapes, checked by the host
// API before the call so that a mismatch is an stn::Error naming the
// parameter instead of an out-of-bounds access: stencil inputs of one shape,
// ufunc arguments that broadcast, gufunc core dimensions that agree, and an
// out= array of the result's shape.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_CALLCHECKS_H
#define STN_RUNTIME_CALLCHECKS_H

#include "stn/Compiler/Sema.h"
#include "stn/Value.h"

#include <vector>

namespace stn {

/// Throws stn::Error if `args` (with out= last when `hasOut`) do not fit `k`
/// (defined in `file`); the message ends with a note saying where `k` is.
/// Returns the shape of the result of a stencil, ufunc or gufunc call (of
/// the first relatively indexed input, the broadcast shape, the outer
/// shape and the output's core dimensions); empty for other kernels.
std::vector<int64_t> checkCallShapes(const KernelDecl &k, const SourceFile &file,
                                     const std::vector<Arg> &args, bool hasOut);

} // namespace stn

#endif // STN_RUNTIME_CALLCHECKS_H
