// SPDX-License-Identifier: GPL-3.0-or-later
// The backbone, written to match HF's *ForCausalLM numerically: embedding, RoPE tables from the
// mask-derived positions, one additive mask per distinct sliding window, pre-norm decoder
// layers (dense or MoE), final RMSNorm, lm_head (optionally tied). Also the projection list for
// adapter injection and the backbone routers' statistics.
// Legend: B batch, T new tokens, S = cached + new, C hidden, V vocab, N = B·T, E experts.
#include "core/model/transformer_lm.h"

#include <torch/torch.h>

#include <map>

#include "core/common/error.h"
#include "core/model/attention_mask.h"
#include "core/model/grad_checkpoint.h"
#include "core/model/rope.h"

namespace apportion {

// ---- BackboneModel ------------------------------------------------------------------------

BackboneModelImpl::BackboneModelImpl(const ModelConfig& cfg, const BuildOptions& opts) : cfg_(cfg) {
  embed_tokens = register_module(
      "embed_tokens", TokenEmbedding(cfg.vocab_size, cfg.hidden_size, cfg.pad_token_id, opts));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(DecoderLayer(cfg, i, opts));
  norm = register_module("norm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, opts));
}

torch::Tensor BackboneModelImpl::forward(const torch::Tensor& input_ids,
                                         const torch::Tensor& attention_mask,
                                         KVCache* cache) {
  AP_CHECK_AS(ModelError, input_ids.dim() == 2, "TransformerLM: input_ids must be [B, T], got ",
              input_ids.sizes());
  const auto b = input_ids.size(0), t = input_ids.size(1);
  AP_CHECK_AS(ModelError, t > 0, "TransformerLM: input_ids has no tokens");
  const auto n_layers = layers->size();
  if (cache != nullptr) {
    if (cache->keys.empty()) {
      AP_CHECK_AS(ModelError, cache->offset == 0, "TransformerLM: the KV cache has an offset ",
                  cache->offset, " but no keys; call clear()");
      cache->keys.resize(n_layers);
      cache->values.resize(n_layers);
    }
    AP_CHECK_AS(ModelError, cache->keys.size() == n_layers && cache->values.size() == n_layers,
                "TransformerLM: the KV cache has ", cache->keys.size(), " layers, the model ",
                n_layers);
    if (cache->offset > 0) {
      const auto& k0 = cache->keys.front();
      AP_CHECK_AS(ModelError, k0.defined() && k0.size(0) == b && k0.size(2) == cache->offset,
                  "TransformerLM: the KV cache does not match the input (batch ", b,
                  ", cached positions ", cache->offset, "); clear the cache between sequences");
    }
  }
  const auto dev = embed_tokens->weight.device();
  auto h = embed_tokens(input_ids.to(dev));  // [B, T, C]
  const SequenceLayout seq = sequence_layout(b, t, attention_mask, cache, dev);
  const auto rope = rope_cos_sin(rope_inv_freq(cfg_, dev), seq.positions, h.scalar_type());
  const torch::Tensor& cos = rope.first;   // [B or 1, T, D]
  const torch::Tensor& sin = rope.second;  // [B or 1, T, D]

  std::map<int64_t, torch::Tensor> masks;  // window (0 = full) -> [B or 1, 1, T, S]
  for (size_t i = 0; i < n_layers; ++i) {
    int64_t window = cfg_.layer_sliding_window(static_cast<int>(i));
    if (window >= seq.total) window = 0;  // the window covers every key: same as full
    auto it = masks.find(window);
    if (it == masks.end()) {
      it = masks.emplace(window, additive_attention_mask(seq, t, window, dev)).first;
    }
    if (gradient_checkpointing_ && cache == nullptr && is_training() &&
        torch::GradMode::is_enabled()) {
      auto block = layers->ptr<DecoderLayerImpl>(i);
      std::vector<torch::Tensor> params;
      for (const auto& p : block->parameters()) {
        if (p.requires_grad()) params.push_back(p);
      }
      const torch::Tensor mask = it->second;
      h = checkpointed([block, cos, sin,
                        mask](const torch::Tensor& x) { return block->forward(x, cos, sin, mask); },
                       h, params);
      continue;
    }
    torch::Tensor* ck = cache != nullptr ? &cache->keys[i] : nullptr;
    torch::Tensor* cv = cache != nullptr ? &cache->values[i] : nullptr;
    h = layer(i).forward(h, cos, sin, it->second, ck, cv);
  }
  if (cache != nullptr) {
    cache->offset = seq.total;
    cache->attention_mask = seq.key_mask;
  }
  return norm(h);  // [B, T, C]
}

// ---- TransformerLM ------------------------------------------------------------------------

TransformerLMImpl::TransformerLMImpl(const ModelConfig& cfg, const BuildOptions& opts) : cfg_(cfg) {
  cfg_.validate("model config");
  BuildOptions o = opts;
  o.init_std = cfg.initializer_range;
  model = register_module("model", BackboneModel(cfg_, o));
  if (!cfg.tie_word_embeddings) {
    lm_head = register_module("lm_head", make_plain_linear(cfg.hidden_size, cfg.vocab_size, o));
  }
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& input_ids,
                                         const torch::Tensor& attention_mask,
                                         KVCache* cache) {
  auto h = model(input_ids, attention_mask, cache);  // [B, T, C]
  const auto& w = lm_head ? lm_head->weight : model->embed_tokens->weight;
  return torch::linear(h, w);  // [B, T, V]
}

std::vector<ProjectionSlot> TransformerLMImpl::projections() {
  std::vector<ProjectionSlot> out;
  for (size_t i = 0; i < model->layers->size(); ++i) {
    auto& layer = model->layer(i);
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const int l = static_cast<int>(i);
    auto& attn = *layer.self_attn;
    out.push_back({l, "q_proj", prefix + "self_attn.q_proj", attn.q_proj});
    out.push_back({l, "k_proj", prefix + "self_attn.k_proj", attn.k_proj});
    out.push_back({l, "v_proj", prefix + "self_attn.v_proj", attn.v_proj});
    out.push_back({l, "o_proj", prefix + "self_attn.o_proj", attn.o_proj});
    auto add_mlp = [&](MLPImpl& mlp, const std::string& base, int expert, bool shared) {
      const auto& n = mlp.names();
      out.push_back({l, "gate_proj", base + n.gate, mlp.gate_proj, expert, shared});
      out.push_back({l, "up_proj", base + n.up, mlp.up_proj, expert, shared});
      out.push_back({l, "down_proj", base + n.down, mlp.down_proj, expert, shared});
    };
    const std::string ffn = prefix + layer.ffn_name() + ".";
    if (layer.mlp) add_mlp(*layer.mlp, ffn, -1, false);
    if (layer.moe) {
      for (int e = 0; e < layer.moe->num_experts(); ++e) {
        add_mlp(layer.moe->expert(e), ffn + "experts." + std::to_string(e) + ".", e, false);
      }
      if (layer.moe->shared_expert)
        add_mlp(*layer.moe->shared_expert, ffn + "shared_expert.", -1, true);
    }
  }
  return out;
}

void TransformerLMImpl::freeze_backbone(bool train_routers) {
  for (auto& p : parameters()) p.requires_grad_(false);
  if (!train_routers) return;
  for (size_t i = 0; i < model->layers->size(); ++i) {
    auto& layer = model->layer(i);
    if (layer.moe) layer.moe->gate->weight.requires_grad_(true);
  }
}

std::vector<torch::Tensor> TransformerLMImpl::backbone_router_logits() const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < model->layers->size(); ++i) {
    const auto& layer = *model->layers->ptr<DecoderLayerImpl>(i);
    out.push_back(layer.moe ? layer.moe->router_logits() : torch::Tensor());
  }
  return out;
}

void TransformerLMImpl::clear_router_cache() {
  for (size_t i = 0; i < model->layers->size(); ++i) {
    auto& layer = model->layer(i);
    if (layer.moe) layer.moe->clear_router_cache();
  }
}

}  // namespace apportion
