//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Part of the stn runtime.
//
// Design note: the .npy format is a magic string, a version, a header length
// and a header that is a Python dict literal
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// followed by the raw elements. The header is parsed with a small recursive
// descent parser for the Python literal subset NumPy writes (strings, ints,
// booleans, None, tuples, lists, dicts), with a depth limit, so that garbage
// input produces an error rather than a crash. Every size taken from the file
// (header length, each extent, the element count, the byte count) is checked
// against overflow and against the real file size before anything is
// allocated. Data is read straight into the Array's buffer; big-endian files
// are byte-swapped in place (each half of a complex number separately).
// Fortran-ordered files keep their layout and get Fortran strides.
//
// Writing always produces a C-ordered native-endian file; strided views are
// gathered row by row through a bounded buffer, so writing a huge
// non-contiguous view does not double its memory.
//
//===----------------------------------------------------------------------===//

#include "stn/Npy.h"
#include "stn/Error.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <sys/stat.h>

namespace stn {

namespace {

constexpr char Magic[] = "\x93NUMPY";
constexpr size_t MagicLen = 6;
constexpr const char *SupportedTypes =
    "stn supports bool, int8..int64, uint8..uint64, float32/64, complex64/128";

[[noreturn]] void fail(const std::string &path, const std::string &message) {
  throw Error(fmt::format("{}: error: {}", path, message));
}

struct FileCloser {
  void operator()(std::FILE *f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

/// Renders header text for a message: printable ASCII kept, the rest escaped,
/// long text shortened.
std::string quoteForMessage(std::string_view text, size_t limit = 60) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  if (text.size() > limit)
    out += "...";
  return out;
}

//===----------------------------------------------------------------------===//
// Header parsing: the Python literal subset NumPy writes
//===----------------------------------------------------------------------===//

struct PyValue {
  enum class Kind { Str, Int, Bool, None, Tuple, List, Dict } kind = Kind::None;
  std::string str;              ///< Str
  int64_t integer = 0;          ///< Int (negative values allowed)
  bool boolean = false;         ///< Bool
  std::vector<PyValue> items;   ///< Tuple, List; Dict values
  std::vector<std::string> keys; ///< Dict keys (parallel to items)
  std::string_view source;      ///< the text this value was parsed from
};

class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &path) : Text(text), Path(path) {}

  PyValue parseTop() {
    PyValue v = parseValue(0);
    skipSpace();
    if (Pos != Text.size())
      error(fmt::format("unexpected '{}' after the header dictionary",
                        quoteForMessage(Text.substr(Pos), 20)));
    return v;
  }

private:
  static constexpr int MaxDepth = 32;

  [[noreturn]] void error(const std::string &what) {
    fail(Path, fmt::format("malformed header: {} (header: \"{}\")", what,
                           quoteForMessage(Text)));
  }

  void skipSpace() {
    while (Pos < Text.size() &&
           (Text[Pos] == ' ' || Text[Pos] == '\t' || Text[Pos] == '\n' || Text[Pos] == '\r'))
      ++Pos;
  }

  char peek() const { return Pos < Text.size() ? Text[Pos] : '\0'; }

  void expect(char c) {
    skipSpace();
    if (peek() != c)
      error(Pos < Text.size() ? fmt::format("expected '{}' at offset {}", c, Pos)
                              : fmt::format("expected '{}' but the header ended", c));
    ++Pos;
  }

  PyValue parseValue(int depth) {
    if (depth > MaxDepth)
      error("values nested too deeply");
    skipSpace();
    size_t start = Pos;
    PyValue v;
    char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::Str;
      v.str = parseString();
    } else if (c == '(' || c == '[') {
      v.kind = c == '(' ? PyValue::Kind::Tuple : PyValue::Kind::List;
      parseSequence(v, c == '(' ? ')' : ']', depth);
    } else if (c == '{') {
      v.kind = PyValue::Kind::Dict;
      parseDict(v, depth);
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Kind::Int;
      v.integer = parseInt();
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = Pos;
      while (Pos < Text.size() &&
             (std::isalnum(static_cast<unsigned char>(Text[Pos])) || Text[Pos] == '_'))
        ++Pos;
      std::string_view word = Text.substr(b, Pos - b);
      if (word == "True" || word == "False") {
        v.kind = PyValue::Kind::Bool;
        v.boolean = word == "True";
      } else if (word == "None") {
        v.kind = PyValue::Kind::None;
      } else {
        error(fmt::format("unexpected name '{}'", quoteForMessage(word, 20)));
      }
    } else if (Pos >= Text.size()) {
      error("the header ended where a value was expected");
    } else {
      error(fmt::format("unexpected character '{}' at offset {}",
                        quoteForMessage(Text.substr(Pos, 1)), Pos));
    }
    v.source = Text.substr(start, Pos - start);
    return v;
  }

  std::string parseString() {
    char quote = Text[Pos++];
    std::string s;
    while (true) {
      if (Pos >= Text.size())
        error("unterminated string");
      char c = Text[Pos++];
      if (c == quote)
        return s;
      if (c == '\\') {
        if (Pos >= Text.size())
          error("unterminated string");
        c = Text[Pos++];
      }
      s += c;
    }
  }

  int64_t parseInt() {
    bool negative = false;
    if (peek() == '-' || peek() == '+')
      negative = Text[Pos++] == '-';
    if (!(peek() >= '0' && peek() <= '9'))
      error(fmt::format("expected a digit at offset {}", Pos));
    uint64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      unsigned d = static_cast<unsigned>(Text[Pos++] - '0');
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10)
        error("integer too large");
      value = value * 10 + d;
    }
    if (peek() == 'L' || peek() == 'l') // Python 2 wrote long literals as 3L
      ++Pos;
    if (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '.')
      error(fmt::format("expected an integer at offset {}", Pos));
    int64_t s = static_cast<int64_t>(value);
    return negative ? -s : s;
  }

  void parseSequence(PyValue &v, char close, int depth) {
    ++Pos; // opening bracket
    while (true) {
      skipSpace();
      if (peek() == close) {
        ++Pos;
        return;
      }
      v.items.push_back(parseValue(depth + 1));
      skipSpace();
      if (peek() == ',') {
        ++Pos;
        continue;
      }
      expect(close);
      return;
    }
  }

  void parseDict(PyValue &v, int depth) {
    ++Pos; // '{'
    while (true) {
      skipSpace();
      if (peek() == '}') {
        ++Pos;
        return;
      }
      if (peek() != '\'' && peek() != '"')
        error(fmt::format("expected a string key at offset {}", Pos));
      v.keys.push_back(parseString());
      expect(':');
      v.items.push_back(parseValue(depth + 1));
      skipSpace();
      if (peek() == ',') {
        ++Pos;
        continue;
      }
      expect('}');
      return;
    }
  }

  std::string_view Text;
  const std::string &Path;
  size_t Pos = 0;
};

//===----------------------------------------------------------------------===//
// dtype descriptors
//===----------------------------------------------------------------------===//

struct Descr {
  DType dtype;
  bool swap; ///< stored in the non-native byte order
};

Descr parseDescr(const std::string &path, const std::string &descr) {
  auto unsupported = [&]() -> Descr {
    fail(path, fmt::format("dtype '{}' is not supported; {}", quoteForMessage(descr),
                           SupportedTypes));
  };
  std::string_view s = descr;
  char order = '=';
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '='))
    order = s[0], s.remove_prefix(1);
  if (s.size() < 2)
    unsupported();
  char kind = s[0];
  std::string_view digits = s.substr(1);
  if (digits.size() > 2 || !std::all_of(digits.begin(), digits.end(),
                                        [](char c) { return c >= '0' && c <= '9'; }))
    unsupported();
  int size = std::stoi(std::string(digits));
  std::optional<DType> dt;
  switch (kind) {
  case 'b':
    if (size == 1) dt = DType::Bool;
    break;
  case 'i':
    if (size == 1) dt = DType::Int8;
    if (size == 2) dt = DType::Int16;
    if (size == 4) dt = DType::Int32;
    if (size == 8) dt = DType::Int64;
    break;
  case 'u':
    if (size == 1) dt = DType::UInt8;
    if (size == 2) dt = DType::UInt16;
    if (size == 4) dt = DType::UInt32;
    if (size == 8) dt = DType::UInt64;
    break;
  case 'f':
    if (size == 4) dt = DType::Float32;
    if (size == 8) dt = DType::Float64;
    break;
  case 'c':
    if (size == 8) dt = DType::Complex64;
    if (size == 16) dt = DType::Complex128;
    break;
  default:
    break;
  }
  if (!dt)
    unsupported();
  constexpr bool littleHost = std::endian::native == std::endian::little;
  bool swap = size > 1 && ((order == '<' && !littleHost) || (order == '>' && littleHost));
  return {*dt, swap};
}

std::string descrOf(DType dt) {
  char order = std::endian::native == std::endian::little ? '<' : '>';
  size_t n = itemSize(dt);
  char kind = 'f';
  switch (dt) {
  case DType::Bool: return "|b1";
  case DType::Int8: return "|i1";
  case DType::UInt8: return "|u1";
  case DType::Int16: case DType::Int32: case DType::Int64: kind = 'i'; break;
  case DType::UInt16: case DType::UInt32: case DType::UInt64: kind = 'u'; break;
  case DType::Float32: case DType::Float64: kind = 'f'; break;
  case DType::Complex64: case DType::Complex128: kind = 'c'; break;
  }
  return fmt::format("{}{}{}", order, kind, n);
}

/// Reverses the bytes of each `width`-byte unit in `data`.
void byteSwap(char *data, size_t bytes, size_t width) {
  for (size_t off = 0; off + width <= bytes; off += width)
    std::reverse(data + off, data + off + width);
}

} // namespace

//===----------------------------------------------------------------------===//
// readNpy
//===----------------------------------------------------------------------===//

Array readNpy(const std::string &path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file)
    fail(path, fmt::format("cannot open file: {}", std::strerror(errno)));
  std::FILE *f = file.get();
  struct stat st;
  if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
    fail(path, "is a directory, not an .npy file");

  if (fseeko(f, 0, SEEK_END) != 0)
    fail(path, fmt::format("cannot read file: {}", std::strerror(errno)));
  off_t endPos = ftello(f);
  if (endPos < 0)
    fail(path, fmt::format("cannot read file: {}", std::strerror(errno)));
  uint64_t fileSize = static_cast<uint64_t>(endPos);
  std::rewind(f);

  // Magic string and version.
  unsigned char pre[12];
  size_t got = std::fread(pre, 1, std::min<uint64_t>(fileSize, 8), f);
  if (got < 8 || std::memcmp(pre, Magic, MagicLen) != 0)
    fail(path, fmt::format("not an .npy file (it does not start with the \\x93NUMPY "
                           "magic string; found \"{}\")",
                           quoteForMessage(std::string_view(
                                               reinterpret_cast<char *>(pre), got),
                                           8)));
  unsigned major = pre[6], minor = pre[7];
  size_t lenBytes;
  if (major == 1)
    lenBytes = 2;
  else if (major == 2 || major == 3)
    lenBytes = 4;
  else
    fail(path, fmt::format("unsupported .npy format version {}.{} (stn reads 1.0, 2.0 "
                           "and 3.0)",
                           major, minor));
  if (std::fread(pre + 8, 1, lenBytes, f) != lenBytes)
    fail(path, "malformed header: the file ends inside the header length");
  uint64_t headerLen = pre[8] | (uint64_t(pre[9]) << 8);
  if (lenBytes == 4)
    headerLen |= (uint64_t(pre[10]) << 16) | (uint64_t(pre[11]) << 24);
  uint64_t dataOffset = 8 + lenBytes + headerLen;
  if (dataOffset > fileSize)
    fail(path, fmt::format("malformed header: the header length is {} bytes but only {} "
                           "bytes follow",
                           headerLen, fileSize - 8 - lenBytes));

  std::string header(static_cast<size_t>(headerLen), '\0');
  if (headerLen && std::fread(header.data(), 1, header.size(), f) != header.size())
    fail(path, "cannot read the header");

  // The header dictionary.
  PyValue top = HeaderParser(header, path).parseTop();
  if (top.kind != PyValue::Kind::Dict)
    fail(path, fmt::format("malformed header: expected a dictionary, found \"{}\"",
                           quoteForMessage(top.source)));
  const PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (size_t i = 0; i < top.keys.size(); ++i) {
    const std::string &k = top.keys[i];
    const PyValue **slot = k == "descr"           ? &descr
                           : k == "fortran_order" ? &fortran
                           : k == "shape"         ? &shape
                                                  : nullptr;
    if (!slot)
      fail(path, fmt::format("malformed header: unexpected key '{}'", quoteForMessage(k)));
    if (*slot)
      fail(path, fmt::format("malformed header: duplicate key '{}'", k));
    *slot = &top.items[i];
  }
  for (auto [value, name] : {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"},
                             std::pair{shape, "shape"}})
    if (!value)
      fail(path, fmt::format("malformed header: missing key '{}'", name));

  if (descr->kind != PyValue::Kind::Str)
    fail(path, fmt::format("{}dtype {} is not supported; {}",
                           descr->kind == PyValue::Kind::List ? "structured " : "",
                           quoteForMessage(descr->source), SupportedTypes));
  Descr d = parseDescr(path, descr->str);

  if (fortran->kind != PyValue::Kind::Bool)
    fail(path, fmt::format("malformed header: 'fortran_order' must be True or False, "
                           "found {}",
                           quoteForMessage(fortran->source)));
  bool fortranOrder = fortran->boolean;

  if (shape->kind != PyValue::Kind::Tuple && shape->kind != PyValue::Kind::List)
    fail(path, fmt::format("malformed header: 'shape' must be a tuple of integers, "
                           "found {}",
                           quoteForMessage(shape->source)));
  constexpr size_t MaxRank = 64;
  if (shape->items.size() > MaxRank)
    fail(path, fmt::format("malformed header: {} dimensions (at most {} supported)",
                           shape->items.size(), MaxRank));
  std::vector<int64_t> dims;
  uint64_t count = 1;
  bool empty = false;
  const uint64_t item = itemSize(d.dtype);
  const uint64_t maxCount = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / item;
  for (const PyValue &e : shape->items) {
    if (e.kind != PyValue::Kind::Int || e.integer < 0)
      fail(path, fmt::format("malformed header: 'shape' must be a tuple of non-negative "
                             "integers, found {}",
                             quoteForMessage(shape->source)));
    dims.push_back(e.integer);
    uint64_t n = static_cast<uint64_t>(e.integer);
    if (n == 0)
      empty = true;
    else if (!empty && count > maxCount / n)
      fail(path, fmt::format("malformed header: shape {} has too many elements",
                             quoteForMessage(shape->source)));
    else if (!empty)
      count *= n;
  }
  if (empty)
    count = 0;

  uint64_t dataBytes = count * item;
  uint64_t available = fileSize - dataOffset;
  if (available < dataBytes)
    fail(path, fmt::format("file is truncated: expected {} bytes of data, found {}",
                           dataBytes, available));

  Array array;
  try {
    array = Array(d.dtype, dims);
  } catch (const Error &e) {
    fail(path, e.what());
  }
  char *data = static_cast<char *>(array.data());
  uint64_t done = 0;
  while (done < dataBytes) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(dataBytes - done, 1u << 26));
    size_t n = std::fread(data + done, 1, chunk, f);
    if (n == 0)
      fail(path, fmt::format("file is truncated: expected {} bytes of data, found {}",
                             dataBytes, done));
    done += n;
  }

  if (d.swap)
    byteSwap(data, dataBytes,
             d.dtype == DType::Complex64 || d.dtype == DType::Complex128 ? item / 2
                                                                         : item);
  if (d.dtype == DType::Bool) // anything non-zero is True; kernels expect 0/1
    for (uint64_t i = 0; i < dataBytes; ++i)
      data[i] = data[i] != 0;

  if (fortranOrder && dims.size() > 1) {
    ArrayView fview = ArrayView::fortran(data, d.dtype, dims);
    auto holder = std::make_shared<Array>(std::move(array));
    return Array(std::shared_ptr<void>(holder, holder->data()), holder->data(), d.dtype,
                 std::move(fview.shape), std::move(fview.strides));
  }
  return array;
}

//===----------------------------------------------------------------------===//
// writeNpy
//===----------------------------------------------------------------------===//

namespace {
/// Streams the elements of `view` in C order to `sink(ptr, bytes)`.
template <class Sink> void forEachRowCOrder(const ArrayView &view, Sink &&sink) {
  size_t item = itemSize(view.dtype);
  size_t rank = view.shape.size();
  const char *base = static_cast<const char *>(view.data);
  if (rank == 0) {
    sink(base, item);
    return;
  }
  int64_t inner = view.shape[rank - 1];
  int64_t innerStride = view.strides[rank - 1];
  std::vector<int64_t> idx(rank - 1, 0);
  std::vector<char> row;
  if (innerStride != static_cast<int64_t>(item))
    row.resize(static_cast<size_t>(inner) * item);
  while (true) {
    const char *p = base;
    for (size_t d = 0; d + 1 < rank; ++d)
      p += idx[d] * view.strides[d];
    if (innerStride == static_cast<int64_t>(item)) {
      sink(p, static_cast<size_t>(inner) * item);
    } else {
      for (int64_t j = 0; j < inner; ++j)
        std::memcpy(row.data() + j * item, p + j * innerStride, item);
      sink(row.data(), row.size());
    }
    size_t d = rank - 1;
    bool more = false;
    while (d > 0) {
      --d;
      if (++idx[d] < view.shape[d]) {
        more = true;
        break;
      }
      idx[d] = 0;
    }
    if (!more)
      return;
  }
}
} // namespace

void writeNpy(const std::string &path, const ArrayView &view) {
  if (view.strides.size() != view.shape.size())
    fail(path, fmt::format("cannot write an array view with {} dimensions and {} strides",
                           view.shape.size(), view.strides.size()));
  for (int64_t e : view.shape)
    if (e < 0)
      fail(path, fmt::format("cannot write an array with a negative extent ({})", e));
  int64_t count = view.size();
  if (count > 0 && !view.data)
    fail(path, "cannot write an array view with a null data pointer");

  // Header: the dict, padded with spaces and ended by '\n' so that the data
  // starts on a 64-byte boundary (what NumPy writes).
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': (",
                                 descrOf(view.dtype));
  for (size_t i = 0; i < view.shape.size(); ++i)
    dict += fmt::format("{}{}", i ? ", " : "", view.shape[i]);
  dict += view.shape.size() == 1 ? ",), }" : "), }";
  size_t preamble = 10;
  unsigned major = 1;
  if (dict.size() + 1 + 64 > 65535) {
    preamble = 12;
    major = 2;
  }
  size_t total = preamble + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  std::string header = dict;
  header.append(total - preamble - dict.size() - 1, ' ');
  header += '\n';

  std::string pre(Magic, MagicLen);
  pre += static_cast<char>(major);
  pre += '\0';
  uint32_t hlen = static_cast<uint32_t>(header.size());
  pre += static_cast<char>(hlen & 0xff);
  pre += static_cast<char>((hlen >> 8) & 0xff);
  if (major == 2) {
    pre += static_cast<char>((hlen >> 16) & 0xff);
    pre += static_cast<char>((hlen >> 24) & 0xff);
  }

  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (!file)
    fail(path, fmt::format("cannot open file for writing: {}", std::strerror(errno)));
  std::FILE *f = file.get();
  bool ok = std::fwrite(pre.data(), 1, pre.size(), f) == pre.size() &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size();

  if (ok && count > 0) {
    if (view.isCContiguous()) {
      size_t bytes = static_cast<size_t>(count) * itemSize(view.dtype);
      ok = std::fwrite(view.data, 1, bytes, f) == bytes;
    } else {
      // Gather rows into a bounded buffer and write it when full.
      constexpr size_t BufferSize = 1 << 20;
      std::vector<char> buffer;
      buffer.reserve(BufferSize);
      forEachRowCOrder(view, [&](const char *p, size_t n) {
        if (!ok)
          return;
        if (buffer.size() + n > BufferSize && !buffer.empty()) {
          ok = std::fwrite(buffer.data(), 1, buffer.size(), f) == buffer.size();
          buffer.clear();
        }
        if (n >= BufferSize)
          ok = ok && std::fwrite(p, 1, n, f) == n;
        else
          buffer.insert(buffer.end(), p, p + n);
      });
      if (ok && !buffer.empty())
        ok = std::fwrite(buffer.data(), 1, buffer.size(), f) == buffer.size();
    }
  }
  int savedErrno = errno;
  if (std::fclose(file.release()) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    std::remove(path.c_str());
    fail(path, fmt::format("cannot write file: {}", std::strerror(savedErrno)));
  }
}

} // namespace stn
