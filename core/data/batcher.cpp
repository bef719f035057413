// SPDX-License-Identifier: GPL-3.0-or-later
// Batcher (BOS prompt answer EOS rows, right-padded, with next-token labels) and the pure
// per-epoch-permutation index sampler.
//
// Rows are built from ids: an example's cached prompt_ids/answer_ids, or the ids
// tokenize_prompt_answer gives for its text (the token cache uses the same function).
//
// Tokenisation follows alpaca-lora: the row is tokenize(prompt + answer) with the tokenizer's
// special tokens (BOS for LLaMA), and the prompt part is as long as tokenize(prompt) alone.
// Truncation: a row longer than max_seq_len loses prompt tokens from the LEFT (BOS stays first),
// so the answer and EOS survive; only if BOS + answer + EOS alone exceed the limit is the row
// cut at the right end (answer tail, EOS). Text documents are cut at the right end.
#include "core/data/batcher.h"

#include <algorithm>
#include <limits>
#include <map>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/data/rng.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"

namespace apportion {

namespace {

/// One tokenised row: ids plus, per position, its label and whether the target is an answer.
struct Row {
  std::vector<int64_t> ids;
  std::vector<int64_t> labels;
  std::vector<uint8_t> answer;
};

Batch assemble(const std::vector<Row>& rows, std::vector<std::string> tasks, int64_t pad) {
  size_t longest = 0;
  int64_t tokens = 0;
  for (const Row& row : rows) {
    longest = std::max(longest, row.ids.size());
    tokens += static_cast<int64_t>(row.ids.size());
  }
  const auto b = static_cast<int64_t>(rows.size());
  const auto t = static_cast<int64_t>(longest);
  std::vector<int64_t> ids(static_cast<size_t>(b * t), pad);
  std::vector<int64_t> mask(static_cast<size_t>(b * t), 0);
  std::vector<int64_t> labels(static_cast<size_t>(b * t), kIgnoreIndex);
  std::vector<uint8_t> answer(static_cast<size_t>(b * t), 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t base = r * longest;
    for (size_t p = 0; p < rows[r].ids.size(); ++p) {
      ids[base + p] = rows[r].ids[p];
      mask[base + p] = 1;
      labels[base + p] = rows[r].labels[p];
      answer[base + p] = rows[r].answer[p];
    }
  }
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  Batch batch;
  batch.input_ids = torch::from_blob(ids.data(), {b, t}, i64).clone();
  batch.attention_mask = torch::from_blob(mask.data(), {b, t}, i64).clone();
  batch.labels = torch::from_blob(labels.data(), {b, t}, i64).clone();
  batch.answer_mask =
      torch::from_blob(answer.data(), {b, t}, torch::TensorOptions().dtype(torch::kUInt8))
          .to(torch::kBool);
  batch.tasks = std::move(tasks);
  batch.total_tokens = b * t;
  batch.padding_tokens = batch.total_tokens - tokens;
  return batch;
}

}  // namespace

Batcher::Batcher(int max_seq_len, bool train_on_inputs)
    : Batcher(std::make_shared<tok::BuiltinByteTokenizer>(), max_seq_len, train_on_inputs, true) {}

Batcher::Batcher(std::shared_ptr<const Tokenizer> tokenizer,
                 int max_seq_len,
                 bool train_on_inputs,
                 bool add_eos)
    : tokenizer_(std::move(tokenizer)),
      max_seq_len_(max_seq_len),
      train_on_inputs_(train_on_inputs),
      add_eos_(add_eos) {
  AP_CHECK_AS(ConfigError, max_seq_len >= 2, "data.max_seq_len: must be at least 2, got ",
              max_seq_len);
  AP_CHECK(tokenizer_ != nullptr, "Batcher: no tokenizer");
}

PromptAnswerIds tokenize_prompt_answer(const Tokenizer& tok,
                                       const std::string& prompt,
                                       const std::string& answer) {
  const std::vector<int64_t> full = tok.encode(prompt + answer, /*add_special_tokens=*/true);
  const size_t prompt_len =
      std::min(full.size(), tok.encode(prompt, /*add_special_tokens=*/true).size());
  PromptAnswerIds out;
  out.prompt_ids.reserve(prompt_len);
  out.answer_ids.reserve(full.size() - prompt_len);
  for (size_t i = 0; i < full.size(); ++i) {
    AP_CHECK_AS(DataError, full[i] >= 0 && full[i] <= std::numeric_limits<int32_t>::max(),
                "tokenize_prompt_answer: token id ", full[i], " does not fit in int32");
    (i < prompt_len ? out.prompt_ids : out.answer_ids).push_back(static_cast<int32_t>(full[i]));
  }
  return out;
}

Batch Batcher::make_batch(const std::vector<const Example*>& examples) const {
  AP_CHECK_AS(DataError, !examples.empty(), "make_batch: no examples");
  std::vector<Row> rows;
  std::vector<std::string> tasks;
  const auto limit = static_cast<size_t>(max_seq_len_);
  const Tokenizer& tok = *tokenizer_;
  const auto bos = tok.bos_id();
  for (const Example* ex : examples) {
    AP_CHECK_AS(DataError, ex != nullptr, "make_batch: null example");
    PromptAnswerIds fresh;
    const bool cached = !ex->prompt_ids.empty() || !ex->answer_ids.empty();
    if (!cached) fresh = tokenize_prompt_answer(tok, ex->prompt, ex->answer);
    const std::vector<int32_t>& p_ids = cached ? ex->prompt_ids : fresh.prompt_ids;
    const std::vector<int32_t>& a_ids = cached ? ex->answer_ids : fresh.answer_ids;
    // Leading special tokens (BOS) stay in front; the rest splits into prompt and answer.
    size_t lead = 0;
    while (lead < p_ids.size() && bos && p_ids[lead] == *bos) ++lead;
    std::vector<int64_t> head(p_ids.begin(), p_ids.begin() + static_cast<std::ptrdiff_t>(lead));
    std::vector<int64_t> prompt(p_ids.begin() + static_cast<std::ptrdiff_t>(lead), p_ids.end());
    std::vector<int64_t> answer(a_ids.begin(), a_ids.end());
    if (add_eos_ && tok.eos_id()) answer.push_back(*tok.eos_id());
    // Keep head + answer (+ EOS); drop prompt tokens from the left until the row fits.
    const size_t fixed = head.size() + answer.size();
    const size_t keep_prompt = fixed >= limit ? 0 : std::min(prompt.size(), limit - fixed);
    prompt.erase(prompt.begin(), prompt.end() - static_cast<std::ptrdiff_t>(keep_prompt));
    Row row;
    row.ids = head;
    row.ids.insert(row.ids.end(), prompt.begin(), prompt.end());
    row.ids.insert(row.ids.end(), answer.begin(), answer.end());
    if (row.ids.size() > limit) {
      row.ids.resize(limit);  // answer alone too long: cut its tail (and EOS)
    }
    const size_t prompt_end = head.size() + prompt.size();  // first answer position
    // labels[p] = ids[p + 1]; the target at p + 1 is a prompt token when p + 1 < prompt_end.
    const size_t n = row.ids.size();
    row.labels.assign(n, kIgnoreIndex);
    row.answer.assign(n, 0);
    for (size_t p = 0; p + 1 < n; ++p) {
      const bool target_in_prompt = p + 1 < prompt_end;
      row.answer[p] = target_in_prompt ? 0 : 1;
      if (!target_in_prompt || train_on_inputs_) {
        row.labels[p] = row.ids[p + 1];
      }
    }
    rows.push_back(std::move(row));
    tasks.push_back(ex->task);
  }
  return assemble(rows, std::move(tasks), tokenizer_->pad_id());
}

Batch Batcher::make_text_batch(const std::vector<const std::string*>& documents) const {
  AP_CHECK_AS(DataError, !documents.empty(), "make_text_batch: no documents");
  std::vector<Row> rows;
  const auto limit = static_cast<size_t>(max_seq_len_);
  for (const std::string* doc : documents) {
    AP_CHECK_AS(DataError, doc != nullptr, "make_text_batch: null document");
    Row row;
    row.ids = tokenizer_->encode(*doc, /*add_special_tokens=*/true);
    if (add_eos_ && tokenizer_->eos_id()) row.ids.push_back(*tokenizer_->eos_id());
    if (row.ids.size() > limit) {
      row.ids.resize(limit);
    }
    const size_t n = row.ids.size();
    row.labels.assign(n, kIgnoreIndex);
    row.answer.assign(n, 0);
    for (size_t p = 0; p + 1 < n; ++p) {
      row.labels[p] = row.ids[p + 1];
      row.answer[p] = 1;  // every target of a document counts
    }
    rows.push_back(std::move(row));
  }
  return assemble(rows, std::vector<std::string>(documents.size(), "text"), tokenizer_->pad_id());
}

std::vector<int64_t> sample_indices(
    int64_t n, int batch_size, uint64_t seed, int64_t step, int micro, int micro_per_step) {
  AP_CHECK(n > 0, "sample_indices: dataset is empty");
  AP_CHECK(batch_size > 0, "sample_indices: batch_size must be > 0, got ", batch_size);
  AP_CHECK(step >= 0, "sample_indices: step must be >= 0, got ", step);
  AP_CHECK(micro_per_step > 0 && micro >= 0 && micro < micro_per_step, "sample_indices: micro ",
           micro, " not in [0, ", micro_per_step, ")");
  std::map<int64_t, std::vector<int64_t>> permutations;  // epoch -> permutation of [0, n)
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(batch_size));
  const int64_t first = (step * micro_per_step + micro) * static_cast<int64_t>(batch_size);
  for (int j = 0; j < batch_size; ++j) {
    const int64_t g = first + j;
    const int64_t epoch = g / n;
    auto it = permutations.find(epoch);
    if (it == permutations.end()) {
      std::vector<int64_t> perm(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        perm[static_cast<size_t>(i)] = i;
      }
      SplitMix64 rng(mix_seed(seed, static_cast<uint64_t>(epoch)));
      rng.shuffle(perm);
      it = permutations.emplace(epoch, std::move(perm)).first;
    }
    out.push_back(it->second[static_cast<size_t>(g % n)]);
  }
  return out;
}

}  // namespace apportion
