// SPDX-License-Identifier: GPL-3.0-or-later
// Routing statistics of a sparse-MoE backbone's own routers (not the LoRA-MoE adapters'): per
// layer × backbone expert, the fraction of top-k assignments each expert received and its mean
// router probability over the tokens of the last forward. DR-LoRA's routing-frequency signal
// (METHODS.md §4.4) and the backbone/* matrix records are built from these.
// Legend: N tokens, E backbone experts, k top-k.
#pragma once

#include <vector>

#include <ATen/Tensor.h>

namespace apportion {

class TransformerLMImpl;

/// [layers, max_experts] row-major; NaN for dense layers and for experts a layer lacks.
struct BackboneRoutingStats {
  int layers = 0;       ///< 0 when no layer has router logits (dense model, no forward yet)
  int max_experts = 0;  ///< largest expert count of any MoE layer
  std::vector<float> load_fraction;     ///< count of top-k picks / (k · N)
  std::vector<float> router_prob_mean;  ///< mean over tokens of softmax(logits)
};

/// From router logits per layer ([N, E], undefined for dense layers) and top-k per layer
/// (entries for dense layers are ignored). Does not touch the autograd graph.
BackboneRoutingStats backbone_routing_stats(const std::vector<at::Tensor>& router_logits,
                                            const std::vector<int>& top_k);

/// The statistics of the model's last forward (its backbone_router_logits()).
BackboneRoutingStats backbone_routing_stats(const TransformerLMImpl& model);

}  // namespace apportion
