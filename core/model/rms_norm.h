// SPDX-License-Identifier: GPL-3.0-or-later
// RMSNorm as in HF's LlamaRMSNorm (also Mistral, Qwen2, Mixtral, OLMoE): normalise in float32,
// cast back to the input dtype, then scale by the learned "weight".
// Legend: C normalised width.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/model/module_init.h"

namespace apportion {

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int dim, double eps, const BuildOptions& opts = {});
  torch::Tensor forward(const torch::Tensor& x);  // [.., C] -> [.., C]
  torch::Tensor weight;                           ///< [C]

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

}  // namespace apportion
