// SPDX-License-Identifier: GPL-3.0-or-later
// Token embedding lookup (see token_embedding.h). Legend: B batch, T time, V vocab, C hidden.
#include "core/model/token_embedding.h"

#include <torch/torch.h>

namespace apportion {

TokenEmbeddingImpl::TokenEmbeddingImpl(int64_t vocab,
                                       int64_t dim,
                                       int64_t padding_idx,
                                       const BuildOptions& opts)
    : padding_idx_(padding_idx >= 0 && padding_idx < vocab ? padding_idx : -1) {
  weight = register_parameter("weight", make_weight({vocab, dim}, opts, /*normal=*/true, 0.0));
  if (opts.init_weights && padding_idx_ >= 0) {
    torch::NoGradGuard no_grad;
    weight[padding_idx_].zero_();
  }
}

torch::Tensor TokenEmbeddingImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(weight, ids, padding_idx_);  // [B, T, C]
}

}  // namespace apportion
