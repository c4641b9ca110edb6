//===- GpuRegions.h - prange nests of @jit(target="cuda") kernels -*- C++ -*-===//
//
// A `@jit(target="cuda")` kernel runs on the host, and each of its prange
// loop nests that is not inside another one (a "region") runs on the GPU,
// one thread per iteration:
//
//   @jit(target="cuda")
//   def step(u, v, c):
//       n, m = u.shape                     # host
//       for i in prange(1, n - 1):         # region 0: a 2-d grid, j on x
//           for j in prange(1, m - 1):
//               v[i, j] = u[i, j] + c * (...)
//
// planGpuRegions finds the regions of a specialization after type
// inference: the prange loops it spreads over the grid (a prange that is
// the whole body of the one before it joins the nest, up to three), the
// locals the nest reads from the host part, and its reductions; and it
// makes each region's kernel, a TypedFunction sharing the host function's
// typing whose parameters are
//
//   1. the free variables' values (arrays as device descriptors; a
//      complex value as its real and imaginary parts, two floats, and a
//      tuple holding one as its leaves: gpuRegionFreeParams),
//   2. per grid loop: its start, step and trip count (int64),
//   3. per reduction cell: a one-element device array holding, on entry,
//      the value before the loop, and on exit the reduced value; twice,
//      typed and as an integer of the same width (compare-and-swap loops).
//      A reduction has one cell, a complex sum two (its parts, each summed
//      on its own: gpuRegionReductionCells).
//
// MLIRGen generates the host function with each region replaced by a call
// of `_stn_gpu_launch` (GpuLaunchFunction) and each region kernel as a GPU
// kernel; the runtime (Engine.cpp) launches them. Arrays the host part
// sees are the device copies of the arguments: it may read their shapes
// and take views, but array elements are read and written only inside the
// regions (MLIRGen checks, with a diagnostic at the offending expression).
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_GPUREGIONS_H
#define STN_COMPILER_GPUREGIONS_H

#include "stn/Compiler/Sema.h"

namespace stn {

/// Fills `f.gpuRegions` for a specialization of a `@jit(target="cuda")`
/// kernel (KernelDecl::gpuLoops). False on error (reported).
bool planGpuRegions(TypedFunction &f, DiagnosticEngine &diags);

/// The runtime function the host part calls for each region:
///   void _stn_gpu_launch(int64 region, int64 slots, int64 n0, int64 n1, int64 n2)
/// `slots` is the address of one 8-byte slot per field of the kernel's
/// parameters 1 and 2 (a scalar's value, zero-extended; an array's
/// descriptor fields, pointers first), then one per reduction cell (the
/// value before the loop, replaced by the result when the call returns);
/// n0..n2 are the trip counts of the grid loops (1 for missing ones).
constexpr const char *GpuLaunchFunction = "_stn_gpu_launch";

/// Appends the kernel parameters of a free variable of type `t`: `t`
/// itself, or, when it holds complex values, its leaves with each complex
/// one as two floats (real, imaginary).
void gpuRegionFreeParams(const Type &t, std::vector<Type> &params);

/// The number of reduction cells (and result slots) of region `r` of
/// `host`: one per reduction, two per complex sum.
unsigned gpuRegionReductionCells(const GpuRegion &r, const TypedFunction &host);

/// The number of 8-byte slots the kernel parameters of `r` take (without
/// the reductions): what the runtime passes, one pointer per slot.
unsigned gpuRegionParamSlots(const TypedFunction &kernel);

} // namespace stn

#endif // STN_COMPILER_GPUREGIONS_H
