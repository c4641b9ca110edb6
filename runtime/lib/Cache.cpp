//===- Cache.cpp - The on-disk cache of compiled kernels ------------------===//
//
// Design note. A specialization's object file (what compileToObject returns)
// is stored in `<dir>/<sha256>.stnk`, keyed by a hash computed from the
// syntax tree before type inference, so a warm start skips Sema's
// specialization, MLIR and LLVM entirely. What the key covers and why is in
// computeCacheKey and docs/caching.md; the entry format is at
// serializeEntry. Safety rests on three rules:
//   - entries are written to a temporary file in the same directory and
//     renamed into place, so a reader sees a whole entry or none, and any
//     number of processes may race to write the same one;
//   - every entry carries its full key (compared byte for byte, not just
//     its hash) and a SHA-256 over its bytes, so truncation, corruption and
//     a file of another key are detected, removed and recompiled;
//   - nothing here throws or exits: an unwritable directory turns writing
//     off for the session with one warning.
// Last use is the entry's mtime (set by the write, refreshed on each hit);
// eviction removes the oldest. Counters shared by all processes are one
// letter per event appended to `<dir>/stats` (O_APPEND writes of one byte
// are atomic), compacted by `prune`.
//
//===----------------------------------------------------------------------===//

#include "Cache.h"

#include "stn/Compiler/AST.h"
#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/Interchange.h"
#include "stn/Compiler/Sema.h"

#include "Backend.h"
#include "Sha256.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace stn::detail {
namespace {

constexpr uint32_t FormatVersion = 2;
constexpr char Magic[8] = {'S', 'T', 'N', 'C', 'A', 'C', 'H', 'E'};
constexpr const char *EntrySuffix = ".stnk";
constexpr const char *TempSuffix = ".tmp";
constexpr const char *StatsFile = "stats";
constexpr uint64_t DefaultSizeLimit = uint64_t(1) << 30;

std::string hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

std::string sha256Hex(std::string_view bytes) {
  auto h = sha256(bytes);
  return hex(h.data(), h.size());
}

std::string getEnv(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

//===----------------------------------------------------------------------===//
// Build identity
//===----------------------------------------------------------------------===//

/// The GNU build ID of the loaded object containing `addr`, or of every
/// loaded object whose file name starts with `prefix`; for an object
/// without one, its path, size and mtime.
struct BuildIdQuery {
  uintptr_t addr = 0;
  std::string prefix;
  std::vector<std::string> found;
};

std::string noteBuildId(const dl_phdr_info *info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE)
      continue;
    size_t align = ph.p_align == 8 ? 8 : 4;
    auto up = [&](size_t n) { return (n + align - 1) & ~(align - 1); };
    const char *p = reinterpret_cast<const char *>(info->dlpi_addr + ph.p_vaddr);
    const char *end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto *nh = reinterpret_cast<const ElfW(Nhdr) *>(p);
      const char *name = p + sizeof(ElfW(Nhdr));
      const char *desc = name + up(nh->n_namesz);
      if (desc + nh->n_descsz > end)
        break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
        return hex(reinterpret_cast<const uint8_t *>(desc), nh->n_descsz);
      p = desc + up(nh->n_descsz);
    }
  }
  return "";
}

std::string fileIdentity(const std::string &path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0)
    return "unknown";
  return fmt::format("{} size {} mtime {}.{:09}", path, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

int buildIdCallback(dl_phdr_info *info, size_t, void *data) {
  auto *q = static_cast<BuildIdQuery *>(data);
  std::string path = info->dlpi_name ? info->dlpi_name : "";
  bool match = false;
  if (q->addr) {
    for (int i = 0; i < info->dlpi_phnum && !match; ++i) {
      const ElfW(Phdr) &ph = info->dlpi_phdr[i];
      uintptr_t start = info->dlpi_addr + ph.p_vaddr;
      match = ph.p_type == PT_LOAD && q->addr >= start && q->addr < start + ph.p_memsz;
    }
  } else {
    match = fs::path(path).filename().string().rfind(q->prefix, 0) == 0;
  }
  if (!match)
    return 0;
  std::string id = noteBuildId(info);
  if (id.empty())
    id = fileIdentity(path.empty() ? "/proc/self/exe" : path);
  q->found.push_back(fs::path(path).filename().string() + " " + id);
  return q->addr ? 1 : 0;
}

std::string buildIdOf(uintptr_t addr, const std::string &prefix) {
  BuildIdQuery q;
  q.addr = addr;
  q.prefix = prefix;
  dl_iterate_phdr(buildIdCallback, &q);
  std::sort(q.found.begin(), q.found.end());
  std::string s;
  for (auto &f : q.found)
    s += (s.empty() ? "" : "; ") + f;
  return s.empty() ? "none" : s;
}

/// The GNU build ID of an ELF file on disk (without loading it), else its
/// path, size and modification time.
std::string fileBuildId(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return fileIdentity(path);
  std::string id;
  ElfW(Ehdr) eh;
  if (std::fread(&eh, sizeof eh, 1, f) == 1 && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(ElfW(Phdr)) &&
      eh.e_phnum < 256) {
    for (int i = 0; i < eh.e_phnum && id.empty(); ++i) {
      ElfW(Phdr) ph;
      if (std::fseek(f, static_cast<long>(eh.e_phoff + i * sizeof ph), SEEK_SET) != 0 ||
          std::fread(&ph, sizeof ph, 1, f) != 1)
        break;
      if (ph.p_type != PT_NOTE || ph.p_filesz > 4096)
        continue;
      std::string notes(ph.p_filesz, '\0');
      if (std::fseek(f, static_cast<long>(ph.p_offset), SEEK_SET) != 0 ||
          std::fread(notes.data(), 1, notes.size(), f) != notes.size())
        break;
      size_t align = ph.p_align == 8 ? 8 : 4;
      auto up = [&](size_t n) { return (n + align - 1) & ~(align - 1); };
      size_t pos = 0;
      while (pos + sizeof(ElfW(Nhdr)) <= notes.size()) {
        ElfW(Nhdr) nh;
        std::memcpy(&nh, notes.data() + pos, sizeof nh);
        size_t name = pos + sizeof nh, desc = name + up(nh.n_namesz);
        if (desc + nh.n_descsz > notes.size())
          break;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            std::memcmp(notes.data() + name, "GNU", 4) == 0) {
          id = hex(reinterpret_cast<const uint8_t *>(notes.data() + desc), nh.n_descsz);
          break;
        }
        pos = desc + up(nh.n_descsz);
      }
    }
  }
  std::fclose(f);
  return id.empty() ? fileIdentity(path) : fs::path(path).filename().string() + " " + id;
}

/// The host CPU as the kernel sees it: /proc/cpuinfo's vendor, family,
/// model, stepping and the hash of its feature flags. Read without LLVM;
/// any difference in features gives another key.
std::string hostIdentity() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, vendor, family, model, stepping, name, flags;
  while (std::getline(in, line)) {
    auto value = [&]() {
      size_t c = line.find(':');
      return c == std::string::npos ? std::string() : line.substr(c + 1 + (c + 1 < line.size()));
    };
    if (line.rfind("vendor_id", 0) == 0 && vendor.empty())
      vendor = value();
    else if (line.rfind("cpu family", 0) == 0 && family.empty())
      family = value();
    else if (line.rfind("model name", 0) == 0 && name.empty())
      name = value();
    else if (line.rfind("model", 0) == 0 && model.empty() && line.rfind("model name", 0) != 0)
      model = value();
    else if (line.rfind("stepping", 0) == 0 && stepping.empty())
      stepping = value();
    else if ((line.rfind("flags", 0) == 0 || line.rfind("Features", 0) == 0) && flags.empty())
      flags = value();
    if (line.empty() && !flags.empty())
      break;
  }
#if defined(__x86_64__)
  const char *arch = "x86_64";
#elif defined(__aarch64__)
  const char *arch = "aarch64";
#else
  const char *arch = "unknown-arch";
#endif
  return fmt::format("{} {} family {} model {} stepping {} ({}) flags {}", arch, vendor, family,
                     model, stepping, name, sha256Hex(flags).substr(0, 16));
}

/// Everything about this build and machine that changes code, except the
/// version (which tests may override). Computed once per process; it does
/// not change while the process runs.
const std::string &toolchainBase() {
  static const std::string base = [] {
    std::string s;
    // libstn holds the front end and Sema; libstn-backend.so the code
    // generator. Both builds are part of the key (the back end's build ID is
    // read from its file: a warm start does not load it).
    s += "stn-build " + buildIdOf(reinterpret_cast<uintptr_t>(&resolveCacheConfig), "") + "\n";
    s += "backend-build " + fileBuildId(backendPath()) + "\n";
    s += fmt::format("llvm {}\n", LLVM_VERSION_STRING);
    // The shared LLVM and MLIR libraries the back end uses: a package update
    // with the same soname changes their code generation too.
#ifdef STN_LIBLLVM_FILE
    s += "llvm-build " + fileBuildId(STN_LIBLLVM_FILE) + "\n";
#endif
#ifdef STN_LIBMLIR_FILE
    s += "mlir-build " + fileBuildId(STN_LIBMLIR_FILE) + "\n";
#endif
    // The host CPU: code is compiled for its exact features.
    s += "host " + hostIdentity() + "\n";
    return s;
  }();
  return base;
}

//===----------------------------------------------------------------------===//
// Types as text
//===----------------------------------------------------------------------===//

/// An exact, parseable encoding (Type::str() is for people):
/// n | s<kind> | a<kind>.<rank>.<C|A> | t<count>(<elt>,<elt>...)
void encodeType(const Type &t, std::string &out) {
  switch (t.kind()) {
  case Type::Kind::Invalid:
    out += '?';
    return;
  case Type::Kind::None:
    out += 'n';
    return;
  case Type::Kind::Scalar:
    out += fmt::format("s{}", static_cast<unsigned>(t.scalarKind()));
    return;
  case Type::Kind::Array:
    out += fmt::format("a{}.{}.{}", static_cast<unsigned>(t.scalarKind()), t.rank(),
                       t.layout() == Type::Layout::C ? 'C' : 'A');
    return;
  case Type::Kind::Tuple:
  case Type::Kind::Function: // (a function value: between kernels only, as lists)
    out += t.isTuple() ? fmt::format("t{}(", t.elements().size())
                       : fmt::format("f{}:{}(", t.functionName().size(), t.functionName());
    for (size_t i = 0; i < t.elements().size(); ++i) {
      if (i)
        out += ',';
      encodeType(t.elements()[i], out);
    }
    out += ')';
    return;
  case Type::Kind::List:
    if (t.isArrayList()) { // a result: the host gets a tuple of its arrays
      out += "L(";
      encodeType(t.listItem(), out);
      out += ')';
      return;
    }
    // Kernel-local only: never a host argument or result.
    out += fmt::format("l{}", static_cast<unsigned>(t.scalarKind()));
    return;
  case Type::Kind::Dict: // kernel-local only, as lists
    out += t.isSet() ? 'e' : 'd';
    if (t.isKnownDict()) {
      out += '(';
      encodeType(t.dictKey(), out);
      out += ',';
      encodeType(t.dictValue(), out);
      out += ')';
    }
    return;
  }
}

std::string encodeTypes(const std::vector<Type> &ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i)
      s += ';';
    encodeType(ts[i], s);
  }
  return s;
}

bool parseUnsigned(std::string_view s, size_t &pos, unsigned &out) {
  size_t start = pos;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && v < 100000)
    v = v * 10 + static_cast<unsigned>(s[pos++] - '0');
  out = static_cast<unsigned>(v);
  return pos > start && pos - start <= 5;
}

std::optional<Type> decodeType(std::string_view s, size_t &pos, unsigned depth = 0) {
  if (pos >= s.size() || depth > 32)
    return std::nullopt;
  char c = s[pos++];
  unsigned kind, rank, count;
  auto validKind = [](unsigned k) { return k <= static_cast<unsigned>(ScalarKind::C128); };
  switch (c) {
  case 'n':
    return Type::none();
  case 's':
    if (!parseUnsigned(s, pos, kind) || !validKind(kind))
      return std::nullopt;
    return Type::scalar(static_cast<ScalarKind>(kind));
  case 'a': {
    if (!parseUnsigned(s, pos, kind) || !validKind(kind) || pos >= s.size() || s[pos++] != '.' ||
        !parseUnsigned(s, pos, rank) || rank == 0 || rank > 32 || pos + 1 >= s.size() ||
        s[pos++] != '.')
      return std::nullopt;
    char l = s[pos++];
    if (l != 'C' && l != 'A')
      return std::nullopt;
    return Type::array(static_cast<ScalarKind>(kind), rank,
                       l == 'C' ? Type::Layout::C : Type::Layout::Any);
  }
  case 'L': { // a list of arrays
    if (pos >= s.size() || s[pos++] != '(')
      return std::nullopt;
    auto item = decodeType(s, pos, depth + 1);
    if (!item || !item->isArray() || pos >= s.size() || s[pos++] != ')')
      return std::nullopt;
    return Type::list(*item);
  }
  case 't': {
    if (!parseUnsigned(s, pos, count) || count > 4096 || pos >= s.size() || s[pos++] != '(')
      return std::nullopt;
    std::vector<Type> elts;
    for (unsigned i = 0; i < count; ++i) {
      if (i && (pos >= s.size() || s[pos++] != ','))
        return std::nullopt;
      auto e = decodeType(s, pos, depth + 1);
      if (!e)
        return std::nullopt;
      elts.push_back(*e);
    }
    if (pos >= s.size() || s[pos++] != ')')
      return std::nullopt;
    return Type::tuple(std::move(elts));
  }
  default:
    return std::nullopt;
  }
}

std::optional<std::vector<Type>> decodeTypes(std::string_view s) {
  std::vector<Type> out;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!out.empty() && s[pos++] != ';')
      return std::nullopt;
    auto t = decodeType(s, pos);
    if (!t)
      return std::nullopt;
    out.push_back(*t);
  }
  return out;
}

std::string displaySignature(const std::vector<Type> &args, const Type &result) {
  Signature sig;
  sig.args = args;
  sig.result = result;
  return sig.str();
}

//===----------------------------------------------------------------------===//
// What a kernel depends on, found in the syntax tree
//===----------------------------------------------------------------------===//

/// Where a definition starts in the file (the line of its first
/// decorator) and its text from there to the end of its body, as written.
/// Compiled code holds source positions (the byte ranges of the errors it
/// may raise, KernelFaults.h), so both are part of the key: a cached kernel
/// never reports a stale position.
std::string definitionText(const SourceFile &file, const ast::FunctionDef &f) {
  const std::string &text = file.text();
  uint32_t begin = f.range.begin;
  for (auto &d : f.decorators)
    begin = std::min(begin, d->range().begin);
  begin = std::min<uint32_t>(begin, static_cast<uint32_t>(text.size()));
  while (begin > 0 && text[begin - 1] != '\n')
    --begin;
  uint32_t end =
      std::min<uint32_t>(std::max(f.range.end, begin), static_cast<uint32_t>(text.size()));
  return fmt::format("at byte {}\n", begin) + text.substr(begin, end - begin);
}

/// Collects, transitively, the module's functions and constants a function
/// names. Every Name counts, wherever it appears (a callee, an argument, a
/// shadowed local): over-approximating only costs a recompile.
class DependencyCollector {
public:
  DependencyCollector(const ast::Module &m, const std::map<std::string, ConstValue> &constants)
      : M(m), Constants(constants) {}

  void run(const ast::FunctionDef &root) {
    Functions[root.name] = &root;
    std::vector<const ast::FunctionDef *> work{&root};
    Work = &work;
    while (!work.empty()) {
      const ast::FunctionDef *f = work.back();
      work.pop_back();
      function(*f);
    }
  }

  std::map<std::string, const ast::FunctionDef *> Functions;
  std::set<std::string> ConstantNames;

private:
  void name(const std::string &id) {
    if (const ast::FunctionDef *f = M.findFunction(id))
      if (Functions.emplace(id, f).second)
        Work->push_back(f);
    if (Constants.count(id))
      ConstantNames.insert(id);
  }

  void function(const ast::FunctionDef &f) {
    for (auto &d : f.decorators)
      expr(d.get());
    for (auto &p : f.params) {
      expr(p.annotation.get());
      expr(p.defaultValue.get());
    }
    expr(f.returns.get());
    block(f.body);
  }

  void block(const ast::Block &b) {
    for (auto &s : b)
      stmt(s.get());
  }

  void stmt(const ast::Stmt *s) {
    using llvm::cast;
    if (!s)
      return;
    switch (s->kind()) {
    case ast::Stmt::Kind::ExprStmt:
      expr(cast<ast::ExprStmt>(s)->value.get());
      return;
    case ast::Stmt::Kind::Assign: {
      auto *a = cast<ast::Assign>(s);
      for (auto &t : a->targets)
        expr(t.get());
      expr(a->value.get());
      expr(a->annotation.get());
      return;
    }
    case ast::Stmt::Kind::AugAssign: {
      auto *a = cast<ast::AugAssign>(s);
      expr(a->target.get());
      expr(a->value.get());
      return;
    }
    case ast::Stmt::Kind::If: {
      auto *i = cast<ast::If>(s);
      expr(i->cond.get());
      block(i->body);
      block(i->orelse);
      return;
    }
    case ast::Stmt::Kind::For: {
      auto *f = cast<ast::For>(s);
      expr(f->target.get());
      expr(f->iter.get());
      block(f->body);
      block(f->orelse);
      return;
    }
    case ast::Stmt::Kind::While: {
      auto *w = cast<ast::While>(s);
      expr(w->cond.get());
      block(w->body);
      block(w->orelse);
      return;
    }
    case ast::Stmt::Kind::Return:
      expr(cast<ast::Return>(s)->value.get());
      return;
    case ast::Stmt::Kind::Raise:
      expr(cast<ast::Raise>(s)->exc.get());
      return;
    case ast::Stmt::Kind::Assert:
      expr(cast<ast::Assert>(s)->test.get());
      expr(cast<ast::Assert>(s)->msg.get());
      return;
    case ast::Stmt::Kind::Break:
    case ast::Stmt::Kind::Continue:
    case ast::Stmt::Kind::Pass:
    case ast::Stmt::Kind::Import: // local imports are in the function's text
    case ast::Stmt::Kind::LocalDef: // lifted by the parser: none are left
    case ast::Stmt::Kind::Unsupported:
      return;
    }
  }

  void expr(const ast::Expr *e) {
    using llvm::cast;
    if (!e)
      return;
    switch (e->kind()) {
    case ast::Expr::Kind::IntLit:
    case ast::Expr::Kind::FloatLit:
    case ast::Expr::Kind::ImagLit:
    case ast::Expr::Kind::BoolLit:
    case ast::Expr::Kind::NoneLit:
    case ast::Expr::Kind::EllipsisLit:
    case ast::Expr::Kind::StrLit:
    case ast::Expr::Kind::Lambda: // lifted by the parser: none are left
    case ast::Expr::Kind::Unsupported:
      return;
    case ast::Expr::Kind::Name:
      name(cast<ast::Name>(e)->id);
      return;
    case ast::Expr::Kind::Closure:
      name(cast<ast::Closure>(e)->function);
      for (auto &c : cast<ast::Closure>(e)->captures)
        expr(c.get());
      return;
    case ast::Expr::Kind::Attribute:
      expr(cast<ast::Attribute>(e)->value.get());
      return;
    case ast::Expr::Kind::Subscript: {
      auto *s = cast<ast::Subscript>(e);
      expr(s->value.get());
      expr(s->index.get());
      return;
    }
    case ast::Expr::Kind::Slice: {
      auto *s = cast<ast::Slice>(e);
      expr(s->lower.get());
      expr(s->upper.get());
      expr(s->step.get());
      return;
    }
    case ast::Expr::Kind::Call: {
      auto *c = cast<ast::Call>(e);
      expr(c->func.get());
      for (auto &a : c->args)
        expr(a.get());
      for (auto &k : c->keywords)
        expr(k.value.get());
      return;
    }
    case ast::Expr::Kind::BinOp: {
      auto *b = cast<ast::BinOp>(e);
      expr(b->lhs.get());
      expr(b->rhs.get());
      return;
    }
    case ast::Expr::Kind::UnaryOp:
      expr(cast<ast::UnaryOp>(e)->operand.get());
      return;
    case ast::Expr::Kind::Compare:
      for (auto &o : cast<ast::Compare>(e)->operands)
        expr(o.get());
      return;
    case ast::Expr::Kind::BoolOp:
      for (auto &v : cast<ast::BoolOp>(e)->values)
        expr(v.get());
      return;
    case ast::Expr::Kind::IfExp: {
      auto *i = cast<ast::IfExp>(e);
      expr(i->cond.get());
      expr(i->body.get());
      expr(i->orelse.get());
      return;
    }
    case ast::Expr::Kind::Tuple:
      for (auto &x : cast<ast::Tuple>(e)->elts)
        expr(x.get());
      return;
    case ast::Expr::Kind::List:
      for (auto &x : cast<ast::List>(e)->elts)
        expr(x.get());
      return;
    case ast::Expr::Kind::ListComp:
    case ast::Expr::Kind::Dict:
      ast::forEachChild(*e, [&](const ast::Expr &c) { expr(&c); });
      return;
    }
  }

  const ast::Module &M;
  const std::map<std::string, ConstValue> &Constants;
  std::vector<const ast::FunctionDef *> *Work = nullptr;
};

uint64_t bitsOf(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

/// A constant's exact value (floats by their bits).
void encodeConst(const ConstValue &c, std::string &out) {
  encodeType(c.type, out);
  out += fmt::format("{{{}:{}:{:016x}:{:016x}:{:016x}", c.i, c.u, bitsOf(c.f), bitsOf(c.c.real()),
                     bitsOf(c.c.imag()));
  for (auto &e : c.elts) {
    out += ',';
    encodeConst(e, out);
  }
  out += '}';
}

/// One ingredient: a name, the value's length and the value, so that no two
/// different lists of ingredients can produce the same text.
void field(std::string &m, std::string_view name, std::string_view value) {
  m += fmt::format("{} {}\n", name, value.size());
  m += value;
  m += '\n';
}

//===----------------------------------------------------------------------===//
// Entry files
//===----------------------------------------------------------------------===//

void putU32(std::string &s, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void putU64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t getLE(const char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string oneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', '?');
  return s;
}

/// Entry file, all integers little-endian:
///   "STNCACHE"  u32 format version (1)  u32 flags (0)
///   u64 length + header: "name=value\n" lines (kernel, source, signature,
///       symbol, args, result; args/result in encodeType's syntax)
///   u64 length + the key's full material
///   u64 length + the object file (loaded by the back end's JIT)
///   u64 length + the object linked into a shared object (may be empty;
///       loaded with dlopen, without LLVM)
///   32 bytes: SHA-256 of everything before it
std::string serializeEntry(const CacheKey &key, const std::vector<Type> &argTypes,
                           const Type &resultType, std::string_view object,
                           std::string_view sharedObject) {
  std::string header;
  header += "kernel=" + oneLine(key.kernel) + "\n";
  header += "source=" + oneLine(key.source) + "\n";
  header += "signature=" + displaySignature(argTypes, resultType) + "\n";
  header += "symbol=" + cachedEntrySymbol(key) + "\n";
  header += "args=" + encodeTypes(argTypes) + "\n";
  std::string result;
  encodeType(resultType, result);
  header += "result=" + result + "\n";
  std::string s(Magic, sizeof Magic);
  putU32(s, FormatVersion);
  putU32(s, 0);
  putU64(s, header.size());
  s += header;
  putU64(s, key.material.size());
  s += key.material;
  putU64(s, object.size());
  s += object;
  putU64(s, sharedObject.size());
  s += sharedObject;
  auto sum = sha256(s);
  s.append(reinterpret_cast<const char *>(sum.data()), sum.size());
  return s;
}

std::string entryPath(const std::string &dir, const std::string &digest) {
  return (fs::path(dir) / (digest + EntrySuffix)).string();
}

struct FileBytes {
  std::string bytes;
  dev_t dev = 0;
  ino_t ino = 0;
};

/// Reads a whole file; 0 or an errno.
int readFile(const std::string &path, FileBytes &out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (int64_t(1) << 32)) {
    int e = errno ? errno : EINVAL;
    ::close(fd);
    return e;
  }
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.bytes.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.bytes.size()) {
    ssize_t n = ::read(fd, out.bytes.data() + got, out.bytes.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  out.bytes.resize(got); // a file shrinking under us reads as truncated
  ::close(fd);
  return 0;
}

/// Removes `path` only if it is still the file that was read (another
/// process may have renamed a fresh entry into place meanwhile).
void removeIfSame(const std::string &path, const FileBytes &read) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_dev == read.dev && st.st_ino == read.ino)
    ::unlink(path.c_str());
}

bool writeAll(int fd, const std::string &bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and an atomic rename. Empty on success, else what failed.
std::string writeAtomically(const std::string &path, const std::string &bytes,
                            const std::string &tempName) {
  std::string temp = (fs::path(path).parent_path() / tempName).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return fmt::format("cannot create '{}': {}", temp, std::strerror(errno));
  bool ok = writeAll(fd, bytes);
  int writeErr = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    writeErr = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return fmt::format("cannot write '{}': {}", temp, std::strerror(writeErr));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(temp.c_str());
    // The temporary file vanished: `stn cache clear` ran meanwhile. Not a
    // reason to stop writing.
    if (e == ENOENT)
      return "";
    return fmt::format("cannot rename '{}' to '{}': {}", temp, path, std::strerror(e));
  }
  return "";
}

struct DirEntry {
  std::string path;
  uint64_t size = 0;
  struct timespec mtime = {};
};

bool olderThan(const DirEntry &a, const DirEntry &b) {
  if (a.mtime.tv_sec != b.mtime.tv_sec)
    return a.mtime.tv_sec < b.mtime.tv_sec;
  if (a.mtime.tv_nsec != b.mtime.tv_nsec)
    return a.mtime.tv_nsec < b.mtime.tv_nsec;
  return a.path < b.path;
}

bool endsWith(const std::string &s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0;
}

bool isEntryName(const std::string &name) {
  return endsWith(name, EntrySuffix) && name.size() == 64 + std::strlen(EntrySuffix) &&
         name.find_first_not_of("0123456789abcdef") == 64;
}

bool isTempName(const std::string &name) {
  return name.size() > 1 && name[0] == '.' && endsWith(name, TempSuffix);
}

/// The entry files (or the temporary files) of `dir`.
std::vector<DirEntry> scanDir(const std::string &dir, bool temporaries = false) {
  std::vector<DirEntry> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (temporaries ? !isTempName(name) : !isEntryName(name))
      continue;
    struct stat st;
    std::string path = it->path().string();
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    out.push_back({path, static_cast<uint64_t>(st.st_size), st.st_mtim});
  }
  return out;
}

/// Appends one event letter to the shared counters.
void appendStatTo(const std::string &dir, char event, bool createDir) {
  std::string path = (fs::path(dir) / StatsFile).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT && createDir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  }
  if (fd < 0)
    return;
  ssize_t n;
  do
    n = ::write(fd, &event, 1);
  while (n < 0 && errno == EINTR);
  ::close(fd);
}

/// Counters: a letter per event (h, m, i, s, e), or "<letter>=<count>\n"
/// after compaction.
std::map<char, uint64_t> readStats(const std::string &dir) {
  std::map<char, uint64_t> counts;
  FileBytes f;
  if (readFile((fs::path(dir) / StatsFile).string(), f) != 0)
    return counts;
  const std::string &s = f.bytes;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i + 1 < s.size() && s[i + 1] == '=') {
      uint64_t v = 0;
      size_t j = i + 2;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9')
        v = v * 10 + static_cast<uint64_t>(s[j++] - '0');
      counts[c] += v;
      i = j; // at the '\n'
      continue;
    }
    if (c >= 'a' && c <= 'z')
      counts[c] += 1;
  }
  return counts;
}

std::string tempName(const std::string &digest, uint64_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format(".{}.{}.{}.{:x}{}", digest.substr(0, 16), ::getpid(), n, rng() & 0xffffffff,
                     TempSuffix);
}

} // namespace

//===----------------------------------------------------------------------===//
// Configuration and key
//===----------------------------------------------------------------------===//

CacheConfig resolveCacheConfig(const EngineOptions &options) {
  CacheConfig c;
  c.version = getEnv("STN_CACHE_TEST_VERSION");
  if (c.version.empty())
    c.version = stn::version();
  std::string off = getEnv("STN_CACHE");
  std::transform(off.begin(), off.end(), off.begin(), ::tolower);
  if (!options.cacheEnabled) {
    c.enabled = false;
    c.disabledBy = "EngineOptions::cacheEnabled is false";
  } else if (off == "0" || off == "false" || off == "off" || off == "no") {
    c.enabled = false;
    c.disabledBy = "STN_CACHE=" + getEnv("STN_CACHE");
  }
  if (!options.cacheDir.empty()) {
    c.dir = options.cacheDir;
  } else if (!getEnv("STN_CACHE_DIR").empty()) {
    c.dir = getEnv("STN_CACHE_DIR");
  } else if (std::string xdg = getEnv("XDG_CACHE_HOME"); !xdg.empty() && xdg[0] == '/') {
    c.dir = (fs::path(xdg) / "stn").string();
  } else {
    std::string home = getEnv("HOME");
    if (home.empty()) {
      struct passwd pw, *found = nullptr;
      char buf[4096];
      if (getpwuid_r(::getuid(), &pw, buf, sizeof buf, &found) == 0 && found && pw.pw_dir)
        home = pw.pw_dir;
    }
    if (!home.empty())
      c.dir = (fs::path(home) / ".cache" / "stn").string();
  }
  if (c.dir.empty() && c.enabled) {
    c.enabled = false;
    c.disabledBy = "there is no home directory and STN_CACHE_DIR is not set";
  }
  c.sizeLimit = options.cacheSizeLimit;
  if (!c.sizeLimit) {
    std::string env = getEnv("STN_CACHE_SIZE_LIMIT");
    if (!env.empty()) {
      if (auto v = cache::parseSize(env); v && *v > 0)
        c.sizeLimit = *v;
      else
        c.problems.push_back(fmt::format("warning: kernel cache: STN_CACHE_SIZE_LIMIT='{}' is "
                                         "not a size such as 500M or 2G; using 1 GiB",
                                         env));
    }
  }
  if (!c.sizeLimit)
    c.sizeLimit = DefaultSizeLimit;
  return c;
}

std::string toolchainKey(const std::string &version) {
  return fmt::format("stn-kernel-cache {}\nstn {}\n", FormatVersion, version) + toolchainBase();
}

CacheKey computeCacheKey(const Program &program, const KernelDecl &k, const std::vector<Type> &args,
                         unsigned optLevel, const std::string &version,
                         const std::string &callShape) {
  CacheKey key;
  key.kernel = k.def->name;
  key.source = program.file()->name();
  std::string &m = key.material;
  m = toolchainKey(version);
  m += fmt::format("opt-level {}\n", optLevel);
  field(m, "kernel", k.def->name);
  field(m, "args", encodeTypes(args));
  field(m, "call-shape", callShape);
  // STN_INTERCHANGE=0 changes the code of some loop nests.
  if (!interchangeEnabled())
    field(m, "interchange", "off");
  // STN_GPU_STENCIL_ROWS changes the code of GPU stencils.
  if (gpuStencilRows() != GpuStencilRows)
    field(m, "gpu-stencil-rows", std::to_string(gpuStencilRows()));
  const KernelOptions &o = k.options;
  field(m, "options",
        fmt::format("nopython={} parallel={} fastmath={} cache={} nogil={} boundscheck={} "
                    "error_model={} target={}{}",
                    o.nopython, o.parallel, static_cast<unsigned>(o.fastmathFlags), o.cache, o.nogil, o.boundscheck,
                    o.errorModel, o.target, o.targetGiven ? "" : " (default)"));
  // Imports decide what `np.`, `math.` and from-imported names mean.
  std::string imports;
  for (auto &imp : program.module().imports) {
    imports += fmt::format("{} as {}:", imp->module, imp->alias);
    for (auto &[n, a] : imp->names)
      imports += fmt::format(" {} as {},", n, a);
    imports += '\n';
  }
  field(m, "imports", imports);
  DependencyCollector deps(program.module(), program.constants());
  deps.run(*k.def);
  const SourceFile &file = *program.file();
  field(m, "function " + k.def->name, definitionText(file, *k.def));
  for (auto &[name, def] : deps.Functions)
    if (def != k.def)
      field(m, "function " + name, definitionText(file, *def));
  for (auto &name : deps.ConstantNames) {
    std::string v;
    encodeConst(program.constants().at(name), v);
    field(m, "constant " + name, v);
  }
  key.digest = sha256Hex(m);
  return key;
}

std::string cachedEntrySymbol(const CacheKey &key) {
  return "__stn_cached_" + key.digest.substr(0, 32);
}

bool parseEntry(std::string_view bytes, EntryFile &out, std::string &why) {
  const size_t fixed = sizeof Magic + 4 + 4 + 8;
  if (bytes.size() < fixed + 8 + 8 + 8 + 32) {
    // Too short even for empty sections (an empty file, a cut header).
    why = fmt::format("truncated: {} bytes", bytes.size());
    return false;
  }
  const char *p = bytes.data();
  if (std::memcmp(p, Magic, sizeof Magic) != 0) {
    why = "not an stn cache entry";
    return false;
  }
  uint32_t version = static_cast<uint32_t>(getLE(p + 8, 4));
  if (version != FormatVersion) {
    why = fmt::format("entry format {}, this stn reads format {}", version, FormatVersion);
    return false;
  }
  // The checksum first: any damage (a flipped length included) is reported
  // as corruption, unless the lengths show the file was cut short.
  size_t body = bytes.size() - 32;
  auto sum = sha256(bytes.data(), body);
  bool sumOk = std::memcmp(sum.data(), p + body, 32) == 0;
  // Four length-prefixed sections, then the checksum. Lengths are checked
  // before use, so a garbage length never reads out of bounds.
  std::string_view sections[4];
  uint64_t pos = sizeof Magic + 8;
  bool fits = true;
  for (auto &sec : sections) {
    if (pos + 8 > body) {
      fits = false;
      break;
    }
    uint64_t len = getLE(p + pos, 8);
    pos += 8;
    if (len > body - pos) {
      pos = len > (uint64_t(1) << 40) ? UINT64_MAX : pos + len;
      fits = false;
      break;
    }
    sec = bytes.substr(pos, len);
    pos += len;
  }
  if (!sumOk) {
    if (!fits && pos != UINT64_MAX)
      why = fmt::format("truncated: {} bytes, expected at least {}", bytes.size(), pos + 32);
    else
      why = "checksum mismatch: the entry is corrupt";
    return false;
  }
  if (!fits || pos != body) {
    why = "inconsistent section lengths";
    return false;
  }
  std::map<std::string, std::string> header;
  std::string_view rest = sections[0];
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    size_t eq = line.find('=');
    std::string name(line.substr(0, eq));
    header[name] = eq == std::string_view::npos ? std::string() : std::string(line.substr(eq + 1));
  }
  auto args = decodeTypes(header["args"]);
  size_t rpos = 0;
  auto result = decodeType(header["result"], rpos);
  if (!args || !result || rpos != header["result"].size()) {
    why = "unreadable argument or result types";
    return false;
  }
  out.kernel = header["kernel"];
  out.source = header["source"];
  out.signature = header["signature"];
  out.symbol = header["symbol"];
  out.argTypes = std::move(*args);
  out.resultType = *result;
  out.material = std::string(sections[1]);
  out.object = sections[2];
  out.sharedObject = sections[3];
  return true;
}

//===----------------------------------------------------------------------===//
// CacheSession
//===----------------------------------------------------------------------===//

CacheSession::CacheSession(CacheConfig config, WarningHandler onWarning)
    : Config(std::move(config)), OnWarning(std::move(onWarning)) {
  for (auto &p : Config.problems)
    warn(p);
}

CacheSession::~CacheSession() = default;

void CacheSession::warn(const std::string &message) {
  if (OnWarning) {
    OnWarning(message);
    return;
  }
  std::lock_guard<std::mutex> lock(Mutex);
  Pending.push_back(message);
}

std::vector<std::string> CacheSession::takeWarnings() {
  std::lock_guard<std::mutex> lock(Mutex);
  std::vector<std::string> out;
  out.swap(Pending);
  return out;
}

CacheStats CacheSession::stats() const {
  CacheStats s;
  s.hits = Hits.load();
  s.misses = Misses.load();
  s.invalid = Invalid.load();
  s.compilations = Compilations.load();
  s.stored = Stored.load();
  s.evicted = Evicted.load();
  return s;
}

void CacheSession::appendStat(char event) { appendStatTo(Config.dir, event, Writable.load()); }

std::optional<CachedObject> CacheSession::lookup(const CacheKey &key) {
  if (!Config.enabled)
    return std::nullopt;
  std::string path = entryPath(Config.dir, key.digest);
  FileBytes file;
  if (readFile(path, file) != 0) {
    Misses.fetch_add(1);
    appendStat('m');
    return std::nullopt;
  }
  EntryFile e;
  std::string why;
  bool ok = parseEntry(file.bytes, e, why);
  if (ok && e.material != key.material) {
    ok = false;
    why = "it was made for another key";
  } else if (ok && e.symbol != cachedEntrySymbol(key)) {
    ok = false;
    why = "wrong entry symbol";
  }
  if (!ok) {
    removeIfSame(path, file);
    Invalid.fetch_add(1);
    Misses.fetch_add(1);
    appendStat('i');
    appendStat('m');
    warn(fmt::format("warning: kernel cache: removed the invalid entry '{}' ({}); '{}' is "
                     "compiled again",
                     path, why, key.kernel));
    return std::nullopt;
  }
  // The hit is the entry's last use: least recently used entries go first.
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  Hits.fetch_add(1);
  appendStat('h');
  CachedObject hit;
  hit.argTypes = std::move(e.argTypes);
  hit.resultType = e.resultType;
  hit.object = std::string(e.object);
  hit.sharedObject = std::string(e.sharedObject);
  return hit;
}

void CacheSession::discard(const CacheKey &key, const std::string &why) {
  std::string path = entryPath(Config.dir, key.digest);
  ::unlink(path.c_str());
  Invalid.fetch_add(1);
  appendStat('i');
  warn(fmt::format("warning: kernel cache: removed the entry '{}' for '{}': it could not be "
                   "loaded ({}); the kernel is compiled again",
                   path, key.kernel, why));
}

void CacheSession::store(const CacheKey &key, const std::vector<Type> &argTypes,
                         const Type &resultType, std::string_view object,
                         std::string_view sharedObject) {
  if (!Config.enabled || !Writable.load())
    return;
  std::string bytes = serializeEntry(key, argTypes, resultType, object, sharedObject);
  std::string problem;
  std::error_code ec;
  fs::create_directories(Config.dir, ec);
  if (ec) {
    problem = fmt::format("cannot create the directory: {}", ec.message());
  } else {
    uint64_t n;
    {
      std::lock_guard<std::mutex> lock(Mutex);
      n = TempCounter++;
    }
    problem = writeAtomically(entryPath(Config.dir, key.digest), bytes, tempName(key.digest, n));
  }
  if (!problem.empty()) {
    // One warning per session: later writes would fail the same way.
    if (Writable.exchange(false))
      warn(fmt::format("warning: kernel cache: cannot write to '{}' ({}); compiled kernels "
                       "are kept in memory only",
                       Config.dir, problem));
    return;
  }
  Stored.fetch_add(1);
  appendStat('s');
  evictIfNeeded(bytes.size());
}

void CacheSession::evictIfNeeded(uint64_t justWritten) {
  std::lock_guard<std::mutex> lock(Mutex);
  // The directory is measured on the first write of the session, then
  // estimated by adding what this session writes: processes that each
  // compile a little pay one directory scan each.
  if (Scanned) {
    EstimatedBytes += justWritten;
    if (EstimatedBytes <= Config.sizeLimit)
      return;
  }
  std::vector<DirEntry> entries = scanDir(Config.dir);
  uint64_t total = 0;
  for (auto &e : entries)
    total += e.size;
  Scanned = true;
  if (total > Config.sizeLimit) {
    std::sort(entries.begin(), entries.end(), olderThan);
    for (auto &e : entries) {
      if (total <= Config.sizeLimit)
        break;
      if (::unlink(e.path.c_str()) == 0) {
        Evicted.fetch_add(1);
        appendStatTo(Config.dir, 'e', false);
      }
      total -= e.size; // gone either way (or removed by another process)
    }
  }
  EstimatedBytes = total;
}

} // namespace stn::detail

//===----------------------------------------------------------------------===//
// Directory management (stn/Cache.h)
//===----------------------------------------------------------------------===//

namespace stn::cache {

using namespace stn::detail;

std::string directory(const EngineOptions &options) { return resolveCacheConfig(options).dir; }

bool enabled(const EngineOptions &options, std::string *why) {
  CacheConfig c = resolveCacheConfig(options);
  if (why)
    *why = c.disabledBy;
  return c.enabled;
}

uint64_t sizeLimit(const EngineOptions &options) { return resolveCacheConfig(options).sizeLimit; }

std::vector<Entry> list(const std::string &dir) {
  std::string current = toolchainKey(resolveCacheConfig({}).version);
  std::vector<DirEntry> files = scanDir(dir);
  std::sort(files.begin(), files.end(),
            [](const DirEntry &a, const DirEntry &b) { return olderThan(b, a); });
  std::vector<Entry> out;
  for (auto &f : files) {
    Entry e;
    e.path = f.path;
    e.size = f.size;
    e.lastUse = f.mtime.tv_sec;
    FileBytes bytes;
    EntryFile parsed;
    if (int err = readFile(f.path, bytes)) {
      e.valid = false;
      e.problem = std::strerror(err);
    } else if (!parseEntry(bytes.bytes, parsed, e.problem)) {
      e.valid = false;
    } else if (sha256Hex(parsed.material) + EntrySuffix != fs::path(f.path).filename().string()) {
      e.valid = false;
      e.problem = "it is stored under another key's name";
    }
    if (e.valid) {
      e.kernel = parsed.kernel;
      e.signature = parsed.signature;
      e.source = parsed.source;
      e.current = std::string_view(parsed.material).starts_with(current);
    }
    out.push_back(std::move(e));
  }
  return out;
}

DirectoryStats stats(const std::string &dir) {
  DirectoryStats s;
  for (auto &f : scanDir(dir)) {
    ++s.entries;
    s.bytes += f.size;
  }
  auto counts = readStats(dir);
  s.hits = counts['h'];
  s.misses = counts['m'];
  s.invalid = counts['i'];
  s.stored = counts['s'];
  s.evicted = counts['e'];
  return s;
}

namespace {
void removeFile(const std::string &path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR)
    throw Error(fmt::format("error: cannot remove '{}': {}", path, std::strerror(errno)));
}
} // namespace

uint64_t clear(const std::string &dir, uint64_t *bytes) {
  uint64_t n = 0;
  for (auto &f : scanDir(dir)) {
    removeFile(f.path);
    ++n;
    if (bytes)
      *bytes += f.size;
  }
  for (auto &f : scanDir(dir, true))
    removeFile(f.path);
  removeFile((fs::path(dir) / StatsFile).string());
  return n;
}

PruneReport prune(const std::string &dir, uint64_t limit) {
  PruneReport r;
  std::string current = toolchainKey(resolveCacheConfig({}).version);
  time_t now = std::time(nullptr);
  for (auto &t : scanDir(dir, true))
    if (now - t.mtime.tv_sec > 3600) {
      removeFile(t.path);
      ++r.temporary;
      r.freedBytes += t.size;
    }
  std::vector<DirEntry> kept;
  for (auto &f : scanDir(dir)) {
    FileBytes bytes;
    EntryFile parsed;
    std::string why;
    bool ok = readFile(f.path, bytes) == 0 && parseEntry(bytes.bytes, parsed, why) &&
              sha256Hex(parsed.material) + EntrySuffix == fs::path(f.path).filename().string();
    if (!ok || !std::string_view(parsed.material).starts_with(current)) {
      removeFile(f.path);
      ++(ok ? r.stale : r.invalid);
      r.freedBytes += f.size;
      continue;
    }
    kept.push_back(f);
  }
  std::sort(kept.begin(), kept.end(), olderThan);
  uint64_t total = 0;
  for (auto &f : kept)
    total += f.size;
  size_t i = 0;
  for (; i < kept.size() && total > limit; ++i) {
    removeFile(kept[i].path);
    ++r.evicted;
    total -= kept[i].size;
    r.freedBytes += kept[i].size;
  }
  r.remaining = kept.size() - i;
  r.remainingBytes = total;
  // Compact the counters (events appended between the read and the rename
  // are lost: counters are statistics, not accounting).
  std::error_code ec;
  if (fs::exists(fs::path(dir) / StatsFile, ec)) {
    auto counts = readStats(dir);
    counts['i'] += r.invalid;
    counts['e'] += r.evicted;
    std::string text;
    for (auto &[c, v] : counts)
      text += fmt::format("{}={}\n", c, v);
    writeAtomically((fs::path(dir) / StatsFile).string(), text,
                    fmt::format(".stats.{}{}", ::getpid(), TempSuffix));
  }
  return r;
}

std::optional<uint64_t> parseSize(std::string_view text) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (v > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(text[i++] - '0');
  }
  if (i == 0)
    return std::nullopt;
  std::string unit(text.substr(i));
  std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
  if (!unit.empty() && unit[0] == ' ')
    unit.erase(0, 1);
  int shift;
  if (unit.empty() || unit == "b")
    shift = 0;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    shift = 10;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    shift = 20;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    shift = 30;
  else if (unit == "t" || unit == "tb" || unit == "tib")
    shift = 40;
  else
    return std::nullopt;
  if (shift && v > (UINT64_MAX >> shift))
    return std::nullopt;
  return v << shift;
}

std::string formatSize(uint64_t bytes) {
  if (bytes < 1024)
    return fmt::format("{} B", bytes);
  static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

} // namespace stn::cache
