//===- NpyFuzzer.cpp - libFuzzer entry: bytes as a .npy file ---------------===//
//
// Build and run: docs/fuzzing.md. The body is stn::fuzz::runNpy
// (NpyTarget.cpp), shared with test/unit/FuzzRegressionTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "FuzzTargets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stn::fuzz::runNpy(data, size);
  return 0;
}
