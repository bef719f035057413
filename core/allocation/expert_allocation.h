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
#include <map>
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
  int guilomo_n_max = 8;    ///< guilomo: supernet experts per module
  int guilomo_r_max = 8;    ///< guilomo: supernet rank per expert
  int drlora_r_init = 2;    ///< drlora: starting active rank of every routed expert
  int drlora_r_target = 8;  ///< drlora / static_frequency: mean rank (scaling denominator)
  int drlora_r_max = 32;    ///< drlora / static_frequency: allocated rank of every routed expert
};

/// Result: per layer, the ranks of its experts (the expert count is ranks[l].size()).
struct ExpertAllocation {
  std::vector<std::vector<int>> ranks;  ///< [layer][expert] → rank
  std::vector<int> top_k;               ///< [layer]
  /// Sparse-MoE backbones: LoRA rank of each routed backbone expert's projections,
  /// [layer][backbone expert]; empty (or an empty row) means adapters.r for every expert.
  std::vector<std::vector<int>> expert_ranks;
  /// Sparse-MoE backbones, DR-LoRA and its static baseline: rank columns in use of each routed
  /// expert's LoRA, [layer][backbone expert] (≤ expert_ranks); empty = all allocated columns.
  std::vector<std::vector<int>> expert_active_ranks;
  /// Routed-expert LoRAs: scaling denominator (α / expert_scaling_rank, DR-LoRA's fixed r_target
  /// so growth does not rescale columns in use); 0 = each LoRA's allocated rank (peft).
  int expert_scaling_rank = 0;
  /// GuiLoMo stage 2: per-module ranks that override `ranks` for (layer, module), [layer] →
  /// module name → ranks of its experts; empty = every module of a layer uses ranks[layer].
  std::vector<std::map<std::string, std::vector<int>>> module_ranks;
  /// The ranks of `module` in `layer`: module_ranks when set there, else ranks[layer].
  const std::vector<int>& module_experts(int layer, const std::string& module) const;
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
  /// The strategy of a registered method (core/methods/method_registry.h); ConfigError naming
  /// allocation.method otherwise.
  static std::unique_ptr<AllocationStrategy> create(const std::string& method);
};

/// MoLA preset block counts ("2468" → {2,4,6,8}); ConfigError naming allocation.preset if unknown.
std::vector<int> mola_preset_blocks(const std::string& preset);
/// Names of the MoLA presets.
std::vector<std::string> mola_preset_names();
/// Spreads block counts over `num_layers` layers in contiguous blocks, block b covering layers
/// [⌊b·L/n⌋, ⌊(b+1)·L/n⌋): when L does not divide evenly the extra layers go to later blocks,
/// never to the first (4 blocks on 5 layers: 1, 1, 1, 2 layers; on 6: 1, 2, 1, 2, as
/// tst_allocation checks).
std::vector<int> expand_blocks(const std::vector<int>& blocks, int num_layers);

/// The adaptable shape from an HF-style config.json object (num_hidden_layers, hidden_size,
/// intermediate_size, num_attention_heads, num_key_value_heads). Throws ConfigError naming
/// `where` and the field when one is missing or not a positive integer.
ModelShape model_shape_from_hf_config(const nlohmann::json& j, const std::string& where);

/// GuiLoMo stage 2 (METHODS.md §3.6): the layer-wise view of a per-module allocation — every
/// module listed in `allocation` gets module_ranks (its N used ranks), ranks[layer] is the
/// layer's first listed module, top-k is the allocation's. ConfigError when a layer or target
/// module is missing, or a module's experts are fewer than top-k.
struct GuiLoMoAllocation;
ExpertAllocation expert_allocation_from_guilomo(const GuiLoMoAllocation& allocation,
                                                const ModelShape& shape,
                                                const std::vector<std::string>& target_modules);

/// Budget fields taken from an ExperimentConfig with adapters.
AllocationBudget budget_from(const ExperimentConfig& cfg);

/// The allocation an experiment config asks for on a backbone of this shape, before the run:
/// the plan of the config's method (Method::plan; plain LoRA is one rank-r expert per layer
/// with top-k 1). Layers left
/// out by adapters.layers_to_transform get no experts and top-k 0 (ConfigError naming the
/// index when one is out of the shape's range).
ExpertAllocation plan_allocation(const ExperimentConfig& cfg, const ModelShape& shape);

/// Trainable parameters of a LoRA-MoE allocation: Σ experts r·(in+out) + routers N·in, per
/// adapted module. With method "lora" (one expert, no router) pass a single-expert allocation
/// and with_router = false. On a sparse-MoE layer an FFN module counts a plain LoRA on every
/// routed expert (expert_ranks, else the layer's rank) plus the layer's adapter on the shared
/// expert, as inject_adapters builds them (tested against the built models' Σ numel).
int64_t count_trainable_parameters(const ModelShape& shape,
                                   const ExpertAllocation& allocation,
                                   const std::vector<std::string>& target_modules,
                                   bool with_router);

}  // namespace apportion
