// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo (Zhang, Chen et al., "GuiLoMo: Allocating Experts and Ranks for LoRA-MoE via Bilevel
// Optimization with GuidedSelection Vectors", EMNLP Findings 2025, arXiv 2506.14646): a
// bilevel search over GuidedSelection Vectors picks each module's expert count and each
// expert's rank. Before the search the plan is the supernet (n_max experts of rank r_max on
// every module); after it, the found per-module allocation (expert_allocation_from_guilomo).
#include <algorithm>

#include "core/allocation/guilomo_readout.h"
#include "core/allocation/strategies.h"
#include "core/common/error.h"

namespace apportion {
namespace {

class GuiLoMoSupernetAllocation : public AllocationStrategy {
 public:
  ExpertAllocation allocate(const ModelShape& shape,
                            const AllocationBudget& budget) const override {
    std::vector<int> counts(static_cast<size_t>(shape.num_layers), budget.guilomo_n_max);
    AllocationBudget b = budget;
    b.rank = budget.guilomo_r_max;
    b.explicit_top_k.clear();
    return allocation_from_counts(counts, b);
  }
};

}  // namespace

std::unique_ptr<AllocationStrategy> make_guilomo_strategy() {
  return std::make_unique<GuiLoMoSupernetAllocation>();
}

ExpertAllocation expert_allocation_from_guilomo(const GuiLoMoAllocation& allocation,
                                                const ModelShape& shape,
                                                const std::vector<std::string>& target_modules) {
  ExpertAllocation a;
  const auto layers = static_cast<size_t>(shape.num_layers);
  a.ranks.resize(layers);
  a.top_k.assign(layers, allocation.top_k);
  a.module_ranks.resize(layers);
  for (const auto& m : allocation.modules) {
    if (m.layer < 0 || static_cast<size_t>(m.layer) >= layers) {
      throw ConfigError("GuiLoMo allocation: module " + m.path + " is in layer " +
                        std::to_string(m.layer) + " but the backbone has " +
                        std::to_string(layers) +
                        " layers; the allocation belongs to another model");
    }
    if (std::find(target_modules.begin(), target_modules.end(), m.module) == target_modules.end()) {
      continue;  // searched but not adapted in this run
    }
    const auto used = m.used_ranks();
    if (static_cast<int>(used.size()) < allocation.top_k) {
      throw ConfigError("GuiLoMo allocation: module " + m.path + " has " +
                        std::to_string(used.size()) + " experts, fewer than top_k " +
                        std::to_string(allocation.top_k));
    }
    for (size_t i = 0; i < used.size(); ++i) {
      if (used[i] < 1) {
        throw ConfigError("GuiLoMo allocation: module " + m.path + ", expert " + std::to_string(i) +
                          " has no rank (" + std::to_string(used[i]) +
                          "); every used expert needs a rank in 1..r_max");
      }
    }
    auto& slot = a.module_ranks[static_cast<size_t>(m.layer)][m.module];
    if (!slot.empty()) {
      throw ConfigError("GuiLoMo allocation: module " + m.module + " of layer " +
                        std::to_string(m.layer) + " is listed twice");
    }
    slot = used;
  }
  for (size_t l = 0; l < layers; ++l) {
    for (const auto& module : target_modules) {
      const auto it = a.module_ranks[l].find(module);
      if (it == a.module_ranks[l].end()) {
        throw ConfigError("GuiLoMo allocation: no entry for " + module + " of layer " +
                          std::to_string(l) +
                          "; the search adapted other modules than adapters.target_modules "
                          "lists, so re-run the search or drop the module");
      }
      if (a.ranks[l].empty()) a.ranks[l] = it->second;
    }
  }
  return a;
}

}  // namespace apportion
