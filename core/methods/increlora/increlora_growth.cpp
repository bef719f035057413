// SPDX-License-Identifier: GPL-3.0-or-later
// IncreLoRA's smoothing and growth choice (see increlora_growth.h).
#include "core/methods/increlora/increlora_growth.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace apportion {

void smooth_importance(double sensitivity, double& ibar, double& ubar, double beta1, double beta2) {
  ibar = beta1 * ibar + (1.0 - beta1) * sensitivity;
  ubar = beta2 * ubar + (1.0 - beta2) * std::abs(sensitivity - ibar);
}

double unit_score(const std::vector<double>& ibar, const std::vector<double>& ubar, int active) {
  const int k = std::min<int>(active, static_cast<int>(std::min(ibar.size(), ubar.size())));
  if (k <= 0) return 0.0;
  double sum = 0.0;
  for (int j = 0; j < k; ++j) sum += ibar[static_cast<size_t>(j)] * ubar[static_cast<size_t>(j)];
  return sum / k;
}

std::vector<std::pair<int, int>> pick_growth(const std::vector<int>& ranks,
                                             const std::vector<double>& scores,
                                             int64_t q,
                                             int delta_r,
                                             int r_max,
                                             int64_t budget_left) {
  std::vector<int> order(ranks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&scores](int a, int b) {
    return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)];
  });
  std::vector<std::pair<int, int>> grants;
  for (int u : order) {
    if (static_cast<int64_t>(grants.size()) >= q || budget_left <= 0) break;
    const int rank = ranks[static_cast<size_t>(u)];
    if (rank >= r_max) continue;
    const int add = static_cast<int>(std::min<int64_t>({delta_r, r_max - rank, budget_left}));
    grants.emplace_back(u, rank + add);
    budget_left -= add;
  }
  return grants;
}

}  // namespace apportion
