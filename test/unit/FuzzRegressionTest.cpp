//===- FuzzRegressionTest.cpp - Replay every saved fuzzer finding ---------===//
//
// Each file under test/fuzz/regressions/ once crashed, hung or leaked in a
// fuzz target (test/fuzz, docs/fuzzing.md). The tests run it through the
// same function the fuzzer calls (stn::fuzz::runCompiler / runNpy), without
// libFuzzer, so the normal build and the sanitizer builds keep checking
// that the bug stays fixed: a crash fails the test binary, a hang hits
// ctest's timeout, a leak fails the ASan build.
//
// A second group checks the harness itself: the seeds (dsl-examples) must get
// all the way to the lowered stage, or the fuzzer would be testing nothing.
//
//===----------------------------------------------------------------------===//

#include "FuzzTargets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string readBytes(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Files directly in `dir` whose name ends in `ext`, sorted.
std::vector<fs::path> filesIn(const fs::path &dir, const std::string &ext) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir))
    for (auto &e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ext)
        out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

stn::fuzz::CompilerStats compileFile(const fs::path &p) {
  std::string bytes = readBytes(p);
  return stn::fuzz::runCompiler(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
}

const fs::path RegressionsDir = STN_FUZZ_REGRESSIONS_DIR;

TEST(FuzzRegressions, CompilerInputsDoNotCrash) {
  auto files = filesIn(RegressionsDir, ".stn");
  ASSERT_FALSE(files.empty()) << "no .stn files in " << RegressionsDir;
  for (auto &f : files) {
    SCOPED_TRACE(f.filename().string());
    compileFile(f); // must return: no crash, no hang, no leak
  }
}

TEST(FuzzRegressions, NpyInputsDoNotCrash) {
  for (auto &f : filesIn(RegressionsDir / "npy", ".npy")) {
    SCOPED_TRACE(f.filename().string());
    std::string bytes = readBytes(f);
    stn::fuzz::runNpy(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
}

TEST(FuzzHarness, ExamplesReachTheLoweredStage) {
  auto files = filesIn(STN_EXAMPLES_DIR, ".stn");
  ASSERT_FALSE(files.empty());
  unsigned lowered = 0;
  for (auto &f : files) {
    SCOPED_TRACE(f.filename().string());
    auto stats = compileFile(f);
    EXPECT_TRUE(stats.parsed);
    EXPECT_TRUE(stats.loaded);
    EXPECT_GT(stats.kernels, 0u);
    lowered += stats.lowered;
  }
  EXPECT_GT(lowered, files.size());
}

TEST(FuzzHarness, MatmulIsSpecializedForArrays) {
  auto stats = compileFile(fs::path(STN_EXAMPLES_DIR) / "matmul.stn");
  EXPECT_TRUE(stats.loaded);
  EXPECT_GE(stats.lowered, 1u);
}

TEST(FuzzHarness, NpyRoundTripOfAValidFile) {
  // 1-d float64 [1.0, 2.0], format 1.0.
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  double values[] = {1.0, 2.0};
  bytes.append(reinterpret_cast<const char *>(values), sizeof values);
  EXPECT_TRUE(
      stn::fuzz::runNpy(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()));
  EXPECT_FALSE(stn::fuzz::runNpy(reinterpret_cast<const uint8_t *>("\x93NUMPY"), 6));
}

} // namespace
