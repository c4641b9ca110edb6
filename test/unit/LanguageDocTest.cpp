//===- LanguageDocTest.cpp - docs/language.md against the implementation -===//
//
// Part of the stn unit tests (stn-unit-tests).
//
// The language reference cannot drift from the compiler: every builtin name
// Sema resolves (stn::builtinNameTables()) must be listed in its section of
// docs/language.md and every name listed there must exist; every decorator
// and decorator option the checker accepts must be documented and vice
// versa (the checker's own lists are read from its "unknown option" and
// "unknown decorator" hints, so no second copy of them exists); every type
// spelling the reference shows must be accepted in a signature.
//
// The reference's machine-read parts are table rows under fixed headings:
// the first cell of each row holds the names, each in backticks.
//
//===----------------------------------------------------------------------===//

#include "stn/Engine.h"
#include "stn/Error.h"

#include "stn/Compiler/Sema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using NameSet = std::set<std::string>;

std::string readDoc() {
  std::ifstream in(std::string(STN_DOCS_DIR) + "/language.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The backticked names in the first cell of the table rows under the
/// heading line `heading` (up to the next heading). A leading '@' is
/// dropped. Fails the test if the heading is missing.
NameSet namesUnder(const std::string &doc, const std::string &heading) {
  NameSet names;
  std::istringstream in(doc);
  std::string line;
  bool inside = false, found = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') {
      inside = line == heading;
      found = found || inside;
      continue;
    }
    if (!inside || line.size() < 2 || line[0] != '|' || line.find("---") != std::string::npos)
      continue;
    std::string cell = line.substr(1, line.find('|', 1) - 1);
    static const std::regex code("`@?([A-Za-z_][A-Za-z0-9_.]*)`");
    for (std::sregex_iterator it(cell.begin(), cell.end(), code), end; it != end; ++it)
      names.insert((*it)[1].str());
  }
  EXPECT_TRUE(found) << "docs/language.md has no heading line \"" << heading << "\"";
  return names;
}

/// "x, y" for a message.
std::string join(const NameSet &s) {
  std::string out;
  for (const std::string &n : s)
    out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

void expectSameNames(const NameSet &doc, const NameSet &impl, const std::string &what) {
  NameSet undocumented, unknown;
  std::set_difference(impl.begin(), impl.end(), doc.begin(), doc.end(),
                      std::inserter(undocumented, undocumented.end()));
  std::set_difference(doc.begin(), doc.end(), impl.begin(), impl.end(),
                      std::inserter(unknown, unknown.end()));
  EXPECT_TRUE(undocumented.empty())
      << what << ": the compiler accepts " << join(undocumented)
      << ", which docs/language.md does not list";
  EXPECT_TRUE(unknown.empty()) << what << ": docs/language.md lists " << join(unknown)
                               << ", which the compiler does not accept";
}

NameSet toSet(const std::vector<std::string> &v) { return NameSet(v.begin(), v.end()); }

/// The message of loading `source`, or "" if it loads.
std::string loadError(const std::string &source) {
  stn::EngineOptions options;
  options.cacheEnabled = false;
  stn::Engine engine(options);
  try {
    engine.loadString(source, "doc_check.stn");
  } catch (const stn::Error &e) {
    return e.what();
  }
  return "";
}

/// The options the checker accepts for `decorator` (written with its
/// arguments up to the option, e.g. "guvectorize(\"(n)->(n)\", "): read
/// from the hint of an option no real one resembles.
NameSet checkerOptions(const std::string &decoratorCall) {
  std::string source = "import numba\nfrom numba import jit, njit, stencil, vectorize, "
                       "guvectorize, cuda\n\n@" +
                       decoratorCall + "zqxjvkwzqx=1)\ndef f(x):\n    return x\n";
  std::string msg = loadError(source);
  std::smatch m;
  static const std::regex hint("hint: options are: ([^\n]*)");
  EXPECT_TRUE(std::regex_search(msg, m, hint)) << "no option list in:\n" << msg;
  NameSet names;
  if (m.empty())
    return names;
  std::string list = m[1].str();
  static const std::regex word("[A-Za-z_][A-Za-z0-9_]*");
  for (std::sregex_iterator it(list.begin(), list.end(), word), end; it != end; ++it)
    names.insert(it->str());
  return names;
}

class LanguageDocTest : public ::testing::Test {
protected:
  void SetUp() override {
    Doc = readDoc();
    ASSERT_FALSE(Doc.empty()) << "cannot read " << STN_DOCS_DIR << "/language.md";
  }
  std::string Doc;
};

TEST_F(LanguageDocTest, PythonBuiltins) {
  expectSameNames(namesUnder(Doc, "### Python builtins"),
                  toSet(stn::builtinNameTables().python), "Python builtins");
}

TEST_F(LanguageDocTest, MathFunctions) {
  expectSameNames(namesUnder(Doc, "### Math functions"), toSet(stn::builtinNameTables().math),
                  "math functions");
}

TEST_F(LanguageDocTest, NumpyFunctions) {
  expectSameNames(namesUnder(Doc, "### NumPy functions"),
                  toSet(stn::builtinNameTables().numpy), "NumPy functions");
}

TEST_F(LanguageDocTest, ArrayMethods) {
  expectSameNames(namesUnder(Doc, "### Array methods"),
                  toSet(stn::builtinNameTables().methods), "array methods");
}

TEST_F(LanguageDocTest, RandomFunctions) {
  // The first cells write calls with their parameters: `np.random.rand(d0, ...)`.
  NameSet doc;
  std::istringstream in(Doc);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') {
      inside = line == "## Random numbers";
      continue;
    }
    if (!inside || line.size() < 2 || line[0] != '|' || line.find("---") != std::string::npos)
      continue;
    std::string cell = line.substr(1, line.find('|', 1) - 1);
    static const std::regex call("`([A-Za-z_][A-Za-z0-9_.]*)\\(");
    for (std::sregex_iterator it(cell.begin(), cell.end(), call), end; it != end; ++it)
      doc.insert((*it)[1].str());
  }
  EXPECT_GE(doc.size(), 10u) << "no table of calls under \"## Random numbers\"";
  expectSameNames(doc, toSet(stn::builtinNameTables().random), "random functions");
}

TEST_F(LanguageDocTest, DecoratorOptions) {
  expectSameNames(namesUnder(Doc, "### Options of `@jit` and `@njit`"), checkerOptions("jit("),
                  "@jit options");
  expectSameNames(namesUnder(Doc, "### Options of `@stencil`"), checkerOptions("stencil("),
                  "@stencil options");
  NameSet ufunc = checkerOptions("vectorize(");
  expectSameNames(namesUnder(Doc, "### Options of `@vectorize` and `@guvectorize`"), ufunc,
                  "@vectorize options");
  EXPECT_EQ(checkerOptions("guvectorize(\"(n)->(n)\", "), ufunc)
      << "@guvectorize's options differ from @vectorize's: give them their own table";
  expectSameNames(namesUnder(Doc, "### Options of `@cuda.jit`"), checkerOptions("cuda.jit("),
                  "@cuda.jit options");
}

TEST_F(LanguageDocTest, Decorators) {
  NameSet doc = namesUnder(Doc, "### Decorators");
  // Every decorator the checker's "unknown decorator" hint names is
  // documented ...
  std::string msg = loadError("@zqxjvkwzqx\ndef f(x):\n    return x\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(msg, m, std::regex("hint: kernels are decorated with ([^\n]*)")))
      << msg;
  std::string list = m[1].str();
  NameSet hinted;
  static const std::regex deco("@([A-Za-z_][A-Za-z0-9_.]*)");
  for (std::sregex_iterator it(list.begin(), list.end(), deco), end; it != end; ++it)
    hinted.insert((*it)[1].str());
  for (const std::string &d : hinted)
    EXPECT_TRUE(doc.count(d)) << "the compiler accepts @" << d
                              << ", which docs/language.md does not list";
  // ... and every documented decorator is accepted (an unknown one is an
  // error, see above).
  for (const std::string &d : doc) {
    std::string args = d == "gufunc" || d == "guvectorize" ? "(\"(n)->(n)\")" : "";
    std::string src = "from numba import jit, njit, stencil, vectorize, ufunc, guvectorize, "
                      "gufunc, cuda, kernel\n\n@" +
                      d + args + "\ndef f(x):\n    x[0] = 1\n";
    EXPECT_EQ(loadError(src), "") << "docs/language.md lists @" << d
                                  << ", which the compiler does not accept";
  }
}

TEST_F(LanguageDocTest, TypeSpellingsAreAccepted) {
  NameSet types = namesUnder(Doc, "### Scalar type names");
  EXPECT_GE(types.size(), 30u);
  for (const std::string &t : types) {
    std::string src = "from numba import jit\n\n@jit(\"" + t + "(" + t +
                      ")\")\ndef f(x):\n    return x\n";
    EXPECT_EQ(loadError(src), "") << "the signature type '" << t << "' is not accepted";
  }
}

} // namespace
