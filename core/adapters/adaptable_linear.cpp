// SPDX-License-Identifier: GPL-3.0-or-later
// AdaptableLinear: the base projection (nn.Linear's init) plus an optional adapter delta.
// Legend: N tokens (B·T flattened), Din in-features, Dout out-features.
#include "core/adapters/adaptable_linear.h"

#include <torch/torch.h>

#include <cmath>

namespace apportion {

AdaptableLinearImpl::AdaptableLinearImpl(int64_t in_features,
                                         int64_t out_features,
                                         bool with_bias) {
  // Same init as torch::nn::Linear: Kaiming-uniform with a = √5 (bound 1/√Din), bias U(±1/√Din).
  weight = register_parameter("weight", torch::empty({out_features, in_features}));  // [Dout, Din]
  torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
  if (with_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = register_parameter("bias", torch::empty({out_features}));  // [Dout]
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor AdaptableLinearImpl::forward(const torch::Tensor& x) {
  // Mixed precision (base bf16/f16, adapters float32, as peft does): the base runs in its own
  // dtype, the adapter in float32, and the sum comes back in the base's dtype. Under autocast
  // the matrix products are cast anyway.
  const auto base_x = x.scalar_type() == weight.scalar_type() ? x : x.to(weight.scalar_type());
  auto y = torch::linear(base_x, weight, bias);  // [.., Dout]
  if (adapter_) {
    const bool mixed = x.scalar_type() != torch::kFloat32;
    const auto d = adapter_->delta(mixed ? x.to(torch::kFloat32) : x);
    y = y + (d.scalar_type() == y.scalar_type() ? d : d.to(y.scalar_type()));
  }
  return y;
}

void AdaptableLinearImpl::set_adapter(std::shared_ptr<AdapterImpl> adapter) {
  const bool has_child = named_children().contains("adapter");
  if (!adapter) {
    if (has_child) unregister_module("adapter");
    adapter_.reset();
    return;
  }
  // Adapters live on the base weight's device; their parameters stay float32.
  adapter->to(weight.device());
  if (has_child) {
    adapter_ = replace_module("adapter", adapter);
  } else {
    adapter_ = register_module("adapter", adapter);
  }
}

}  // namespace apportion
