// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo stage-1 supernet adapter (METHODS.md §3.2) and the straight-through GSV masks.
//
//   s^E = σ(g^E) [E],  M = expert_mask(s^E) [E]       (+0.5 up to the boundary, −1e4 after)
//   s^R = σ(g^R) [E,R], m = rank_mask(s^R) [E, R]     (1 up to each row's boundary, 1e-4 after)
//   z     = x W_rᵀ + M                                [N, E]   (router logits, ≥ float32)
//   gates = renormalised top-k of softmax(z)          [N, E]   (zero outside the top-k)
//   Ã     = diag(E ⊙ m) A                             [E·R, Din]
//   h     = dropout(x) Ãᵀ                             [N, E·R]
//   delta = (h ⊙ gates[:, expert of column] · α/r_max) Bᵀ   [N, Dout]
//
// As in MoeLoraAdapter, every expert is evaluated on every token (unselected columns get a zero
// gate): two GEMMs, no gather/scatter and no per-expert loop. Dropout (our design, as in
// MoeLoraAdapter): one mask per call shared by all experts; the reference draws one per expert.
//
// Legend: N tokens, E = N_max experts, R = r_max ranks, Din/Dout features.
#include "core/guilomo/gsv_moe_lora_adapter.h"

#include <torch/torch.h>

#include <cmath>

#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"

namespace apportion {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Straight-through additive expert mask (the reference's GAMoEGateBackward).
class ExpertMaskFunction : public torch::autograd::Function<ExpertMaskFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s, int64_t min_boundary) {
    auto k = s.argmax().clamp_min(min_boundary);       // [] boundary index, stays on the device
    auto idx = torch::arange(s.size(0), k.options());  // [E]
    auto on = idx <= k;                                // [E] bool: active experts
    ctx->save_for_backward({s, on, idx == k});
    return torch::where(on, torch::full_like(s, kGsvExpertOn), torch::full_like(s, kGsvExpertOff));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const auto& s = saved[0];
    const auto& on = saved[1];
    const auto& boundary = saved[2];
    // ∂L/∂s_k = Σ_{j≤k} s_j·G_j at the boundary, 0 elsewhere.
    auto total = (s * grad[0] * on.to(s.scalar_type())).sum();
    auto grad_s = torch::where(boundary, total.expand_as(s), torch::zeros_like(s));
    return {grad_s, torch::Tensor()};
  }
};

/// Straight-through multiplicative rank masks, one per row (the reference's
/// GAMoEGateBackward_E, applied to all experts at once).
class RankMaskFunction : public torch::autograd::Function<RankMaskFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s) {
    auto k = s.argmax(/*dim=*/1, /*keepdim=*/true);                 // [E, 1]
    auto idx = torch::arange(s.size(1), k.options()).unsqueeze(0);  // [1, R]
    auto on = idx <= k;                                             // [E, R]
    ctx->save_for_backward({s, on, idx == k});
    return torch::where(on, torch::ones_like(s), torch::full_like(s, kGsvRankOff));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const auto& s = saved[0];
    const auto& on = saved[1];
    const auto& boundary = saved[2];
    const auto& g = grad[0];  // [E, R] ∂L/∂m
    // Boundary: Σ_{j≤k} s_j·∂L/∂m_j; elsewhere the 1e-4 leak.
    auto total = (s * g * on.to(s.scalar_type())).sum(/*dim=*/1, /*keepdim=*/true);  // [E, 1]
    auto grad_s = torch::where(boundary, total.expand_as(s), g * kGsvRankOff);
    return {grad_s};
  }
};

/// Holds the router weight so that its key is "…adapter.router.weight", like MoLA's nn.Linear.
class RouterImpl : public torch::nn::Module {
 public:
  RouterImpl(int64_t experts, int64_t in_features) {
    weight = register_parameter("weight", torch::empty({experts, in_features}));  // [E, Din]
    torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
  }
  torch::Tensor weight;
};

std::vector<float> to_host_floats(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

bool is_gsv_parameter(const std::string& name) {
  return name.find("router_expert_vector") != std::string::npos ||
         name.find("expertlora_E_vector") != std::string::npos;
}

torch::Tensor gsv_expert_mask(const torch::Tensor& s, int64_t min_boundary) {
  AP_CHECK(s.dim() == 1 && s.size(0) >= 1, "gsv_expert_mask: expected s [E], got ", s.sizes());
  AP_CHECK(min_boundary >= 0 && min_boundary < s.size(0), "gsv_expert_mask: min_boundary ",
           min_boundary, " is not an expert index of [0, ", s.size(0), ")");
  return ExpertMaskFunction::apply(s, min_boundary);
}

torch::Tensor gsv_rank_mask(const torch::Tensor& s) {
  AP_CHECK(s.dim() == 2 && s.size(1) >= 1, "gsv_rank_mask: expected s [E, R], got ", s.sizes());
  return RankMaskFunction::apply(s);
}

GsvMoeLoraAdapterImpl::GsvMoeLoraAdapterImpl(int64_t in_features,
                                             int64_t out_features,
                                             GsvMoeLoraOptions options)
    : options_(options) {
  const auto& o = options_;
  AP_CHECK(o.num_experts >= 1, "GuiLoMo supernet needs at least one expert, got ", o.num_experts);
  AP_CHECK(o.max_rank >= 1, "GuiLoMo supernet r_max must be >= 1, got ", o.max_rank);
  AP_CHECK(o.top_k >= 1 && o.top_k <= o.num_experts, "GuiLoMo top_k must be in [1, ", o.num_experts,
           "], got ", o.top_k);
  AP_CHECK(o.min_active_experts >= 1 && o.min_active_experts <= o.num_experts,
           "GuiLoMo min_active_experts must be in [1, ", o.num_experts, "], got ",
           o.min_active_experts);
  AP_CHECK(o.dropout >= 0.0 && o.dropout < 1.0, "LoRA dropout must be in [0, 1), got ", o.dropout);
  AP_CHECK(o.init_std >= 0.0, "GuiLoMo init_std must be >= 0, got ", o.init_std);
  const int64_t experts = o.num_experts, rank = o.max_rank;
  auto router = std::make_shared<RouterImpl>(experts, in_features);
  register_module("router", router);
  router_weight = router->weight;
  lora_A = register_parameter("lora_A", torch::empty({experts * rank, in_features}));  // [ER, Din]
  lora_B =
      register_parameter("lora_B", torch::empty({out_features, experts * rank}));  // [Dout, ER]
  lora_E = register_parameter("lora_E", torch::ones({experts, rank}));             // [E, R]
  // GSVs: softmax of a standard-normal draw (positive, summing to 1, random argmax).
  router_expert_vector = register_parameter(
      "router_expert_vector", torch::softmax(torch::randn({experts}), /*dim=*/0));  // [E]
  expertlora_E_vector = register_parameter(
      "expertlora_E_vector", torch::softmax(torch::randn({experts, rank}), /*dim=*/1));  // [E, R]
  torch::NoGradGuard no_grad;
  lora_A.normal_(0.0, o.init_std);
  lora_B.normal_(0.0, o.init_std);
}

torch::Tensor GsvMoeLoraAdapterImpl::expert_mask() {
  return gsv_expert_mask(torch::sigmoid(router_expert_vector), options_.min_active_experts - 1);
}

torch::Tensor GsvMoeLoraAdapterImpl::rank_mask() {
  return gsv_rank_mask(torch::sigmoid(expertlora_E_vector));
}

torch::Tensor GsvMoeLoraAdapterImpl::delta(const torch::Tensor& x) {
  return delta_with_masks(x, expert_mask(), rank_mask());
}

torch::Tensor GsvMoeLoraAdapterImpl::delta_with_masks(const torch::Tensor& x,
                                                      const torch::Tensor& expert_mask,
                                                      const torch::Tensor& rank_mask) {
  const int64_t experts = options_.num_experts, rank = options_.max_rank;
  AP_CHECK(expert_mask.dim() == 1 && expert_mask.size(0) == experts,
           "GuiLoMo expert mask must be [", experts, "], got ", expert_mask.sizes());
  AP_CHECK(rank_mask.dim() == 2 && rank_mask.size(0) == experts && rank_mask.size(1) == rank,
           "GuiLoMo rank mask must be [", experts, ", ", rank, "], got ", rank_mask.sizes());
  // The shared LoRA-MoE forward (moe_lora_adapter.h): the expert mask adds to the router
  // logits; diag(E ⊙ m) A scales each row of A by its rank's E and mask.
  auto row_scale = (lora_E * rank_mask.to(lora_E.scalar_type())).reshape({experts * rank, 1});
  const auto route_type = c10::promoteTypes(x.scalar_type(), torch::kFloat32);
  LoraMoeOperands op;
  op.router_weight = router_weight;
  op.logit_mask = expert_mask;
  op.top_k = options_.top_k;
  op.lora_A = lora_A * row_scale;  // [E·R, Din]
  op.lora_B = lora_B;
  op.column_expert =
      torch::arange(experts, x.options().dtype(torch::kInt64)).repeat_interleave(rank);  // [E·R]
  op.column_scaling = torch::full({experts * rank}, scaling(), x.options().dtype(route_type));
  op.dropout = options_.dropout;
  return lora_moe_forward(op, x, is_training(), &last_logits_, &last_gates_);
}

void GsvMoeLoraAdapterImpl::clear_cache() {
  last_logits_ = torch::Tensor();
  last_gates_ = torch::Tensor();
}

std::vector<float> GsvMoeLoraAdapterImpl::expert_gsv_sigmoid() const {
  torch::NoGradGuard no_grad;
  return to_host_floats(torch::sigmoid(router_expert_vector));
}

std::vector<std::vector<float>> GsvMoeLoraAdapterImpl::rank_gsv_sigmoid() const {
  torch::NoGradGuard no_grad;
  const auto flat = to_host_floats(torch::sigmoid(expertlora_E_vector));
  const size_t r = static_cast<size_t>(options_.max_rank);
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < static_cast<size_t>(options_.num_experts); ++i) {
    out.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(i * r),
                     flat.begin() + static_cast<std::ptrdiff_t>((i + 1) * r));
  }
  return out;
}

GsvModuleValues GsvMoeLoraAdapterImpl::gsv_values(const std::string& path,
                                                  int layer,
                                                  const std::string& module) const {
  GsvModuleValues v;
  v.path = path;
  v.layer = layer;
  v.module = module;
  v.expert = expert_gsv_sigmoid();
  v.rank = rank_gsv_sigmoid();
  return v;
}

int GsvMoeLoraAdapterImpl::current_experts() const {
  const int found = gsv_argmax(expert_gsv_sigmoid(), "router_expert_vector");
  return std::max(found, options_.min_active_experts - 1) + 1;
}

std::vector<int> GsvMoeLoraAdapterImpl::current_ranks() const {
  std::vector<int> out;
  for (const auto& row : rank_gsv_sigmoid()) out.push_back(read_rank(row, "expertlora_E_vector"));
  return out;
}

}  // namespace apportion
