//===- FormatSpecTest.cpp - f-string format specs against Python ----------===//
//
// Part of the stn unit tests (stn-unit-tests).
//
// FormatCases.inc holds integers and floats, format specs and Python's own
// format(value, spec) of each (generated with Python by
// Inputs/gen-format-cases.py): every alignment, sign, '#', '0', width,
// grouping, precision and type, for values that round both ways, zeros of
// both signs, infinities, NaN and the extremes of int64 and uint64. The
// runtime's formatter (what print(f"{x:spec}") shows) must give the same
// text; the spec parser must reject what Python rejects.
//
//===----------------------------------------------------------------------===//

#include "ArrayFormat.h"

#include "stn/Compiler/FormatSpec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

struct Case {
  char kind;
  const char *value, *spec, *expected;
};

const Case Cases[] = {
#include "FormatCases.inc"
};

TEST(FormatSpec, PythonsFormatOfNumbers) {
  ASSERT_GT(std::size(Cases), 1000u);
  for (const Case &c : Cases) {
    std::string err;
    auto spec = stn::parseFormatSpec(c.spec, err);
    ASSERT_TRUE(spec) << c.spec << ": " << err;
    std::string got;
    if (c.kind == 'd') {
      EXPECT_TRUE(stn::formatSpecFits(*spec, stn::FormatOperand::Float, err)) << c.spec;
      got = stn::detail::pythonFormat(*spec, std::strtod(c.value, nullptr));
    } else {
      EXPECT_TRUE(stn::formatSpecFits(*spec, stn::FormatOperand::Integer, err)) << c.spec;
      int64_t v = c.kind == 'u' ? static_cast<int64_t>(std::strtoull(c.value, nullptr, 10))
                                : std::strtoll(c.value, nullptr, 10);
      got = stn::detail::pythonFormat(*spec, v, c.kind == 'u');
    }
    EXPECT_EQ(got, c.expected) << "format(" << c.value << ", '" << c.spec << "')";
  }
}

TEST(FormatSpec, WhatPythonRejects) {
  auto parseError = [](const char *spec) {
    std::string err;
    return stn::parseFormatSpec(spec, err) ? std::string("<parsed>") : err;
  };
  EXPECT_EQ(parseError(",_d"), "Cannot specify both ',' and '_'.");
  EXPECT_EQ(parseError(".f"), "Format specifier missing precision");
  EXPECT_EQ(parseError("5q"), "Invalid format specifier '5q'");
  EXPECT_EQ(parseError(",n"), "Cannot specify ',' with 'n'.");
  EXPECT_EQ(parseError("{x}"), "a format spec with a nested field ({...}) is not supported");
  EXPECT_EQ(parseError("\x01<5"),
            "a control character as the fill of a format spec is not supported");
  EXPECT_EQ(parseError("z.2f"), "the 'z' option of format specs is not supported");
  EXPECT_EQ(parseError("99999"),
            "a width or precision above 10000 in a format spec is not supported");
  auto fitError = [](const char *spec, stn::FormatOperand x) {
    std::string err;
    auto f = stn::parseFormatSpec(spec, err);
    EXPECT_TRUE(f) << spec;
    return stn::formatSpecFits(*f, x, err) ? std::string("<fits>") : err;
  };
  EXPECT_EQ(fitError(".2d", stn::FormatOperand::Integer),
            "Precision not allowed in integer format specifier");
  EXPECT_EQ(fitError(",x", stn::FormatOperand::Integer), "Cannot specify ',' with 'x'.");
  EXPECT_EQ(fitError("d", stn::FormatOperand::Float),
            "Unknown format code 'd' for object of type 'float'");
  EXPECT_EQ(fitError("x", stn::FormatOperand::Float),
            "Unknown format code 'x' for object of type 'float'");
  EXPECT_EQ(fitError(">5", stn::FormatOperand::Complex),
            "format specs of complex numbers are not supported");
  EXPECT_EQ(fitError(".2f", stn::FormatOperand::Integer), "<fits>");
  EXPECT_EQ(fitError(">5", stn::FormatOperand::Bool), "<fits>");
}

} // namespace
