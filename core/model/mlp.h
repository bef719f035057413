// SPDX-License-Identifier: GPL-3.0-or-later
// The SwiGLU feed-forward of LLaMA-family decoders, down(silu(gate(x)) · up(x)), used as the
// dense MLP, as each routed expert and as Qwen2-MoE's shared expert. The three projections are
// always gate_proj/up_proj/down_proj in C++; Mixtral experts register them under HF's names
// w1 (gate), w3 (up) and w2 (down) so checkpoint keys match.
// Legend: C hidden, F intermediate.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/adapters/adaptable_linear.h"
#include "core/model/module_init.h"

namespace apportion {

/// Registered names of the three projections.
struct MlpNames {
  const char* gate = "gate_proj";
  const char* up = "up_proj";
  const char* down = "down_proj";
  /// Mixtral's expert naming (w1 = gate, w3 = up, w2 = down).
  static MlpNames mixtral() { return {"w1", "w3", "w2"}; }
};

class MLPImpl : public torch::nn::Module {
 public:
  MLPImpl(int64_t hidden,
          int64_t intermediate,
          bool bias,
          const BuildOptions& opts,
          const MlpNames& names = {});
  torch::Tensor forward(const torch::Tensor& x);  // [.., C] -> [.., C]
  AdaptableLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  const MlpNames& names() const { return names_; }

 private:
  MlpNames names_;
};
TORCH_MODULE(MLP);

}  // namespace apportion
