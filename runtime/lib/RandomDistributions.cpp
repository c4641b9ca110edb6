//===- RandomDistributions.cpp - np.random's other distributions ----------===//
//
// The samplers behind Builtin::RandomDistribution: gamma (Marsaglia and
// Tsang's squeeze, boosted below shape 1), beta and chi-square from gammas,
// Student's t from a normal and a chi-square, Poisson (multiplication for
// small means, Hoermann's transformed rejection PTRS above), binomial
// (inversion for small means, Knuth's beta splitting above), negative
// binomial (a Poisson draw of a gamma-distributed mean), geometric and
// the closed-form inversions (Laplace, logistic, Gumbel, Weibull, Pareto II,
// Rayleigh, triangular). All draw from the calling thread's generator
// through _stn_random_uniform and _stn_random_normal (ParallelRuntime.cpp).
// The kernel checks the parameters before it calls (MLIRGen).
//
//===----------------------------------------------------------------------===//

#include "KernelRuntime.h"

#include "stn/Compiler/Sema.h"

#include <cmath>
#include <cstdint>

#define STN_EXPORT extern "C" __attribute__((visibility("default")))

extern "C" double _stn_random_uniform();
extern "C" double _stn_random_normal();

namespace {

using stn::RandomDistribution;

/// Uniform in (0, 1): never 0, so its logarithm is finite.
double openUniform() {
  double u;
  do
    u = _stn_random_uniform();
  while (u == 0.0);
  return u;
}

double standardGamma(double shape) {
  if (shape <= 0.0)
    return 0.0;
  if (shape < 1.0) // G(k) = G(k + 1) * U^(1/k)
    return standardGamma(shape + 1.0) * std::pow(openUniform(), 1.0 / shape);
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = _stn_random_normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = openUniform(), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2)
      return d * v;
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v)))
      return d * v;
  }
}

double chisquare(double df) { return 2.0 * standardGamma(df / 2.0); }

int64_t poisson(double lam) {
  if (lam <= 0.0)
    return 0;
  if (lam < 10.0) {
    // Multiply uniforms until the product falls below e^-lam.
    const double limit = std::exp(-lam);
    int64_t k = 0;
    double p = _stn_random_uniform();
    while (p > limit) {
      ++k;
      p *= _stn_random_uniform();
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (Hoermann 1993).
  const double slam = std::sqrt(lam), loglam = std::log(lam);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    double u = _stn_random_uniform() - 0.5, v = _stn_random_uniform();
    double us = 0.5 - std::fabs(u);
    double k = std::floor((2.0 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr)
      return static_cast<int64_t>(k);
    if (k < 0.0 || (us < 0.013 && v > us))
      continue;
    if (std::log(v) + std::log(invAlpha) - std::log(a / (us * us) + b) <=
        -lam + k * loglam - std::lgamma(k + 1.0))
      return static_cast<int64_t>(k);
  }
}

int64_t binomial(int64_t n, double p) {
  if (n <= 0 || p <= 0.0)
    return 0;
  if (p >= 1.0)
    return n;
  if (p > 0.5)
    return n - binomial(n, 1.0 - p);
  int64_t base = 0;
  // Knuth's splitting: the a-th smallest of n uniforms is Beta(a, n + 1 - a);
  // the count below p is in one half, recursively, until the mean is small.
  while (static_cast<double>(n) * p >= 30.0) {
    int64_t a = 1 + n / 2, b = n + 1 - a;
    double x = standardGamma(static_cast<double>(a));
    double y = standardGamma(static_cast<double>(b));
    double beta = x / (x + y);
    if (beta >= p) {
      n = a - 1;
      p = p / beta;
    } else {
      base += a;
      n = b - 1;
      p = (p - beta) / (1.0 - beta);
    }
    if (n <= 0 || p <= 0.0)
      return base;
    if (p >= 1.0)
      return base + n;
  }
  // Inversion: walk the probabilities P(X = x) up from x = 0.
  const double q = 1.0 - p, s = p / q, a = static_cast<double>(n + 1) * s;
  for (;;) {
    double r = std::pow(q, static_cast<double>(n)), u = _stn_random_uniform();
    int64_t x = 0;
    while (u > r && x < n) {
      u -= r;
      ++x;
      r *= a / static_cast<double>(x) - s;
    }
    if (u <= r)
      return base + x;
    // Rounding left u above the last probability: draw again.
  }
}

} // namespace

/// A float64 draw from distribution `kind` (a RandomDistribution before
/// Poisson) with parameters p0..p2 (the kernel fills in the defaults).
STN_EXPORT double _stn_random_real(int32_t kind, double p0, double p1, double p2) {
  switch (static_cast<RandomDistribution>(kind)) {
  case RandomDistribution::Gamma: // (shape, scale)
    return p1 * standardGamma(p0);
  case RandomDistribution::Beta: { // (a, b)
    for (;;) {
      double x = standardGamma(p0), y = standardGamma(p1);
      if (x + y > 0.0)
        return x / (x + y);
    }
  }
  case RandomDistribution::Chisquare: // (df)
    return chisquare(p0);
  case RandomDistribution::Lognormal: // (mean, sigma)
    return std::exp(p0 + p1 * _stn_random_normal());
  case RandomDistribution::Laplace: { // (loc, scale)
    double u = openUniform();
    return u < 0.5 ? p0 + p1 * std::log(2.0 * u) : p0 - p1 * std::log(2.0 * (1.0 - u));
  }
  case RandomDistribution::Logistic: { // (loc, scale)
    double u = openUniform();
    return p0 + p1 * std::log(u / (1.0 - u));
  }
  case RandomDistribution::Gumbel: // (loc, scale)
    return p0 - p1 * std::log(-std::log(openUniform()));
  case RandomDistribution::Weibull: // (a)
    return p0 == 0.0 ? 0.0 : std::pow(-std::log(openUniform()), 1.0 / p0);
  case RandomDistribution::Pareto: // (a): NumPy's Pareto II (Lomax), x_m = 1 shifted to 0
    return std::expm1(-std::log(openUniform()) / p0);
  case RandomDistribution::Rayleigh: // (scale)
    return p0 * std::sqrt(-2.0 * std::log(openUniform()));
  case RandomDistribution::Cauchy:
    return _stn_random_normal() / _stn_random_normal();
  case RandomDistribution::StdExponential:
    return -std::log(openUniform());
  case RandomDistribution::StudentT: // (df)
    return _stn_random_normal() / std::sqrt(chisquare(p0) / p0);
  case RandomDistribution::Triangular: { // (left, mode, right)
    double base = p2 - p0, left = p1 - p0, u = _stn_random_uniform();
    if (u <= left / base)
      return p0 + std::sqrt(u * left * base);
    return p2 - std::sqrt((1.0 - u) * (p2 - p1) * base);
  }
  default:
    return 0.0;
  }
}

/// An int64 draw from distribution `kind` (Poisson on).
STN_EXPORT int64_t _stn_random_count(int32_t kind, double p0, double p1) {
  switch (static_cast<RandomDistribution>(kind)) {
  case RandomDistribution::Poisson: // (lam)
    return poisson(p0);
  case RandomDistribution::Binomial: // (n, p)
    return binomial(static_cast<int64_t>(p0), p1);
  case RandomDistribution::Geometric: { // (p): trials up to the first success
    if (p0 >= 1.0)
      return 1;
    double k = std::ceil(std::log(openUniform()) / std::log1p(-p0));
    return k < 1.0 ? 1 : static_cast<int64_t>(k);
  }
  case RandomDistribution::NegativeBinomial: // (n, p): failures before the n-th success
    // A Poisson draw whose mean is a gamma draw (shape n, scale (1-p)/p).
    return p1 >= 1.0 ? 0 : poisson(standardGamma(p0) * (1.0 - p1) / p1);
  default:
    return 0;
  }
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> randomDistributionSymbols() {
  return {
      {"_stn_random_real", reinterpret_cast<void *>(&_stn_random_real)},
      {"_stn_random_count", reinterpret_cast<void *>(&_stn_random_count)},
  };
}

} // namespace stn::detail
