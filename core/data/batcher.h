// SPDX-License-Identifier: GPL-3.0-or-later
// Batching: tokenises examples as [BOS] prompt answer [EOS] with the run's tokenizer (the
// built-in byte tokenizer by default, or a Hugging Face one), truncates to the cutoff length,
// pads (right) with the tokenizer's PAD, and builds labels with -100 on padding and, unless
// train_on_inputs, on the prompt. Index sampling is a pure function of (seed, step), so a resumed
// run sees the same data. Legend: B batch, T time.
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
};

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
  /// Builds the batch of the given examples (T = longest row, at most max_seq_len).
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
