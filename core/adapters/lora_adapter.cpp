// SPDX-License-Identifier: GPL-3.0-or-later
// Plain LoRA with peft semantics: delta = s · dropout(x) Aᵀ Bᵀ, s = α / r; with an active rank
// k < R only the first k rows of A / columns of B take part (narrow, so the inactive slices get
// exactly zero gradient and cost no FLOPs).
// Legend: N tokens, Din in-features, Dout out-features, R allocated rank, k active rank.
#include "core/adapters/lora_adapter.h"

#include <torch/torch.h>

#include <cmath>

#include "core/common/error.h"

namespace apportion {

LoraAdapterImpl::LoraAdapterImpl(
    int64_t in_features, int64_t out_features, int r, double alpha, double dropout)
    : LoraAdapterImpl(in_features, out_features, LoraOptions{r, alpha, dropout, -1, 0.0}) {}

LoraAdapterImpl::LoraAdapterImpl(int64_t in_features, int64_t out_features, const LoraOptions& o)
    : alpha_(o.alpha), dropout_(o.dropout), active_rank_(o.active_rank < 0 ? o.r : o.active_rank) {
  AP_CHECK(o.r > 0, "LoRA rank must be positive, got ", o.r);
  AP_CHECK(o.dropout >= 0.0 && o.dropout < 1.0, "LoRA dropout must be in [0, 1), got ", o.dropout);
  AP_CHECK(active_rank_ >= 0 && active_rank_ <= o.r, "LoRA active rank must be in 0..", o.r,
           ", got ", active_rank_);
  AP_CHECK(o.scaling_rank >= 0.0, "LoRA scaling rank must be >= 0, got ", o.scaling_rank);
  scaling_ = o.alpha / (o.scaling_rank > 0.0 ? o.scaling_rank : static_cast<double>(o.r));
  lora_A = register_parameter("lora_A", torch::empty({o.r, in_features}));   // [R, Din]
  lora_B = register_parameter("lora_B", torch::zeros({out_features, o.r}));  // [Dout, R]
  torch::nn::init::kaiming_uniform_(lora_A, /*a=*/std::sqrt(5.0));           // bound 1/√Din
}

void LoraAdapterImpl::set_active_rank(int k) {
  AP_CHECK(k >= 0 && k <= rank(), "LoRA active rank must be in 0..", rank(), ", got ", k);
  active_rank_ = k;
}

torch::Tensor LoraAdapterImpl::rank_mask() const {
  auto mask = torch::zeros({rank()}, lora_A.options().dtype(torch::kFloat32));  // [R]
  mask.narrow(/*dim=*/0, 0, active_rank_).fill_(1.0);
  return mask;
}

torch::Tensor LoraAdapterImpl::delta(const torch::Tensor& x) {
  auto h = torch::dropout(x, dropout_, /*train=*/is_training() && dropout_ > 0.0);
  if (active_rank_ == rank()) {
    h = torch::linear(h, lora_A);                // [.., R]
    return torch::linear(h, lora_B) * scaling_;  // [.., Dout]
  }
  auto a = lora_A.narrow(/*dim=*/0, 0, active_rank_);  // [k, Din]
  auto b = lora_B.narrow(/*dim=*/1, 0, active_rank_);  // [Dout, k]
  h = torch::linear(h, a);                             // [.., k]
  return torch::linear(h, b) * scaling_;               // [.., Dout]
}

}  // namespace apportion
