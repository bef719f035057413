// SPDX-License-Identifier: GPL-3.0-or-later
// Sequence layout and additive masks (see attention_mask.h).
// Legend: B batch, T new tokens, S = past + T keys.
#include "core/model/attention_mask.h"

#include <torch/torch.h>

#include <limits>

#include "core/common/error.h"

namespace apportion {

SequenceLayout sequence_layout(int64_t batch,
                               int64_t t,
                               const torch::Tensor& attention_mask,
                               const KVCache* cache,
                               c10::Device device) {
  SequenceLayout s;
  s.past = cache != nullptr ? cache->offset : 0;
  s.total = s.past + t;
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor past_mask;  // [B, past]
  if (cache != nullptr && s.past > 0 && cache->attention_mask.defined()) {
    past_mask = cache->attention_mask.to(device, torch::kInt64);
    AP_CHECK_AS(ModelError, past_mask.size(0) == batch && past_mask.size(1) == s.past,
                "TransformerLM: the KV cache holds ", past_mask.sizes(),
                " positions but the "
                "input has batch ",
                batch, "; clear the cache between sequences");
  }
  if (attention_mask.defined()) {
    auto m = attention_mask.to(device, torch::kInt64);
    AP_CHECK_AS(ModelError, m.dim() == 2 && m.size(0) == batch, "TransformerLM: attention_mask ",
                m.sizes(), " must be [B, T] or [B, cached + T] with B = ", batch);
    if (m.size(1) == s.total) {
      s.key_mask = m;
    } else if (m.size(1) == t) {
      if (s.past == 0) {
        s.key_mask = m;
      } else {
        if (!past_mask.defined()) past_mask = torch::ones({batch, s.past}, i64);
        s.key_mask = torch::cat({past_mask, m}, /*dim=*/1);  // [B, S]
      }
    } else {
      throw ModelError("TransformerLM: attention_mask has " + std::to_string(m.size(1)) +
                       " columns; expected the new tokens (" + std::to_string(t) +
                       ") or cached + new (" + std::to_string(s.total) + ")");
    }
  } else if (past_mask.defined()) {
    s.key_mask = torch::cat({past_mask, torch::ones({batch, t}, i64)}, /*dim=*/1);  // [B, S]
  }
  if (s.key_mask.defined()) {
    // HF generate: position_ids = cumsum(mask) - 1 (pad positions get any value; they are
    // never attended to).
    s.positions = (s.key_mask.cumsum(/*dim=*/1) - 1).clamp_min(0).narrow(1, s.past, t);  // [B, T]
  } else {
    s.positions = torch::arange(s.past, s.total, i64).unsqueeze(0);  // [1, T]
  }
  return s;
}

torch::Tensor additive_attention_mask(const SequenceLayout& s,
                                      int64_t t,
                                      int64_t window,
                                      c10::Device device) {
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
  auto q = torch::arange(s.past, s.total, i64).unsqueeze(1);  // [T, 1] cache positions
  auto k = torch::arange(0, s.total, i64).unsqueeze(0);       // [1, S]
  auto blocked = k > q;                                       // [T, S] causal
  if (window > 0 && s.total > window) blocked = blocked.logical_or(q - k >= window);
  blocked = blocked.view({1, 1, t, s.total});
  if (s.key_mask.defined()) {
    const auto b = s.key_mask.size(0);
    blocked = blocked.logical_or((s.key_mask == 0).view({b, 1, 1, s.total}));  // [B, 1, T, S]
  }
  return torch::zeros(blocked.sizes(), torch::TensorOptions().dtype(torch::kFloat32).device(device))
      .masked_fill(blocked, std::numeric_limits<float>::lowest());
}

}  // namespace apportion
