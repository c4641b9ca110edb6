//===- ArrayFormat.h - Python's and NumPy's text of values ------*- C++ -*-===//
//
// What print() in kernel code shows, and stn::toString (stn/Array.h):
//
//   - scalars as Python's str() shows them: floats as their shortest repr
//     (float32 values with their own digits), complex numbers as `(1.5-2j)`
//     and `2j`;
//   - arrays as NumPy's str() with its default print options (precision 8,
//     threshold 1000, edgeitems 3, linewidth 75): one format for every
//     element shown, chosen from all of them, rows wrapped at 75 columns,
//     and arrays of more than 1000 elements summarized with "...";
//   - lists as Python's str() of a list: `[1.5, 2.0, True]`, `[(1, 2.5)]`;
//     sets and dicts as Python's str(): `{1, 2}`, `set()`, `{1: 2.5}`.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_ARRAYFORMAT_H
#define STN_RUNTIME_ARRAYFORMAT_H

#include "stn/Array.h"
#include "stn/Compiler/FormatSpec.h"

#include <cstdint>
#include <string>

namespace stn::detail {

/// Python's repr() of a float: `2.0`, `0.1`, `1e+16`, `inf`, `nan`.
std::string pythonFloat(double x);
/// The same with a float32's own shortest digits (`0.1`, not `0.10000000149`).
std::string pythonFloat(float x);
/// Python's repr() of a complex number: `2j` where the real part is +0,
/// else `(1.5-2j)`, the parts without a trailing ".0".
std::string pythonComplex(double re, double im);
std::string pythonComplex(float re, float im);

/// Python's format(x, spec) of an integer (`isUnsigned`: the bits of a
/// uint64) and of a float (a float32 is formatted as the float64 it
/// converts to, as NumPy's float32.__format__ does for a spec).
std::string pythonFormat(const FormatSpec &spec, int64_t x, bool isUnsigned);
std::string pythonFormat(const FormatSpec &spec, double x);

/// NumPy's str() of `a` (a 0-d array: its element's str()).
std::string numpyStr(const ArrayView &a);

/// Python's str() of a list of the `n` elements of type `dt` at `data`.
std::string pythonList(DType dt, const void *data, int64_t n);

/// What compiled code passes print() for an array or a list: the address
/// (an int64 word) of `kind, rank, data address, sizes[rank],
/// strides[rank]` (int64; ScalarKind; strides in elements).
std::string kernelArrayText(int64_t descriptor, bool asList);

/// Python's str() of a list of tuples (`style` 'l'), a set ('s') or a
/// dict ('d') from what compiled code passes print() (MLIRGen.cpp,
/// printedCollection): the address of `n, live flags (uint8 per entry, or
/// 0: all live), then kind and address of each number's storage`. `key`
/// and `value`: 0 where the item (key) or value is a number, else the
/// length of its tuple.
std::string kernelCollectionText(int64_t descriptor, char style, int key, int value);

} // namespace stn::detail

#endif // STN_RUNTIME_ARRAYFORMAT_H
