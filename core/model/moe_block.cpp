// SPDX-License-Identifier: GPL-3.0-or-later
// Sparse MoE block (see moe_block.h), computed like HF's per-expert loop: for each expert, the
// tokens that picked it are gathered, run through it, scaled by their routing weight and
// index_add-ed back, so the arithmetic matches modeling_mixtral / modeling_olmoe /
// modeling_qwen2_moe operation for operation.
// Legend: B batch, T time, N = B·T tokens, C hidden, E experts, K top-k.
#include "core/model/moe_block.h"

#include <torch/torch.h>

namespace apportion {

SparseMoeBlockImpl::SparseMoeBlockImpl(const ModelConfig& cfg, const BuildOptions& opts)
    : num_experts_(cfg.num_experts),
      top_k_(cfg.num_experts_per_tok),
      norm_topk_prob_(cfg.norm_topk_prob),
      jitter_noise_(cfg.router_jitter_noise) {
  const Architecture a = cfg.arch();
  const int64_t c = cfg.hidden_size;
  gate = register_module("gate", make_plain_linear(c, num_experts_, opts));
  experts = register_module("experts", torch::nn::ModuleList());
  const MlpNames names = a == Architecture::Mixtral ? MlpNames::mixtral() : MlpNames{};
  for (int e = 0; e < num_experts_; ++e) {
    experts->push_back(MLP(c, cfg.expert_intermediate_size(), /*bias=*/false, opts, names));
  }
  if (a == Architecture::Qwen2Moe) {
    shared_expert = register_module(
        "shared_expert", MLP(c, cfg.shared_expert_intermediate_size, /*bias=*/false, opts));
    shared_expert_gate = register_module("shared_expert_gate", make_plain_linear(c, 1, opts));
  }
}

MLPImpl& SparseMoeBlockImpl::expert(int e) { return *experts->ptr<MLPImpl>(e); }

torch::Tensor SparseMoeBlockImpl::forward(const torch::Tensor& x) {
  const auto b = x.size(0), t = x.size(1), c = x.size(2);
  auto h = x.reshape({b * t, c});  // [N, C]
  if (is_training() && jitter_noise_ > 0) {
    h = h * torch::empty_like(h).uniform_(1.0 - jitter_noise_, 1.0 + jitter_noise_);
  }
  auto logits = gate(h);                                              // [N, E]
  router_logits_ = logits.to(torch::kFloat32);                        // [N, E]
  auto probs = torch::softmax(router_logits_, /*dim=*/1);             // [N, E]
  auto [weights, selected] = torch::topk(probs, top_k_, /*dim=*/-1);  // [N, K]
  if (norm_topk_prob_) weights = weights / weights.sum(/*dim=*/-1, /*keepdim=*/true);
  weights = weights.to(h.scalar_type());

  auto out = torch::zeros({b * t, c}, h.options());  // [N, C]
  // [E, K, N] one-hot: expert_mask[e][k][n] = token n's k-th choice is e.
  auto expert_mask = torch::one_hot(selected, num_experts_).permute({2, 1, 0});
  for (int e = 0; e < num_experts_; ++e) {
    auto hit = torch::where(expert_mask[e]);  // {k index, token index}
    const auto& slot = hit[0];
    const auto& token = hit[1];
    if (token.numel() == 0) continue;
    auto y = expert(e).forward(h.index_select(/*dim=*/0, token));  // [n_e, C]
    y = y * weights.index({token, slot}).unsqueeze(-1);            // [n_e, C]
    out = out.index_add(/*dim=*/0, token, y.to(h.scalar_type()));
  }
  if (shared_expert) {
    auto shared = shared_expert(h);                              // [N, C]
    out = out + torch::sigmoid(shared_expert_gate(h)) * shared;  // gate [N, 1]
  }
  return out.reshape({b, t, c});  // [B, T, C]
}

}  // namespace apportion
