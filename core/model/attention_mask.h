// SPDX-License-Identifier: GPL-3.0-or-later
// What one forward needs to know about its sequence: which keys are real tokens (cached and
// new), the rotary position of each new token, and the additive attention masks (causal,
// padding, sliding window as HF's sliding_window_overlay: key j is visible from query i iff
// j <= i and i - j < window, in cache positions).
// Legend: B batch, T new tokens, S = past + T keys.
#pragma once

#include <cstdint>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include "core/model/kv_cache.h"

namespace apportion {

struct SequenceLayout {
  at::Tensor key_mask;   ///< [B, S] int64 (1 token, 0 padding); undefined: no padding at all
  at::Tensor positions;  ///< [B or 1, T] int64 rotary positions of the new tokens
  int64_t past = 0;      ///< cached positions
  int64_t total = 0;     ///< S
};

/// Combines the caller's attention_mask ([B, T], or [B, S] with a cache) with the cached mask.
/// Positions are cumsum(mask) - 1 (HF generate), else past + arange(T). Throws ModelError on
/// inconsistent shapes.
SequenceLayout sequence_layout(int64_t batch,
                               int64_t t,
                               const at::Tensor& attention_mask,
                               const KVCache* cache,
                               c10::Device device);

/// Additive float32 mask [B or 1, 1, T, S]: 0 where visible, the lowest finite float where not
/// (rows with no visible key stay finite). window 0 means no sliding window.
at::Tensor additive_attention_mask(const SequenceLayout& layout,
                                   int64_t t,
                                   int64_t window,
                                   c10::Device device);

}  // namespace apportion
