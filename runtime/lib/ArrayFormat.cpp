//===- ArrayFormat.cpp - Python's and NumPy's text of values --------------===//
//
// See ArrayFormat.h. NumPy's str() of an array is reproduced from its
// documented behaviour: every element shown is formatted with one format
// chosen from all of them (integers right-aligned to the widest; floats in
// positional notation with the shortest digits that identify each value,
// at most 8 after the point, the points aligned, unless a nonzero value is
// at least 1e8 (1e6 for float32, since NumPy 2.3) or below 1e-4 or the
// largest is more than 1000 times the smallest, when all are in scientific
// notation with as many digits as the longest needs), rows wrapped to 75
// columns, nested axes on new lines.
//
//===----------------------------------------------------------------------===//

#include "ArrayFormat.h"

#include "stn/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <complex>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

namespace stn::detail {

namespace {

constexpr int kPrecision = 8;       // np.get_printoptions()["precision"]
constexpr int64_t kThreshold = 1000; // ["threshold"]
constexpr int64_t kEdgeItems = 3;    // ["edgeitems"]
constexpr int64_t kLineWidth = 75;   // ["linewidth"]

template <class T> T load(const char *p) {
  T x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

/// Python's repr(): the shortest digits, an exponent below 1e-4 and from
/// 1e16 on (fmt's default follows Python's rules), "inf" and "nan".
template <class T> std::string floatRepr(T x) {
  if (std::isnan(x)) // Python shows no sign on a nan
    return "nan";
  std::string s = fmt::format("{}", x);
  if (s.find_first_not_of("-0123456789") == std::string::npos)
    s += ".0";
  return s;
}

template <class T> std::string complexRepr(T re, T im) {
  // The parts without a trailing ".0": 2, 2.5, inf, nan.
  auto part = [](T x) { return std::isnan(x) ? std::string("nan") : fmt::format("{}", x); };
  if (re == 0 && !std::signbit(re))
    return part(im) + "j";
  return fmt::format("({}{}{}j)", part(re), std::signbit(im) && !std::isnan(im) ? '-' : '+', part(std::fabs(im)));
}

//===----------------------------------------------------------------------===//
// Digits of one float, as NumPy's Dragon4 gives them
//===----------------------------------------------------------------------===//

/// A float's text in parts: the integer part with its sign, the digits
/// after the point (no trailing zeros), and in scientific notation the
/// exponent with its sign ("-05").
struct Digits {
  std::string whole, frac, exp;
};

void splitPoint(const std::string &s, Digits &d) {
  size_t dot = s.find('.');
  d.whole = s.substr(0, dot);
  d.frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  while (!d.frac.empty() && d.frac.back() == '0')
    d.frac.pop_back();
}

/// The shortest digits that identify `x`, rounded (half to even, from the
/// exact value) to at most `precision` after the point where more are
/// needed, and to `minDigits` where fewer are (more digits of the exact
/// value, not zeros). Scientific where `sci`. `plus`: a '+' before values
/// without a minus sign.
template <class T> Digits digits(T x, int precision, bool sci, bool plus, int minDigits = 0) {
  char buf[512];
  auto format = sci ? std::chars_format::scientific : std::chars_format::fixed;
  auto r = std::to_chars(buf, buf + sizeof buf, x, format);
  auto split = [&] {
    std::string s(buf, r.ptr);
    Digits d;
    size_t e = s.find('e');
    if (e != std::string::npos) {
      d.exp = s.substr(e + 1);
      s.resize(e);
    }
    splitPoint(s, d);
    return d;
  };
  Digits d = split();
  int have = static_cast<int>(d.frac.size());
  if (have > precision || have < minDigits) {
    r = std::to_chars(buf, buf + sizeof buf, x, format, have > precision ? precision : minDigits);
    d = split();
  }
  if (plus && !std::signbit(x))
    d.whole.insert(d.whole.begin(), '+');
  return d;
}

/// NumPy's FloatingFormat with floatmode="maxprec": fitted to the values
/// shown, then applied to each.
struct FloatFormat {
  bool Plus = false; ///< sign="+" (the imaginary parts of complex numbers)
  bool Exp = false;
  int Precision = kPrecision;
  int MinDigits = 0;
  int PadLeft = 0, PadRight = 0, ExpSize = -1;

  template <class T> void fit(const std::vector<T> &data) {
    std::vector<T> finite;
    bool nonFinite = false, negInf = false;
    for (T x : data) {
      if (std::isfinite(x))
        finite.push_back(x);
      else {
        nonFinite = true;
        negInf |= std::isinf(x) && x < 0;
      }
    }
    T big = 0, small = std::numeric_limits<T>::infinity();
    for (T x : finite)
      if (x != 0) {
        big = std::max(big, std::fabs(x));
        small = std::min(small, std::fabs(x));
      }
    // Compared in T, as NumPy compares an array's values with Python
    // floats. NumPy 2.3 lowered the cutoff for float32 to 10**6 (its
    // finfo precision).
    T cutoff = std::is_same_v<T, float> ? T(1e6) : T(1e8);
    if (big != 0)
      Exp = big >= cutoff || small < T(0.0001) || T(big / small) > T(1000);
    if (!finite.empty()) {
      size_t whole = 0, frac = 0, exp = 0;
      for (T x : finite) {
        Digits d = digits(x, kPrecision, Exp, Plus);
        whole = std::max(whole, d.whole.size());
        frac = std::max(frac, d.frac.size());
        exp = std::max(exp, d.exp.size());
      }
      PadLeft = static_cast<int>(whole);
      if (Exp) {
        ExpSize = static_cast<int>(exp) - 1;
        Precision = MinDigits = static_cast<int>(frac);
        PadRight = ExpSize + 2 + Precision;
      } else {
        PadRight = static_cast<int>(frac);
      }
    }
    if (nonFinite) { // room for "nan", "inf" and "-inf"
      int offset = PadRight + 1;
      PadLeft = std::max({PadLeft, 3 - offset, 3 + int(Plus || negInf) - offset});
    }
  }

  template <class T> std::string operator()(T x) const {
    if (!std::isfinite(x)) {
      std::string s = std::isnan(x) ? (Plus ? "+nan" : "nan")
                      : x < 0       ? "-inf"
                      : Plus        ? "+inf"
                                    : "inf";
      int width = PadLeft + PadRight + 1;
      return std::string(std::max(0, width - static_cast<int>(s.size())), ' ') + s;
    }
    Digits d = digits(x, Precision, Exp, Plus, MinDigits);
    std::string s(std::max(0, PadLeft - static_cast<int>(d.whole.size())), ' ');
    s += d.whole + '.' + d.frac;
    if (static_cast<int>(d.frac.size()) < MinDigits) // digits that are zeros
      s.append(MinDigits - d.frac.size(), '0');
    if (Exp) {
      std::string e = d.exp.substr(1);
      s += fmt::format("e{}{}{}", d.exp[0], std::string(std::max(0, ExpSize - int(e.size())), '0'),
                       e);
    } else {
      s.append(std::max(0, PadRight - static_cast<int>(d.frac.size())), ' ');
    }
    return s;
  }
};

//===----------------------------------------------------------------------===//
// The elements shown and their layout
//===----------------------------------------------------------------------===//

using ElementText = std::function<std::string(const char *)>;

/// Calls `f` on each element NumPy shows of `a` (where `summary`, the first
/// and last kEdgeItems along each axis longer than twice that), in C order.
void forEachShown(const ArrayView &a, bool summary, const std::function<void(const char *)> &f,
                  size_t axis = 0, const char *p = nullptr) {
  if (axis == 0)
    p = static_cast<const char *>(a.data);
  if (axis == a.shape.size()) {
    f(p);
    return;
  }
  int64_t n = a.shape[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (summary && n > 2 * kEdgeItems && i == kEdgeItems)
      i = n - kEdgeItems;
    forEachShown(a, summary, f, axis + 1, p + i * a.strides[axis]);
  }
}

/// NumPy's _formatArray for str(): rows of words separated by a space,
/// wrapped before `width` columns, nested axes on new lines (a blank line
/// more per level), "..." in place of the elements summarized.
class Rows {
public:
  Rows(const ArrayView &a, bool summary, ElementText text)
      : A(a), Summary(summary), Text(std::move(text)) {}

  std::string format() const { return level(0, static_cast<const char *>(A.data), " ", kLineWidth); }

private:
  const ArrayView &A;
  bool Summary;
  ElementText Text;

  std::string level(size_t axis, const char *p, const std::string &hang, int64_t width) const {
    size_t left = A.shape.size() - axis;
    if (left == 0)
      return Text(p);
    int64_t n = A.shape[axis];
    bool cut = Summary && n > 2 * kEdgeItems;
    int64_t lead = cut ? kEdgeItems : 0, trail = cut ? kEdgeItems : n;
    auto item = [&](int64_t i) {
      return level(axis + 1, p + i * A.strides[axis], hang + ' ', width - 1);
    };
    std::string s;
    if (left == 1) {
      size_t room = static_cast<size_t>(width - 1); // leaves a column for ']'
      std::string line = hang;
      auto extend = [&](const std::string &word) {
        // Wrapping a line that holds nothing yet would not help.
        if (line.size() + word.size() > room && line.size() > hang.size()) {
          line.erase(line.find_last_not_of(' ') + 1);
          s += line + '\n';
          line = hang;
        }
        line += word;
      };
      for (int64_t i = 0; i < lead; ++i) {
        extend(item(i));
        line += ' ';
      }
      if (cut) {
        extend("...");
        line += ' ';
      }
      for (int64_t i = trail; i > 1; --i) {
        extend(item(n - i));
        line += ' ';
      }
      extend(item(n - 1));
      s += line;
    } else {
      std::string sep(left - 1, '\n');
      for (int64_t i = 0; i < lead; ++i)
        s += hang + item(i) + sep;
      if (cut)
        s += hang + "..." + sep;
      for (int64_t i = trail; i > 1; --i)
        s += hang + item(n - i) + sep;
      s += hang + item(n - 1);
    }
    return '[' + s.substr(hang.size()) + ']';
  }
};

template <class T> ElementText intText(const ArrayView &a, bool summary) {
  size_t width = 0;
  forEachShown(a, summary, [&](const char *p) {
    width = std::max(width, fmt::format("{}", load<T>(p)).size());
  });
  return [width](const char *p) { return fmt::format("{:>{}}", load<T>(p), width); };
}

template <class T> ElementText floatText(const ArrayView &a, bool summary) {
  std::vector<T> shown;
  forEachShown(a, summary, [&](const char *p) { shown.push_back(load<T>(p)); });
  FloatFormat f;
  f.fit(shown);
  return [f](const char *p) { return f(load<T>(p)); };
}

template <class T> ElementText complexText(const ArrayView &a, bool summary) {
  std::vector<T> re, im;
  forEachShown(a, summary, [&](const char *p) {
    auto z = load<std::complex<T>>(p);
    re.push_back(z.real());
    im.push_back(z.imag());
  });
  FloatFormat fr, fi;
  fi.Plus = true;
  fr.fit(re);
  fi.fit(im);
  return [fr, fi](const char *p) {
    auto z = load<std::complex<T>>(p);
    std::string i = fi(z.imag());
    size_t end = i.find_last_not_of(' ') + 1; // the 'j' goes before the padding
    return fr(z.real()) + i.substr(0, end) + 'j' + i.substr(end);
  };
}

ElementText elementText(const ArrayView &a, bool summary) {
  switch (a.dtype) {
  case DType::Bool:
    return [](const char *p) { return std::string(load<uint8_t>(p) ? " True" : "False"); };
  case DType::Int8: return intText<int8_t>(a, summary);
  case DType::Int16: return intText<int16_t>(a, summary);
  case DType::Int32: return intText<int32_t>(a, summary);
  case DType::Int64: return intText<int64_t>(a, summary);
  case DType::UInt8: return intText<uint8_t>(a, summary);
  case DType::UInt16: return intText<uint16_t>(a, summary);
  case DType::UInt32: return intText<uint32_t>(a, summary);
  case DType::UInt64: return intText<uint64_t>(a, summary);
  case DType::Float32: return floatText<float>(a, summary);
  case DType::Float64: return floatText<double>(a, summary);
  case DType::Complex64: return complexText<float>(a, summary);
  case DType::Complex128: return complexText<double>(a, summary);
  }
  return {};
}

/// Python's repr() of one element (str() for every kind stn has).
std::string scalarText(DType dt, const char *p) {
  switch (dt) {
  case DType::Bool: return load<uint8_t>(p) ? "True" : "False";
  case DType::Int8: return fmt::format("{}", load<int8_t>(p));
  case DType::Int16: return fmt::format("{}", load<int16_t>(p));
  case DType::Int32: return fmt::format("{}", load<int32_t>(p));
  case DType::Int64: return fmt::format("{}", load<int64_t>(p));
  case DType::UInt8: return fmt::format("{}", load<uint8_t>(p));
  case DType::UInt16: return fmt::format("{}", load<uint16_t>(p));
  case DType::UInt32: return fmt::format("{}", load<uint32_t>(p));
  case DType::UInt64: return fmt::format("{}", load<uint64_t>(p));
  case DType::Float32: return floatRepr(load<float>(p));
  case DType::Float64: return floatRepr(load<double>(p));
  case DType::Complex64: {
    auto z = load<std::complex<float>>(p);
    return complexRepr(z.real(), z.imag());
  }
  case DType::Complex128: {
    auto z = load<std::complex<double>>(p);
    return complexRepr(z.real(), z.imag());
  }
  }
  return {};
}

} // namespace

std::string pythonFloat(double x) { return floatRepr(x); }
std::string pythonFloat(float x) { return floatRepr(x); }
std::string pythonComplex(double re, double im) { return complexRepr(re, im); }
std::string pythonComplex(float re, float im) { return complexRepr(re, im); }

//===----------------------------------------------------------------------===//
// Python's format(x, spec) of numbers
//===----------------------------------------------------------------------===//

namespace {

/// `digits` (a run of digits) with `sep` between groups of `every`, from
/// the right; where the padding is zeros after the sign ('0' in the spec),
/// leading zeros first, grouped as well, until `room` characters are
/// filled (Python: format(1234, "010,") is "00,001,234").
std::string grouped(std::string digits, char sep, int every, size_t room) {
  auto group = [&](const std::string &d) {
    std::string out;
    for (size_t i = 0; i < d.size(); ++i) {
      if (i && (d.size() - i) % static_cast<size_t>(every) == 0)
        out += sep;
      out += d[i];
    }
    return out;
  };
  std::string out = group(digits);
  while (out.size() < room) {
    digits.insert(digits.begin(), '0');
    out = group(digits);
  }
  return out;
}

/// The sign, a prefix (0x) and `body`, padded to the spec's width.
std::string padded(const FormatSpec &f, bool negative, const std::string &prefix,
                   const std::string &body) {
  std::string sign = negative ? "-" : f.sign == '+' ? "+" : f.sign == ' ' ? " " : "";
  size_t len = sign.size() + prefix.size() + body.size();
  size_t pad = static_cast<size_t>(f.width) > len ? static_cast<size_t>(f.width) - len : 0;
  std::string fill(pad, f.fill);
  switch (f.align ? f.align : '>') {
  case '<':
    return sign + prefix + body + fill;
  case '^':
    return std::string(pad / 2, f.fill) + sign + prefix + body +
           std::string(pad - pad / 2, f.fill);
  case '=':
    return sign + prefix + fill + body;
  default:
    return fill + sign + prefix + body;
  }
}

/// The room the digits before the point may fill with zeros ('0' flag and
/// grouping): the width less the sign, the prefix and what follows them.
size_t zeroRoom(const FormatSpec &f, bool negative, size_t others) {
  if (!f.grouping || f.align != '=' || f.fill != '0')
    return 0;
  size_t sign = negative || f.sign != '-' ? 1 : 0;
  size_t used = sign + others;
  return static_cast<size_t>(f.width) > used ? static_cast<size_t>(f.width) - used : 0;
}

/// Python's 'g' (and, where `noType`, the float format of no type with a
/// precision: a digit after the point in fixed notation, scientific from
/// exponent p - 1 on) of a finite non-negative `a`, p significant digits.
std::string generalFloat(double a, int p, bool alternate, bool noType) {
  std::string sci = fmt::format("{:.{}e}", a, p - 1);
  int exp = std::atoi(sci.c_str() + sci.find('e') + 1);
  std::string s = exp >= -4 && exp < (noType ? p - 1 : p)
                      ? fmt::format("{:.{}f}", a, std::max(p - 1 - exp, 0))
                      : sci;
  if (!alternate) {
    size_t e = s.find('e');
    std::string mant = s.substr(0, e), tail = e == std::string::npos ? "" : s.substr(e);
    if (mant.find('.') != std::string::npos) {
      while (mant.back() == '0')
        mant.pop_back();
      if (mant.back() == '.')
        mant.pop_back();
    }
    s = mant + tail;
  }
  if (noType && s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

} // namespace

std::string pythonFormat(const FormatSpec &f, int64_t x, bool isUnsigned) {
  if (f.type && std::strchr("eEfFgG%", f.type))
    return pythonFormat(f, isUnsigned ? static_cast<double>(static_cast<uint64_t>(x))
                                      : static_cast<double>(x));
  bool negative = !isUnsigned && x < 0;
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
  std::string digits, prefix;
  switch (f.type) {
  case 'b':
    digits = fmt::format("{:b}", mag);
    prefix = "0b";
    break;
  case 'o':
    digits = fmt::format("{:o}", mag);
    prefix = "0o";
    break;
  case 'x':
  case 'X':
    digits = f.type == 'x' ? fmt::format("{:x}", mag) : fmt::format("{:X}", mag);
    prefix = f.type == 'x' ? "0x" : "0X";
    break;
  default:
    digits = fmt::format("{}", mag);
  }
  if (!f.alternate)
    prefix.clear();
  if (f.grouping)
    digits = grouped(digits, f.grouping, std::strchr("boxX", f.type) && f.type ? 4 : 3,
                     zeroRoom(f, negative, prefix.size()));
  return padded(f, negative, prefix, digits);
}

std::string pythonFormat(const FormatSpec &f, double x) {
  bool negative = std::signbit(x) && !std::isnan(x);
  double a = std::fabs(x);
  bool upper = f.type == 'E' || f.type == 'F' || f.type == 'G';
  int p = f.precision;
  std::string body;
  if (!std::isfinite(a)) {
    body = std::isnan(a) ? "nan" : "inf";
    if (f.type == '%')
      body += '%';
  } else {
    switch (f.type) {
    case 'f':
    case 'F':
    case '%':
      body = fmt::format("{:.{}f}", f.type == '%' ? a * 100 : a, p < 0 ? 6 : p);
      if (f.alternate && p == 0)
        body += '.';
      if (f.type == '%')
        body += '%';
      break;
    case 'e':
    case 'E': {
      body = fmt::format("{:.{}e}", a, p < 0 ? 6 : p);
      if (f.alternate && p == 0)
        body.insert(body.find('e'), ".");
      break;
    }
    case 'g':
    case 'G':
    case 'n':
      body = generalFloat(a, p < 0 ? 6 : std::max(p, 1), f.alternate, false);
      break;
    default:
      body = p < 0 ? pythonFloat(a) : generalFloat(a, std::max(p, 1), f.alternate, true);
    }
  }
  if (upper)
    for (char &c : body)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (f.grouping && std::isfinite(a)) {
    size_t n = body.find_first_not_of("0123456789");
    if (n == std::string::npos)
      n = body.size();
    body = grouped(body.substr(0, n), f.grouping, 3, zeroRoom(f, negative, body.size() - n)) +
           body.substr(n);
  }
  return padded(f, negative, "", body);
}

std::string numpyStr(const ArrayView &a) {
  if (a.shape.empty())
    return scalarText(a.dtype, static_cast<const char *>(a.data));
  int64_t size = a.size();
  if (size == 0)
    return "[]";
  bool summary = size > kThreshold;
  return Rows(a, summary, elementText(a, summary)).format();
}

std::string pythonList(DType dt, const void *data, int64_t n) {
  std::string s = "[";
  const char *p = static_cast<const char *>(data);
  for (int64_t i = 0; i < n; ++i)
    s += (i ? ", " : "") + scalarText(dt, p + i * static_cast<int64_t>(itemSize(dt)));
  return s + ']';
}

std::string kernelCollectionText(int64_t descriptor, char style, int key, int value) {
  const int64_t *w = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(descriptor));
  if (!w)
    return "?";
  int64_t n = w[0];
  const auto *live = reinterpret_cast<const uint8_t *>(static_cast<uintptr_t>(w[1]));
  auto field = [&](size_t f, int64_t i) {
    auto dt = static_cast<DType>(w[2 + 2 * f]);
    const char *p = reinterpret_cast<const char *>(static_cast<uintptr_t>(w[3 + 2 * f]));
    return scalarText(dt, p + i * static_cast<int64_t>(itemSize(dt)));
  };
  // A number (shape 0) or a tuple of `shape` numbers from field `first` on.
  auto part = [&](size_t first, int shape, int64_t i) {
    if (!shape)
      return field(first, i);
    std::string t = "(";
    for (int k = 0; k < shape; ++k)
      t += (k ? ", " : "") + field(first + static_cast<size_t>(k), i);
    return t + (shape == 1 ? ",)" : ")");
  };
  size_t keyFields = key ? static_cast<size_t>(key) : 1;
  std::string s;
  bool any = false;
  for (int64_t i = 0; i < n; ++i) {
    if (live && !live[i])
      continue;
    s += any ? ", " : "";
    any = true;
    s += part(0, key, i);
    if (style == 'd')
      s += ": " + part(keyFields, value, i);
  }
  if (style == 'l')
    return "[" + s + "]";
  if (!any)
    return style == 's' ? "set()" : "{}";
  return "{" + s + "}";
}

std::string kernelArrayText(int64_t descriptor, bool asList) {
  const int64_t *w = reinterpret_cast<const int64_t *>(static_cast<uintptr_t>(descriptor));
  if (!w)
    return "?";
  auto dt = static_cast<DType>(w[0]);
  int64_t rank = w[1];
  void *data = reinterpret_cast<void *>(static_cast<uintptr_t>(w[2]));
  if (asList)
    return pythonList(dt, data, rank == 1 ? w[3] : 0);
  ArrayView view;
  view.data = data;
  view.dtype = dt;
  auto bytes = static_cast<int64_t>(itemSize(dt));
  for (int64_t d = 0; d < rank; ++d) {
    view.shape.push_back(w[3 + d]);
    view.strides.push_back(w[3 + rank + d] * bytes);
  }
  return numpyStr(view);
}

} // namespace stn::detail

namespace stn {

std::string toString(const ArrayView &a) {
  if (a.strides.size() != a.shape.size())
    throw Error(fmt::format("array view has {} dimensions but {} strides", a.shape.size(),
                            a.strides.size()));
  if (!a.data && a.size() != 0)
    throw Error("array view has no data");
  return detail::numpyStr(a);
}

} // namespace stn
