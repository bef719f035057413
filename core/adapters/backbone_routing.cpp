// SPDX-License-Identifier: GPL-3.0-or-later
// Backbone routing statistics from the MoE blocks' router logits (HF routing: softmax in
// float32, top-k over the probabilities).
// Legend: N tokens, E backbone experts, k top-k.
#include "core/adapters/backbone_routing.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "core/common/error.h"
#include "core/model/transformer_lm.h"

namespace apportion {

BackboneRoutingStats backbone_routing_stats(const std::vector<at::Tensor>& router_logits,
                                            const std::vector<int>& top_k) {
  torch::NoGradGuard no_grad;
  BackboneRoutingStats s;
  bool any = false;
  for (const auto& z : router_logits) {
    if (!z.defined()) continue;
    any = true;
    s.max_experts = std::max(s.max_experts, static_cast<int>(z.size(1)));
  }
  if (!any) return s;
  s.layers = static_cast<int>(router_logits.size());
  const size_t cells = static_cast<size_t>(s.layers) * s.max_experts;
  s.load_fraction.assign(cells, std::numeric_limits<float>::quiet_NaN());
  s.router_prob_mean.assign(cells, std::numeric_limits<float>::quiet_NaN());
  for (int l = 0; l < s.layers; ++l) {
    const auto& z = router_logits[static_cast<size_t>(l)];
    if (!z.defined() || z.size(0) == 0) continue;
    AP_CHECK(l < static_cast<int>(top_k.size()) && top_k[l] >= 1 && top_k[l] <= z.size(1),
             "backbone routing stats: no valid top-k for MoE layer ", l);
    const int k = top_k[static_cast<size_t>(l)];
    const int64_t experts = z.size(1);
    auto p = torch::softmax(z.detach().to(torch::kCPU, torch::kFloat32), /*dim=*/1);  // [N, E]
    auto sel = std::get<1>(p.topk(k, /*dim=*/1)).reshape({-1});                       // [N·k]
    auto counts = torch::bincount(sel, /*weights=*/{}, /*minlength=*/experts).to(torch::kFloat32);
    auto load = counts / static_cast<double>(k * p.size(0));  // [E]
    auto mean = p.mean(/*dim=*/0);                            // [E]
    const size_t base = static_cast<size_t>(l) * s.max_experts;
    for (int64_t e = 0; e < experts; ++e) {
      s.load_fraction[base + e] = load[e].item<float>();
      s.router_prob_mean[base + e] = mean[e].item<float>();
    }
  }
  return s;
}

BackboneRoutingStats backbone_routing_stats(const TransformerLMImpl& model) {
  const ModelConfig& cfg = model.config();
  std::vector<int> top_k;
  for (int l = 0; l < cfg.num_hidden_layers; ++l) {
    top_k.push_back(cfg.layer_is_moe(l) ? cfg.num_experts_per_tok : 0);
  }
  return backbone_routing_stats(model.backbone_router_logits(), top_k);
}

}  // namespace apportion
