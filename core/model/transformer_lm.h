// SPDX-License-Identifier: GPL-3.0-or-later
// A LLaMA-architecture decoder (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU MLP)
// whose registered module names equal Hugging Face checkpoint keys
// (model.embed_tokens, model.layers.N.self_attn.q_proj, …, model.norm, lm_head).
// Legend: B batch, T time, C hidden, V vocab, H heads, Hkv kv heads, D head dim.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include "core/adapters/adaptable_linear.h"
#include "core/model/llama_config.h"

namespace apportion {

/// Root-mean-square layer norm with a learned scale ("weight").
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);  // [.., C] -> [.., C]
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

/// Grouped-query self-attention with rotary embeddings and a causal + padding mask.
class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaConfig& cfg);
  /// x [B, T, C]; cos/sin [T, D]; mask [B, 1, T, T] additive float32 (0 / lowest finite
  /// float, so fully masked rows stay finite) -> [B, T, C]
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& cos,
                        const torch::Tensor& sin,
                        const torch::Tensor& mask);
  AdaptableLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int num_heads_, num_kv_heads_, head_dim_;
};
TORCH_MODULE(LlamaAttention);

/// SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const LlamaConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, C] -> [B, T, C]
  AdaptableLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

/// One pre-norm decoder layer.
class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x,
                        const torch::Tensor& cos,
                        const torch::Tensor& sin,
                        const torch::Tensor& mask);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

/// The inner model ("model." prefix in HF keys).
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaConfig& cfg);
  /// input_ids [B, T] int64; attention_mask [B, T] (1 = token, 0 = padding; may be undefined)
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

 private:
  LlamaConfig cfg_;
};
TORCH_MODULE(LlamaModel);

/// One adaptable projection of the backbone, as the adapter injector sees it.
struct ProjectionSlot {
  int layer = 0;
  std::string module;      ///< q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
  std::string name;        ///< full HF key prefix, e.g. model.layers.0.self_attn.q_proj
  AdaptableLinear linear;  ///< the projection (holds the frozen weight and the adapter)
};

/// LlamaForCausalLM: model + lm_head (tied to the embedding when the config says so).
class TransformerLMImpl : public torch::nn::Module {
 public:
  explicit TransformerLMImpl(const LlamaConfig& cfg);
  /// input_ids [B, T] -> logits [B, T, V]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {});
  /// Every adaptable projection, ordered by layer then q,k,v,o,gate,up,down.
  std::vector<ProjectionSlot> projections();
  /// Sets requires_grad=false on every backbone parameter (adapters are added afterwards).
  void freeze_backbone();
  const LlamaConfig& config() const { return cfg_; }

  LlamaModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // unregistered alias when tied

 private:
  LlamaConfig cfg_;
};
TORCH_MODULE(TransformerLM);

/// Reads `dir/config.json` + `dir/model.safetensors` into a new model (strict: every key must
/// exist with the right shape; extra tensors are an error). Throws ModelError/CheckpointError.
TransformerLM load_pretrained(const std::string& dir);
/// Writes `dir/config.json` + `dir/model.safetensors` (backbone weights only, HF key names).
void save_pretrained(TransformerLM& model, const std::string& dir);

}  // namespace apportion
