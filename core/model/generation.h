// SPDX-License-Identifier: GPL-3.0-or-later
// Greedy decoding for a batch of prompts with a KV cache: prompts are left-padded (the mask
// keeps padding invisible and positions start at each prompt's first token, as HF generate),
// each row stops at an EOS id or after max_new_tokens. Torch-free interface (token ids in and
// out), so callers need no tensors.
//
// Intended usage:
//   GenerationOptions opt;
//   opt.max_new_tokens = 32;
//   GenerationResult r = generate_greedy(model, {{1, 15, 7}, {1, 9}}, opt);
//   // r.tokens[i]: the new tokens of prompt i (its EOS included when it stopped at one)
#pragma once

#include <cstdint>
#include <vector>

namespace apportion {

class TransformerLM;

struct GenerationOptions {
  int max_new_tokens = 32;
  /// Stop ids; empty: the model config's eos_token_ids.
  std::vector<int64_t> eos_token_ids;
  /// Id used for left padding and after a row finished; -1: the config's pad id, else 0.
  int64_t pad_token_id = -1;
  /// false: recompute the whole sequence every step (slow; for checking the cache).
  bool use_cache = true;
};

struct GenerationResult {
  std::vector<std::vector<int64_t>> tokens;  ///< [prompt] generated ids, EOS included if hit
  std::vector<bool> stopped_at_eos;          ///< [prompt]
};

/// Greedy (argmax) decoding in eval mode without gradients; the model's training flag is
/// restored afterwards. Throws ModelError for an empty prompt or an id outside the vocabulary.
GenerationResult generate_greedy(TransformerLM& model,
                                 const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options = {});

}  // namespace apportion
