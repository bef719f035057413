// SPDX-License-Identifier: GPL-3.0-or-later
// KVCache housekeeping; the model's forward reads and extends it.
#include "core/model/kv_cache.h"

#include <torch/torch.h>

namespace apportion {

void KVCache::clear() {
  keys.clear();
  values.clear();
  attention_mask = torch::Tensor();
  offset = 0;
}

void KVCache::select_rows(const torch::Tensor& rows) {
  for (auto& k : keys) {
    if (k.defined()) k = k.index_select(/*dim=*/0, rows.to(k.device()));
  }
  for (auto& v : values) {
    if (v.defined()) v = v.index_select(/*dim=*/0, rows.to(v.device()));
  }
  if (attention_mask.defined()) {
    attention_mask = attention_mask.index_select(/*dim=*/0, rows.to(attention_mask.device()));
  }
}

}  // namespace apportion
