//===- CallChecks.cpp - Shape checks before a kernel call -----------------===//
//
// See CallChecks.h. Messages name the kernel, the parameter, the axis or
// core dimension, and both sizes.
//
//===----------------------------------------------------------------------===//

#include "CallChecks.h"

#include "stn/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace stn {

namespace {

std::string shapeStr(const std::vector<int64_t> &shape) {
  if (shape.size() == 1)
    return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

const std::vector<int64_t> *shapeOf(const Arg &a) {
  return a.isArray() ? &a.array().shape : nullptr;
}

/// NumPy broadcasting of `shapes` (empty for scalars); throws on mismatch.
std::vector<int64_t> broadcast(const std::string &kernel, const std::vector<std::string> &names,
                               const std::vector<std::vector<int64_t>> &shapes) {
  size_t rank = 0;
  for (auto &s : shapes)
    rank = std::max(rank, s.size());
  std::vector<int64_t> out(rank, 1);
  std::vector<std::string> from(rank);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto &s = shapes[i];
    for (size_t j = 0; j < s.size(); ++j) {
      size_t d = rank - s.size() + j;
      if (s[j] == 1)
        continue;
      if (out[d] != 1 && out[d] != s[j])
        throw Error(fmt::format("error: cannot broadcast the arguments of '{}': '{}' has extent "
                                "{} on axis {} but '{}' has {}",
                                kernel, names[i], s[j], d, from[d], out[d]));
      out[d] = s[j];
      from[d] = names[i];
    }
  }
  return out;
}

void checkOut(const std::string &kernel, const Arg &out, const std::vector<int64_t> &want) {
  const auto &shape = out.array().shape;
  if (shape != want)
    throw Error(fmt::format("error: out= of '{}' has shape {} but the result has shape {}", kernel,
                            shapeStr(shape), shapeStr(want)));
}

/// The bytes [lo, hi) a view may touch; empty for an empty view.
std::pair<uintptr_t, uintptr_t> byteRange(const ArrayView &v) {
  if (v.size() == 0)
    return {0, 0};
  auto base = reinterpret_cast<uintptr_t>(v.data);
  intptr_t lo = 0, hi = 0;
  for (size_t d = 0; d < v.shape.size(); ++d) {
    intptr_t span = static_cast<intptr_t>(v.shape[d] - 1) * static_cast<intptr_t>(v.strides[d]);
    (span < 0 ? lo : hi) += span;
  }
  return {base + lo, base + hi + static_cast<intptr_t>(itemSize(v.dtype))};
}

bool sameView(const ArrayView &a, const ArrayView &b) {
  return a.data == b.data && a.dtype == b.dtype && a.shape == b.shape && a.strides == b.strides;
}

/// out= may not share memory with an input whose elements the kernel reads
/// after writing others: any overlap for stencils (they read neighbours)
/// and gufuncs (they read whole core slices); for ufuncs only a partial one
/// (out= exactly an input is NumPy's in-place `np.add(a, b, out=a)`).
void checkOutOverlap(const KernelDecl &k, const std::vector<Arg> &args, size_t n) {
  const ArrayView &out = args.back().array();
  auto [olo, ohi] = byteRange(out);
  if (olo == ohi)
    return;
  for (size_t i = 0; i < n; ++i) {
    if (!args[i].isArray())
      continue;
    const ArrayView &in = args[i].array();
    auto [ilo, ihi] = byteRange(in);
    if (ilo == ihi || ihi <= olo || ohi <= ilo)
      continue;
    if (k.kind == KernelKind::Ufunc && sameView(in, out))
      continue;
    const std::string &param = k.def->params[i].name;
    throw Error(fmt::format(
        "error: out= of '{}' shares memory with the input '{}'{}; pass a separate output array "
        "(or a copy of the input)",
        k.def->name, param,
        k.kind == KernelKind::Stencil   ? ": the stencil would read neighbours it has already "
                                          "overwritten"
        : k.kind == KernelKind::Gufunc ? ": the gufunc would read core elements it has already "
                                         "overwritten"
                                       : " without being exactly the same array"));
  }
}

} // namespace

namespace {

std::vector<int64_t> checkShapes(const KernelDecl &k, const std::vector<Arg> &args,
                                 bool hasOut) {
  const std::string &name = k.def->name;
  const auto &params = k.def->params;
  size_t n = args.size() - (hasOut ? 1 : 0);
  switch (k.kind) {
  case KernelKind::Jit:
  case KernelKind::Gpu: // a GPU kernel indexes its arrays itself, like @jit
    return {};
  case KernelKind::Stencil: {
    const std::vector<int64_t> *first = nullptr;
    std::string firstName;
    for (size_t i = 0; i < n; ++i) {
      const auto *s = shapeOf(args[i]);
      bool standard = std::find(k.stencil.standardIndexing.begin(),
                                k.stencil.standardIndexing.end(),
                                params[i].name) != k.stencil.standardIndexing.end();
      if (!s || standard)
        continue;
      if (!first) {
        first = s;
        firstName = params[i].name;
      } else if (*s != *first) {
        throw Error(fmt::format("error: stencil '{}': input '{}' has shape {} but '{}' has shape "
                                "{}; relatively indexed inputs must have the same shape",
                                name, params[i].name, shapeStr(*s), firstName,
                                shapeStr(*first)));
      }
    }
    if (hasOut && first)
      checkOut(name, args.back(), *first);
    return first ? *first : std::vector<int64_t>{};
  }
  case KernelKind::Ufunc: {
    std::vector<std::string> names;
    std::vector<std::vector<int64_t>> shapes;
    for (size_t i = 0; i < n; ++i) {
      names.push_back(params[i].name);
      shapes.push_back(args[i].isArray() ? args[i].array().shape : std::vector<int64_t>{});
    }
    auto shape = broadcast(name, names, shapes);
    if (hasOut)
      checkOut(name, args.back(), shape);
    return shape;
  }
  case KernelKind::Gufunc: {
    std::map<std::string, std::pair<int64_t, std::string>> dims;
    std::vector<std::string> names;
    std::vector<std::vector<int64_t>> outers;
    for (size_t i = 0; i < n; ++i) {
      const auto &core = k.layout.inputs[i];
      std::vector<int64_t> shape =
          args[i].isArray() ? args[i].array().shape : std::vector<int64_t>{};
      if (shape.size() < core.size())
        throw Error(fmt::format("error: gufunc '{}': input '{}' has {} dimension{} but its core "
                                "({}) needs {}",
                                name, params[i].name, shape.size(),
                                shape.size() == 1 ? "" : "s", fmt::join(core, ","),
                                core.size()));
      size_t outer = shape.size() - core.size();
      for (size_t j = 0; j < core.size(); ++j) {
        int64_t size = shape[outer + j];
        auto [it, fresh] = dims.emplace(core[j], std::make_pair(size, params[i].name));
        if (!fresh && it->second.first != size)
          throw Error(fmt::format("error: gufunc '{}': core dimension '{}' is {} in '{}' but {} "
                                  "in '{}'",
                                  name, core[j], size, params[i].name, it->second.first,
                                  it->second.second));
      }
      names.push_back(params[i].name);
      outers.emplace_back(shape.begin(), shape.begin() + outer);
    }
    auto shape = broadcast(name, names, outers);
    for (auto &d : k.layout.outputs[0]) {
      auto it = dims.find(d);
      if (it == dims.end())
        throw Error(fmt::format("error: gufunc '{}': the output dimension '{}' appears in no "
                                "input, so its size is unknown",
                                name, d));
      shape.push_back(it->second.first);
    }
    if (hasOut)
      checkOut(name, args.back(), shape);
    return shape;
  }
  }
  return {};
}

} // namespace

std::vector<int64_t> checkCallShapes(const KernelDecl &k, const SourceFile &file,
                                     const std::vector<Arg> &args, bool hasOut) {
  try {
    std::vector<int64_t> shape = checkShapes(k, args, hasOut);
    if (hasOut && args.back().isArray())
      checkOutOverlap(k, args, args.size() - 1);
    return shape;
  } catch (const Error &e) {
    // The message names the kernel; the note says where it is defined (the
    // call itself is in host code, which has no .stn location).
    auto [line, col] = file.lineCol(k.def->nameRange.begin);
    throw Error(fmt::format("{}\nnote: in kernel '{}' defined at {}:{}:{}", e.what(),
                            k.def->name, file.name(), line, col));
  }
}

} // namespace stn
