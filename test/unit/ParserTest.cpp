//===- ParserTest.cpp - Tests of the stn front end ------------------------===//
#include "stn/Compiler/Parser.h"
#include <gtest/gtest.h>
using namespace stn;
TEST(Smoke, Parse) {
  auto file = std::make_shared<SourceFile>("t.stn", "x = 1\n");
  DiagnosticEngine d;
  auto m = parseModule(file, d);
  EXPECT_FALSE(d.hasErrors());
  EXPECT_EQ(ast::printModule(*m), "(module\n  (global x (int 1)))\n");
}
