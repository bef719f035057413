// SPDX-License-Identifier: GPL-3.0-or-later
// Uniform LoRA-MoE (the usual baseline, e.g. MoLA's "5555"/"8888"): every layer gets the same
// number of experts (adapters.num_experts), every expert rank adapters.r.
#include "core/allocation/strategies.h"
#include "core/common/error.h"

namespace apportion {

ExpertAllocation allocation_from_counts(const std::vector<int>& experts_per_layer,
                                        const AllocationBudget& budget) {
  ExpertAllocation a;
  const size_t layers = experts_per_layer.size();
  if (!budget.explicit_top_k.empty() && budget.explicit_top_k.size() != layers) {
    throw ConfigError("allocation.top_k_per_layer: has " +
                      std::to_string(budget.explicit_top_k.size()) + " entries but the model has " +
                      std::to_string(layers) + " layers");
  }
  for (size_t l = 0; l < layers; ++l) {
    const int experts = experts_per_layer[l];
    const int k = budget.explicit_top_k.empty() ? budget.top_k : budget.explicit_top_k[l];
    if (k > experts) {
      const std::string path = budget.explicit_top_k.empty()
                                   ? std::string("adapters.top_k")
                                   : "allocation.top_k_per_layer[" + std::to_string(l) + "]";
      throw ConfigError(path + ": must be <= number of experts (" + std::to_string(experts) +
                        " in layer " + std::to_string(l) + "), got " + std::to_string(k));
    }
    a.ranks.emplace_back(static_cast<size_t>(experts), budget.rank);
    a.top_k.push_back(k);
  }
  return a;
}

const std::vector<int>& checked_explicit_counts(const AllocationBudget& budget,
                                                const ModelShape& shape) {
  if (static_cast<int>(budget.explicit_experts.size()) != shape.num_layers) {
    throw ConfigError("allocation.experts_per_layer: has " +
                      std::to_string(budget.explicit_experts.size()) +
                      " entries but the model has " + std::to_string(shape.num_layers) + " layers");
  }
  return budget.explicit_experts;
}

namespace {
class UniformAllocation : public AllocationStrategy {
 public:
  ExpertAllocation allocate(const ModelShape& shape,
                            const AllocationBudget& budget) const override {
    if (!budget.explicit_experts.empty()) {
      return allocation_from_counts(checked_explicit_counts(budget, shape), budget);
    }
    return allocation_from_counts(
        std::vector<int>(static_cast<size_t>(shape.num_layers), budget.num_experts), budget);
  }
};
}  // namespace

std::unique_ptr<AllocationStrategy> make_uniform_strategy() {
  return std::make_unique<UniformAllocation>();
}

}  // namespace apportion
