//===- FormatSpec.h - Python's format spec mini-language -------*- C++ -*-===//
//
// What follows ':' in an f-string's field, `f"{x:>8.3f}"`:
//
//   [[fill]align][sign][#][0][width][grouping][.precision][type]
//
// parsed here for the type checker (which rejects what stn cannot show)
// and for the runtime (runtime/lib/ArrayFormat.h, pythonFormat), which
// formats a number as Python's format(x, spec) does. A field with a spec
// is marked in a message text (KernelFaults.h) as kRaisedValue, 'S', the
// spec, kRaisedValue, then the value's own letter.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_FORMATSPEC_H
#define STN_COMPILER_FORMATSPEC_H

#include <optional>
#include <string>
#include <string_view>

namespace stn {

struct FormatSpec {
  char fill = ' ';
  char align = 0;    ///< '<', '>', '^', '=' (padding after the sign), or 0
  char sign = '-';   ///< '-', '+' or ' '
  bool alternate = false; ///< '#': 0x/0o/0b prefixes, a kept decimal point
  int width = 0;
  char grouping = 0; ///< ',' or '_' between groups of digits, or 0
  int precision = -1;
  char type = 0;     ///< b c d e E f F g G n o s x X %, or 0
};

/// The kinds of value a spec formats.
enum class FormatOperand { Integer, Bool, Float, Complex };

/// Parses `spec`; nullopt with `error` set where it is not a valid spec or
/// uses what stn does not support (a nested field, the 'z' option).
std::optional<FormatSpec> parseFormatSpec(std::string_view spec, std::string &error);

/// Whether `spec` can format a value of kind `x`, as Python's format()
/// would accept it (integers take b d n o x X and the float types; floats
/// e E f F g G n % and none; complex numbers no spec but an empty one);
/// else `error` says why.
bool formatSpecFits(const FormatSpec &spec, FormatOperand x, std::string &error);

} // namespace stn

#endif // STN_COMPILER_FORMATSPEC_H
