// SPDX-License-Identifier: GPL-3.0-or-later
// LoRA-MoE adapter of one projection (METHODS.md §1.2), computed as two GEMMs over stacked
// experts instead of the reference's per-expert loop:
//   logits = x W_rᵀ                       [N, E]
//   p      = softmax(float32(logits))     [N, E]
//   gates  = renormalised top-k of p, scattered back, zero elsewhere   [N, E]
//   h      = dropout(x) Aᵀ                [N, R]   (A = all A_i stacked, R = ΣR)
//   delta  = (h ⊙ gates[:, col_expert] ⊙ col_scaling) Bᵀ   [N, Dout]
// Every expert is evaluated on every token (the unselected columns are multiplied by a zero
// gate), which costs E/k times the FLOPs of the selected experts but needs no gather/scatter and
// no loop; for LoRA ranks this is cheap next to the base GEMM (see tests/bench/bench_step.cpp).
//
// Dropout (our design): one dropout mask per projection call, shared by all experts. The
// reference applies its one nn.Dropout module separately in each expert call, so each expert
// sees a fresh mask. In expectation both are the same; per-token noise differs.
//
// Legend: N tokens (B·T flattened), E experts, R = ΣR stacked rank, Din/Dout features.
#include "core/adapters/moe_lora_adapter.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Holds the router weight so that its key is "…adapter.router.weight", like MoLA's nn.Linear.
class RouterImpl : public torch::nn::Module {
 public:
  RouterImpl(int64_t experts, int64_t in_features) {
    weight = register_parameter("weight", torch::empty({experts, in_features}));  // [E, Din]
    torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
  }
  torch::Tensor weight;
};

/// Router probabilities and renormalised top-k gates of flattened tokens x [N, Din].
struct Routing {
  torch::Tensor logits;   // [N, E] input dtype, in the graph
  torch::Tensor gates;    // [N, E] float32, zero outside the top-k
  torch::Tensor top_idx;  // [N, k]
};

Routing route(const torch::Tensor& x,
              const torch::Tensor& router_weight,
              int top_k,
              const torch::Tensor& logit_mask = {}) {
  Routing r;
  r.logits = torch::linear(x, router_weight);  // [N, E]
  torch::Tensor z = r.logits.to(torch::kFloat32);
  if (logit_mask.defined()) {
    // A masked router (GuiLoMo's expert GSV mask) adds the mask in ≥ float32, and its balance
    // loss sees the masked logits.
    const auto route_type = c10::promoteTypes(x.scalar_type(), torch::kFloat32);
    r.logits = r.logits.to(route_type) + logit_mask.to(route_type);
    z = r.logits;
  }
  auto probs = torch::softmax(z, /*dim=*/1);  // [N, E]
  auto top = probs.topk(top_k, /*dim=*/1);
  auto top_p = std::get<0>(top);  // [N, k]
  r.top_idx = std::get<1>(top);   // [N, k]
  top_p = top_p / top_p.sum(/*dim=*/1, /*keepdim=*/true);
  r.gates = torch::zeros_like(probs).scatter(/*dim=*/1, r.top_idx, top_p);  // [N, E]
  return r;
}

}  // namespace

MoeLoraAdapterImpl::MoeLoraAdapterImpl(int64_t in_features,
                                       int64_t out_features,
                                       std::vector<int> ranks,
                                       int top_k,
                                       double alpha,
                                       double dropout)
    : ranks_(std::move(ranks)), top_k_(top_k), alpha_(alpha), dropout_(dropout) {
  const int experts = static_cast<int>(ranks_.size());
  AP_CHECK(experts >= 1, "LoRA-MoE needs at least one expert");
  AP_CHECK(top_k_ >= 1 && top_k_ <= experts, "LoRA-MoE top_k must be in [1, ", experts, "], got ",
           top_k_);
  AP_CHECK(dropout >= 0.0 && dropout < 1.0, "LoRA dropout must be in [0, 1), got ", dropout);
  std::vector<int64_t> col_expert;
  std::vector<float> col_scaling;
  int64_t total = 0;
  for (int i = 0; i < experts; ++i) {
    AP_CHECK(ranks_[i] > 0, "LoRA-MoE expert ", i, " has rank ", ranks_[i], "; ranks must be > 0");
    offsets_.push_back(total);
    expert_scaling_.push_back(alpha_ / ranks_[i]);
    total += ranks_[i];
    for (int c = 0; c < ranks_[i]; ++c) {
      col_expert.push_back(i);
      col_scaling.push_back(static_cast<float>(alpha_ / ranks_[i]));
    }
  }
  auto router = std::make_shared<RouterImpl>(experts, in_features);
  register_module("router", router);
  router_weight = router->weight;
  lora_A = register_parameter("lora_A", torch::empty({total, in_features}));   // [R, Din]
  lora_B = register_parameter("lora_B", torch::zeros({out_features, total}));  // [Dout, R]
  // Each expert block Kaiming-uniform a=√5: the bound depends only on Din, so one call suffices.
  torch::nn::init::kaiming_uniform_(lora_A, /*a=*/std::sqrt(5.0));
  column_expert_ = register_buffer("column_expert", torch::tensor(col_expert, torch::kInt64));
  column_scaling_ = register_buffer("column_scaling", torch::tensor(col_scaling));
}

void MoeLoraAdapterImpl::set_expert_scaling(const std::vector<double>& scaling) {
  AP_CHECK(scaling.size() == ranks_.size(), "set_expert_scaling: got ", scaling.size(),
           " values for ", ranks_.size(), " experts");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < ranks_.size(); ++i) {
    column_scaling_.narrow(/*dim=*/0, offsets_[i], ranks_[i]).fill_(scaling[i]);
    expert_scaling_[i] = scaling[i];
  }
}

torch::Tensor lora_moe_forward(const LoraMoeOperands& op,
                               const torch::Tensor& x,
                               bool training,
                               torch::Tensor* logits,
                               torch::Tensor* gates) {
  const auto din = x.size(-1);
  auto out_sizes = x.sizes().vec();
  out_sizes.back() = op.lora_B.size(0);
  auto xf = x.reshape({-1, din});  // [N, Din]
  Routing r = route(xf, op.router_weight, op.top_k, op.logit_mask);
  auto h = torch::dropout(xf, op.dropout, /*train=*/training && op.dropout > 0.0);
  h = torch::linear(h, op.lora_A);                                                        // [N, R]
  auto colscale = r.gates.index_select(/*dim=*/1, op.column_expert) * op.column_scaling;  // [N, R]
  auto delta = torch::linear(h * colscale.to(h.scalar_type()), op.lora_B);  // [N, Dout]
  if (logits) *logits = r.logits;
  if (gates) *gates = r.gates.detach();
  return delta.reshape(out_sizes);  // [.., Dout]
}

torch::Tensor MoeLoraAdapterImpl::delta(const torch::Tensor& x) {
  LoraMoeOperands op{router_weight,   {},      top_k_, lora_A, lora_B, column_expert_,
                     column_scaling_, dropout_};
  return lora_moe_forward(op, x, is_training(), &last_logits_, &last_gates_);
}

void MoeLoraAdapterImpl::clear_cache() {
  last_logits_ = torch::Tensor();
  last_gates_ = torch::Tensor();
}

torch::Tensor moe_lora_delta_naive(MoeLoraAdapterImpl& adapter, const torch::Tensor& x) {
  const auto din = x.size(-1);
  auto out_sizes = x.sizes().vec();
  out_sizes.back() = adapter.lora_B.size(0);
  auto xf = x.reshape({-1, din});  // [N, Din]
  Routing r = route(xf, adapter.router_weight, adapter.top_k());
  auto out = torch::zeros({xf.size(0), adapter.lora_B.size(0)}, xf.options());  // [N, Dout]
  for (int i = 0; i < adapter.num_experts(); ++i) {
    // Tokens that picked expert i among their top-k.
    auto idx = (r.top_idx == i).any(/*dim=*/1).nonzero().squeeze(/*dim=*/1);  // [n_i]
    if (idx.numel() == 0) continue;
    auto a = adapter.lora_A.narrow(/*dim=*/0, adapter.rank_offset(i), adapter.ranks()[i]);
    auto b = adapter.lora_B.narrow(/*dim=*/1, adapter.rank_offset(i), adapter.ranks()[i]);
    auto xi = xf.index_select(/*dim=*/0, idx);                                         // [n_i, Din]
    auto gi = r.gates.index_select(/*dim=*/0, idx).select(/*dim=*/1, i).unsqueeze(1);  // [n_i, 1]
    auto yi = torch::linear(torch::linear(xi, a), b) *
              (gi.to(xi.scalar_type()) * adapter.expert_scaling(i));
    out = out.index_add(/*dim=*/0, idx, yi);
  }
  return out.reshape(out_sizes);
}

}  // namespace apportion
