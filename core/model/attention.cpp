// SPDX-License-Identifier: GPL-3.0-or-later
// Attention written by hand, as HF's eager_attention_forward (LibTorch 1.13 has no
// scaled_dot_product_attention): scores = q·kᵀ · D^-½ in the model dtype, mask added and softmax
// taken in float32, probabilities cast back, dropout in training only.
// Legend: B batch, T new tokens, S all keys, C hidden, H heads, Hkv kv heads, D head dim.
#include "core/model/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "core/model/rope.h"

namespace apportion {
namespace {

/// [B, Hkv, S, D] -> [B, Hkv·n_rep, S, D]; head h reads kv head h / n_rep (HF repeat_kv).
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const auto b = x.size(0), hkv = x.size(1), s = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, hkv, n_rep, s, d}).reshape({b, hkv * n_rep, s, d});
}

}  // namespace

AttentionImpl::AttentionImpl(const ModelConfig& cfg, const BuildOptions& opts)
    : num_heads_(cfg.num_attention_heads),
      num_kv_heads_(cfg.num_key_value_heads),
      head_dim_(cfg.head_dim()),
      clip_qkv_(cfg.clip_qkv),
      dropout_(cfg.attention_dropout) {
  const int64_t c = cfg.hidden_size;
  const int64_t q_dim = num_heads_ * head_dim_, kv_dim = num_kv_heads_ * head_dim_;
  q_proj = register_module("q_proj", make_projection(c, q_dim, cfg.qkv_bias(), opts));
  k_proj = register_module("k_proj", make_projection(c, kv_dim, cfg.qkv_bias(), opts));
  v_proj = register_module("v_proj", make_projection(c, kv_dim, cfg.qkv_bias(), opts));
  o_proj = register_module("o_proj", make_projection(q_dim, c, cfg.o_bias(), opts));
  if (cfg.arch() == Architecture::Olmoe) {
    q_norm = register_module("q_norm", RMSNorm(q_dim, cfg.rms_norm_eps, opts));
    k_norm = register_module("k_norm", RMSNorm(kv_dim, cfg.rms_norm_eps, opts));
  }
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x,
                                     const torch::Tensor& cos,
                                     const torch::Tensor& sin,
                                     const torch::Tensor& mask,
                                     torch::Tensor* cache_k,
                                     torch::Tensor* cache_v) {
  const auto b = x.size(0), t = x.size(1);
  auto q = q_proj(x);  // [B, T, H·D]
  auto k = k_proj(x);  // [B, T, Hkv·D]
  auto v = v_proj(x);  // [B, T, Hkv·D]
  if (q_norm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  if (clip_qkv_ > 0) {
    q = q.clamp(-clip_qkv_, clip_qkv_);
    k = k.clamp(-clip_qkv_, clip_qkv_);
    v = v.clamp(-clip_qkv_, clip_qkv_);
  }
  q = q.view({b, t, num_heads_, head_dim_}).transpose(1, 2);     // [B, H, T, D]
  k = k.view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B, Hkv, T, D]
  v = v.view({b, t, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B, Hkv, T, D]
  q = apply_rope(q, cos, sin);
  k = apply_rope(k, cos, sin);
  if (cache_k != nullptr && cache_v != nullptr) {
    if (cache_k->defined()) {
      k = torch::cat({*cache_k, k}, /*dim=*/2);  // [B, Hkv, S, D]
      v = torch::cat({*cache_v, v}, /*dim=*/2);
    }
    *cache_k = k;
    *cache_v = v;
  }
  k = repeat_kv(k, num_heads_ / num_kv_heads_);                           // [B, H, S, D]
  v = repeat_kv(v, num_heads_ / num_kv_heads_);                           // [B, H, S, D]
  const double scaling = std::pow(static_cast<double>(head_dim_), -0.5);  // HF head_dim**-0.5
  auto scores = torch::matmul(q, k.transpose(2, 3)) * scaling;            // [B, H, T, S]
  scores = scores.to(torch::kFloat32) + mask;
  auto probs = torch::softmax(scores, /*dim=*/-1).to(q.scalar_type());
  if (dropout_ > 0 && is_training()) probs = torch::dropout(probs, dropout_, /*train=*/true);
  auto out = torch::matmul(probs, v);                                 // [B, H, T, D]
  out = out.transpose(1, 2).reshape({b, t, num_heads_ * head_dim_});  // [B, T, H·D]
  return o_proj(out);                                                 // [B, T, C]
}

}  // namespace apportion
