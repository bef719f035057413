// SPDX-License-Identifier: GPL-3.0-or-later
// One pre-norm decoder layer: h = x + attn(norm(x)); out = h + ffn(norm(h)), where the
// feed-forward is a dense SwiGLU MLP or a sparse MoE block. Registered names follow HF: "mlp"
// for the dense MLP and for OLMoE / Qwen2-MoE blocks, "block_sparse_moe" for Mixtral's.
// Legend: B batch, T new tokens, S all keys, C hidden, D head dim.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/backbone/model_config.h"
#include "core/model/attention.h"
#include "core/model/mlp.h"
#include "core/model/moe_block.h"
#include "core/model/rms_norm.h"

namespace apportion {

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const ModelConfig& cfg, int layer, const BuildOptions& opts);
  /// x [B, T, C]; cos/sin [B, T, D]; mask [B or 1, 1, T, S]; optional cache slots (see
  /// AttentionImpl::forward). Returns [B, T, C].
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& cos,
                        const torch::Tensor& sin,
                        const torch::Tensor& mask,
                        torch::Tensor* cache_k = nullptr,
                        torch::Tensor* cache_v = nullptr);
  /// The HF name of the feed-forward ("mlp" or "block_sparse_moe").
  const std::string& ffn_name() const { return ffn_name_; }

  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  MLP mlp{nullptr};             ///< dense layers
  SparseMoeBlock moe{nullptr};  ///< MoE layers

 private:
  std::string ffn_name_;
};
TORCH_MODULE(DecoderLayer);

}  // namespace apportion
