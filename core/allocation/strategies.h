// SPDX-License-Identifier: GPL-3.0-or-later
// Factories of the built-in allocation strategies (one .cpp each), used by the registry.
#pragma once

#include <memory>

#include "core/allocation/expert_allocation.h"

namespace apportion {

std::unique_ptr<AllocationStrategy> make_uniform_strategy();
std::unique_ptr<AllocationStrategy> make_mola_strategy();
std::unique_ptr<AllocationStrategy> make_guilomo_strategy();
std::unique_ptr<AllocationStrategy> make_drlora_strategy();
std::unique_ptr<AllocationStrategy> make_static_frequency_strategy();

/// Builds the allocation from per-layer expert counts (every expert gets budget.rank) and
/// per-layer top-k (budget.explicit_top_k or budget.top_k); checks top-k ≤ experts per layer.
ExpertAllocation allocation_from_counts(const std::vector<int>& experts_per_layer,
                                        const AllocationBudget& budget);

/// budget.explicit_experts after checking it has one entry per layer (ConfigError naming
/// allocation.experts_per_layer otherwise).
const std::vector<int>& checked_explicit_counts(const AllocationBudget& budget,
                                                const ModelShape& shape);

}  // namespace apportion
