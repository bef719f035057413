// SPDX-License-Identifier: GPL-3.0-or-later
// Grouped-query self-attention of the supported HF decoders: q/k/v/o projections (biases per
// architecture: LLaMA attention_bias on all four, Qwen2 on q/k/v only), OLMoE's q_norm/k_norm
// RMSNorms on the projection outputs and optional clip_qkv, RoPE, an additive mask (causal,
// padding, sliding window) built by the model, and an optional per-layer KV cache.
// Legend: B batch, T new tokens, S all keys (cached + new), C hidden, H heads, Hkv kv heads,
// D head dim.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/adapters/adaptable_linear.h"
#include "core/backbone/model_config.h"
#include "core/model/module_init.h"
#include "core/model/rms_norm.h"

namespace apportion {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const ModelConfig& cfg, const BuildOptions& opts);
  /// x [B, T, C]; cos/sin [B, T, D]; mask [B or 1, 1, T, S] additive float32 (0 or the lowest
  /// finite float, so fully masked rows stay finite). With `cache_k`/`cache_v` (may be null),
  /// the cached keys/values are prepended and the tensors replaced by the extended ones.
  /// Returns [B, T, C].
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& cos,
                        const torch::Tensor& sin,
                        const torch::Tensor& mask,
                        torch::Tensor* cache_k = nullptr,
                        torch::Tensor* cache_v = nullptr);

  AdaptableLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};  ///< OLMoE only

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
  double clip_qkv_;
  double dropout_;
};
TORCH_MODULE(Attention);

}  // namespace apportion
