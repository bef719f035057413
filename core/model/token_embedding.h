// SPDX-License-Identifier: GPL-3.0-or-later
// The token embedding table ("embed_tokens.weight", [V, C]) with HF's padding_idx semantics:
// the pad row is zero-initialised and gets no gradient. A small module instead of
// nn::Embedding so a checkpoint load does not first allocate and randomly fill a [V, C] table.
// Legend: B batch, T time, V vocab, C hidden.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/model/module_init.h"

namespace apportion {

class TokenEmbeddingImpl : public torch::nn::Module {
 public:
  /// padding_idx < 0: none.
  TokenEmbeddingImpl(int64_t vocab, int64_t dim, int64_t padding_idx, const BuildOptions& opts);
  torch::Tensor forward(const torch::Tensor& ids);  // [B, T] int64 -> [B, T, C]
  torch::Tensor weight;                             ///< [V, C]

 private:
  int64_t padding_idx_;
};
TORCH_MODULE(TokenEmbedding);

}  // namespace apportion
