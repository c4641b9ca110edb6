//===- KernelFault.cpp - Errors raised by running kernels -----------------===//
//
// See KernelFault.h.
//
//===----------------------------------------------------------------------===//

#include "KernelFault.h"
#include "ArrayFormat.h"

#include "stn/Compiler/Diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <optional>

#include <pthread.h>

namespace stn::detail {

namespace {
thread_local KernelFault *Current = nullptr;
/// How many errors this thread has raised (_stn_raise_count).
thread_local int64_t RaisedOnThisThread = 0;

std::string shapeText(const int64_t *dims, int64_t rank) {
  std::string s = "(";
  for (int64_t d = 0; d < rank; ++d)
    s += fmt::format("{}{}", d ? ", " : "", dims[d]);
  return s + (rank == 1 ? ",)" : ")");
}

/// Python's repr() of a complex number, or where `gpuFloats` the parts as
/// printf's %f (what GPU code prints).
template <typename T> std::string complexText(T re, T im, bool gpuFloats) {
  return gpuFloats ? fmt::format("({:f}{:+f}j)", re, im) : pythonComplex(re, im);
}

} // namespace

std::string fillMessage(const std::string &text, const std::vector<int64_t> &values,
                        bool gpuFloats) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != kRaisedValue || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char how = text[++i];
    // A format spec (FormatSpec.h): 'S', the spec, kRaisedValue, the
    // value's letter.
    std::string spec;
    if (how == 'S') {
      size_t close = text.find(kRaisedValue, i + 1);
      if (close == std::string::npos || close + 1 == text.size()) {
        out += '?';
        i = text.size();
        continue;
      }
      spec = text.substr(i + 1, close - i - 1);
      i = close + 1;
      how = text[i];
    }
    int64_t v = next < values.size() ? values[next] : 0;
    ++next;
    double d;
    std::memcpy(&d, &v, sizeof d);
    if (!spec.empty()) {
      std::string err;
      std::optional<FormatSpec> f = parseFormatSpec(spec, err);
      if (!f)
        out += '?';
      else if (how == 'd' || how == 'f')
        out += pythonFormat(*f, d);
      else
        out += pythonFormat(*f, v, how == 'u');
      continue;
    }
    switch (how) {
    case 'u':
      out += fmt::format("{}", static_cast<uint64_t>(v));
      break;
    case 'b':
      out += v ? "True" : "False";
      break;
    case 'd':
      out += gpuFloats ? fmt::format("{:f}", d) : pythonFloat(d);
      break;
    case 'f':
      out += gpuFloats ? fmt::format("{:f}", d) : pythonFloat(static_cast<float>(d));
      break;
    case 'z':
    case 'y': { // two values: the real part (d), then the imaginary part
      int64_t w = next < values.size() ? values[next] : 0;
      ++next;
      double im;
      std::memcpy(&im, &w, sizeof im);
      out += how == 'z' ? complexText(d, im, gpuFloats)
                        : complexText(static_cast<float>(d), static_cast<float>(im), gpuFloats);
      break;
    }
    case 'A': // an array or a list (ArrayFormat.h, kernelArrayText)
    case 'L':
      out += kernelArrayText(v, how == 'L');
      break;
    case 'C': { // a list of tuples, a set or a dict: 'C', style, shapes
      char style = i + 1 < text.size() ? text[++i] : 'l';
      auto shape = [&]() { // 's' a number (0), 'tNN' a tuple of NN
        if (i + 3 < text.size() && text[i + 1] == 't') {
          int n = (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
          i += 3;
          return n;
        }
        ++i;
        return 0;
      };
      int key = shape();
      int value = style == 'd' ? shape() : 0;
      out += kernelCollectionText(v, style, key, value);
      break;
    }
    default:
      out += fmt::format("{}", v);
      break;
    }
  }
  return out;
}

bool recordFault(KernelFault &f, int32_t kind, int32_t begin, int32_t end, const char *text,
                 int64_t n, const int64_t *v) {
  bool expected = false;
  if (f.raised.compare_exchange_strong(expected, true)) {
    f.kind = static_cast<KernelFaultKind>(kind);
    f.begin = static_cast<uint32_t>(begin);
    f.end = static_cast<uint32_t>(end);
    f.text = text ? text : "";
    f.values.assign(v, v + (n < 0 ? 0 : n > kMaxFaultValues ? kMaxFaultValues : n));
  }
  return f.jump && parallelDepth() == 0 && std::this_thread::get_id() == f.host;
}

KernelFault *currentFault() { return Current; }

KernelFault *exchangeFault(KernelFault *f) {
  KernelFault *prev = Current;
  Current = f;
  return prev;
}

__attribute__((noinline)) void runKernel(void (*fn)(void **), void **args, KernelFault &f) {
  // Nothing here may change between setjmp and a longjmp back to it except
  // through `f` (a reference to the caller's object).
  KernelFault *prev = exchangeFault(&f);
  f.host = std::this_thread::get_id();
  std::jmp_buf jump;
  f.jump = &jump;
  if (setjmp(jump) == 0)
    fn(args);
  f.jump = nullptr;
  exchangeFault(prev);
}

std::string formatFault(const KernelFault &f, const SourceFile &file) {
  const std::vector<int64_t> &v = f.values;
  auto at = [&](size_t i) { return i < v.size() ? v[i] : 0; };
  Diagnostic d;
  d.file = std::shared_ptr<const SourceFile>(&file, [](const SourceFile *) {});
  uint32_t size = static_cast<uint32_t>(file.text().size());
  d.range = SourceRange(f.begin <= size ? f.begin : 0, f.end <= size ? f.end : 0);
  switch (f.kind) {
  case KernelFaultKind::Index:
  case KernelFaultKind::IndexArray: {
    // v: index, axis, then the array's shape.
    int64_t rank = static_cast<int64_t>(v.size()) - 2;
    d.message = fmt::format("index {} is out of bounds for axis {} of '{}' with shape {}", at(0),
                            at(1), f.text, shapeText(v.data() + 2, rank < 0 ? 0 : rank));
    if (f.kind == KernelFaultKind::Index)
      d.hint = "boundscheck=True (or STN_BOUNDSCHECK=1) found this; without it the access would "
               "read or write outside the array";
    break;
  }
  case KernelFaultKind::MaskLength:
    d.message = fmt::format("boolean index did not match indexed array '{}' along axis {}: the "
                            "axis has {} elements, the index {}",
                            f.text, at(0), at(1), at(2));
    break;
  case KernelFaultKind::ZeroDivision:
    d.message = fmt::format("integer {} by zero", f.text == "%" ? "modulo" : "division");
    d.hint = "this kernel uses error_model=\"python\" (the default for @jit); with "
             "error_model=\"numpy\" the result is 0, as in NumPy";
    break;
  case KernelFaultKind::Broadcast:
  case KernelFaultKind::IndexShapes:
  case KernelFaultKind::IndexValue:
  case KernelFaultKind::AssignShape:
  case KernelFaultKind::CallShapes: {
    int64_t ra = at(0);
    int64_t rb = at(1 + ra);
    if (ra < 0 || rb < 0 || 2 + ra + rb > static_cast<int64_t>(v.size())) {
      d.message = f.kind == KernelFaultKind::CallShapes ? f.text : "array shapes do not match";
      break;
    }
    std::string a = shapeText(v.data() + 1, ra), b = shapeText(v.data() + 2 + ra, rb);
    if (f.kind == KernelFaultKind::Broadcast)
      d.message = fmt::format("operands could not be broadcast together with shapes {} {}", a, b);
    else if (f.kind == KernelFaultKind::IndexShapes)
      d.message = fmt::format(
          "shape mismatch: indexing arrays could not be broadcast together with shapes {} {}", a,
          b);
    else if (f.kind == KernelFaultKind::IndexValue)
      d.message = fmt::format("shape mismatch: value array of shape {} could not be broadcast to "
                              "indexing result of shape {}",
                              a, b);
    else if (f.kind == KernelFaultKind::AssignShape)
      d.message =
          fmt::format("could not broadcast a value of shape {} into '{}' of shape {}", a, f.text, b);
    else
      d.message = fmt::format("{}: {} and {}", f.text, a, b);
    break;
  }
  case KernelFaultKind::Raise:
    d.message = fillMessage(f.text, v);
    break;
  default:
    d.message = "the kernel raised an error";
    break;
  }
  return DiagnosticEngine::format(d);
}

} // namespace stn::detail

using stn::detail::KernelFault;

#define STN_EXPORT extern "C" __attribute__((visibility("default")))

STN_EXPORT void _stn_raise(int32_t kind, int32_t begin, int32_t end, const char *text, int64_t n,
                           int64_t v0, int64_t v1, int64_t v2, int64_t v3, int64_t v4, int64_t v5,
                           int64_t v6, int64_t v7, int64_t v8, int64_t v9) {
  ++stn::detail::RaisedOnThisThread;
  KernelFault *f = stn::detail::currentFault();
  if (!f) // kernel code outside a host call: the kernel goes on with safe values
    return;
  const int64_t v[10] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9};
  if (stn::detail::recordFault(*f, kind, begin, end, text, n, v))
    std::longjmp(*f->jump, 1);
}

STN_EXPORT void _stn_check_raised() {
  KernelFault *f = stn::detail::currentFault();
  if (f && f->raised.load(std::memory_order_acquire) && f->jump &&
      stn::detail::parallelDepth() == 0 && std::this_thread::get_id() == f->host)
    std::longjmp(*f->jump, 1);
}

/// How many errors the calling thread has raised: a kernel compares the
/// counts before and after a call to see whether the callee raised (and
/// returned, inside a parallel region).
STN_EXPORT int64_t _stn_raise_count() { return stn::detail::RaisedOnThisThread; }

namespace {

/// The lowest address this thread's stack may grow to before recursive
/// kernels raise RecursionError: its end plus a reserve for the frames of
/// the functions the last recursive call makes and for raising the error.
uintptr_t stackLimit() {
  pthread_attr_t attr;
  void *low = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0)
    return 0;
  int got = pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  if (got != 0 || !low)
    return 0;
  // 256 KiB, or a quarter of a small stack.
  size_t reserve = std::min<size_t>(size_t{256} << 10, size / 4);
  return reinterpret_cast<uintptr_t>(low) + reserve;
}

} // namespace

/// The stack address below which a recursive kernel call raises
/// RecursionError (0 where the thread's stack is unknown).
STN_EXPORT int64_t _stn_stack_limit() {
  static thread_local uintptr_t limit = stackLimit();
  return static_cast<int64_t>(limit);
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> faultRuntimeSymbols() {
  return {
      {"_stn_stack_limit", reinterpret_cast<void *>(&_stn_stack_limit)},
      {"_stn_raise_count", reinterpret_cast<void *>(&_stn_raise_count)},
      {"_stn_raise", reinterpret_cast<void *>(&_stn_raise)},
      {"_stn_check_raised", reinterpret_cast<void *>(&_stn_check_raised)},
  };
}

} // namespace stn::detail
