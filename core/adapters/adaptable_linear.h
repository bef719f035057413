// SPDX-License-Identifier: GPL-3.0-or-later
// AdaptableLinear: a frozen-able base projection y = x Wᵀ (+ b) with an optional adapter added
// on top (plain LoRA or LoRA-MoE). The base parameter is registered as "weight" so checkpoint
// keys stay HF's (…q_proj.weight); the adapter registers under "adapter" (…q_proj.adapter.*).
// Legend: N tokens (B·T flattened), Din in-features, Dout out-features.
#pragma once

#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace apportion {

/// Interface of the adapters an AdaptableLinear can carry.
class AdapterImpl : public torch::nn::Module {
 public:
  /// x [.., Din] -> delta [.., Dout], added to the base output.
  virtual torch::Tensor delta(const torch::Tensor& x) = 0;
};

class AdaptableLinearImpl : public torch::nn::Module {
 public:
  AdaptableLinearImpl(int64_t in_features, int64_t out_features, bool bias);
  /// x [.., Din] -> [.., Dout]
  torch::Tensor forward(const torch::Tensor& x);
  /// Registers (or replaces) the adapter under the name "adapter".
  void set_adapter(std::shared_ptr<AdapterImpl> adapter);
  std::shared_ptr<AdapterImpl> adapter() const { return adapter_; }
  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }

  torch::Tensor weight;  ///< [Dout, Din]
  torch::Tensor bias;    ///< [Dout] or undefined

 private:
  std::shared_ptr<AdapterImpl> adapter_;
};
TORCH_MODULE(AdaptableLinear);

}  // namespace apportion
