// SPDX-License-Identifier: GPL-3.0-or-later
// LengthBucketSampler: per-epoch orders built from seeded permutations, mega-chunk length sorts
// and a seeded shuffle of the resulting micro-batches; memoised per epoch.
#include "core/data/length_buckets.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <numeric>

#include "core/common/error.h"
#include "core/data/rng.h"

namespace apportion {

namespace {
/// Separates this sampler's random stream from sample_indices' for the same seed.
constexpr uint64_t kStreamSalt = 0x4C454E4742554B54ULL;  // "LENGBUKT"
}  // namespace

LengthBucketSampler::LengthBucketSampler(std::vector<int32_t> lengths,
                                         int micro_batch_size,
                                         int micro_per_step,
                                         uint64_t seed)
    : lengths_(std::move(lengths)),
      micro_batch_size_(micro_batch_size),
      micro_per_step_(micro_per_step),
      seed_(seed) {
  AP_CHECK_AS(DataError, !lengths_.empty(), "LengthBucketSampler: dataset is empty");
  AP_CHECK_AS(ConfigError, micro_batch_size > 0,
              "LengthBucketSampler: micro_batch_size must be > 0, got ", micro_batch_size);
  AP_CHECK_AS(ConfigError, micro_per_step > 0,
              "LengthBucketSampler: micro_per_step must be > 0, got ", micro_per_step);
}

std::vector<int64_t> LengthBucketSampler::build_epoch(int64_t epoch) const {
  const int64_t n = size();
  const int64_t b = micro_batch_size_;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  SplitMix64 rng(mix_seed(mix_seed(seed_, kStreamSalt), static_cast<uint64_t>(epoch)));
  rng.shuffle(perm);
  // This epoch starts at global sample epoch*n; (epoch*n) mod b without overflow.
  const int64_t offset = ((epoch % b) * (n % b)) % b;
  const int64_t head = std::min(n, (b - offset) % b);
  const auto rest_begin = perm.begin() + static_cast<std::ptrdiff_t>(head);
  const int64_t rest = n - head;
  const int64_t chunk = b * kChunkBatches;
  for (int64_t c = 0; c < rest; c += chunk) {
    const auto from = rest_begin + static_cast<std::ptrdiff_t>(c);
    const auto to = rest_begin + static_cast<std::ptrdiff_t>(std::min(rest, c + chunk));
    std::stable_sort(from, to, [this](int64_t x, int64_t y) {
      return lengths_[static_cast<size_t>(x)] < lengths_[static_cast<size_t>(y)];
    });
  }
  // Full micro-batches in a seeded order; the partial one (the last chunk's longest) stays last.
  const int64_t full = rest / b;
  std::vector<int64_t> order(static_cast<size_t>(full));
  std::iota(order.begin(), order.end(), int64_t{0});
  rng.shuffle(order);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(n));
  out.insert(out.end(), perm.begin(), rest_begin);
  for (int64_t o : order) {
    const auto from = rest_begin + static_cast<std::ptrdiff_t>(o * b);
    out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(b));
  }
  out.insert(out.end(), rest_begin + static_cast<std::ptrdiff_t>(full * b), perm.end());
  return out;
}

const std::vector<int64_t>& LengthBucketSampler::epoch_order(int64_t epoch) const {
  AP_CHECK(epoch >= 0, "LengthBucketSampler: epoch must be >= 0, got ", epoch);
  auto it = epochs_.find(epoch);
  if (it != epochs_.end()) return it->second;
  // Keep at most two epochs (a micro-batch can straddle two); drop the one farthest away.
  while (epochs_.size() >= 2) {
    auto far = epochs_.begin();
    if (std::llabs(std::prev(epochs_.end())->first - epoch) > std::llabs(far->first - epoch)) {
      far = std::prev(epochs_.end());
    }
    epochs_.erase(far);
  }
  return epochs_.emplace(epoch, build_epoch(epoch)).first->second;
}

std::vector<int64_t> LengthBucketSampler::indices(int64_t step, int micro) const {
  AP_CHECK(step >= 0, "LengthBucketSampler: step must be >= 0, got ", step);
  AP_CHECK(micro >= 0 && micro < micro_per_step_, "LengthBucketSampler: micro ", micro,
           " not in [0, ", micro_per_step_, ")");
  const int64_t n = size();
  const int64_t first = (step * micro_per_step_ + micro) * static_cast<int64_t>(micro_batch_size_);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(micro_batch_size_));
  for (int j = 0; j < micro_batch_size_; ++j) {
    const int64_t g = first + j;
    out.push_back(epoch_order(g / n)[static_cast<size_t>(g % n)]);
  }
  return out;
}

std::vector<int32_t> token_lengths(const std::vector<Example>& examples, bool add_eos) {
  std::vector<int32_t> out;
  out.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& ex = examples[i];
    const bool tokenised = !ex.prompt_ids.empty() || !ex.answer_ids.empty();
    AP_CHECK_AS(DataError, tokenised || (ex.prompt.empty() && ex.answer.empty()),
                "token_lengths: example ", i, " is not tokenised (tokenize_with_cache first)");
    out.push_back(static_cast<int32_t>(ex.prompt_ids.size() + ex.answer_ids.size()) +
                  (add_eos ? 1 : 0));
  }
  return out;
}

PaddingCount count_padding(const std::vector<int32_t>& lengths,
                           const std::vector<int64_t>& batch,
                           int max_seq_len) {
  PaddingCount out;
  int64_t longest = 0;
  int64_t tokens = 0;
  for (int64_t i : batch) {
    AP_CHECK(i >= 0 && i < static_cast<int64_t>(lengths.size()), "count_padding: index ", i,
             " out of range");
    int64_t len = lengths[static_cast<size_t>(i)];
    if (max_seq_len > 0) len = std::min<int64_t>(len, max_seq_len);
    longest = std::max(longest, len);
    tokens += len;
  }
  out.total = longest * static_cast<int64_t>(batch.size());
  out.padding = out.total - tokens;
  return out;
}

}  // namespace apportion
