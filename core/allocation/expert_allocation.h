// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation planning (torch-free, so the GUI can preview it): how many LoRA experts each layer
// gets, each expert's rank, and per-layer top-k. Strategies are pure functions behind one
// interface, created by name from the config (`uniform`, `mola`).
//
// Intended usage:
//   auto strategy = AllocationStrategy::create(cfg.allocation.method);   // ConfigError if unknown
//   ExpertAllocation a = strategy->allocate(shape, budget_from(cfg));
//   int64_t n = count_trainable_parameters(shape, a, cfg.adapters->target_modules);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

struct ExperimentConfig;

/// The adaptable shape of a backbone (what allocation needs to know, nothing more).
struct ModelShape {
  int num_layers = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  /// Backbone layout beyond the dense LLaMA shape (zero/empty for a dense LLaMA-like model):
  int explicit_head_dim = 0;  ///< config.json head_dim; 0 = hidden_size / num_attention_heads
  std::vector<int> backbone_experts;        ///< [layer] routed experts of its MoE block, 0 = dense
  std::vector<int> backbone_top_k;          ///< [layer] experts per token, 0 = dense
  int moe_intermediate_size = 0;            ///< routed expert width
  int shared_expert_intermediate_size = 0;  ///< Qwen2-MoE shared expert width, 0 = none
  /// in/out features of a projection by name (q_proj … down_proj).
  std::pair<int, int> projection_dims(const std::string& module) const;
};

/// The budget and defaults from the config that a strategy distributes.
struct AllocationBudget {
  std::string method;                 ///< "uniform" or "mola"
  std::string preset;                 ///< mola preset name
  std::vector<int> explicit_experts;  ///< explicit per-layer list (wins over preset)
  std::vector<int> explicit_top_k;    ///< explicit per-layer top-k
  int num_experts = 4;                ///< uniform count
  int top_k = 2;
  int rank = 8;
};

/// Result: per layer, the ranks of its experts (the expert count is ranks[l].size()).
struct ExpertAllocation {
  std::vector<std::vector<int>> ranks;  ///< [layer][expert] → rank
  std::vector<int> top_k;               ///< [layer]
  /// Sparse-MoE backbones: LoRA rank of each routed backbone expert's projections,
  /// [layer][backbone expert]; empty (or an empty row) means adapters.r for every expert.
  std::vector<std::vector<int>> expert_ranks;
  int experts(int layer) const { return static_cast<int>(ranks.at(layer).size()); }
  int total_experts() const;
  int max_experts() const;
};

/// Strategy interface; one .cpp per method.
class AllocationStrategy {
 public:
  virtual ~AllocationStrategy() = default;
  /// Distributes the budget over the shape's layers. Throws ConfigError on impossible requests.
  virtual ExpertAllocation allocate(const ModelShape& shape,
                                    const AllocationBudget& budget) const = 0;
  /// Factory by config name ("uniform", "mola"); ConfigError naming allocation.method otherwise.
  static std::unique_ptr<AllocationStrategy> create(const std::string& method);
  /// Names create() accepts.
  static std::vector<std::string> names();
};

/// MoLA preset block counts ("2468" → {2,4,6,8}); ConfigError naming allocation.preset if unknown.
std::vector<int> mola_preset_blocks(const std::string& preset);
/// Names of the MoLA presets.
std::vector<std::string> mola_preset_names();
/// Spreads block counts over `num_layers` layers in equal contiguous blocks (earlier blocks get
/// the extra layer when it does not divide evenly).
std::vector<int> expand_blocks(const std::vector<int>& blocks, int num_layers);

/// The adaptable shape from an HF-style config.json object (num_hidden_layers, hidden_size,
/// intermediate_size, num_attention_heads, num_key_value_heads). Throws ConfigError naming
/// `where` and the field when one is missing or not a positive integer.
ModelShape model_shape_from_hf_config(const nlohmann::json& j, const std::string& where);

/// Budget fields taken from an ExperimentConfig with adapters.
AllocationBudget budget_from(const ExperimentConfig& cfg);

/// The allocation an experiment config asks for on a backbone of this shape: plain LoRA is one
/// rank-r expert per layer with top-k 1; LoRA-MoE goes through the named strategy.
ExpertAllocation plan_allocation(const ExperimentConfig& cfg, const ModelShape& shape);

/// Trainable parameters of a LoRA-MoE allocation: Σ experts r·(in+out) + routers N·in, per
/// adapted module. With method "lora" (one expert, no router) pass a single-expert allocation
/// and with_router = false.
int64_t count_trainable_parameters(const ModelShape& shape,
                                   const ExpertAllocation& allocation,
                                   const std::vector<std::string>& target_modules,
                                   bool with_router);

}  // namespace apportion
