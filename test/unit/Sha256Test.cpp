//===- Sha256Test.cpp - libstn's SHA-256 against FIPS 180-4's vectors -----===//
//
// Cache keys and entry checksums use runtime/lib/Sha256.cpp (libstn carries
// its own so that warm starts need no LLVM); these are the standard's
// published test vectors, including the multi-block and padding edge cases.
//
//===----------------------------------------------------------------------===//

#include "Sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string hexOf(const std::string &s) {
  auto h = stn::detail::sha256(s);
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : h) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

TEST(Sha256, StandardVectors) {
  EXPECT_EQ(hexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hexOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hexOf(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // 55 bytes fit one padded block, 56 need two; both differ from 64.
  EXPECT_EQ(hexOf(std::string(55, 'x')).size(), 64u);
  EXPECT_NE(hexOf(std::string(55, 'x')), hexOf(std::string(56, 'x')));
  EXPECT_NE(hexOf(std::string(63, 'x')), hexOf(std::string(64, 'x')));
  EXPECT_EQ(hexOf(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

} // namespace
