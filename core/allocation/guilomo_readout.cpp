// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo readout (METHODS.md §3.5, after save_rankandexp_num.py): rank = argmax(rank GSV) + 1,
// experts = max(2, argmax(expert GSV) + 1), per module, no global budget. Plus parameter
// counting and the budget-matched variant (our design).
#include "core/allocation/guilomo_readout.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <tuple>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Position of a module name in the canonical projection order (unknown names after).
int module_order(const std::string& module) {
  static const std::vector<std::string> kOrder = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  const auto it = std::find(kOrder.begin(), kOrder.end(), module);
  return static_cast<int>(it - kOrder.begin());
}

/// Per-module (fixed router cost, cost of one rank step) of an allocation.
struct ModuleCost {
  int64_t fixed = 0;
  int64_t per_rank = 0;
};

std::vector<ModuleCost> module_costs(const GuiLoMoAllocation& allocation,
                                     const ModelShape& shape,
                                     bool with_router) {
  std::vector<ModuleCost> costs;
  for (const auto& m : allocation.modules) {
    const auto [in, out] = shape.projection_dims(m.module);
    costs.push_back({with_router ? int64_t{m.experts} * in : 0, int64_t{in} + out});
  }
  return costs;
}

}  // namespace

void GuiLoMoReadoutOptions::validate() const {
  AP_CHECK_AS(ConfigError, n_max >= 1, "guilomo.n_max must be >= 1, got ", n_max);
  AP_CHECK_AS(ConfigError, r_max >= 1, "guilomo.r_max must be >= 1, got ", r_max);
  AP_CHECK_AS(ConfigError, top_k >= 1 && top_k <= n_max,
              "guilomo.top_k must be in [1, n_max=", n_max, "], got ", top_k);
  AP_CHECK_AS(ConfigError, min_experts >= 1 && min_experts <= n_max,
              "guilomo.min_experts must be in [1, n_max=", n_max, "], got ", min_experts);
}

std::vector<int> GuiLoMoModuleAllocation::used_ranks() const {
  const auto n = std::min<size_t>(static_cast<size_t>(std::max(experts, 0)), ranks.size());
  return std::vector<int>(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(n));
}

const GuiLoMoModuleAllocation* GuiLoMoAllocation::find(const std::string& path) const {
  for (const auto& m : modules) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

int gsv_argmax(const std::vector<float>& values, const std::string& what) {
  AP_CHECK(!values.empty(), what, ": the GSV is empty");
  int best = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    AP_CHECK(!std::isnan(values[i]), what, ": GSV entry ", i,
             " is NaN (the search diverged; lower the architecture learning rate)");
    if (values[i] > values[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  return best;
}

int read_rank(const std::vector<float>& rank_gsv, const std::string& what) {
  return gsv_argmax(rank_gsv, what) + 1;
}

int read_expert_count(const std::vector<float>& expert_gsv,
                      const GuiLoMoReadoutOptions& options,
                      const std::string& what) {
  const int found = gsv_argmax(expert_gsv, what) + 1;
  return std::max({options.min_experts, options.top_k, found});
}

GuiLoMoModuleAllocation read_module(const GsvModuleValues& values,
                                    const GuiLoMoReadoutOptions& options) {
  const std::string& path = values.path;
  AP_CHECK(static_cast<int>(values.expert.size()) == options.n_max, path, ": expert GSV has ",
           values.expert.size(), " entries but n_max is ", options.n_max);
  AP_CHECK(static_cast<int>(values.rank.size()) == options.n_max, path, ": ", values.rank.size(),
           " rank GSVs but n_max is ", options.n_max);
  GuiLoMoModuleAllocation m;
  m.path = path;
  if (values.layer >= 0 || !values.module.empty()) {
    m.layer = values.layer;
    m.module = values.module;
  } else {
    std::tie(m.layer, m.module) = parse_module_path(path);
  }
  m.experts = read_expert_count(values.expert, options, path + ".router_expert_vector");
  for (int i = 0; i < options.n_max; ++i) {
    const auto& r = values.rank[static_cast<size_t>(i)];
    const std::string what = path + ".expertlora_E_vector_" + std::to_string(i);
    AP_CHECK(static_cast<int>(r.size()) == options.r_max, what, ": rank GSV has ", r.size(),
             " entries but r_max is ", options.r_max);
    m.ranks.push_back(read_rank(r, what));
  }
  return m;
}

GuiLoMoAllocation read_allocation(const std::vector<GsvModuleValues>& values,
                                  const GuiLoMoReadoutOptions& options) {
  options.validate();
  GuiLoMoAllocation a;
  a.n_max = options.n_max;
  a.r_max = options.r_max;
  a.top_k = options.top_k;
  for (const auto& v : values) {
    AP_CHECK(a.find(v.path) == nullptr, v.path, ": module listed twice in the GSV values");
    a.modules.push_back(read_module(v, options));
  }
  sort_modules(a.modules);
  return a;
}

std::pair<int, std::string> parse_module_path(const std::string& path) {
  const auto last_dot = path.rfind('.');
  const std::string module = last_dot == std::string::npos ? path : path.substr(last_dot + 1);
  static const std::string kLayers = "layers.";
  size_t pos = 0;
  while ((pos = path.find(kLayers, pos)) != std::string::npos) {
    const bool at_boundary = pos == 0 || path[pos - 1] == '.';
    size_t end = pos + kLayers.size();
    while (end < path.size() && std::isdigit(static_cast<unsigned char>(path[end]))) ++end;
    if (at_boundary && end > pos + kLayers.size() && end < path.size() && path[end] == '.') {
      const std::string digits = path.substr(pos + kLayers.size(), end - pos - kLayers.size());
      if (digits.size() <= 9) return {std::stoi(digits), module};
    }
    pos += kLayers.size();
  }
  return {-1, module};
}

void sort_modules(std::vector<GuiLoMoModuleAllocation>& modules) {
  std::stable_sort(modules.begin(), modules.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.layer, module_order(a.module), a.module, a.path) <
           std::make_tuple(b.layer, module_order(b.module), b.module, b.path);
  });
}

int64_t count_parameters(const GuiLoMoAllocation& allocation,
                         const ModelShape& shape,
                         bool with_router) {
  const auto costs = module_costs(allocation, shape, with_router);
  int64_t total = 0;
  for (size_t k = 0; k < costs.size(); ++k) {
    const auto used = allocation.modules[k].used_ranks();
    total +=
        costs[k].fixed + costs[k].per_rank * std::accumulate(used.begin(), used.end(), int64_t{0});
  }
  return total;
}

GuiLoMoAllocation budget_matched(const GuiLoMoAllocation& allocation,
                                 const ModelShape& shape,
                                 const BudgetMatchOptions& options) {
  AP_CHECK_AS(ConfigError, options.max_rank >= 0, "guilomo.budget.max_rank must be >= 0, got ",
              options.max_rank);
  const auto costs = module_costs(allocation, shape, options.with_router);
  // Without a cap, ranks stop at 1e9 (far beyond any real budget; keeps the arithmetic finite).
  const double cap = options.max_rank > 0 ? options.max_rank : 1e9;
  // Used ranks of the allocation scaled by c: clamp(floor(c·r), 1, cap).
  auto scaled_rank = [cap](int r, double c) {
    return static_cast<int64_t>(std::clamp(std::floor(c * r), 1.0, cap));
  };
  auto count_at = [&](double c) {
    int64_t total = 0;
    for (size_t k = 0; k < costs.size(); ++k) {
      total += costs[k].fixed;
      for (int r : allocation.modules[k].used_ranks())
        total += costs[k].per_rank * scaled_rank(r, c);
    }
    return total;
  };
  const int64_t target = options.target_parameters;
  const int64_t minimum = count_at(0.0);
  AP_CHECK_AS(ConfigError, target >= minimum, "guilomo.budget.target_parameters: ", target,
              " is below ", minimum,
              ", the count with every rank 1 and the found expert counts; raise the target");
  if (options.max_rank > 0) {
    const int64_t maximum = count_at(1e15);
    AP_CHECK_AS(ConfigError, target <= maximum, "guilomo.budget.target_parameters: ", target,
                " exceeds ", maximum, ", the count with every rank at max_rank=", options.max_rank,
                "; raise max_rank or lower the target");
  }
  // Largest c with count_at(c) <= target, by doubling then bisection.
  double lo = 0.0, hi = 1.0;
  while (count_at(hi) <= target && hi < 1e12) {
    lo = hi;
    hi *= 2.0;
  }
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (count_at(mid) <= target ? lo : hi) = mid;
  }
  GuiLoMoAllocation out = allocation;
  struct Candidate {
    double frac;
    int rank;
    size_t module;
    int slot;
  };
  std::vector<Candidate> candidates;
  int64_t total = 0;
  for (size_t k = 0; k < out.modules.size(); ++k) {
    auto& m = out.modules[k];
    total += costs[k].fixed;
    for (int i = 0; i < m.experts && i < static_cast<int>(m.ranks.size()); ++i) {
      const int r = allocation.modules[k].ranks[static_cast<size_t>(i)];
      const int64_t scaled = scaled_rank(r, lo);
      m.ranks[static_cast<size_t>(i)] = static_cast<int>(scaled);
      total += costs[k].per_rank * scaled;
      const double frac = lo * r - static_cast<double>(scaled);  // < 0 when clamped up to 1
      if (static_cast<double>(scaled) < cap) candidates.push_back({frac, r, k, i});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(-a.frac, -a.rank, a.module, a.slot) <
           std::make_tuple(-b.frac, -b.rank, b.module, b.slot);
  });
  for (const auto& c : candidates) {
    if (total + costs[c.module].per_rank > target) continue;
    total += costs[c.module].per_rank;
    ++out.modules[c.module].ranks[static_cast<size_t>(c.slot)];
  }
  return out;
}

}  // namespace apportion
