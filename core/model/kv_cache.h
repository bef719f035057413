// SPDX-License-Identifier: GPL-3.0-or-later
// KVCache: the keys and values of every attention layer for the tokens seen so far, plus the
// attention mask of those tokens, so incremental decoding feeds only the new tokens. Keys are
// stored after RoPE and before the kv-head repeat. Rotary positions continue from the cached
// mask (HF generate's cumsum rule), or from `offset` when no mask was ever given.
//
// Intended usage:
//   KVCache cache;
//   auto logits = model->forward(prompt_ids, prompt_mask, &cache);   // fills the cache
//   logits = model->forward(next_ids, torch::ones({B, 1}), &cache);  // appends one token
// Legend: B batch, S cached tokens, Hkv kv heads, D head dim.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/Tensor.h>

namespace apportion {

struct KVCache {
  std::vector<at::Tensor> keys;    ///< [layer] [B, Hkv, S, D]
  std::vector<at::Tensor> values;  ///< [layer] [B, Hkv, S, D]
  at::Tensor attention_mask;       ///< [B, S] int64 (1 token, 0 padding); undefined: no padding
  int64_t offset = 0;              ///< S, the number of cached positions

  /// Drops everything (the next forward starts a new sequence).
  void clear();
  /// Keeps only batch rows `rows` (int64 indices), e.g. to drop finished prompts.
  void select_rows(const at::Tensor& rows);
};

}  // namespace apportion
