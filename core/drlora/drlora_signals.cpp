// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA signals (see drlora_signals.h): routing weights, component importance, normalisation
// and saliency.
// Legend: N tokens, E experts, R allocated rank, k active rank, Din / Dout LoRA in / out.
#include "core/drlora/drlora_signals.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "core/common/error.h"

namespace apportion {

at::Tensor mean_routing_weights(const at::Tensor& router_logits,
                                int top_k,
                                bool norm_topk_prob,
                                const at::Tensor& token_mask) {
  AP_CHECK(router_logits.defined() && router_logits.dim() == 2,
           "DR-LoRA: router logits must be [tokens, experts]");
  const int64_t e = router_logits.size(1);
  AP_CHECK(top_k >= 1 && top_k <= e, "DR-LoRA: top-k must be in 1..", e, ", got ", top_k);
  torch::NoGradGuard no_grad;
  auto probs = torch::softmax(router_logits.detach().to(torch::kFloat32), /*dim=*/1);  // [N, E]
  auto [weights, selected] = torch::topk(probs, top_k, /*dim=*/-1);                    // [N, K]
  if (norm_topk_prob) weights = weights / weights.sum(/*dim=*/-1, /*keepdim=*/true);
  auto dense = torch::zeros_like(probs).scatter_(/*dim=*/1, selected, weights);  // [N, E]
  if (!token_mask.defined()) return dense.mean(/*dim=*/0);                       // [E]
  AP_CHECK(token_mask.dim() == 1 && token_mask.size(0) == router_logits.size(0),
           "DR-LoRA: token mask must be [", router_logits.size(0), "] like the router logits");
  auto m = token_mask.to(dense.device(), torch::kFloat32);  // [N]
  const auto count = m.sum().clamp_min(1.0);
  return (dense * m.unsqueeze(1)).sum(/*dim=*/0) / count;  // [E]
}

at::Tensor lora_component_importance(const at::Tensor& lora_a,
                                     const at::Tensor& grad_a,
                                     const at::Tensor& lora_b,
                                     const at::Tensor& grad_b,
                                     int64_t k) {
  AP_CHECK(k >= 0 && k <= lora_a.size(0) && k <= lora_b.size(1), "DR-LoRA: active rank ", k,
           " exceeds the LoRA's allocated rank");
  torch::NoGradGuard no_grad;
  auto importance = torch::zeros({k}, lora_a.options().dtype(torch::kFloat32));  // [k]
  if (grad_a.defined()) {
    auto a = lora_a.narrow(/*dim=*/0, 0, k).to(torch::kFloat32);   // [k, Din]
    auto ga = grad_a.narrow(/*dim=*/0, 0, k).to(torch::kFloat32);  // [k, Din]
    importance += (a * ga).abs().sum(/*dim=*/1);
  }
  if (grad_b.defined()) {
    auto b = lora_b.narrow(/*dim=*/1, 0, k).to(torch::kFloat32);   // [Dout, k]
    auto gb = grad_b.narrow(/*dim=*/1, 0, k).to(torch::kFloat32);  // [Dout, k]
    importance += (b * gb).abs().sum(/*dim=*/0);
  }
  return importance;
}

std::vector<double> normalise_by_layer_mean(const std::vector<double>& x) {
  if (x.empty()) return {};
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  std::vector<double> out(x.size(), 1.0);
  if (!(mean > 0.0) || !std::isfinite(mean)) return out;
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] / mean;
  return out;
}

double combine_saliency(double f_hat, double g_hat, SaliencyMode mode, double gamma) {
  switch (mode) {
    case SaliencyMode::Geometric:
      return std::pow(f_hat, gamma) * std::pow(g_hat, 1.0 - gamma);
    case SaliencyMode::Product:
      return f_hat * g_hat;
    case SaliencyMode::Sum:
      return gamma * f_hat + (1.0 - gamma) * g_hat;
    case SaliencyMode::Frequency:
      return f_hat;
    case SaliencyMode::Importance:
      return g_hat;
  }
  return 0.0;
}

}  // namespace apportion
