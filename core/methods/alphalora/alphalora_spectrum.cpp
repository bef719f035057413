// SPDX-License-Identifier: GPL-3.0-or-later
// AlphaLoRA's Hill estimator and expert scaling (see alphalora_spectrum.h).
#include "core/methods/alphalora/alphalora_spectrum.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/common/error.h"

namespace apportion {

double hill_alpha(const std::vector<double>& eigenvalues, const HillOptions& options) {
  std::vector<double> eigs;
  for (double e : eigenvalues) {
    if (!options.filter_zeros || e > options.zero_threshold) eigs.push_back(e);
  }
  std::sort(eigs.begin(), eigs.end());
  const auto n_eigs = static_cast<int64_t>(eigs.size());
  AP_CHECK(n_eigs >= 2, "hill_alpha needs at least two eigenvalues");
  std::vector<double> log_eigs(eigs.size());
  for (size_t i = 0; i < eigs.size(); ++i) log_eigs[i] = std::log(eigs[i]);

  double xmin_min = -INFINITY, xmin_max = INFINITY;
  if (options.pl_fitting) {
    // torch.histc over log10(λ) between its min and max, then the fullest bin's left edge.
    std::vector<double> h(eigs.size());
    for (size_t i = 0; i < eigs.size(); ++i) h[i] = std::log10(eigs[i]);
    const double lo = h.front(), hi = h.back();
    std::vector<int64_t> counts(static_cast<size_t>(options.bins), 0);
    for (double x : h) {
      int64_t b = hi > lo ? static_cast<int64_t>((x - lo) / (hi - lo) * options.bins) : 0;
      b = std::min<int64_t>(std::max<int64_t>(b, 0), options.bins - 1);
      ++counts[static_cast<size_t>(b)];
    }
    const auto ih = std::max_element(counts.begin(), counts.end()) - counts.begin();
    const double edge = lo + (hi - lo) * static_cast<double>(ih) / options.bins;
    const double xmin2 = std::pow(10.0, edge);
    xmin_min = std::log10(0.95 * xmin2);
    xmin_max = 1.5 * xmin2;
  }

  std::vector<double> alphas(eigs.size() - 1, 0.0), ds(eigs.size() - 1, 1.0);
  // Σ_{j≥i} ln λ_j, from the top.
  std::vector<double> tail(eigs.size() + 1, 0.0);
  for (int64_t i = n_eigs - 1; i >= 0; --i) tail[i] = tail[i + 1] + log_eigs[i];
  for (int64_t i = 0; i + 1 < n_eigs; ++i) {
    const double xmin = eigs[static_cast<size_t>(i)];
    if (options.pl_fitting) {
      if (xmin < xmin_min) continue;
      if (xmin > xmin_max) break;
    }
    const double n = static_cast<double>(n_eigs - i);
    const double alpha = 1.0 + n / (tail[i] - n * log_eigs[static_cast<size_t>(i)]);
    alphas[static_cast<size_t>(i)] = alpha;
    if (alpha > 1.0) {
      double d = 0.0;
      for (int64_t j = i; j < n_eigs; ++j) {
        const double cdf = 1.0 - std::pow(eigs[static_cast<size_t>(j)] / xmin, 1.0 - alpha);
        d = std::max(d, std::abs(cdf - static_cast<double>(j - i) / n));
      }
      ds[static_cast<size_t>(i)] = d;
    }
  }
  const auto best = std::min_element(ds.begin(), ds.end()) - ds.begin();
  return alphas[static_cast<size_t>(best)];
}

std::vector<int> experts_from_alphas(const std::vector<double>& values,
                                     int target_sum,
                                     double exponent) {
  AP_CHECK(!values.empty(), "experts_from_alphas needs values");
  std::vector<double> scaled(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    AP_CHECK(values[i] > 0.0, "experts_from_alphas: values must be > 0");
    scaled[i] = std::pow(values[i], exponent);
  }
  const double total = std::accumulate(scaled.begin(), scaled.end(), 0.0);
  std::vector<int> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    out[i] = static_cast<int>(std::nearbyint(scaled[i] / total * target_sum));  // half-even
  }
  for (int guard = 0; guard < 1000000; ++guard) {
    const int sum = std::accumulate(out.begin(), out.end(), 0);
    if (sum == target_sum) return out;
    size_t pick = 0;
    for (size_t i = 1; i < out.size(); ++i) {
      const double di = scaled[i] - out[i], dp = scaled[pick] - out[pick];
      if (sum < target_sum ? di < dp : di > dp) pick = i;
    }
    out[pick] += sum < target_sum ? 1 : -1;
  }
  throw Error("experts_from_alphas: the correction did not converge");
}

}  // namespace apportion
