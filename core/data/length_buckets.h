// SPDX-License-Identifier: GPL-3.0-or-later
// Length-bucketed sampling: micro-batches of examples of similar token length, so right-padding
// to the longest row wastes little compute, while keeping sample_indices' contract: a pure
// function of (seed, step, micro) (a resumed run sees the same batches), every example once per
// epoch, and the same epoch boundaries (epoch e = global samples [e*n, (e+1)*n), where global
// sample g belongs to micro-batch g / micro_batch_size counted over steps and micro-steps).
//
// Each epoch: a seeded permutation of all examples; its first `head` examples complete the
// micro-batch that the previous epoch's last examples started (as sample_indices does when n is
// not a multiple of the micro-batch size); the rest is cut into mega-chunks of
// 50 * micro_batch_size examples, each chunk is sorted by length (stable) and cut into
// micro-batches, the full micro-batches are shuffled (seeded) and the partial one, if any, goes
// last, to be completed by the next epoch's head. See docs/DATA_LOADING.md for measurements.
//
// Intended usage:
//   tokenize_with_cache(train, tok, cache_dir, key);                 // core/data/token_cache.h
//   LengthBucketSampler sampler(token_lengths(train, /*add_eos=*/true), micro_batch, accum, seed);
//   for (int micro = 0; micro < accum; ++micro) {
//     std::vector<int64_t> idx = sampler.indices(step, micro);      // instead of sample_indices
//     ...
//   }
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/data/task_suite.h"

namespace apportion {

class LengthBucketSampler {
 public:
  /// Micro-batches per mega-chunk.
  static constexpr int kChunkBatches = 50;

  /// `lengths[i]`: token length of example i (any monotone proxy works; see token_lengths).
  /// ConfigError/DataError for an empty data set or non-positive sizes.
  LengthBucketSampler(std::vector<int32_t> lengths,
                      int micro_batch_size,
                      int micro_per_step,
                      uint64_t seed);

  /// Example indices of micro-batch `micro` of optimiser step `step` (micro_batch_size of them).
  std::vector<int64_t> indices(int64_t step, int micro) const;

  /// The order of epoch `epoch`: a permutation of [0, n) (global sample e*n + i is order[i]).
  /// The reference stays valid until the next call on this sampler.
  const std::vector<int64_t>& epoch_order(int64_t epoch) const;

  int64_t size() const { return static_cast<int64_t>(lengths_.size()); }

 private:
  std::vector<int64_t> build_epoch(int64_t epoch) const;

  std::vector<int32_t> lengths_;
  int micro_batch_size_;
  int micro_per_step_;
  uint64_t seed_;
  mutable std::map<int64_t, std::vector<int64_t>> epochs_;  ///< memo: at most two epochs
};

/// Row lengths of tokenised examples: prompt_ids + answer_ids (+ 1 for the EOS the Batcher
/// appends when add_eos). DataError for an example with text but no ids (tokenise it first).
std::vector<int32_t> token_lengths(const std::vector<Example>& examples, bool add_eos);

/// Padding of one right-padded micro-batch: rows are min(length, max_seq_len) long
/// (max_seq_len <= 0: no cap), T is the longest.
struct PaddingCount {
  int64_t padding = 0;
  int64_t total = 0;  ///< rows * T
  double fraction() const { return total > 0 ? static_cast<double>(padding) / total : 0.0; }
  PaddingCount& operator+=(const PaddingCount& o) {
    padding += o.padding;
    total += o.total;
    return *this;
  }
};
PaddingCount count_padding(const std::vector<int32_t>& lengths,
                           const std::vector<int64_t>& batch,
                           int max_seq_len);

}  // namespace apportion
