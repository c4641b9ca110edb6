//===- stn.cpp - The stn command-line tool --------------------------------===//
//
// `stn run` calls a kernel of a .stn file with arguments from the command
// line (.npy files and literals) and prints or writes its result; `stn check`
// loads a file and reports its diagnostics; `stn ir` prints one stage of the
// compilation (AST, typed AST, MLIR, lowered MLIR, LLVM IR, assembly);
// `stn cache` shows and manages the on-disk cache of compiled kernels.
//
// Design note: the tool is a thin client of the public API (stn/stn.h) and
// holds no compiler logic. CLI11 parses the command line; the one thing it
// cannot do is take "-inf" or "-.5" as positional arguments (it reads them as
// options), so the arguments of `run` are reordered before parsing: options
// first, then "--", then FILE, KERNEL and the ARGs in their original order.
// Exit status: 0 success, 1 an error (an stn::Error or a file that cannot be
// written), 2 a usage error reported by CLI11.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"
#include "stn/Image.h"
#include "stn/SysInfo.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#if __has_include(<llvm/Config/llvm-config.h>)
#include <llvm/Config/llvm-config.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Literal arguments
//===----------------------------------------------------------------------===//

/// A literal as written, before a type is applied.
struct Literal {
  enum class Kind { Bool, Int, Float, Complex } kind = Kind::Int;
  bool boolean = false;
  bool negative = false;   ///< Int: sign
  uint64_t magnitude = 0;  ///< Int: absolute value
  bool overflow = false;   ///< Int: more than 64 bits
  double real = 0;         ///< Float; Complex real part
  double imag = 0;         ///< Complex imaginary part
};

bool startsWithCI(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i])
      return false;
  return true;
}

bool equalsCI(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() && startsWithCI(s, lower);
}

/// Integer: [+-] digits, or 0x/0o/0b digits; '_' between digits.
std::optional<Literal> parseInt(std::string_view s) {
  Literal lit;
  lit.kind = Literal::Kind::Int;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    lit.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && std::strchr("xXoObB", s[1])) {
    base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    s.remove_prefix(2);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_')
    return std::nullopt;
  for (char c : s) {
    if (c == '_')
      continue;
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    if (d >= base)
      return std::nullopt;
    if (lit.magnitude > (std::numeric_limits<uint64_t>::max() - d) / base)
      lit.overflow = true;
    lit.magnitude = lit.magnitude * base + d;
  }
  return lit;
}

/// Real number: an integer, a decimal float, inf/infinity/nan (any case).
std::optional<double> parseReal(std::string_view s) {
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (equalsCI(body, "inf") || equalsCI(body, "infinity"))
    return negative ? -HUGE_VAL : HUGE_VAL;
  if (equalsCI(body, "nan"))
    return negative ? -std::nan("") : std::nan("");
  // digits [. digits] [e [+-] digits], with at least one digit in the mantissa.
  size_t i = 0, mantissaDigits = 0;
  auto digits = [&] {
    size_t n = 0;
    while (i < body.size() && (std::isdigit(static_cast<unsigned char>(body[i])) ||
                               (body[i] == '_' && n > 0)))
      ++i, ++n;
    return n;
  };
  mantissaDigits += digits();
  if (i < body.size() && body[i] == '.') {
    ++i;
    mantissaDigits += digits();
  }
  if (mantissaDigits == 0)
    return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-'))
      ++i;
    if (digits() == 0)
      return std::nullopt;
  }
  if (i != body.size())
    return std::nullopt;
  std::string clean;
  for (char c : s)
    if (c != '_')
      clean += c;
  return std::strtod(clean.c_str(), nullptr);
}

/// An untyped literal: true/false, an integer, a real, or a complex number
/// `1+2j`, `2j`, `-1.5-0.5j` (optionally in parentheses).
std::optional<Literal> parseUntyped(std::string_view s) {
  Literal lit;
  if (s == "true" || s == "True" || s == "false" || s == "False") {
    lit.kind = Literal::Kind::Bool;
    lit.boolean = s[0] == 't' || s[0] == 'T';
    return lit;
  }
  if (auto i = parseInt(s))
    return i;
  if (auto r = parseReal(s)) {
    lit.kind = Literal::Kind::Float;
    lit.real = *r;
    return lit;
  }
  if (s.size() > 2 && s.front() == '(' && s.back() == ')')
    s = s.substr(1, s.size() - 2);
  if (s.size() < 2 || (s.back() != 'j' && s.back() != 'J'))
    return std::nullopt;
  std::string_view body = s.substr(0, s.size() - 1);
  // The sign that starts the imaginary part: the last +/- that is not the
  // first character and not an exponent's sign.
  size_t split = std::string_view::npos;
  for (size_t k = body.size(); k-- > 1;)
    if ((body[k] == '+' || body[k] == '-') && body[k - 1] != 'e' && body[k - 1] != 'E') {
      split = k;
      break;
    }
  std::string_view realText, imagText = body;
  if (split != std::string_view::npos) {
    realText = body.substr(0, split);
    imagText = body.substr(split);
  }
  std::optional<double> imag;
  if (split != std::string_view::npos && (imagText == "+" || imagText == "-"))
    imag = imagText == "+" ? 1.0 : -1.0; // 1+j
  else
    imag = parseReal(imagText);
  if (!imag)
    return std::nullopt;
  std::optional<double> real = realText.empty() ? std::optional<double>(0.0)
                                                : parseReal(realText);
  if (!real)
    return std::nullopt;
  lit.kind = Literal::Kind::Complex;
  lit.real = *real;
  lit.imag = *imag;
  return lit;
}

/// Splits `VALUE:TYPE`; the type part is empty when there is none.
std::pair<std::string_view, std::string_view> splitType(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return {text, {}};
  return {text.substr(0, colon), text.substr(colon + 1)};
}

bool looksLikeLiteral(std::string_view text) {
  return parseUntyped(splitType(text).first).has_value();
}

[[noreturn]] void argError(size_t index, const std::string &message) {
  throw stn::Error(fmt::format("stn: error: argument {}: {}\n", index, message));
}

std::string describeInt(const Literal &lit) {
  return fmt::format("{}{}", lit.negative ? "-" : "", lit.magnitude);
}

/// Applies `dt` to a parsed literal, checking that the value fits.
stn::Scalar typedScalar(size_t index, std::string_view text, const Literal &lit,
                        stn::DType dt) {
  using stn::DType;
  std::string typeName(stn::dtypeName(dt));
  switch (dt) {
  case DType::Bool:
    if (lit.kind == Literal::Kind::Bool)
      return stn::Scalar(lit.boolean);
    if (lit.kind == Literal::Kind::Int && !lit.overflow && lit.magnitude <= 1 &&
        !(lit.negative && lit.magnitude))
      return stn::Scalar(lit.magnitude == 1);
    argError(index, fmt::format("'{}' is not a bool (write true, false, 0 or 1)", text));
  case DType::Int8: case DType::Int16: case DType::Int32: case DType::Int64:
  case DType::UInt8: case DType::UInt16: case DType::UInt32: case DType::UInt64: {
    if (lit.kind == Literal::Kind::Bool)
      return stn::Scalar::ofType(dt, int64_t(lit.boolean));
    if (lit.kind != Literal::Kind::Int)
      argError(index, fmt::format("'{}' is not an integer, so it cannot be {}", text,
                                  typeName));
    bool isSigned = dt == DType::Int8 || dt == DType::Int16 || dt == DType::Int32 ||
                    dt == DType::Int64;
    unsigned bits = static_cast<unsigned>(stn::itemSize(dt) * 8);
    uint64_t maxPos = isSigned ? (uint64_t(1) << (bits - 1)) - 1
                               : (bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1);
    uint64_t maxNeg = isSigned ? uint64_t(1) << (bits - 1) : 0;
    bool fits = !lit.overflow && (lit.negative ? lit.magnitude <= maxNeg
                                               : lit.magnitude <= maxPos);
    if (!fits)
      argError(index, fmt::format("{} does not fit in {}", describeInt(lit), typeName));
    if (isSigned) {
      int64_t v = lit.negative ? static_cast<int64_t>(0 - lit.magnitude)
                               : static_cast<int64_t>(lit.magnitude);
      return stn::Scalar::ofType(dt, v);
    }
    if (dt == DType::UInt64)
      return stn::Scalar(static_cast<unsigned long long>(lit.magnitude));
    return stn::Scalar::ofType(dt, static_cast<int64_t>(lit.magnitude));
  }
  case DType::Float32: case DType::Float64: {
    double v;
    if (lit.kind == Literal::Kind::Complex)
      argError(index, fmt::format("'{}' is complex, so it cannot be {}", text, typeName));
    if (lit.kind == Literal::Kind::Bool)
      v = lit.boolean;
    else if (lit.kind == Literal::Kind::Int)
      v = lit.negative ? -static_cast<double>(lit.magnitude)
                       : static_cast<double>(lit.magnitude);
    else
      v = lit.real;
    if (lit.kind == Literal::Kind::Int && lit.overflow)
      argError(index, fmt::format("{} is too large", text));
    if (dt == DType::Float32 && std::isfinite(v) &&
        std::fabs(v) > std::numeric_limits<float>::max())
      argError(index, fmt::format("{} does not fit in float32", text));
    return dt == DType::Float32 ? stn::Scalar(static_cast<float>(v)) : stn::Scalar(v);
  }
  case DType::Complex64: case DType::Complex128: {
    std::complex<double> c;
    if (lit.kind == Literal::Kind::Bool)
      c = lit.boolean;
    else if (lit.kind == Literal::Kind::Int && lit.overflow)
      argError(index, fmt::format("{} is too large", text));
    else if (lit.kind == Literal::Kind::Int)
      c = lit.negative ? -static_cast<double>(lit.magnitude)
                       : static_cast<double>(lit.magnitude);
    else
      c = {lit.real, lit.imag};
    if (dt == DType::Complex64)
      return stn::Scalar(std::complex<float>(c));
    return stn::Scalar(c);
  }
  }
  argError(index, "unsupported type");
}

/// The scalar a literal argument denotes (see the `run` footer).
std::optional<stn::Scalar> parseLiteralArg(size_t index, std::string_view text) {
  auto [valueText, typeText] = splitType(text);
  std::optional<Literal> lit = parseUntyped(valueText);
  if (!lit)
    return std::nullopt;
  if (!typeText.empty() || text.back() == ':') {
    std::optional<stn::DType> dt = stn::parseDType(typeText);
    if (!dt)
      argError(index, fmt::format("unknown type '{}' in '{}' (use a dtype name such as "
                                  "bool, i8, i32, i64, u8, f32, f64, c64, c128)",
                                  typeText, text));
    return typedScalar(index, text, *lit, *dt);
  }
  switch (lit->kind) {
  case Literal::Kind::Bool:
    return stn::Scalar(lit->boolean);
  case Literal::Kind::Int:
    if (lit->overflow || lit->magnitude > uint64_t(std::numeric_limits<int64_t>::max()) +
                                               (lit->negative ? 1 : 0))
      argError(index, fmt::format("{} does not fit in int64 (add a type such as :u64)",
                                  text));
    return stn::Scalar(static_cast<long long>(
        lit->negative ? static_cast<int64_t>(0 - lit->magnitude)
                      : static_cast<int64_t>(lit->magnitude)));
  case Literal::Kind::Float:
    return stn::Scalar(lit->real);
  case Literal::Kind::Complex:
    return stn::Scalar(std::complex<double>(lit->real, lit->imag));
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out += c;
  }
  return out + "\"";
}

bool holdsArray(const stn::Value &v) {
  if (v.isArray())
    return true;
  if (v.isTuple())
    for (const stn::Value &e : v.elements())
      if (holdsArray(e))
        return true;
  return false;
}

/// Writes the arrays of a tuple result under `dir` (element i as i.npy,
/// nested element j of i as i_j.npy) and returns the tuple's JSON with each
/// array replaced by the path it was written to.
std::string writeTuple(const stn::Value &v, const fs::path &dir, const std::string &stem) {
  if (v.isArray()) {
    fs::path p = dir / (stem + ".npy");
    stn::writeNpy(p.string(), v.array());
    return jsonString(p.string());
  }
  if (!v.isTuple())
    return v.toJSON();
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i)
      out += ", ";
    out += writeTuple(v[i], dir, stem.empty() ? std::to_string(i)
                                              : stem + "_" + std::to_string(i));
  }
  return out + "]";
}

void printWarnings(bool quiet) {
  std::string w = stn::Engine::lastWarnings();
  if (quiet || w.empty())
    return;
  std::cerr << w;
  if (w.back() != '\n')
    std::cerr << '\n';
}

void warn(bool quiet, const std::string &message) {
  if (!quiet)
    std::cerr << "stn: warning: " << message << '\n';
}

/// Engine options for the commands: warnings the engine reports while
/// compiling (the kernel cache's) go to stderr as they happen.
stn::EngineOptions engineOptions(bool quiet) {
  stn::EngineOptions options;
  options.onWarning = [quiet](const std::string &w) {
    if (!quiet)
      std::cerr << "stn: " << w << (w.empty() || w.back() != '\n' ? "\n" : "");
  };
  return options;
}

//===----------------------------------------------------------------------===//
// Commands
//===----------------------------------------------------------------------===//

struct RunOptions {
  std::string file;
  std::string kernel;
  std::vector<std::string> args;
  std::string output;
  std::string saveArgs;
  std::string saveFormat = "npy";
  unsigned threads = 0;
  bool quiet = false;
  bool boundscheck = false;
  std::string grid, block; ///< GPU kernels: "X[,Y[,Z]]"
};

/// "X[,Y[,Z]]" for --grid/--block.
stn::Dim3 parseDim3(const std::string &option, const std::string &text) {
  std::vector<uint32_t> v;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char *end = nullptr;
    unsigned long n = part.empty() ? 0 : std::strtoul(part.c_str(), &end, 10);
    if (part.empty() || *end || n == 0 || n > 0x7fffffffUL || v.size() == 3)
      throw stn::Error(fmt::format("stn: error: {} takes one to three positive integers "
                                   "separated by commas (X[,Y[,Z]]), not '{}'\n",
                                   option, text));
    v.push_back(static_cast<uint32_t>(n));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  v.resize(3, 1);
  return stn::Dim3(v[0], v[1], v[2]);
}

bool hasPngExtension(const std::string &path) {
  std::string ext = fs::path(path).extension().string();
  return ext == ".png" || ext == ".PNG";
}

/// Writes an array result to OUT: a PNG when OUT ends in .png, else .npy.
void writeArrayFile(const std::string &path, const stn::ArrayView &array) {
  if (hasPngExtension(path))
    stn::writePng(path, array);
  else
    stn::writeNpy(path, array);
}

/// `NAME=VALUE`: a keyword argument (NAME a Python identifier).
std::optional<std::pair<std::string, std::string>> keywordArg(const std::string &text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return std::nullopt;
  for (size_t i = 0; i < eq; ++i) {
    char c = text[i];
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
          (i > 0 && std::isdigit(static_cast<unsigned char>(c)))))
      return std::nullopt;
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

int runCommand(const RunOptions &opt) {
  // Arguments first: a bad literal should not cost a compile.
  std::vector<stn::Arg> args;
  stn::Kernel::KwArgs kwargs;
  // The arrays read, with the argument's position or keyword.
  std::vector<std::tuple<size_t, std::string, stn::Array>> arrays;
  arrays.reserve(opt.args.size());
  for (size_t i = 0; i < opt.args.size(); ++i) {
    std::string text = opt.args[i];
    size_t index = i + 1;
    auto keyword = keywordArg(text);
    if (keyword)
      text = keyword->second;
    else if (!kwargs.empty())
      argError(index, fmt::format("'{}' follows a keyword argument; positional arguments "
                                  "come first, as in Python",
                                  text));
    auto add = [&](stn::Arg a) {
      if (keyword)
        kwargs.emplace_back(keyword->first, a);
      else
        args.push_back(a);
    };
    if (text == "None" || text == "none") {
      add(stn::Arg::none());
      continue;
    }
    bool pathLike = text.size() > 4 && text.compare(text.size() - 4, 4, ".npy") == 0;
    pathLike = pathLike || hasPngExtension(text) || text.find('/') != std::string::npos;
    std::optional<stn::Scalar> scalar;
    if (!pathLike && !text.empty())
      scalar = parseLiteralArg(index, text);
    if (scalar) {
      add(*scalar);
      continue;
    }
    std::error_code ec;
    if (!fs::exists(text, ec)) {
      if (pathLike)
        argError(index, fmt::format("no such file '{}'", text));
      argError(index, fmt::format("cannot read '{}': it is not a literal (such as 42, -3, "
                                  "2.5, inf, true, 1+2j or 42:i32) and there is no such "
                                  "file",
                                  text));
    }
    if (fs::is_directory(text, ec))
      argError(index, fmt::format("'{}' is a directory, not an .npy file", text));
    arrays.emplace_back(args.size(), keyword ? keyword->first : std::string(),
                        hasPngExtension(text) ? stn::readPng(text) : stn::readNpy(text));
    add(std::get<2>(arrays.back()).view());
  }

  stn::EngineOptions engineOpts = engineOptions(opt.quiet);
  engineOpts.numThreads = opt.threads;
  if (opt.boundscheck) // read when the file's kernels are checked
    ::setenv("STN_BOUNDSCHECK", "1", 1);
  stn::Engine engine(engineOpts);
  stn::Module mod = engine.loadFile(opt.file);
  printWarnings(opt.quiet);
  stn::Kernel kernel = mod.kernel(opt.kernel);
  stn::Value result;
  if (!opt.grid.empty() || !opt.block.empty()) {
    // A GPU kernel: arrays are copied to the device and the ones it writes
    // back, so --save-args sees the results.
    if (opt.grid.empty() || opt.block.empty())
      throw stn::Error("stn: error: a GPU launch needs both --grid and --block\n");
    if (!kwargs.empty())
      throw stn::Error(fmt::format("stn: error: a GPU kernel takes its arguments in order, "
                                   "not as keywords ({}=...)\n",
                                   kwargs.front().first));
    std::vector<stn::GpuArg> gpuArgs;
    for (size_t i = 0; i < args.size(); ++i)
      gpuArgs.push_back(args[i].isArray() ? stn::GpuArg(args[i].array())
                                          : stn::GpuArg(args[i].scalar()));
    kernel.launch(parseDim3("--grid", opt.grid), parseDim3("--block", opt.block), gpuArgs);
  } else {
    // The call checks the argument count and types (and names the parameters
    // when the count is wrong), binds keywords and fills in default values.
    result = kernel.call(args, kwargs);
  }

  if (!opt.saveArgs.empty()) {
    std::vector<std::string> params = kernel.parameterNames();
    fs::create_directories(opt.saveArgs);
    for (const auto &[i, keyword, array] : arrays) {
      std::string name = !keyword.empty()     ? keyword
                         : i < params.size() ? params[i]
                                              : fmt::format("arg{}", i);
      writeArrayFile((fs::path(opt.saveArgs) / (name + "." + opt.saveFormat)).string(), array);
    }
    if (arrays.empty())
      warn(opt.quiet, "--save-args: the call had no array arguments; nothing written");
  }

  if (result.isArray()) {
    if (opt.output.empty()) {
      // Shown as NumPy's str() shows it (long arrays summarized with ...).
      if (!opt.quiet)
        std::cout << stn::toString(result.array()) << '\n';
      return 0;
    }
    writeArrayFile(opt.output, result.array());
    return 0;
  }
  if (result.isTuple() && holdsArray(result)) {
    if (opt.output.empty())
      throw stn::Error("stn: error: the result is a tuple holding arrays; use -o DIR to "
                       "write them (element i goes to DIR/i.npy)\n");
    fs::create_directories(opt.output);
    std::string json = writeTuple(result, opt.output, "");
    if (!opt.quiet)
      std::cout << json << '\n';
    return 0;
  }
  if (!opt.output.empty())
    warn(opt.quiet, fmt::format("-o {} ignored: the result holds no array", opt.output));
  if (!result.isNone() && !opt.quiet)
    std::cout << result.toJSON() << '\n';
  return 0;
}

int checkCommand(const std::string &file, bool quiet, bool werror) {
  stn::Engine engine(engineOptions(quiet));
  engine.loadFile(file);
  printWarnings(quiet);
  // --werror: warnings fail the check (the diagnostics still say warning:).
  return werror && !stn::Engine::lastWarnings().empty() ? 1 : 0;
}

struct IrOptions {
  std::string file;
  std::string kernel;
  std::string signature;
  std::string emit = "mlir";
};

int irCommand(const IrOptions &opt) {
  stn::Stage stage;
  if (!stn::parseStage(opt.emit, stage))
    throw stn::Error(fmt::format("stn: error: unknown stage '{}'\n", opt.emit));
  if (stage == stn::Stage::AST) {
    // The syntax tree is printed straight after parsing, before any check.
    std::string text = stn::Engine::parseToAST(opt.file, opt.kernel);
    std::cout << text;
    if (!text.empty() && text.back() != '\n')
      std::cout << '\n';
    return 0;
  }
  stn::Engine engine(engineOptions(false));
  stn::Module mod = engine.loadFile(opt.file);
  printWarnings(false);
  std::string text;
  if (opt.kernel.empty()) {
    if (stage != stn::Stage::AST)
      throw stn::Error(fmt::format("stn: error: --emit={} needs a KERNEL name (kernels "
                                   "in {}: {})\n",
                                   opt.emit, opt.file, fmt::join(mod.kernelNames(), ", ")));
    text = mod.emitAST();
  } else {
    text = mod.emit(opt.kernel, opt.signature, stage);
  }
  std::cout << text;
  if (!text.empty() && text.back() != '\n')
    std::cout << '\n';
  return 0;
}

//===----------------------------------------------------------------------===//
// stn cache
//===----------------------------------------------------------------------===//

std::string localTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  char buf[32];
  if (!localtime_r(&tt, &tm) || !std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
    return "?";
  return buf;
}

std::string cacheState() {
  std::string why;
  return stn::cache::enabled({}, &why) ? "on" : "off (" + why + ")";
}

int cachePathCommand() {
  std::cout << stn::cache::directory() << '\n';
  return 0;
}

int cacheListCommand() {
  std::string dir = stn::cache::directory();
  std::vector<stn::cache::Entry> entries = stn::cache::list(dir);
  if (entries.empty()) {
    std::cout << fmt::format("no entries in {}\n", dir);
    return 0;
  }
  std::vector<std::array<std::string, 5>> rows;
  rows.push_back({"KERNEL", "SIGNATURE", "SIZE", "LAST USE", "SOURCE"});
  uint64_t total = 0;
  for (const auto &e : entries) {
    total += e.size;
    if (!e.valid)
      rows.push_back({"?", "(invalid: " + e.problem + ")", stn::cache::formatSize(e.size),
                      localTime(e.lastUse), e.path});
    else
      rows.push_back({e.kernel, e.signature, stn::cache::formatSize(e.size),
                      localTime(e.lastUse),
                      e.source + (e.current ? "" : " (other stn build or CPU)")});
  }
  size_t width[4] = {};
  for (auto &r : rows)
    for (size_t c = 0; c < 4; ++c)
      width[c] = std::max(width[c], r[c].size());
  for (auto &r : rows)
    std::cout << fmt::format("{:<{}}  {:<{}}  {:>{}}  {:<{}}  {}\n", r[0], width[0], r[1],
                             width[1], r[2], width[2], r[3], width[3], r[4]);
  std::cout << fmt::format("{} entr{}, {} (limit {}) in {}\n", entries.size(),
                           entries.size() == 1 ? "y" : "ies", stn::cache::formatSize(total),
                           stn::cache::formatSize(stn::cache::sizeLimit()), dir);
  return 0;
}

int cacheStatsCommand() {
  std::string dir = stn::cache::directory();
  stn::cache::DirectoryStats s = stn::cache::stats(dir);
  uint64_t lookups = s.hits + s.misses;
  std::cout << fmt::format("directory:  {}\n", dir);
  std::cout << fmt::format("cache:      {}\n", cacheState());
  std::cout << fmt::format("entries:    {} ({}, limit {})\n", s.entries,
                           stn::cache::formatSize(s.bytes),
                           stn::cache::formatSize(stn::cache::sizeLimit()));
  std::cout << fmt::format("hits:       {}{}\n", s.hits,
                           lookups ? fmt::format(" ({:.0f}% of {} lookups)",
                                                 100.0 * double(s.hits) / double(lookups),
                                                 lookups)
                                   : "");
  std::cout << fmt::format("misses:     {} (each one compiled)\n", s.misses);
  std::cout << fmt::format("stored:     {}\n", s.stored);
  std::cout << fmt::format("invalid:    {} (truncated, corrupt or mismatched entries "
                           "removed)\n",
                           s.invalid);
  std::cout << fmt::format("evicted:    {} (least recently used, for the size limit)\n",
                           s.evicted);
  return 0;
}

int cacheClearCommand() {
  std::string dir = stn::cache::directory();
  uint64_t bytes = 0;
  uint64_t n = stn::cache::clear(dir, &bytes);
  std::cout << fmt::format("removed {} entr{} ({}) from {}\n", n, n == 1 ? "y" : "ies",
                           stn::cache::formatSize(bytes), dir);
  return 0;
}

int cachePruneCommand(const std::string &maxSize) {
  std::string dir = stn::cache::directory();
  uint64_t limit = stn::cache::sizeLimit();
  if (!maxSize.empty()) {
    std::optional<uint64_t> v = stn::cache::parseSize(maxSize);
    if (!v)
      throw stn::Error(fmt::format("stn: error: --max-size: '{}' is not a size (write bytes, "
                                   "or a number with K, M or G such as 500M)\n",
                                   maxSize));
    limit = *v;
  }
  stn::cache::PruneReport r = stn::cache::prune(dir, limit);
  std::cout << fmt::format("removed {} invalid, {} stale (other stn build or CPU) and {} least "
                           "recently used entr{}, {} temporary file{}: {} freed\n",
                           r.invalid, r.stale, r.evicted, r.evicted == 1 ? "y" : "ies",
                           r.temporary, r.temporary == 1 ? "" : "s",
                           stn::cache::formatSize(r.freedBytes));
  std::cout << fmt::format("{} entr{} ({}) remain in {} (limit {})\n", r.remaining,
                           r.remaining == 1 ? "y" : "ies",
                           stn::cache::formatSize(r.remainingBytes), dir,
                           stn::cache::formatSize(limit));
  return 0;
}

/// Moves the positional arguments of `stn run` behind a "--" so that CLI11
/// takes literals such as "-inf", "-.5" or "-1+2j" as positionals. An
/// argument that starts with '-' is an option unless it parses as a literal;
/// an option that takes a value keeps the next argument as its value.
std::vector<std::string> reorderRunArguments(const CLI::App &run,
                                             const std::vector<std::string> &argv) {
  size_t runAt = 1;
  while (runAt < argv.size() && !argv[runAt].empty() && argv[runAt][0] == '-')
    ++runAt;
  if (runAt >= argv.size() || argv[runAt] != "run")
    return argv;
  std::vector<std::string> out(argv.begin(), argv.begin() + runAt + 1);
  std::vector<std::string> positionals;
  for (size_t i = runAt + 1; i < argv.size(); ++i) {
    const std::string &a = argv[i];
    if (a == "--") {
      positionals.insert(positionals.end(), argv.begin() + i + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || looksLikeLiteral(a)) {
      positionals.push_back(a);
      continue;
    }
    const CLI::Option *o = run.get_option_no_throw(a.substr(0, a.find('=')));
    if (!o && a.size() > 2 && a[1] != '-')
      o = run.get_option_no_throw(a.substr(0, 2)); // -oOUT
    if (!o)
      return argv; // an unknown option: let CLI11 report it as it stands
    out.push_back(a);
    bool attachedValue = a.rfind("--", 0) == 0 ? a.find('=') != std::string::npos
                                               : a.size() > 2;
    if (!attachedValue && o->get_expected_min() > 0 && i + 1 < argv.size())
      out.push_back(argv[++i]);
  }
  if (!positionals.empty()) {
    out.push_back("--");
    out.insert(out.end(), positionals.begin(), positionals.end());
  }
  return out;
}

std::string versionString() {
#ifdef LLVM_VERSION_STRING
  return fmt::format("stn {} (LLVM {})", stn::version(), LLVM_VERSION_STRING);
#else
  return fmt::format("stn {}", stn::version());
#endif
}

constexpr const char *RunFooter = R"TXT(ARG syntax (each ARG is one kernel argument; positional ones in parameter order):
  x.npy             an array argument, read from a NumPy .npy file (any stn
                    dtype, either byte order, C or Fortran order); an ARG that
                    ends in .npy or contains '/' is always taken as a file
  x.png             an array argument read from a PNG image: uint8 or uint16,
                    (H, W) for gray, (H, W, C) for C channels
  42  -3  0x1f      an integer: int64 (an error if it does not fit)
  2.5  -1e-3  inf  nan
                    a float: float64
  true  false       a bool
  1+2j  2j  -1.5-0.5j
                    a complex number: complex128
  VALUE:TYPE        a literal of the given dtype, e.g. 42:i32, 1:u8, 2.5:f32,
                    1+2j:c64, 1:bool; TYPE is a dtype name (bool, i8, i16, i32,
                    i64, u8, u16, u32, u64, f32, f64, c64, c128, or a NumPy name
                    such as int32, float64, f8; short names count bits, so i8
                    is int8 and u8 is uint8). An integer that does not fit
                    TYPE is an error, and so is a float given for an integer
                    type or a complex number for a real one.
  None  none        Python's None (for a parameter tested with `x is None`)
  NAME=VALUE        a keyword argument of a @jit function: out=y.npy, tol=1e-6,
                    axis=None; keywords come after the positional ARGs, and
                    parameters not given take their default values (write
                    ./a=b.npy for a file whose name looks like a keyword)
  Negative literals need no quoting or "--": stn run k.stn f -3 -inf works.

Result:
  None              nothing is printed
  a scalar, or a tuple of scalars (nested tuples too)
                    printed to stdout as JSON: 42, 2.5, true, NaN, Infinity,
                    {"real": 1.0, "imag": 2.0}, [1, 2.5, true]
  an array          written to OUT (-o OUT.npy, or -o OUT.png for uint8 and
                    uint16 images); without -o, printed as NumPy's str()
                    shows it ([[1. 2.] [3. 4.]], long arrays with ...)
  a tuple holding arrays
                    OUT (-o DIR) is a directory, created if needed; element i
                    is written to DIR/i.npy if it is an array (a nested
                    element j of element i to DIR/i_j.npy), and the tuple is
                    printed as JSON with each array shown as the path written

--save-args DIR writes every array argument, after the call, to
DIR/<parameter name>.npy: use it for kernels that fill an output argument.
With --save-format png they are written as DIR/<parameter name>.png (uint8
and uint16 arrays of shape (H, W) or (H, W, 1..4) only).

Exit status: 0 on success, 1 on any error (printed to stderr), 2 on a usage
error.
)TXT";

constexpr const char *MainFooter = R"TXT(Examples:
  stn run add.stn add 1 2.5                 prints 3.5
  stn run scale.stn scale a.npy -2 -o b.npy writes the result to b.npy
  stn check kernels.stn                     reports errors and warnings
  stn ir matmul.stn matmul --sig "f64[:,:], f64[:,:], f64[:,:]" --emit=llvm
  stn cache list                            the compiled kernels kept on disk
  stn apply smooth.stn smooth 'img/*.png' -o out/ --as uint8
                                            a kernel over a stack of images
  stn sysinfo                               CPU, versions, CUDA, cache, threads

Exit status: 0 on success, 1 on an error (diagnostics go to stderr), 2 on a
usage error. Run 'stn COMMAND --help' for the options of each command.
)TXT";

constexpr const char *CheckFooter = R"TXT(Checks everything that needs no argument types: syntax, names, decorators and
their options, unsupported Python features, and the kernels that have an
explicit signature (which are compiled).

Exit status: 0 if FILE is correct (it may have warnings), 1 if it has errors
(or warnings, with --werror), 2 on a usage error.
)TXT";

constexpr const char *IrFooter = R"TXT(Example:
  stn ir matmul.stn matmul --sig "f64[:,:], f64[:,:], f64[:,:]" --emit=mlir

--sig takes the language's type syntax: a comma-separated list of argument
types such as "f64, i32" or "f32[:, ::1]", or a whole Numba signature such as
"f8(i4, i4)".

Exit status: 0 on success, 1 on an error (printed to stderr), 2 on a usage
error.
)TXT";

constexpr const char *CacheFooter = R"TXT(Compiled kernels are kept in the cache directory and reused by later
processes (docs/caching.md). The directory is $STN_CACHE_DIR, else
$XDG_CACHE_HOME/stn, else ~/.cache/stn; STN_CACHE=0 turns caching off and
STN_CACHE_SIZE_LIMIT (e.g. 500M, 2G; default 1G) sets the size limit.

Exit status: 0 on success, 1 on an error (printed to stderr), 2 on a usage
error.
)TXT";

//===----------------------------------------------------------------------===//
// stn apply
//===----------------------------------------------------------------------===//

struct ApplyCliOptions {
  std::string file;
  std::string kernel;
  std::vector<std::string> inputs;
  std::string output;
  int64_t chunk = 0;
  std::string memory;
  std::string format;
  std::string as;
  unsigned jobs = 0;
  int pngLevel = 1;
  bool stats = false;
  bool quiet = false;
};

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "--:--";
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
/// Only used when stderr is a terminal.
class ProgressBar {
public:
  void update(const stn::ApplyProgress &p) {
    bool done = p.written == p.total;
    if (!done && !p.inKernel && p.seconds - LastDraw < 0.1)
      return;
    LastDraw = p.seconds;
    // Reading and writing are each half of the work of an image.
    double fraction = p.total ? double(p.read + p.written) / double(2 * p.total) : 1.0;
    double rate = p.seconds > 0 ? double(p.bytesRead) / p.seconds / 1e6 : 0.0;
    double eta = fraction > 0 ? p.seconds * (1 - fraction) / fraction : -1;
    constexpr int Width = 30;
    int filled = static_cast<int>(fraction * Width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(Width - filled), '.');
    std::cerr << fmt::format("\r\033[K{:3.0f}% [{}] {}/{} images  {:.1f} MB/s  ETA {}{}",
                             100 * fraction, bar, p.written, p.total, rate,
                             done ? formatDuration(0) : formatDuration(eta),
                             p.inKernel ? "  (running the kernel)" : "")
              << std::flush;
  }
  void finish() { std::cerr << "\r\033[K" << std::flush; }

private:
  double LastDraw = -1;
};

int applyCommand(const ApplyCliOptions &opt) {
  stn::ApplyOptions options;
  options.chunk = opt.chunk;
  options.threads = opt.jobs;
  options.png.compressionLevel = opt.pngLevel;
  if (!opt.memory.empty()) {
    std::optional<uint64_t> v = stn::cache::parseSize(opt.memory);
    if (!v || *v == 0)
      throw stn::Error(fmt::format("stn: error: --memory: '{}' is not a size (write bytes, or "
                                   "a number with K, M or G such as 512M or 8G)\n",
                                   opt.memory));
    options.memoryBudget = *v;
  }
  if (!opt.as.empty()) {
    std::optional<stn::DType> dt = stn::parseDType(opt.as);
    if (!dt)
      throw stn::Error(fmt::format("stn: error: --as: unknown dtype '{}' (use a dtype name "
                                   "such as uint8, uint16, int16, float32)\n",
                                   opt.as));
    options.convertTo = *dt;
  }
  if (opt.format == "png")
    options.outputFormat = stn::ImageFormat::Png;
  else if (opt.format == "npy")
    options.outputFormat = stn::ImageFormat::Npy;
  bool tty = !opt.quiet && ::isatty(STDERR_FILENO);
  ProgressBar bar;
  if (tty)
    options.onProgress = [&bar](const stn::ApplyProgress &p) { bar.update(p); };
  options.onWarning = [&](const std::string &w) { warn(opt.quiet, w); };

  stn::Engine engine(engineOptions(opt.quiet));
  stn::ApplyReport r;
  try {
    r = stn::applyToImages(engine, opt.file, opt.kernel, opt.inputs, opt.output, options);
  } catch (...) {
    if (tty)
      bar.finish();
    throw;
  }
  if (tty)
    bar.finish();
  printWarnings(opt.quiet);
  if (opt.quiet || (!tty && !opt.stats))
    return 0;
  double mb = double(r.inputBytes) / 1e6;
  std::cerr << fmt::format(
      "stn: {} images ({}) -> {} ({} {}), {}: {:.2f} s, {:.1f} MB/s\n", r.images,
      stn::cache::formatSize(r.inputBytes), opt.output, stn::dtypeName(r.resultDType),
      r.resultShape.size() > 1 ? "images" : "values",
      r.streamed ? fmt::format("{} chunks of {} images", r.chunks, r.chunkSize)
                 : std::string("in memory"),
      r.totalSeconds, r.totalSeconds > 0 ? mb / r.totalSeconds : 0.0);
  if (opt.stats) {
    double other = std::max(0.0, r.totalSeconds - r.decodeSeconds - r.kernelSeconds -
                                     r.convertSeconds - r.encodeSeconds);
    std::cerr << fmt::format("stn: time: decode {:.3f} s, kernel {:.3f} s, {}encode {:.3f} s, "
                             "other (probe, load, compile) {:.3f} s\n",
                             r.decodeSeconds, r.kernelSeconds,
                             opt.as.empty() ? "" : fmt::format("convert {:.3f} s, ",
                                                              r.convertSeconds),
                             r.encodeSeconds, other);
  }
  return 0;
}

constexpr const char *ApplyFooter = R"TXT(Calls KERNEL once with all the images as one array (the stack) and writes
result image i under the name of input i:

  stn apply kernels.stn invert 'images/*.png' -o out/

INPUT is a PNG or .npy file, a directory (its .png and .npy files) or a
quoted glob pattern; matches are sorted by name. PNG images (8 or 16 bits;
gray, gray+alpha, RGB or RGBA) become a uint8 or uint16 array of shape
(N, H, W) for one channel, (N, H, W, C) for C channels; every image must have
the same size, channels and bit depth. Each .npy file is one image of any
dtype; all must have the same dtype and shape.

KERNEL takes the stack as its one argument and returns an array whose first
axis is the image: a @gufunc such as @gufunc("(n,m)->(n,m)"), a @ufunc, a
@stencil, or a @jit function. Results are written in the inputs' format
(--format to change it); a PNG holds uint8 or uint16 images of shape (H, W)
or (H, W, 1..4), other results need --format npy, or --as uint8 (uint16)
when every value is a whole number in range. The seed's smooth, for one,
returns float64 for uint8 images (Numba's typing: uint64 // int64 is
float64), so 8-bit PNGs are smoothed with:

  stn apply dsl-examples/smooth.stn smooth 'images/*.png' -o out/ --as uint8

Memory: the stack and its result are processed in one call when they fit in
the memory budget (--memory, else $STN_APPLY_MEMORY, else half of the
physical memory); otherwise, or with --chunk N, in chunks of N images, one
kernel call each, with the same results. Chunks are only possible when image
i of the result depends on image i alone: ufuncs, gufuncs whose core
dimensions leave the first axis, stencils with a zero neighborhood along it.
Other kernels (@jit functions) are rejected with an error in that case.

A progress bar with throughput and ETA is drawn on stderr when it is a
terminal, followed by a one-line summary; nothing is printed otherwise
(--stats prints the summary and the decode/kernel/encode times anyway).

Exit status: 0 on success, 1 on an error (printed to stderr), 2 on a usage
error.
)TXT";

//===----------------------------------------------------------------------===//
// stn sysinfo
//===----------------------------------------------------------------------===//

/// Wraps words into lines of at most `width` characters, each indented.
std::string wrapWords(const std::vector<std::string> &words, size_t indent, size_t width) {
  std::string out, line;
  for (const std::string &w : words) {
    if (!line.empty() && indent + line.size() + 1 + w.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  return out + line;
}

int sysinfoCommand() {
  stn::SystemInfo s = stn::systemInfo();
  constexpr size_t Indent = 24;
  auto row = [](std::string_view key, const std::string &value) {
    std::cout << fmt::format("  {:<{}}{}\n", std::string(key) + ":", Indent - 2, value);
  };
  std::cout << "System\n";
  row("OS", s.os.empty() ? "unknown" : s.os);
  row("CPU name", s.cpuName);
  if (s.backendError.empty()) {
    row("CPU target (LLVM)", fmt::format("{} ({})", s.llvmCpu, s.hostTriple));
    std::vector<std::string> features = s.cpuFeatures;
    std::sort(features.begin(), features.end());
    row("CPU features", features.empty() ? "none reported"
                                         : wrapWords(features, Indent, 79));
  } else {
    std::string err = s.backendError;
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    row("CPU target (LLVM)", "unknown: " + err);
    row("CPU features", "unknown (the code generator could not be loaded)");
  }
  row("Logical cores", std::to_string(s.logicalCores));
  row("Available cores", fmt::format("{} (CPU affinity of this process)", s.availableCores));
  std::cout << "Versions\n";
  row("stn", s.stnVersion);
  row("LLVM", s.llvmVersion.empty() ? "unknown" : s.llvmVersion);
  row("MLIR", s.mlirVersion.empty() ? "unknown" : s.mlirVersion);
  row("Code generator", s.backendPath);
  std::cout << "CUDA\n";
  row("Driver", s.cudaAvailable
                    ? fmt::format("{}.{}", s.cudaDriverVersion / 1000,
                                  s.cudaDriverVersion % 1000 / 10)
                    : "none");
  row("Status", s.cudaStatus);
  row("Devices", std::to_string(s.cudaDevices.size()));
  for (const stn::CudaDeviceInfo &d : s.cudaDevices)
    row(fmt::format("Device {}", d.index),
        fmt::format("{}, compute capability {}.{}, {} multiprocessors, {}", d.name,
                    d.computeMajor, d.computeMinor, d.multiprocessors,
                    stn::cache::formatSize(d.memoryBytes)));
  std::cout << "Kernel cache\n";
  row("Directory", s.cacheDir);
  row("State", s.cacheEnabled ? "on" : "off (" + s.cacheDisabledBecause + ")");
  row("Size", fmt::format("{} entr{}, {} (limit {})", s.cacheEntries,
                          s.cacheEntries == 1 ? "y" : "ies", stn::cache::formatSize(s.cacheBytes),
                          stn::cache::formatSize(s.cacheLimit)));
  std::cout << "Threads\n";
  row("Threads", fmt::format("{} (from {})", s.threads, s.threadsFrom));
  return 0;
}

constexpr const char *SysinfoFooter = R"TXT(Prints what stn sees of this machine, for bug reports (like `numba -s`): the
OS, the CPU and the features LLVM targets, the cores, the stn, LLVM and MLIR
versions, the CUDA driver and devices (or why there are none), the kernel
cache (directory, state, size) and the number of threads stn uses
($STN_NUM_THREADS if set, else the available cores).

Exit status: 0.
)TXT";

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"stn: a JIT compiler for Python-like array kernels (.stn files)", "stn"};
  app.footer(MainFooter);
  app.set_version_flag("--version", versionString(),
                       "Print the stn version (and the LLVM version it uses) and exit");
  app.require_subcommand(1);

  RunOptions runOpt;
  CLI::App *run = app.add_subcommand(
      "run", "Call KERNEL of FILE.stn with the given arguments and print or write its "
             "result");
  run->add_option("FILE", runOpt.file, "The .stn source file")->required()->type_name("");
  run->add_option("KERNEL", runOpt.kernel, "The name of the kernel (a def in FILE) to call")
      ->required()
      ->type_name("");
  run->add_option("ARG", runOpt.args,
                  "The kernel's arguments: .npy files or literals (42, -3, 2.5, inf, "
                  "true, 1+2j, 42:i32, ...; see below)")
      ->type_name("");
  run->add_option("-o,--output", runOpt.output,
                  "Where an array result goes: OUT.npy for an array, a directory for a "
                  "tuple holding arrays")
      ->option_text("OUT");
  run->add_option("--save-args", runOpt.saveArgs,
                  "After the call, write each array argument to DIR/<parameter name>.npy "
                  "(for kernels that fill an output argument)")
      ->option_text("DIR");
  run->add_option("--save-format", runOpt.saveFormat,
                  "The format of the files --save-args writes: npy (default) or png (uint8 "
                  "and uint16 images only)")
      ->option_text("FORMAT")
      ->check(CLI::IsMember({"npy", "png"}));
  run->add_option("--threads", runOpt.threads,
                  "Number of threads for parallel loops (prange in parallel=True kernels, "
                  "target=\"parallel\"); 0, the default, means $STN_NUM_THREADS, else "
                  "the cores available to the process")
      ->option_text("N")
      ->check(CLI::Range(0u, 4096u));
  run->add_option("--grid", runOpt.grid,
                  "GPU kernels (@cuda.jit): the grid of blocks, X[,Y[,Z]]; needs --block")
      ->option_text("X[,Y[,Z]]");
  run->add_option("--block", runOpt.block,
                  "GPU kernels: the threads of one block, X[,Y[,Z]] (at most 1024 in all)")
      ->option_text("X[,Y[,Z]]");
  run->add_flag("--boundscheck", runOpt.boundscheck,
                "Check every index of every kernel (as boundscheck=True, or "
                "STN_BOUNDSCHECK=1): an index outside its array stops the run with an error "
                "naming the array, the index and the shape");
  run->add_flag("-q,--quiet", runOpt.quiet,
                "Print nothing but errors: no warnings and no JSON result (files given "
                "by -o and --save-args are still written)");
  run->footer(RunFooter);

  std::string checkFile;
  bool checkQuiet = false;
  CLI::App *check = app.add_subcommand(
      "check", "Load FILE.stn and report its errors and warnings on stderr; prints "
               "nothing and exits 0 if it is correct, exits 1 if it has errors");
  check->add_option("FILE", checkFile, "The .stn source file")->required()->type_name("");
  check->add_flag("-q,--quiet", checkQuiet, "Do not print warnings");
  bool checkWerror = false;
  check->add_flag("--werror", checkWerror, "Exit with status 1 if there are warnings");
  check->footer(CheckFooter);

  IrOptions irOpt;
  CLI::App *ir = app.add_subcommand(
      "ir", "Print one compilation stage of KERNEL (or, with --emit=ast and no KERNEL, "
            "the syntax tree of the whole file)");
  ir->add_option("FILE", irOpt.file, "The .stn source file")->required()->type_name("");
  ir->add_option("KERNEL", irOpt.kernel,
                 "The kernel to compile; optional for --emit=ast")
      ->type_name("");
  ir->add_option("--sig", irOpt.signature,
                 "The argument types to specialize for, in the language's type syntax, "
                 "e.g. \"f64[:,:], f64[:,:], i64\" (not needed for --emit=ast, or for a "
                 "kernel with an explicit signature)")
      ->option_text("TYPES");
  ir->add_option("--emit", irOpt.emit,
                 "The stage to print: ast (syntax tree), typed (syntax tree with "
                 "inferred types), mlir (upstream MLIR dialects), lowered or "
                 "mlir-lowered (MLIR in the LLVM dialect), llvm (optimized LLVM IR), "
                 "asm (host assembly), ptx (GPU kernels; their mlir stage is the "
                 "gpu.module), diagnostics (not a stage: which loops run in parallel "
                 "with which reductions, which array expressions were fused, which "
                 "loops were vectorized and why not); default: mlir")
      ->option_text("STAGE")
      ->check(CLI::IsMember({"ast", "typed", "mlir", "lowered", "mlir-lowered", "llvm",
                             "asm", "ptx", "diagnostics"}));
  ir->footer(IrFooter);

  CLI::App *cache = app.add_subcommand(
      "cache", "Show or manage the on-disk cache of compiled kernels");
  cache->require_subcommand(1);
  cache->footer(CacheFooter);
  CLI::App *cachePath = cache->add_subcommand("path", "Print the cache directory");
  CLI::App *cacheList = cache->add_subcommand(
      "list", "List the cached kernels: name, signature, size, last use and source file, "
              "most recently used first");
  CLI::App *cacheStats = cache->add_subcommand(
      "stats", "Print the number of entries, their size, and the hits and misses of every "
               "process that used the cache");
  CLI::App *cacheClear = cache->add_subcommand(
      "clear", "Remove every cached kernel and reset the counters");
  std::string pruneMaxSize;
  CLI::App *cachePrune = cache->add_subcommand(
      "prune", "Remove invalid entries, entries of other stn builds or CPUs, and the least "
               "recently used entries beyond the size limit");
  cachePrune
      ->add_option("--max-size", pruneMaxSize,
                   "Keep at most SIZE bytes (e.g. 500M, 2G); default: the cache's size limit")
      ->option_text("SIZE");

  ApplyCliOptions applyOpt;
  CLI::App *apply = app.add_subcommand(
      "apply", "Run KERNEL of FILE.stn over a stack of images (PNG or .npy files) and write "
               "one result file per image into DIR");
  apply->add_option("FILE", applyOpt.file, "The .stn source file")->required()->type_name("");
  apply->add_option("KERNEL", applyOpt.kernel,
                    "The kernel to call with the stack (its one argument)")
      ->required()
      ->type_name("");
  apply->add_option("INPUT", applyOpt.inputs,
                    "Image files, directories or quoted glob patterns ('images/*.png')")
      ->required()
      ->type_name("");
  apply->add_option("-o,--output", applyOpt.output,
                    "The output directory (created if needed); results keep the inputs' "
                    "file names")
      ->required()
      ->option_text("DIR");
  apply->add_option("--chunk", applyOpt.chunk,
                    "Call the kernel on N images at a time (default: the whole stack if it "
                    "fits in memory)")
      ->option_text("N")
      ->check(CLI::Range(int64_t(1), std::numeric_limits<int64_t>::max()));
  apply->add_option("--memory", applyOpt.memory,
                    "Memory budget for the stack and its result, e.g. 512M or 8G (default: "
                    "$STN_APPLY_MEMORY, else half of the physical memory)")
      ->option_text("SIZE");
  apply->add_option("--format", applyOpt.format,
                    "Output file format (default: the inputs' format)")
      ->option_text("png|npy")
      ->check(CLI::IsMember({"png", "npy"}));
  apply->add_option("--as", applyOpt.as,
                    "Convert the results to DTYPE before writing, only if every value fits "
                    "exactly (e.g. --as uint8 to write a float64 result as 8-bit PNG)")
      ->option_text("DTYPE");
  apply->add_option("-j,--jobs", applyOpt.jobs,
                    "Threads decoding and encoding files (default: $STN_NUM_THREADS, else "
                    "the available cores)")
      ->option_text("N")
      ->check(CLI::Range(1u, 4096u));
  apply->add_option("--png-level", applyOpt.pngLevel,
                    "zlib compression level of written PNGs, 0 (none) to 9 (smallest); "
                    "default 1 (fast)")
      ->option_text("L")
      ->check(CLI::Range(0, 9));
  apply->add_flag("--stats", applyOpt.stats,
                  "Print a summary and the decode/kernel/encode times to stderr, also when it "
                  "is not a terminal");
  apply->add_flag("-q,--quiet", applyOpt.quiet, "Print nothing but errors");
  apply->footer(ApplyFooter);

  CLI::App *sysinfo = app.add_subcommand(
      "sysinfo", "Print the CPU, cores, stn/LLVM/MLIR versions, CUDA driver and devices, "
                 "kernel cache and thread count (for bug reports)");
  sysinfo->footer(SysinfoFooter);

  std::vector<std::string> args(argv, argv + argc);
  // CLI11 reports a mistyped command as "A subcommand is required"; name it.
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' &&
      args[1] != run->get_name() && args[1] != check->get_name() &&
      args[1] != ir->get_name() && args[1] != cache->get_name() &&
      args[1] != apply->get_name() && args[1] != sysinfo->get_name()) {
    std::cerr << fmt::format("stn: error: unknown command '{}' (the commands are run, "
                             "check, ir, cache, apply and sysinfo)\nRun with --help for more "
                             "information.\n",
                             args[1]);
    return 2;
  }
  args = reorderRunArguments(*run, args);
  std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (run->parsed())
      return runCommand(runOpt);
    if (check->parsed())
      return checkCommand(checkFile, checkQuiet, checkWerror);
    if (ir->parsed())
      return irCommand(irOpt);
    if (cachePath->parsed())
      return cachePathCommand();
    if (cacheList->parsed())
      return cacheListCommand();
    if (cacheStats->parsed())
      return cacheStatsCommand();
    if (cacheClear->parsed())
      return cacheClearCommand();
    if (cachePrune->parsed())
      return cachePruneCommand(pruneMaxSize);
    if (apply->parsed())
      return applyCommand(applyOpt);
    if (sysinfo->parsed())
      return sysinfoCommand();
  } catch (const stn::Error &e) {
    std::string msg = e.what();
    std::string firstLine = msg.substr(0, msg.find('\n'));
    // Diagnostics (errors, and warnings reported before them) say what
    // they are; other messages get the tool's prefix.
    if (firstLine.find("error:") == std::string::npos &&
        firstLine.find("warning:") == std::string::npos)
      msg = "stn: error: " + msg;
    if (msg.empty() || msg.back() != '\n')
      msg += '\n';
    std::cerr << msg;
    return 1;
  } catch (const std::exception &e) {
    // Filesystem errors (creating -o or --save-args directories) and the like.
    std::cerr << "stn: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
