//===- FormatSpec.cpp - Python's format spec mini-language ----------------===//
//
// See FormatSpec.h. The grammar and the errors follow Python's
// format_spec (Python/formatter_unicode.c's rules, written from its
// documentation).
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/FormatSpec.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>

namespace stn {

namespace {

bool isAlign(char c) { return c == '<' || c == '>' || c == '^' || c == '='; }

/// Reads a run of digits at `i` into `out` (false where it overflows).
bool readNumber(std::string_view s, size_t &i, int &out) {
  long v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + (s[i++] - '0');
    if (v > 10000)
      return false;
  }
  out = static_cast<int>(v);
  return true;
}

} // namespace

std::optional<FormatSpec> parseFormatSpec(std::string_view s, std::string &error) {
  FormatSpec f;
  size_t i = 0;
  if (s.find('{') != std::string_view::npos || s.find('}') != std::string_view::npos) {
    error = "a format spec with a nested field ({...}) is not supported";
    return std::nullopt;
  }
  if (s.size() >= 2 && isAlign(s[1])) {
    if (static_cast<unsigned char>(s[0]) < 0x20) {
      error = "a control character as the fill of a format spec is not supported";
      return std::nullopt;
    }
    f.fill = s[0];
    f.align = s[1];
    i = 2;
  } else if (!s.empty() && isAlign(s[0])) {
    f.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' '))
    f.sign = s[i++];
  if (i < s.size() && s[i] == 'z') {
    error = "the 'z' option of format specs is not supported";
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '#') {
    f.alternate = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    // '0' before the width: zeros between the sign and the digits, unless
    // an alignment is given.
    if (!f.align) {
      f.fill = '0';
      f.align = '=';
    }
    ++i;
  }
  bool tooLarge = false;
  if (!readNumber(s, i, f.width))
    tooLarge = true;
  if (i < s.size() && (s[i] == ',' || s[i] == '_'))
    f.grouping = s[i++];
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) {
    error = "Cannot specify both ',' and '_'.";
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i == s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) {
      error = "Format specifier missing precision";
      return std::nullopt;
    }
    if (!readNumber(s, i, f.precision))
      tooLarge = true;
  }
  if (tooLarge) {
    error = "a width or precision above 10000 in a format spec is not supported";
    return std::nullopt;
  }
  if (i + 1 == s.size() && std::strchr("bcdeEfFgGnosxX%", s[i]))
    f.type = s[i++];
  if (i != s.size()) {
    error = fmt::format("Invalid format specifier '{}'", s);
    return std::nullopt;
  }
  if (f.grouping && f.type == 'n') {
    error = fmt::format("Cannot specify '{}' with 'n'.", f.grouping);
    return std::nullopt;
  }
  return f;
}

bool formatSpecFits(const FormatSpec &f, FormatOperand x, std::string &error) {
  const char *name = x == FormatOperand::Integer ? "int"
                     : x == FormatOperand::Bool  ? "bool"
                     : x == FormatOperand::Float ? "float"
                                                 : "complex";
  auto unknown = [&] {
    error = fmt::format("Unknown format code '{}' for object of type '{}'", f.type, name);
    return false;
  };
  bool floatType = f.type && std::strchr("eEfFgG%", f.type);
  switch (x) {
  case FormatOperand::Integer:
  case FormatOperand::Bool:
    if (f.type == 'c' || f.type == 's') {
      error = fmt::format("format code '{}' shows text; stn kernels have no strings", f.type);
      return false;
    }
    if (floatType)
      return true;
    if (f.precision >= 0) {
      error = "Precision not allowed in integer format specifier";
      return false;
    }
    if (f.grouping == ',' && f.type && f.type != 'd') {
      error = fmt::format("Cannot specify ',' with '{}'.", f.type);
      return false;
    }
    return true;
  case FormatOperand::Float:
    if (f.type && !floatType && f.type != 'n')
      return unknown();
    return true;
  case FormatOperand::Complex:
    error = "format specs of complex numbers are not supported";
    return false;
  }
  return false;
}

} // namespace stn
