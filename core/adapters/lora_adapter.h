// SPDX-License-Identifier: GPL-3.0-or-later
// Plain LoRA (the baseline): delta = s · B A dropout(x), s = lora_alpha / r, A Kaiming-uniform
// (a = √5), B zero. Parameter names follow peft: lora_A [R, Din], lora_B [Dout, R].
#pragma once

#include "core/adapters/adaptable_linear.h"

namespace apportion {

class LoraAdapterImpl : public AdapterImpl {
 public:
  LoraAdapterImpl(int64_t in_features, int64_t out_features, int r, double alpha, double dropout);
  torch::Tensor delta(const torch::Tensor& x) override;  // [.., Din] -> [.., Dout]
  double scaling() const { return scaling_; }

  torch::Tensor lora_A;  ///< [R, Din]
  torch::Tensor lora_B;  ///< [Dout, R]

 private:
  double scaling_;
  double dropout_;
};

}  // namespace apportion
