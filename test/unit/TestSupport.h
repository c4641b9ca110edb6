//===- TestSupport.h - Helpers shared by the unit tests ---------*- C++ -*-===//
//
// Small helpers several test files need: the message of the stn::Error a
// call throws, engine options without the on-disk cache, and the elements
// of an array a kernel returned.
//
//===----------------------------------------------------------------------===//

#ifndef STN_TEST_UNIT_TESTSUPPORT_H
#define STN_TEST_UNIT_TESTSUPPORT_H

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stn::test {

/// The message of the stn::Error that `fn` throws, or "<no error>".
inline std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const stn::Error &e) {
    return e.what();
  }
  return "<no error>";
}

/// Engine options that keep compiled kernels out of the on-disk cache, with
/// `threads` threads for parallel loops (0: the default).
inline stn::EngineOptions noCache(unsigned threads = 0) {
  stn::EngineOptions o;
  o.cacheEnabled = false;
  o.numThreads = threads;
  return o;
}

/// The elements of the array `v` (a kernel's result), in C order, after
/// checking that it has `shape`.
template <class T> std::vector<T> valuesOf(const stn::Value &v, std::vector<int64_t> shape) {
  const stn::Array &a = v.array();
  EXPECT_EQ(a.shape(), shape);
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return std::vector<T>(a.data<T>(), a.data<T>() + n);
}

} // namespace stn::test

#endif // STN_TEST_UNIT_TESTSUPPORT_H
