//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Part of the stn public API. Covers every stn dtype (bool, int8..int64,
// uint8..uint64, float32/64, complex64/128), both byte orders on read
// (converted to native), C and Fortran order, format versions 1.0-3.0.
// Anything else (object arrays, structured dtypes, strings) is rejected
// with an stn::Error that says what was found.
//
//===----------------------------------------------------------------------===//

#ifndef STN_NPY_H
#define STN_NPY_H

#include "stn/Array.h"

#include <string>

namespace stn {

/// Reads an .npy file into an owning array (Fortran-ordered files keep
/// their Fortran strides). Throws stn::Error.
Array readNpy(const std::string &path);
/// Writes any view as a C-ordered, native little-endian .npy (version 1.0).
/// Throws stn::Error.
void writeNpy(const std::string &path, const ArrayView &array);

} // namespace stn

#endif // STN_NPY_H
