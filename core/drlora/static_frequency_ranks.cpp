// SPDX-License-Identifier: GPL-3.0-or-later
// Static frequency-proportional rank allocation (see static_frequency_ranks.h): bisection for
// the proportionality factor λ of the clamped split, then largest-remainder rounding.
#include "core/drlora/static_frequency_ranks.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Bisection steps for λ (halves the bracket each time; 200 is far beyond double precision).
constexpr int kBisectionSteps = 200;

double clamped_sum(const std::vector<double>& f, double lambda, double lo, double hi) {
  double s = 0.0;
  for (double v : f) s += std::clamp(lambda * v, lo, hi);
  return s;
}

std::vector<int> split_layer(std::vector<double> f, int budget, int r_min, int r_max) {
  const size_t n = f.size();
  const double total = std::accumulate(f.begin(), f.end(), 0.0);
  if (!(total > 0.0)) std::fill(f.begin(), f.end(), 1.0);
  const double lo = r_min, hi = r_max, target = budget;
  // Σ clamp(λ f_i) is continuous and non-decreasing in λ: bracket, then bisect.
  const double f_min_pos = *std::min_element(f.begin(), f.end(), [](double a, double b) {
    return (a > 0 ? a : INFINITY) < (b > 0 ? b : INFINITY);
  });
  double l_lo = 0.0, l_hi = hi / f_min_pos;  // at l_hi every positive f_i is clamped to r_max
  for (int it = 0; it < kBisectionSteps; ++it) {
    const double mid = 0.5 * (l_lo + l_hi);
    (clamped_sum(f, mid, lo, hi) < target ? l_lo : l_hi) = mid;
  }
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = std::clamp(l_hi * f[i], lo, hi);
  std::vector<int> ranks(n);
  int assigned = 0;
  for (size_t i = 0; i < n; ++i) {
    ranks[i] = static_cast<int>(std::floor(x[i]));
    assigned += ranks[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return x[a] - std::floor(x[a]) > x[b] - std::floor(x[b]);
  });
  // Largest remainder; bisection round-off can leave the floors one off in either direction.
  for (size_t j = 0; assigned < budget; j = (j + 1) % n) {
    if (ranks[order[j]] < r_max) ++ranks[order[j]], ++assigned;
  }
  for (size_t j = n - 1; assigned > budget; j = (j + n - 1) % n) {
    const size_t i = order[j];
    if (ranks[i] > r_min) --ranks[i], --assigned;
  }
  return ranks;
}

}  // namespace

std::vector<std::vector<int>> static_frequency_ranks(
    const std::vector<std::vector<double>>& frequency, int budget_per_layer, int r_min, int r_max) {
  AP_CHECK(r_min >= 0 && r_max >= r_min, "static frequency ranks: need 0 <= r_min <= r_max, got ",
           r_min, " and ", r_max);
  std::vector<std::vector<int>> out;
  for (size_t l = 0; l < frequency.size(); ++l) {
    const auto& f = frequency[l];
    const auto n = static_cast<int64_t>(f.size());
    AP_CHECK(n > 0, "static frequency ranks: layer ", l, " has no experts");
    AP_CHECK(n * r_min <= budget_per_layer && budget_per_layer <= n * r_max,
             "static frequency ranks: a budget of ", budget_per_layer, " for ", n,
             " experts cannot be met with ranks in [", r_min, ", ", r_max,
             "]; raise r_max or lower r_min");
    for (double v : f) {
      AP_CHECK(std::isfinite(v) && v >= 0.0, "static frequency ranks: layer ", l,
               " has an invalid routing frequency ", v, " (must be finite and >= 0)");
    }
    out.push_back(split_layer(f, budget_per_layer, r_min, r_max));
  }
  return out;
}

}  // namespace apportion
