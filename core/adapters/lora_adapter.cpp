// SPDX-License-Identifier: GPL-3.0-or-later
// Plain LoRA with peft semantics: delta = s · dropout(x) Aᵀ Bᵀ, s = α / r.
// Legend: N tokens, Din in-features, Dout out-features, R rank.
#include "core/adapters/lora_adapter.h"

#include <torch/torch.h>

#include <cmath>

#include "core/common/error.h"

namespace apportion {

LoraAdapterImpl::LoraAdapterImpl(
    int64_t in_features, int64_t out_features, int r, double alpha, double dropout)
    : scaling_(alpha / r), dropout_(dropout) {
  AP_CHECK(r > 0, "LoRA rank must be positive, got ", r);
  AP_CHECK(dropout >= 0.0 && dropout < 1.0, "LoRA dropout must be in [0, 1), got ", dropout);
  lora_A = register_parameter("lora_A", torch::empty({r, in_features}));   // [R, Din]
  lora_B = register_parameter("lora_B", torch::zeros({out_features, r}));  // [Dout, R]
  torch::nn::init::kaiming_uniform_(lora_A, /*a=*/std::sqrt(5.0));         // bound 1/√Din
}

torch::Tensor LoraAdapterImpl::delta(const torch::Tensor& x) {
  auto h = torch::dropout(x, dropout_, /*train=*/is_training() && dropout_ > 0.0);
  h = torch::linear(h, lora_A);                // [.., R]
  return torch::linear(h, lora_B) * scaling_;  // [.., Dout]
}

}  // namespace apportion
