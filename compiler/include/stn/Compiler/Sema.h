//===- Sema.h - Name resolution, decorators and type inference --*- C++ -*-===//
//
// A `Program` is one loaded .stn file: its syntax tree, module constants,
// kernels with their decorator options, and the specializations created so
// far. `Program::load` checks everything that needs no argument types
// (names, decorators, unsupported Python features, explicit signatures);
// `Program::specialize` infers the type of every local and expression of a
// kernel for one argument-type signature (and, transitively, of the kernels
// it calls), producing a `TypedFunction` that the MLIR generator lowers.
//
// Not thread-safe: the engine serializes calls into one Program.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_SEMA_H
#define STN_COMPILER_SEMA_H

#include "stn/Compiler/AST.h"
#include "stn/Compiler/Types.h"

#include <complex>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace stn {

/// A compile-time value: module constants, `math.pi`, folded literals.
struct ConstValue {
  Type type; ///< a scalar or a tuple
  int64_t i = 0;    ///< bool and signed ints
  uint64_t u = 0;   ///< unsigned ints
  double f = 0;     ///< floats
  std::complex<double> c; ///< complex
  std::vector<ConstValue> elts; ///< tuples
};

/// The bool local that says whether optional local `name` holds None
/// (TypedFunction::optionals).
inline std::string noneFlag(const std::string &name) { return name + "@none"; }

/// Functions and conversions the language provides.
enum class Builtin : uint8_t {
  Len, Abs, Min, Max, Int, Float, Bool, Complex, Cast, Range,
  // iterables of a for loop besides range and arrays
  Enumerate, Zip, Reversed, NdIndex, NdEnumerate,
  // unary math
  Sqrt, Exp, Log, Log2, Log10, Log1p, Expm1, Sin, Cos, Tan, Asin, Acos, Atan,
  Sinh, Cosh, Tanh, Asinh, Acosh, Atanh, Erf, Erfc, Cbrt, Exp2, Radians, Degrees,
  Gamma, Lgamma, Floor, Ceil, Trunc, Fabs,
  // binary math
  Atan2, Pow, Hypot, Fmod, Remainder, Copysign,
  // predicates
  IsNan, IsInf, IsFinite,
  // integer math (Python's math module; Gcd, Lcm also NumPy's), ldexp, and
  // the functions with a tuple result; math.isclose and math.fsum
  Gcd, Lcm, Isqrt, Factorial, Comb, Perm, Ldexp, Divmod, Frexp, Modf, MathIsclose, Fsum,
  // methods
  Conjugate,
  // arrays (issue 3): creation, conversion, reductions, selection
  Empty, Zeros, Ones, Full, EmptyLike, ZerosLike, OnesLike, FullLike, Arange, Linspace,
  ArrayOf, Asarray,
  Copy, Astype, Sum, Prod, Mean, Std, Var, ReduceMin, ReduceMax, Argmin, Argmax, Any, All,
  Dot, Where, Minimum, Maximum, Clip, Sign, Square, Round, CumSum, CumProd, Sort, Argsort,
  Concatenate, Stack, Vstack, Hstack,
  Median, Percentile, Quantile,
  Isclose, Allclose, CountNonzero, Diff, Outer,
  Unique, Searchsorted, Bincount, Histogram, Interp,
  Eye, Identity, Trace, Flip, Fliplr, Flipud,
  // shapes: views of their array operand (Flatten copies)
  Reshape, Ravel, Flatten, Transpose,
  // matrix products of vectors and matrices (Dot is also the vector dot)
  Matmul,
  // positions of the elements that are not zero
  Nonzero, Flatnonzero, Argwhere,
  // np.linalg.norm (vector and matrix norms; ord=, axis=, keepdims=)
  Norm,
  // np.linalg's other functions (CallInfo::mode: a LinalgFunction)
  Linalg,
  // np.roll (a shifted copy)
  Roll,
  // new arrays from the elements of others: repeated, tiled, joined,
  // combined (cross products, convolutions), looked up, triangles,
  // diagonals, Kronecker products; vdot (a number)
  Repeat, Tile, Cross, Append, Convolve, Digitize, Isin, Triu, Tril, Diag, Diagflat, Kron, Vdot,
  Delete, Insert,
  // parts of complex numbers, elementwise (np.real, np.imag, np.conj)
  RealPart, ImagPart, Conj,
  // random numbers (random.* and np.random.*): a number, or an array of them
  RandomRandom, RandomUniform, RandomRandint, RandomNormal, RandomExponential,
  // ... and samples of arrays: shuffled in place, permuted copies, choices
  RandomShuffle, RandomPermutation, RandomChoice,
  // ... and the other distributions (CallInfo::mode: a RandomDistribution)
  RandomDistribution, RandomSeed,
  // methods of lists (`xs.append(x)`): the receiver is a list variable
  // (ListIndex, ListCount and ListCopy: any list); ListDelete is `del xs[i]`
  // and `del xs[a:b:c]`
  ListAppend, ListExtend, ListInsert, ListPop, ListClear, ListCopy, ListIndex, ListCount,
  ListRemove, ListReverse, ListSort, ListDelete,
  // list(iterable) and sorted(iterable, reverse=...): a new list
  ListOf, Sorted,
  // dict(...), and methods of dicts (`d.get(k, x)`)
  // (DictDelete: `del d[k]`)
  DictOf, DictGet, DictPop, DictSetdefault, DictKeys, DictValues, DictItems, DictClear,
  DictCopy, DictUpdate, DictPopitem, DictDelete,
  // set(...), and the methods of sets (clear and copy are DictClear and
  // DictCopy): a set is a dict without values
  SetOf, SetAdd, SetDiscard, SetRemove, SetPop, SetUpdate, SetUnion, SetIntersection,
  SetDifference, SetSymmetricDifference, SetIntersectionUpdate, SetDifferenceUpdate,
  SetSymmetricDifferenceUpdate, SetIsSubset, SetIsSuperset, SetIsDisjoint,
};
/// Methods of dicts and sets, dict() and set().
inline bool isDictBuiltin(Builtin b) { return b >= Builtin::DictOf; }
inline bool isSetBuiltin(Builtin b) { return b >= Builtin::SetOf; }
/// Methods of lists, dicts and sets, list(), sorted(), dict() and set().
inline bool isListBuiltin(Builtin b) { return b >= Builtin::ListAppend; }
const char *builtinName(Builtin b);
/// Builtins whose result is a view of their first operand (the receiver of
/// a method call): writes through it reach that array. (np.asarray is
/// Asarray only where it returns its array; where it converts, Astype.) np.reshape and
/// ravel copy an array whose elements are not evenly spaced, as NumPy does.
inline bool isViewBuiltin(Builtin b) {
  return b == Builtin::Asarray || b == Builtin::Reshape || b == Builtin::Ravel ||
         b == Builtin::Transpose || b == Builtin::Flip || b == Builtin::Fliplr ||
         b == Builtin::Flipud;
}
/// enumerate, zip and reversed: iterables of a for loop whose items are
/// (or hold) the items of their operands, rows of arrays included.
inline bool isIterationBuiltin(Builtin b) {
  return b == Builtin::Enumerate || b == Builtin::Zip || b == Builtin::Reversed ||
         b == Builtin::NdEnumerate;
}
/// The distributions of Builtin::RandomDistribution, drawn by the runtime's
/// _stn_random_real (the first ones, float64) and _stn_random_count (from
/// Poisson on, int64) from up to three float64 parameters.
enum class RandomDistribution : int32_t {
  Gamma, Beta, Chisquare, Lognormal, Laplace, Logistic, Gumbel, Weibull, Pareto, Rayleigh,
  Cauchy, StdExponential, StudentT, Triangular,
  Poisson, Binomial, Geometric, NegativeBinomial,
};
inline bool isCountDistribution(RandomDistribution d) {
  return d >= RandomDistribution::Poisson;
}
/// The functions of Builtin::Linalg (np.linalg.<name>), computed by the
/// runtime's _stn_linalg_* (LinalgRuntime.cpp) on float64 or complex128
/// copies of each matrix of a stack.
enum class LinalgFunction : int32_t {
  Det, Slogdet, Inv, Solve, Cholesky, MatrixPower, Eig, Eigvals, Eigh, Eigvalsh, Svd, Qr, Pinv,
  Lstsq, MatrixRank, Cond,
};
/// CallInfo::flags of Builtin::Linalg: options given as constants.
enum LinalgOption : int {
  LinalgUpper = 1,        ///< eigh UPLO="U", cholesky upper=True
  LinalgFullMatrices = 2, ///< svd full_matrices=True (the default)
  LinalgComputeUV = 4,    ///< svd compute_uv=True (the default)
  LinalgComplete = 8,     ///< qr mode="complete"
  LinalgROnly = 16,       ///< qr mode="r"
};
/// What the _stn_linalg_* functions return; the kernel raises NumPy's
/// LinAlgError for each but Ok.
struct LinalgStatus {
  enum : int32_t {
    Ok, Singular, NotPositiveDefinite, NoConvergence, NegativeIntegerPower, DomainChange,
    InvalidNormOrder, ///< a matrix norm's ord not 1, -1, 2, -2, inf or -inf
    EmptyMaximum,     ///< the maximum of no sums or singular values
    EmptyMinimum,     ///< the minimum of none
    NotSquare,        ///< cond(x, p) with p other than None, 2 and -2
  };
};
/// np.linalg.norm's and cond's ord / p (CallInfo::mode for Norm; passed to
/// _stn_linalg_matrix_norm and _stn_linalg_cond): None, a number (its value
/// at run time), "fro" or "nuc".
enum class NormOrder : int32_t { Default, Number, Fro, Nuc };
/// The element types _stn_linalg_matrix_power multiplies.
enum class LinalgPowerKind : int32_t { Real, Complex, Integer, Bool };

/// How many distribution parameters a random builtin's CallInfo::operands
/// start with (null where the call leaves the default); the operands after
/// them give the shape of the array of draws (each an integer or a tuple).
unsigned randomParameterCount(Builtin b);

/// Every name a call can resolve to a builtin, by how it is written; the
/// docs-vs-implementation test (test/unit/LanguageDocTest.cpp) checks that
/// docs/language.md lists exactly these.
struct BuiltinNameTables {
  std::vector<std::string> python;  ///< `len(x)`, `abs(x)`, `range(n)`, ...
  std::vector<std::string> math;    ///< `f(x)`, `math.f(x)` or `np.f(x)`
  std::vector<std::string> numpy;   ///< `np.f(...)`: creation, reductions, selection
  std::vector<std::string> methods; ///< `a.f(...)` on arrays
  std::vector<std::string> random;  ///< `random.f(...)`, `np.random.f(...)`
};
BuiltinNameTables builtinNameTables();

struct TypedFunction;

/// How a Call expression was resolved.
struct CallInfo {
  enum class Kind { Builtin, Kernel } kind = Kind::Builtin;
  Builtin builtin = Builtin::Len;
  /// Builtin::Cast target; for math builtins the kind operands are converted
  /// to; for Floor/Ceil/Trunc called through `math` the result is int64.
  ScalarKind operandKind = ScalarKind::F64;
  /// Kernel calls: the callee's specialization; arguments are converted to
  /// callee->argTypes. For @jit callees `operands` holds the argument of
  /// each parameter, positional or keyword, in the parameters' order, null
  /// where the parameter takes its default (KernelDecl::defaults).
  TypedFunction *callee = nullptr;
  /// sorted(), list.sort(), min() and max() with `key=`: the key function's
  /// specialization (for the item type, its other parameters' default
  /// values, then the captured values), and the key expression (an
  /// ast::Closure whose captures are the last arguments, or the name of a
  /// function of the module).
  TypedFunction *keyFn = nullptr;
  const ast::Expr *key = nullptr;
  /// min() and max() of items (mode 1): the `default=` value, or null.
  const ast::Expr *fallback = nullptr;
  /// Kernel calls through a function value (`f(x)` with f a parameter or
  /// a variable holding a function, Type::function): the callee
  /// expression, whose leaves are the values the function captured (its
  /// last arguments; their operands are null).
  const ast::Expr *calleeValue = nullptr;
  /// Array builtins: the receiver of a method call (`a.sum()`), else null.
  const ast::Expr *receiver = nullptr;
  /// Array builtins: the expressions of the arguments by role (shape, fill
  /// value, dtype-independent positional arguments), after keywords.
  std::vector<const ast::Expr *> operands;
  /// Reductions along one axis (`axis=`), else -1; cumsum, cumprod, sort
  /// and argsort: the axis, or -1 for the flattened array (axis=None).
  int axis = -1;
  /// Reductions, cumsum/cumprod, sort/argsort, median and the quantiles
  /// with an `axis=` computed at run time: its expression (`axis` is then
  /// 0). The result's type is the same for every axis; MLIRGen checks the
  /// value and runs the code of that axis.
  const ast::Expr *axisValue = nullptr;
  /// Transpose: axis d of the result is axis permutation[d] of the operand;
  /// Flip, Fliplr, Flipud: the axes reversed. Norm: the axes reduced (none:
  /// all, flattened; one: a vector norm along it; two: the row and column
  /// axes of a matrix norm).
  std::vector<unsigned> permutation;
  /// ArrayOf (np.array of a nested list or tuple): the result's extents;
  /// the operands are the scalar and tuple expressions whose scalars fill
  /// it in C order. (np.array of an array is an Astype.)
  std::vector<int64_t> extents;
  /// Diff: the order n of the difference.
  int64_t order = 1;
  /// Reductions, median, percentile and quantile called as np.nan<name>:
  /// NaNs are left out.
  bool skipNan = false;
  /// Searchsorted: side="right"; Digitize: right=True.
  bool sideRight = false;
  /// Convolve: the mode (0 "full", 1 "same", 2 "valid"); RandomChoice: 1
  /// for replace=False; RandomDistribution: the RandomDistribution;
  /// Linalg: the LinalgFunction; Norm: the NormOrder. Min and Max: 1 for
  /// Python's min()/max() of items compared as Python does (tuples,
  /// key=, default=): the items of TypedFunction::listSources[call] where
  /// the call has one, else the elements of the one tuple operand (flags
  /// 1), else the operands; 0 for numbers (and the array reductions).
  int mode = 0;
  /// Linalg: LinalgOption bits, but for cond the NormOrder of its p.
  /// Norm: 1 for keepdims=True.
  int flags = 0;
  /// RandomDistribution: the parameters' defaults where not given.
  double randomDefaults[3] = {0, 0, 0};
  /// Concatenate/Stack/Vstack/Hstack: whether the arrays get a new axis at
  /// `axis` (stack) before they are joined along it.
  bool newAxis = false;
  /// Called through `np.` / `numpy.` (np.random.randint excludes its upper
  /// bound, random.randint includes it).
  bool viaNumpy = false;
};

/// LLVM's fast-math flags, as fastmath={"nnan", ...} names them;
/// fastmath=True sets them all.
enum FastMathFlag : uint8_t {
  FMNoNaNs = 1,        ///< "nnan"
  FMNoInfs = 2,        ///< "ninf"
  FMNoSignedZeros = 4, ///< "nsz"
  FMAllowRecip = 8,    ///< "arcp"
  FMContract = 16,     ///< "contract": fused multiply-add
  FMApproxFunc = 32,   ///< "afn"
  FMReassoc = 64,      ///< "reassoc"
  FMAll = 127,
};

/// Options of `@jit` / `@njit` (stored even where a later stage ignores them).
struct KernelOptions {
  bool nopython = true;
  bool parallel = false;
  bool fastmath = false;     ///< any fast-math flag is set
  uint8_t fastmathFlags = 0; ///< FastMathFlag bits
  bool cache = true;
  bool nogil = false;
  bool boundscheck = false;
  std::string errorModel = "python"; ///< "python" or "numpy"
  std::string target = "cpu";
  /// target= was written (stencils, ufuncs and gufuncs without it split
  /// large loops over threads, as target="parallel" does).
  bool targetGiven = false;
};

/// What a kernel is: a plain function, or one applied over arrays by a
/// generated loop nest.
enum class KernelKind : uint8_t {
  Jit,     ///< @jit / @njit / undecorated
  Stencil, ///< @stencil: relative indexing, one output element per call
  Ufunc,   ///< @ufunc / @vectorize: a scalar function applied elementwise
  Gufunc,  ///< @gufunc / @guvectorize: a core function over core dimensions
  Gpu,     ///< @kernel / @cuda.jit: an explicit SIMT kernel launched on a GPU grid
};
const char *kernelKindName(KernelKind k);

/// scipy.ndimage's boundary modes (constant is Numba's only one).
enum class BoundaryMode : uint8_t { Constant, Nearest, Reflect, Mirror, Wrap };
const char *boundaryModeName(BoundaryMode m);

struct StencilOptions {
  bool hasNeighborhood = false;
  std::vector<std::pair<int64_t, int64_t>> neighborhood; ///< per axis [lo, hi]
  BoundaryMode boundary = BoundaryMode::Constant;
  ConstValue cval; ///< int64 0 unless given
  std::vector<std::string> standardIndexing;
};

/// A gufunc layout such as "(m,n),(n,p)->(m,p)".
struct GufuncLayout {
  std::vector<std::vector<std::string>> inputs, outputs;
  std::string text;
};

/// A `def` of the module with its decorators.
struct KernelDecl {
  const ast::FunctionDef *def = nullptr;
  std::string decorator; ///< "jit" (njit is an alias), "" if undecorated
  KernelKind kind = KernelKind::Jit;
  KernelOptions options;
  std::vector<Signature> signatures; ///< explicit signatures, if any
  StencilOptions stencil;            ///< @stencil (also under a @gufunc)
  bool stencilCore = false;          ///< @gufunc stacked on @stencil
  GufuncLayout layout;               ///< @gufunc
  std::optional<ScalarKind> dtype;   ///< `dtype=`: the output element type
  /// `@cuda.jit(device=True)` / `@kernel(device=True)`: a Jit kernel that
  /// runs only on the GPU (may use GPU intrinsics, called from GPU kernels).
  bool gpuDevice = false;
  /// Default values of the parameters, one per parameter: empty where it
  /// has none (a value of type None for `=None`). Only @jit functions have
  /// them; those with one follow those without, as in Python.
  std::vector<std::optional<ConstValue>> defaults;
  /// `@jit(target="cuda")` (or "gpu"): the body runs on the host and its
  /// prange loop nests run on the GPU (GpuRegions.h).
  bool gpuLoops() const {
    return kind == KernelKind::Jit && !gpuDevice &&
           (options.target == "cuda" || options.target == "gpu");
  }
};

/// GPU intrinsics of explicit SIMT kernels and device functions
/// (`cuda.threadIdx.x`, `cuda.grid(2)`, `cuda.shared.array(...)`, ...).
enum class GpuOp : uint8_t {
  ThreadIdx, BlockIdx, BlockDim, GridDim, ///< .x/.y/.z: int32
  Grid, GridSize,                         ///< grid(n)/gridsize(n): int64 or a tuple
  SharedArray, LocalArray,                ///< fixed-shape arrays in shared/local memory
  SyncThreads,                            ///< syncthreads(): a block-wide barrier
  AtomicAdd, AtomicSub, AtomicMin, AtomicMax, AtomicExch, AtomicCas, ///< return the old value
};
const char *gpuOpName(GpuOp op);

/// How a GPU intrinsic expression was resolved (TypedFunction::gpu).
struct GpuCall {
  GpuOp op = GpuOp::ThreadIdx;
  unsigned dim = 0;   ///< 0/1/2 for .x/.y/.z; n for grid(n)/gridsize(n)
  ScalarKind dtype = ScalarKind::F64; ///< array element type (arrays, atomics)
  std::vector<int64_t> shape;         ///< shared/local arrays
  /// Atomics: array, index, value (cas: array, index, old, value).
  std::vector<const ast::Expr *> operands;
};

/// Per-loop facts the code generator needs.
/// How a prange reduction combines the per-thread partial values
/// (`s -= x` accumulates with Add too: the partials hold the negated sums).
enum class ReduceOp : uint8_t { Add, Mul, Or, And, Xor, Min, Max };
const char *reduceOpName(ReduceOp op);

/// A scalar that a parallel loop's iterations update only in reduction form
/// (Numba's rules): `s += e`, `s -= e`, `s *= e`, `s |= e`, `s &= e`,
/// `s ^= e`, `s = s + e` (and the other operators), `s = min(s, e)`,
/// `s = max(s, e)`, where `e` does not read `s`.
struct Reduction {
  std::string var;
  ReduceOp op;
  SourceRange firstUpdate; ///< for diagnostics
};

/// What a `for` loop iterates over, when it is not a plain range or array:
/// `enumerate(it, start)`, `zip(it, ...)`, `reversed(it)`, nested, over
/// ranges and arrays. The loop counts k from 0 to the length of its source
/// and binds the k-th item.
struct IterSource {
  enum class Kind {
    Range, Array, Enumerate, Zip, Reversed,
    /// np.ndindex(shape): the index tuples of an array of that shape in C
    /// order; np.ndenumerate(a): (index tuple, element); `a.flat`: the
    /// elements in C order.
    NdIndex, NdEnumerate, Flat,
    /// The items of a list of tuples (a list of numbers is iterated as the
    /// array of its items: Array).
    List,
    /// A dict's keys (`d`, `d.keys()`), values or (key, value) items, in
    /// insertion order (`expr` is the dict).
    Dict
  } kind = Kind::Range;
  enum class DictPart { Keys, Values, Items } dictPart = DictPart::Keys;
  /// Range: the range() call; Array, List: the expression; Enumerate, Zip,
  /// Reversed, NdIndex: their call; NdEnumerate and Flat: the array.
  const ast::Expr *expr = nullptr;
  /// Enumerate: the start value (an integer expression), or null for 0.
  const ast::Expr *start = nullptr;
  /// Enumerate and Reversed: one; Zip: one per iterable (at least one).
  std::vector<IterSource> children;
};

struct ForInfo {
  /// Range: `for i in range(...)`/`prange(...)`; Array: over an array's first
  /// axis; Source: over `source` (enumerate, zip, reversed).
  enum class Kind { Range, Array, Source } kind = Kind::Range;
  IterSource source;
  bool parallel = false; ///< prange
  /// prange in a parallel=True kernel, not nested in another such loop:
  /// its iterations are split over threads (MLIRGen).
  bool runsParallel = false;
  std::vector<Reduction> reductions; ///< only for runsParallel loops
  /// Variables assigned in the body that are not reductions: private to each
  /// thread (each starts from the value before the loop).
  std::vector<std::string> privates;
};

struct TypedFunction;

/// A prange loop nest of a `@jit(target="cuda")` kernel that runs on the
/// GPU (GpuRegions.h): one GPU thread per iteration of the nest.
struct GpuRegion {
  /// The prange loops spread over the grid, outermost first (1 to 3): each
  /// inner one is the whole body of the one before it.
  std::vector<const ast::For *> loops;
  /// Locals the nest reads from the host part, in order: the kernel's
  /// first parameters (their leaves).
  std::vector<std::string> freeVars;
  /// Scalars the iterations update in reduction form (ForInfo).
  std::vector<Reduction> reductions;
  /// The GPU kernel of the nest (TypedFunction::regionHost).
  std::shared_ptr<TypedFunction> kernel;
};

/// One specialization of a kernel: every expression's type and resolution.
struct TypedFunction {
  const KernelDecl *decl = nullptr;
  const ast::FunctionDef *def = nullptr;
  std::shared_ptr<const SourceFile> file;
  std::string symbol; ///< unique within the program, e.g. "matmul__f64a2"
  std::vector<Type> argTypes;
  Type resultType; ///< Type::none() when nothing is returned
  /// Every local (parameters included) with its unified type.
  std::map<std::string, Type> vars;
  /// Locals that hold None on some path and a value of their type on
  /// others (`out=None` later assigned an array): each has a bool local
  /// named noneFlag(name), true while it holds None, which `x is None`
  /// reads.
  std::set<std::string> optionals;
  /// Reads of an optional local that raise TypeError where it holds None:
  /// every read but `x is None` and `return x` of an array (which returns
  /// an empty array for None).
  std::set<const ast::Expr *> noneChecked;
  /// `x is None`, `x is not None` (either side None): the result where it
  /// is known from the types (x of type None, or never None); absent where
  /// x is an optional local, whose flag is read.
  std::unordered_map<const ast::Expr *, bool> noneTests;
  /// `d.get(k) is None` and `d.get(k) is not None` (either way round): the
  /// get() call, whose dict and key MLIRGen tests for membership.
  std::unordered_map<const ast::Expr *, const ast::Call *> noneGets;
  /// `if` statements whose test is known from the types (a parameter
  /// compared with None): the branch that runs. The other is not checked
  /// or generated, as Numba prunes it.
  std::unordered_map<const ast::Stmt *, bool> prunedIfs;
  /// `and` / `or` whose operand k is known from the types to decide the
  /// result (`w is not None and w[0] > 0` with w None): only the first k+1
  /// operands are checked and generated, as Python evaluates only those.
  std::unordered_map<const ast::Expr *, size_t> boolCut;
  /// Pruned `if`s whose branch that runs always returns or raises: the
  /// statements after them in their block are not checked or generated.
  std::set<const ast::Stmt *> endsBlock;
  std::unordered_map<const ast::Expr *, Type> types;
  std::unordered_map<const ast::Expr *, CallInfo> calls;
  std::unordered_map<const ast::Expr *, ConstValue> consts;
  /// Constant tuple indices (after wrapping negatives); -1 if dynamic.
  std::unordered_map<const ast::Expr *, int> tupleIndex;
  std::unordered_map<const ast::Stmt *, ForInfo> loops;
  /// What each `for` clause of a list comprehension iterates over.
  std::unordered_map<const ast::Comprehension *, IterSource> comprehensions;
  /// What `list(iterable)`, `dict(pairs)` and `min(iterable, key=...)`
  /// calls take their items from (not for list(a comprehension), which is
  /// that comprehension's list, nor dict(d), a copy).
  std::unordered_map<const ast::Expr *, IterSource> listSources;
  /// A list used where an array is expected: `list` is its own type;
  /// `copy` is true where the array must be a copy (np.asarray(xs), views
  /// of it: a later append may move the items; always for tuples).
  struct ListView {
    bool copy = false;
    Type list;
  };
  /// Lists used where an array is expected (a subscript's base, an
  /// iterable, a NumPy function's operand, a returned value): seen as a
  /// C-contiguous array of their items (1-d, or 2-d with a row per tuple),
  /// which is their type in `types`.
  std::unordered_map<const ast::Expr *, ListView> listViews;
  /// `d[k] = v` inside a loop over dict d: the key must be there already
  /// (a new one would change d's size while it is iterated: RuntimeError,
  /// as in Python).
  std::set<const ast::Expr *> dictStoresInLoop;
  /// Element subscripts whose index is one tuple value of integers, one
  /// per axis (`a[idx]` with idx from np.ndindex or a.shape-like tuples).
  std::set<const ast::Expr *> tupleSubscripts;
  /// `a.flat[i]`: element i of the array in C order.
  std::set<const ast::Expr *> flatSubscripts;
  /// `a @ b` of arrays: np.matmul of vectors and matrices (the kind both
  /// are converted to).
  std::unordered_map<const ast::Expr *, ScalarKind> matmuls;
  /// Subscripts whose index is a boolean mask (a[a > 0]).
  std::set<const ast::Expr *> masks;
  /// Subscripts with integer-array (fancy) indices, NumPy's advanced
  /// indexing (a[idx], a[:, idx], a[rows, cols], a[rowmask, 1:]): the
  /// result dimension where the index arrays' broadcast shape goes (0
  /// where the advanced indices are not next to each other, as in NumPy).
  std::unordered_map<const ast::Expr *, unsigned> fancy;
  /// One index of an array subscript, with `...` expanded: an index
  /// expression (an integer, a slice, an index array), a whole axis (`expr`
  /// null: what `...` stands for, or an axis after the last index), or a
  /// new axis of length 1 (`None`, `np.newaxis`).
  struct SubscriptItem {
    const ast::Expr *expr = nullptr;
    bool newAxis = false;
  };
  /// The items of every array subscript that has `...` or a new axis;
  /// arraySubscript() gives the items of any array subscript.
  std::unordered_map<const ast::Expr *, std::vector<SubscriptItem>> subscriptItems;
  /// The items of array subscript `s` of an array of rank `rank`: one per
  /// axis of the array, in order (trailing axes whole), plus the new axes
  /// where they stand.
  std::vector<SubscriptItem> arraySubscript(const ast::Subscript &s, unsigned rank) const;
  /// Whether subscript `e` copies the elements it selects (a mask or
  /// integer arrays) instead of giving a view or an element.
  bool copiesElements(const ast::Expr &e) const {
    return masks.count(&e) != 0 || fancy.count(&e) != 0;
  }
  /// Scalar operands that are Python numbers (NEP 50's "weak" scalars):
  /// literals, module constants, math.pi and expressions of those.
  std::set<const ast::Expr *> weak;
  bool isWeak(const ast::Expr &e) const { return weak.count(&e) != 0; }
  /// Kernels this one calls (each once).
  std::vector<TypedFunction *> callees;
  /// `view[...] = st(x, ...)` with a stencil `st`: its specialization with
  /// the view as out=, which MLIRGen calls instead where the view has the
  /// stencil's shape and shares no memory with its arguments (no array in
  /// between: the seed's `out[:] = _smooth(x)`).
  std::unordered_map<const ast::Stmt *, TypedFunction *> stencilInto;
  /// GPU intrinsics (attributes and calls) by expression.
  std::unordered_map<const ast::Expr *, GpuCall> gpu;
  /// `raise` and `assert` statements: the error's message, as _stn_raise's
  /// text (KernelFaults.h, KernelFaultKind::Raise), and the scalars it
  /// shows, in order.
  struct RaisedError {
    std::string text;
    std::vector<const ast::Expr *> values;
    /// The values _stn_raise gets: one per scalar, two per complex number.
    size_t slots = 0;
  };
  std::unordered_map<const ast::Stmt *, RaisedError> raises;
  /// print(...) calls: the line they print (separators and end included),
  /// with the values marked as in a raise's message.
  std::unordered_map<const ast::Expr *, RaisedError> prints;
  /// Runs on the GPU: a @kernel or a device function.
  bool onGpu() const { return kind == KernelKind::Gpu || (decl && decl->gpuDevice); }

  KernelKind kind = KernelKind::Jit;
  /// The last argument is an `out=` array the result is written into.
  bool hasOut = false;
  /// Ufunc and gufunc: the typed body, specialized on element (ufunc) or
  /// core (gufunc) types; for a gufunc over a stencil, a Stencil function.
  TypedFunction *core = nullptr;

  /// Stencils: which parameters are indexed relatively, the neighborhood and
  /// the offsets of every relative access (a null expression where the
  /// offset is the constant in `constOffsets`).
  struct StencilAccess {
    unsigned param = 0;
    std::vector<int64_t> constOffsets;
    std::vector<const ast::Expr *> offsetExprs; ///< null: constant
  };
  struct StencilInfo {
    unsigned rank = 0;
    std::vector<bool> relative; ///< per parameter
    std::vector<std::pair<int64_t, int64_t>> neighborhood;
    std::unordered_map<const ast::Expr *, StencilAccess> accesses;
    ScalarKind bodyKind = ScalarKind::F64; ///< what the body returns
    ScalarKind outKind = ScalarKind::F64;  ///< the output's element type
  } stencil;

  /// Gufuncs: inputs/outputs by parameter, core rank of each, and whether
  /// the body returns its output (else it writes the trailing out params).
  struct GufuncInfo {
    unsigned numInputs = 0;
    std::vector<unsigned> inputCoreRanks, outputCoreRanks;
    bool returnStyle = true;
    ScalarKind outKind = ScalarKind::F64;
    unsigned outerRank = 0; ///< loop dimensions of the broadcast outer shape
  } gufunc;

  /// Ufuncs: the broadcast rank of the output (0: all scalars).
  unsigned ufuncRank = 0;

  /// `@jit(target="cuda")`: the prange nests that run on the GPU, in source
  /// order (the host code launches them).
  std::vector<GpuRegion> gpuRegions;
  /// The kernel of a GpuRegion: a copy of its host function's typing whose
  /// argTypes are the region's parameters (GpuRegions.h), else null.
  const TypedFunction *regionHost = nullptr;
  int regionIndex = -1;

  const Type &typeOf(const ast::Expr &e) const;
  const ConstValue *constOf(const ast::Expr &e) const;
};

class Program {
public:
  ~Program();
  /// Parses and checks a file. Returns null if it has errors (reported to
  /// `diags`); warnings may be reported either way.
  static std::unique_ptr<Program> load(std::shared_ptr<const SourceFile> file,
                                       DiagnosticEngine &diags);

  const ast::Module &module() const { return *Mod; }
  const std::shared_ptr<const SourceFile> &file() const { return File; }
  const std::vector<KernelDecl> &kernels() const { return Kernels; }
  const KernelDecl *kernel(std::string_view name) const;

  /// The signature of `k` that accepts arguments of types `args` (exact
  /// match first, then by conversion); null with a message in `error`.
  const Signature *matchSignature(const KernelDecl &k, const std::vector<Type> &args,
                                  std::string &error) const;
  /// The argument types a call of `sig` (matched for `args`) is compiled
  /// for: the signature's, but None where the argument is None (a
  /// parameter `w: f8[:] = None` left out stays None, for `w is None`).
  static std::vector<Type> signatureTypes(const Signature &sig, const std::vector<Type> &args);

  /// Infers types of `k` called with `args` (memoized). Errors are reported
  /// to `diags`; returns null on error. For stencils, ufuncs and gufuncs
  /// `hasOut` says the last argument is an `out=` array.
  TypedFunction *specialize(const KernelDecl &k, const std::vector<Type> &args,
                            DiagnosticEngine &diags, bool hasOut = false);

  /// How many arguments a caller passes (without out=): the parameters, or
  /// for a gufunc the inputs of its layout.
  static size_t hostArity(const KernelDecl &k);
  /// How many of those a caller must pass: the parameters before the first
  /// with a default value.
  static size_t requiredArity(const KernelDecl &k);

  /// Module constants by name.
  const std::map<std::string, ConstValue> &constants() const { return Constants; }

  // Implementation details shared with the checker.
  struct Impl;

private:
  Program() = default;
  std::shared_ptr<const SourceFile> File;
  std::unique_ptr<ast::Module> Mod;
  std::vector<KernelDecl> Kernels;
  std::map<std::string, ConstValue> Constants;
  std::map<std::string, std::string> ModuleAliases; ///< "np" -> "numpy"
  std::map<std::string, std::pair<std::string, std::string>> FromImports;
  std::map<std::string, std::unique_ptr<TypedFunction>> Specializations;
  /// A specialization being typed. A recursive call of it (the same kernel
  /// with the same argument types) gets `tf`, whose result type is what its
  /// returns have shown so far; the specializations typed meanwhile that
  /// relied on it (`dependents`, by key) are typed again when that result
  /// widens.
  struct Typing {
    std::string key;
    const KernelDecl *decl = nullptr;
    KernelKind kind = KernelKind::Jit;
    TypedFunction *tf = nullptr;
    std::set<std::string> dependents;
  };
  std::vector<Typing> InProgress;
  /// The diagnostics of specializations that failed, by key.
  std::map<std::string, std::vector<Diagnostic>> Failures;
  /// Specializations dropped from the cache for a widened partial result:
  /// kept alive because the passes that used them may still point at them.
  std::vector<std::unique_ptr<TypedFunction>> Retired;
  /// The function being typed (FunctionChecker) has widened its result
  /// type (f.resultType, which its recursive calls read).
  void notePartialResult(const TypedFunction &f);
  unsigned Counter = 0;
  friend class FunctionChecker;

  TypedFunction *specializeAs(const KernelDecl &k, KernelKind kind,
                              const std::vector<Type> &args, bool hasOut,
                              DiagnosticEngine &diags);
  bool typeStencil(TypedFunction &tf, DiagnosticEngine &diags);
  bool typeUfunc(TypedFunction &tf, DiagnosticEngine &diags);
  bool typeGufunc(TypedFunction &tf, DiagnosticEngine &diags);
};

/// Prints a specialization: the syntax tree annotated with types
/// (`stn ir --emit=typed`), its callees included.
std::string printTyped(const TypedFunction &f);

/// Whether `f` or a function it reaches (its callees, theirs, and a
/// driver's core) satisfies `pred`.
template <class Pred> bool anyReachable(const TypedFunction &f, Pred pred) {
  std::vector<const TypedFunction *> todo{&f};
  std::set<const TypedFunction *> seen;
  while (!todo.empty()) {
    const TypedFunction *g = todo.back();
    todo.pop_back();
    if (!seen.insert(g).second)
      continue;
    if (pred(*g))
      return true;
    todo.insert(todo.end(), g->callees.begin(), g->callees.end());
    if (g->core)
      todo.push_back(g->core);
  }
  return false;
}

} // namespace stn

#endif // STN_COMPILER_SEMA_H
