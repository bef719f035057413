// SPDX-License-Identifier: GPL-3.0-or-later
// The LLaMA decoder, written to match Hugging Face's LlamaForCausalLM numerically: RMSNorm in
// float32, rotary embeddings with HF's rotate_half layout, grouped-query attention (kv heads
// repeated), causal + right-padding mask, SwiGLU MLP, final norm, lm_head (optionally tied).
// Attention is written by hand (LibTorch 1.13 has no scaled_dot_product_attention).
// Legend: B batch, T time, C hidden, V vocab, H heads, Hkv kv heads, D head dim, F intermediate.
#include "core/model/transformer_lm.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/common/error.h"

namespace apportion {
namespace {

/// HF's initializer_range: every projection and the embedding start as N(0, 0.02).
constexpr double kInitStd = 0.02;

AdaptableLinear make_projection(int64_t in, int64_t out) {
  AdaptableLinear p(in, out, /*bias=*/false);
  torch::NoGradGuard no_grad;
  p->weight.normal_(/*mean=*/0.0, /*std=*/kInitStd);
  return p;
}

/// HF rotate_half: [x1, x2] -> [-x2, x1] over the last dim (halves, not interleaved pairs).
torch::Tensor rotate_half(const torch::Tensor& x) {
  const auto half = x.size(-1) / 2;
  auto x1 = x.narrow(/*dim=*/-1, /*start=*/0, half);
  auto x2 = x.narrow(/*dim=*/-1, /*start=*/half, half);
  return torch::cat({-x2, x1}, /*dim=*/-1);
}

/// [B, Hkv, T, D] -> [B, Hkv·n_rep, T, D]; head h reads kv head h / n_rep (HF repeat_kv).
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const auto b = x.size(0), hkv = x.size(1), t = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, hkv, n_rep, t, d}).reshape({b, hkv * n_rep, t, d});
}

}  // namespace

// ---- RMSNorm ------------------------------------------------------------------------------

RMSNormImpl::RMSNormImpl(int dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));  // [C]
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto h = x.to(torch::kFloat32);
  auto var = h.pow(2).mean(/*dim=*/-1, /*keepdim=*/true);  // [.., 1]
  h = h * torch::rsqrt(var + eps_);
  return weight * h.to(x.scalar_type());
}

// ---- Attention ----------------------------------------------------------------------------

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& cfg)
    : num_heads_(cfg.num_attention_heads),
      num_kv_heads_(cfg.num_key_value_heads),
      head_dim_(cfg.head_dim()) {
  const int64_t c = cfg.hidden_size;
  const int64_t kv = static_cast<int64_t>(num_kv_heads_) * head_dim_;
  q_proj = register_module("q_proj", make_projection(c, c));
  k_proj = register_module("k_proj", make_projection(c, kv));
  v_proj = register_module("v_proj", make_projection(c, kv));
  o_proj = register_module("o_proj", make_projection(c, c));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x,
                                          const torch::Tensor& cos,
                                          const torch::Tensor& sin,
                                          const torch::Tensor& mask) {
  const auto b = x.size(0), t = x.size(1);
  auto q = q_proj(x).view({b, t, num_heads_, head_dim_}).transpose(1, 2);     // [B, H, T, D]
  auto k = k_proj(x).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B, Hkv, T, D]
  auto v = v_proj(x).view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B, Hkv, T, D]
  q = q * cos + rotate_half(q) * sin;
  k = k * cos + rotate_half(k) * sin;
  k = repeat_kv(k, num_heads_ / num_kv_heads_);  // [B, H, T, D]
  v = repeat_kv(v, num_heads_ / num_kv_heads_);  // [B, H, T, D]
  auto scores = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(head_dim_));
  scores = scores.to(torch::kFloat32) + mask;  // [B, H, T, T], mask is float32
  auto probs = torch::softmax(scores, /*dim=*/-1).to(q.scalar_type());
  auto out = torch::matmul(probs, v);  // [B, H, T, D]
  out = out.transpose(1, 2).reshape({b, t, static_cast<int64_t>(num_heads_) * head_dim_});
  return o_proj(out);  // [B, T, C]
}

// ---- MLP ----------------------------------------------------------------------------------

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& cfg) {
  gate_proj = register_module("gate_proj", make_projection(cfg.hidden_size, cfg.intermediate_size));
  up_proj = register_module("up_proj", make_projection(cfg.hidden_size, cfg.intermediate_size));
  down_proj = register_module("down_proj", make_projection(cfg.intermediate_size, cfg.hidden_size));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));  // [B, T, F] -> [B, T, C]
}

// ---- Decoder layer ------------------------------------------------------------------------

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& cfg) {
  self_attn = register_module("self_attn", LlamaAttention(cfg));
  mlp = register_module("mlp", LlamaMLP(cfg));
  input_layernorm = register_module("input_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x,
                                             const torch::Tensor& cos,
                                             const torch::Tensor& sin,
                                             const torch::Tensor& mask) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, mask);  // [B, T, C]
  return h + mlp(post_attention_layernorm(h));
}

// ---- LlamaModel ---------------------------------------------------------------------------

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& cfg) : cfg_(cfg) {
  auto emb_opts = torch::nn::EmbeddingOptions(cfg.vocab_size, cfg.hidden_size);
  if (cfg.pad_token_id >= 0 && cfg.pad_token_id < cfg.vocab_size) {
    emb_opts.padding_idx(cfg.pad_token_id);
  }
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(emb_opts));
  {
    torch::NoGradGuard no_grad;
    embed_tokens->weight.normal_(/*mean=*/0.0, /*std=*/kInitStd);
    if (cfg.pad_token_id >= 0 && cfg.pad_token_id < cfg.vocab_size) {
      embed_tokens->weight[cfg.pad_token_id].zero_();
    }
  }
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(cfg));
  norm = register_module("norm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids,
                                      const torch::Tensor& attention_mask) {
  AP_CHECK_AS(ModelError, input_ids.dim() == 2, "TransformerLM: input_ids must be [B, T], got ",
              input_ids.sizes());
  AP_CHECK_AS(ModelError, !attention_mask.defined() || attention_mask.sizes() == input_ids.sizes(),
              "TransformerLM: attention_mask ", attention_mask.sizes(),
              " must have the shape of input_ids ", input_ids.sizes());
  const auto b = input_ids.size(0), t = input_ids.size(1);
  auto h = embed_tokens(input_ids);  // [B, T, C]
  const auto dev = h.device();

  // Rotary tables, computed like HF (inv_freq in float32): cos/sin [T, D].
  const int64_t d = cfg_.head_dim();
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  auto exponents = torch::arange(0, d, 2, torch::TensorOptions().dtype(torch::kInt64).device(dev))
                       .to(torch::kFloat32) /
                   static_cast<double>(d);
  auto inv_freq = 1.0 / torch::pow(cfg_.rope_theta, exponents);  // [D/2]
  auto pos = torch::arange(t, f32);                              // [T]
  auto freqs = torch::outer(pos, inv_freq);                      // [T, D/2]
  auto emb = torch::cat({freqs, freqs}, /*dim=*/-1);             // [T, D]
  auto cos = emb.cos().to(h.scalar_type());
  auto sin = emb.sin().to(h.scalar_type());

  // Additive mask [B, 1, T, T]: causal, plus padded keys. The most negative finite value instead
  // of -inf keeps rows with no visible key (all-padding rows) finite: uniform, never NaN.
  auto masked = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(dev))
                    .triu(/*diagonal=*/1)
                    .view({1, 1, t, t});
  if (attention_mask.defined()) {
    masked = masked.logical_or((attention_mask.to(dev) == 0).view({b, 1, 1, t}));
  }
  auto mask = torch::zeros(masked.sizes(), f32)  // [B or 1, 1, T, T]
                  .masked_fill(masked, std::numeric_limits<float>::lowest());
  for (size_t i = 0; i < layers->size(); ++i) {
    h = layers->ptr<LlamaDecoderLayerImpl>(i)->forward(h, cos, sin, mask);
  }
  return norm(h);  // [B, T, C]
}

// ---- TransformerLM ------------------------------------------------------------------------

TransformerLMImpl::TransformerLMImpl(const LlamaConfig& cfg) : cfg_(cfg) {
  model = register_module("model", LlamaModel(cfg));
  lm_head =
      torch::nn::Linear(torch::nn::LinearOptions(cfg.hidden_size, cfg.vocab_size).bias(false));
  if (cfg.tie_word_embeddings) {
    lm_head->weight = model->embed_tokens->weight;  // alias, not registered: one key on disk
  } else {
    register_module("lm_head", lm_head);
    torch::NoGradGuard no_grad;
    lm_head->weight.normal_(/*mean=*/0.0, /*std=*/kInitStd);
  }
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& input_ids,
                                         const torch::Tensor& attention_mask) {
  auto h = model(input_ids, attention_mask);  // [B, T, C]
  const auto& w = cfg_.tie_word_embeddings ? model->embed_tokens->weight : lm_head->weight;
  return torch::linear(h, w);  // [B, T, V]
}

std::vector<ProjectionSlot> TransformerLMImpl::projections() {
  std::vector<ProjectionSlot> out;
  for (size_t i = 0; i < model->layers->size(); ++i) {
    auto layer = model->layers->ptr<LlamaDecoderLayerImpl>(i);
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const int l = static_cast<int>(i);
    out.push_back({l, "q_proj", prefix + "self_attn.q_proj", layer->self_attn->q_proj});
    out.push_back({l, "k_proj", prefix + "self_attn.k_proj", layer->self_attn->k_proj});
    out.push_back({l, "v_proj", prefix + "self_attn.v_proj", layer->self_attn->v_proj});
    out.push_back({l, "o_proj", prefix + "self_attn.o_proj", layer->self_attn->o_proj});
    out.push_back({l, "gate_proj", prefix + "mlp.gate_proj", layer->mlp->gate_proj});
    out.push_back({l, "up_proj", prefix + "mlp.up_proj", layer->mlp->up_proj});
    out.push_back({l, "down_proj", prefix + "mlp.down_proj", layer->mlp->down_proj});
  }
  return out;
}

void TransformerLMImpl::freeze_backbone() {
  for (auto& p : parameters()) p.requires_grad_(false);
}

}  // namespace apportion
