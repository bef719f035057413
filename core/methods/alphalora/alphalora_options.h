// SPDX-License-Identifier: GPL-3.0-or-later
// AlphaLoRA's config section, allocation.alphalora (torch-free; the torch row reads it too).
//
// Intended usage:
//   AlphaLoraOptions o = alphalora_options(cfg);       // from cfg.allocation.sections
//   int total = o.total_for(shape.num_layers);          // 0 → MoLA 2468's total
#pragma once

#include <nlohmann/json.hpp>

#include "core/allocation/expert_allocation.h"
#include "core/config/experiment_config.h"

namespace apportion {

struct AlphaLoraOptions {
  /// Σ experts over the layers; 0 = the total MoLA's 2468 preset gives this backbone (the
  /// reference's 160 on 32 layers), so the two compare at the same expert budget.
  int total_experts = 0;
  double beta = 2.5;          ///< exponent of α in the scaling (reference default)
  bool pl_fitting = true;     ///< xmin window around the histogram mode (reference)
  bool filter_zeros = false;  ///< drop eigenvalues ≤ 1e-4 (reference: off)
  /// The expert total on a backbone of `num_layers` layers.
  int total_for(int num_layers) const;
};

/// Strict parse (ConfigError naming allocation.alphalora.<key>), every field written out, the
/// checks, and the options of a parsed config (defaults when the section is absent).
AlphaLoraOptions parse_alphalora_options(const nlohmann::json& j);
nlohmann::json alphalora_options_json(const AlphaLoraOptions& o);
void validate_alphalora_options(const AlphaLoraOptions& o);
AlphaLoraOptions alphalora_options(const ExperimentConfig& cfg);

/// The section key and the matrix records AlphaLoRA writes.
constexpr const char* kAlphaLoraSection = "alphalora";
/// f32 [layer, module]: α of each projection's weight spectrum (routed experts averaged).
constexpr const char* kAlphaLoraAlpha = "alphalora/alpha";
/// f32 [layer, 1]: the layer's mean α, the quantity the experts follow.
constexpr const char* kAlphaLoraLayerAlpha = "alphalora/layer_alpha";

}  // namespace apportion

namespace apportion {
/// The allocation of `counts` experts per layer (each of rank adapters.r, top-k min(adapters
/// .top_k, experts)); ConfigError when a layer would get none.
ExpertAllocation plan_from_counts(const ExperimentConfig& cfg, const std::vector<int>& counts);
}  // namespace apportion
