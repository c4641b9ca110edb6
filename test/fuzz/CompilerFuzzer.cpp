//===- CompilerFuzzer.cpp - libFuzzer entry: .stn source to lowered MLIR ---===//
//
// Build and run: docs/fuzzing.md. The body is stn::fuzz::runCompiler
// (CompilerTarget.cpp), shared with test/unit/FuzzRegressionTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "FuzzTargets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  stn::fuzz::runCompiler(data, size);
  return 0;
}
