// SPDX-License-Identifier: GPL-3.0-or-later
// Decoder layer (see decoder_layer.h). Legend: B batch, T new tokens, C hidden, D head dim.
#include "core/model/decoder_layer.h"

#include <torch/torch.h>

namespace apportion {

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& cfg, int layer, const BuildOptions& opts) {
  self_attn = register_module("self_attn", Attention(cfg, opts));
  if (cfg.layer_is_moe(layer)) {
    ffn_name_ = cfg.arch() == Architecture::Mixtral ? "block_sparse_moe" : "mlp";
    moe = register_module(ffn_name_, SparseMoeBlock(cfg, opts));
  } else {
    ffn_name_ = "mlp";
    mlp =
        register_module(ffn_name_, MLP(cfg.hidden_size, cfg.intermediate_size, cfg.mlp_bias, opts));
  }
  input_layernorm =
      register_module("input_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, opts));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, opts));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& cos,
                                        const torch::Tensor& sin,
                                        const torch::Tensor& mask,
                                        torch::Tensor* cache_k,
                                        torch::Tensor* cache_v) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, mask, cache_k, cache_v);  // [B, T, C]
  auto n = post_attention_layernorm(h);
  return h + (moe ? moe(n) : mlp(n));
}

}  // namespace apportion
