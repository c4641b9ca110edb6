//===- Sha256.h - SHA-256 for cache keys and entry checksums ----*- C++ -*-===//
//
// FIPS 180-4 SHA-256. libstn computes cache keys on warm starts without
// loading LLVM, so it carries its own (small) implementation.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_SHA256_H
#define STN_RUNTIME_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stn::detail {

std::array<uint8_t, 32> sha256(const void *data, size_t size);
inline std::array<uint8_t, 32> sha256(std::string_view s) { return sha256(s.data(), s.size()); }

} // namespace stn::detail

#endif // STN_RUNTIME_SHA256_H
