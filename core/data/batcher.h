// SPDX-License-Identifier: GPL-3.0-or-later
// Batching: tokenises examples as [BOS] prompt answer [EOS] with the run's tokenizer (the
// built-in byte tokenizer by default, or a Hugging Face one), truncates to the cutoff length,
// pads (right) with the tokenizer's PAD, and builds labels with -100 on padding and, unless
// train_on_inputs, on the prompt. Examples that carry pre-tokenised ids (the token cache,
// core/data/token_cache.h) are not tokenised again; tokenize_prompt_answer is the one place both
// paths get their ids from, so they cannot differ. Index sampling is a pure function of
// (seed, step), so a resumed run sees the same data. Legend: B batch, T time.
//
// Intended usage:
//   Batcher batcher(tokenizer, cfg.max_seq_len, cfg.train_on_inputs);
//   std::vector<int64_t> idx = sample_indices(n, micro_batch, seed, step, micro, accum);
//   std::vector<const Example*> rows;  // &train[i] for i in idx (LengthBucketSampler works too)
//   Batch batch = batcher.make_batch(rows);  // uses ex.prompt_ids / answer_ids when filled
//   double padding = double(batch.padding_tokens) / double(batch.total_tokens);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "core/data/task_suite.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

/// Label value ignored by the loss.
inline constexpr int64_t kIgnoreIndex = -100;

struct Batch {
  at::Tensor input_ids;            ///< [B, T] int64
  at::Tensor attention_mask;       ///< [B, T] int64, 1 = token, 0 = padding
  at::Tensor labels;               ///< [B, T] int64, next-token targets aligned with input_ids
                                   ///< (labels[:, t] is the target for position t), -100 = ignored
  at::Tensor answer_mask;          ///< [B, T] bool: positions whose target is an answer/EOS token
  std::vector<std::string> tasks;  ///< task of each row
  int64_t padding_tokens = 0;      ///< positions with attention_mask 0
  int64_t total_tokens = 0;        ///< B * T
};

/// The ids of one example as the Batcher uses them: prompt_ids = the first
/// len(encode(prompt, special)) ids of encode(prompt + answer, special) (so they start with the
/// BOS the tokenizer adds), answer_ids = the rest (without the EOS the Batcher appends).
struct PromptAnswerIds {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> answer_ids;
};

/// Tokenises one prompt/answer pair (alpaca-lora's convention, above). DataError when an id does
/// not fit in int32. Safe to call concurrently when the tokenizer's encode is.
PromptAnswerIds tokenize_prompt_answer(const Tokenizer& tok,
                                       const std::string& prompt,
                                       const std::string& answer);

class Batcher {
 public:
  /// With the built-in byte tokenizer.
  Batcher(int max_seq_len, bool train_on_inputs);
  /// With any tokenizer; add_eos appends its EOS (when it has one) to every row.
  Batcher(std::shared_ptr<const Tokenizer> tokenizer,
          int max_seq_len,
          bool train_on_inputs,
          bool add_eos = true);
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  /// Builds the batch of the given examples (T = longest row, at most max_seq_len). An example
  /// with prompt_ids or answer_ids filled is taken from its ids (they must come from this
  /// batcher's tokenizer, via tokenize_prompt_answer); otherwise its text is tokenised.
  Batch make_batch(const std::vector<const Example*>& examples) const;
  /// Text documents for pretraining: every position is a target (except padding).
  Batch make_text_batch(const std::vector<const std::string*>& documents) const;

 private:
  std::shared_ptr<const Tokenizer> tokenizer_;
  int max_seq_len_;
  bool train_on_inputs_;
  bool add_eos_ = true;
};

/// Indices of the micro-batch `micro` of optimiser step `step`: a deterministic function of
/// (seed, step, micro), drawn from a per-epoch permutation of [0, n).
std::vector<int64_t> sample_indices(
    int64_t n, int batch_size, uint64_t seed, int64_t step, int micro, int micro_per_step);

}  // namespace apportion
