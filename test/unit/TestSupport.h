//===- TestSupport.h - Helpers shared by the unit tests ---------*- C++ -*-===//
//
// Small helpers several test files need: the message of the stn::Error a
// call throws, and engine options without the on-disk cache.
//
//===----------------------------------------------------------------------===//

#ifndef STN_TEST_UNIT_TESTSUPPORT_H
#define STN_TEST_UNIT_TESTSUPPORT_H

#include "stn/stn.h"

#include <functional>
#include <string>

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

} // namespace stn::test

#endif // STN_TEST_UNIT_TESTSUPPORT_H
