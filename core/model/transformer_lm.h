// SPDX-License-Identifier: GPL-3.0-or-later
// TransformerLM: the causal-LM backbones of the supported Hugging Face architectures (LLaMA,
// Mistral, Qwen2 dense; Mixtral, OLMoE, Qwen2-MoE sparse), with registered module names equal to
// HF checkpoint keys (model.embed_tokens, model.layers.N.self_attn.q_proj, …, model.norm,
// lm_head), an optional KV cache, the adaptable projections the adapter injector uses, and the
// backbone routers' logits of the last forward. Loading and saving HF folders is pretrained_io.
//
// Intended usage:
//   TransformerLM model = load_pretrained("models/olmoe", LoadOptions{torch::kBFloat16});
//   model->freeze_backbone();
//   auto logits = model->forward(ids, mask);                 // [B, T, V]
//   auto routers = model->backbone_router_logits();           // [layer] [N, E] or undefined
// Legend: B batch, T time, C hidden, V vocab, N = B·T tokens, E backbone experts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/adapters/adaptable_linear.h"
#include "core/backbone/model_config.h"
#include "core/model/decoder_layer.h"
#include "core/model/kv_cache.h"
#include "core/model/module_init.h"
#include "core/model/rms_norm.h"
#include "core/model/token_embedding.h"

namespace apportion {

/// The inner model ("model." prefix in HF keys).
class BackboneModelImpl : public torch::nn::Module {
 public:
  BackboneModelImpl(const ModelConfig& cfg, const BuildOptions& opts);
  /// input_ids [B, T] int64; attention_mask [B, T] or, with a cache, [B, S + T] (1 = token,
  /// 0 = padding; may be undefined). Positions follow the mask (cumsum, as HF generate), so
  /// left padding is handled. Returns the final-norm hidden states [B, T, C].
  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask,
                        KVCache* cache);
  DecoderLayerImpl& layer(size_t i) { return *layers->ptr<DecoderLayerImpl>(i); }
  /// Recompute each decoder layer in the backward pass (training forwards without a cache).
  void set_gradient_checkpointing(bool on) { gradient_checkpointing_ = on; }
  bool gradient_checkpointing() const { return gradient_checkpointing_; }

  TokenEmbedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

 private:
  ModelConfig cfg_;
  bool gradient_checkpointing_ = false;
};
TORCH_MODULE(BackboneModel);

/// One adaptable projection of the backbone, as the adapter injector sees it.
struct ProjectionSlot {
  int layer = 0;
  std::string module;  ///< normalised: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,
                       ///< down_proj (Mixtral w1 → gate_proj, w3 → up_proj, w2 → down_proj)
  std::string name;    ///< the real HF prefix, e.g. model.layers.0.block_sparse_moe.experts.3.w1
  AdaptableLinear linear;      ///< the projection (holds the frozen weight and the adapter)
  int expert = -1;             ///< routed-expert index of the backbone's MoE block, -1 otherwise
  bool shared_expert = false;  ///< Qwen2-MoE shared expert projection
};

/// The causal LM: model + lm_head (tied to the embedding when the config says so).
class TransformerLMImpl : public torch::nn::Module {
 public:
  explicit TransformerLMImpl(const ModelConfig& cfg, const BuildOptions& opts = {});
  /// input_ids [B, T] -> logits [B, T, V] (in the parameters' dtype). With a cache, only the new
  /// tokens are fed and the cache is extended (see KVCache).
  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask = {},
                        KVCache* cache = nullptr);
  /// Every adaptable projection, ordered by layer; within a layer q, k, v, o, then the dense
  /// MLP's gate, up, down, or the routed experts' (by expert, each gate, up, down), then the
  /// shared expert's gate, up, down.
  std::vector<ProjectionSlot> projections();
  /// Sets requires_grad=false on every backbone parameter (adapters are added afterwards);
  /// with train_routers, the MoE routers (`…gate.weight`) stay trainable.
  void freeze_backbone(bool train_routers = false);
  /// Router logits of each layer's MoE block from the last forward ([N, E] float32, in the
  /// graph); undefined for dense layers and after clear_router_cache().
  std::vector<torch::Tensor> backbone_router_logits() const;
  void clear_router_cache();
  /// The adaptable shape with the backbone's MoE layout (experts/top-k per layer).
  ModelShape shape() const { return cfg_.shape(); }
  const ModelConfig& config() const { return cfg_; }
  /// Gradient checkpointing of every decoder layer (see grad_checkpoint.h for its limits: side
  /// outputs such as router logits are recomputed without a graph).
  void set_gradient_checkpointing(bool on) { model->set_gradient_checkpointing(on); }
  /// Updates the config's torch_dtype string (save_pretrained writes the parameters' dtype).
  void set_torch_dtype(const std::string& dtype) { cfg_.torch_dtype = dtype; }

  BackboneModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  ///< null when tied to model.embed_tokens

 private:
  ModelConfig cfg_;
};
TORCH_MODULE(TransformerLM);

/// How load_pretrained builds the model.
struct LoadOptions {
  /// Parameter dtype after loading; std::nullopt keeps the checkpoint's (its most common float
  /// dtype, e.g. bf16 for GPU use).
  std::optional<c10::ScalarType> dtype = c10::ScalarType::Float;
  c10::Device device = c10::Device(c10::kCPU);  ///< where the parameters live
};

/// Reads `dir/config.json` + `dir/model.safetensors` (or the shards of
/// model.safetensors.index.json) into a new model. Strict: every parameter must exist with the
/// right shape and a float dtype, and every tensor must be used (tolerated: lm_head.weight when
/// tied, rotary_emb.inv_freq). Files are memory-mapped and copied once into the parameters.
/// Throws ModelError (config) / CheckpointError (weights) naming the file and tensor or field.
TransformerLM load_pretrained(const std::string& dir, const LoadOptions& options = {});
/// Writes `dir/config.json` + `dir/model.safetensors` (backbone weights in their own dtype, HF
/// key names; adapter parameters are never written).
void save_pretrained(TransformerLM& model, const std::string& dir);

}  // namespace apportion
