// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA (Deng et al., "DR-LoRA: Dynamic Rank LoRA for Fine-Tuning Mixture-of-Experts Models",
// arXiv 2601.04823): every routed expert of a sparse-MoE backbone gets a LoRA pre-allocated at
// r_max whose active rank starts at r_init and grows for salient experts under the budget
// L·N·r_target. Also its "static frequency" baseline (METHODS.md §6), which fixes the ranks once
// from a calibration pass (the trainer fills the active ranks in; r_target until then). Dense
// target projections, if any, follow the uniform plan.
#include "core/allocation/strategies.h"
#include "core/common/error.h"

namespace apportion {
namespace {

class RoutedExpertRankAllocation : public AllocationStrategy {
 public:
  explicit RoutedExpertRankAllocation(bool grows) : grows_(grows) {}

  ExpertAllocation allocate(const ModelShape& shape,
                            const AllocationBudget& budget) const override {
    ExpertAllocation a = allocation_from_counts(
        std::vector<int>(static_cast<size_t>(shape.num_layers), budget.num_experts), budget);
    bool any_moe = false;
    for (int l = 0; l < shape.num_layers; ++l) {
      const int experts = l < static_cast<int>(shape.backbone_experts.size())
                              ? shape.backbone_experts[static_cast<size_t>(l)]
                              : 0;
      any_moe = any_moe || experts > 0;
      a.expert_ranks.emplace_back(static_cast<size_t>(experts), budget.drlora_r_max);
      a.expert_active_ranks.emplace_back(static_cast<size_t>(experts),
                                         grows_ ? budget.drlora_r_init : budget.drlora_r_target);
    }
    if (!any_moe) {
      throw ConfigError(std::string("allocation.method: ") +
                        (grows_ ? "drlora" : "static_frequency") +
                        " adapts the routed experts of a sparse-MoE backbone (Mixtral, OLMoE, "
                        "Qwen2-MoE) and this backbone is dense; pretrain "
                        "experiments/pretrain-tiny-moe.json or use uniform/mola/guilomo");
    }
    a.expert_scaling_rank = budget.drlora_r_target;
    return a;
  }

 private:
  bool grows_;
};

}  // namespace

std::unique_ptr<AllocationStrategy> make_drlora_strategy() {
  return std::make_unique<RoutedExpertRankAllocation>(true);
}

std::unique_ptr<AllocationStrategy> make_static_frequency_strategy() {
  return std::make_unique<RoutedExpertRankAllocation>(false);
}

}  // namespace apportion
