// SPDX-License-Identifier: GPL-3.0-or-later
// BpeModel: tokenizer.json's "model" of type BPE (vocab + ranked merges), as Hugging Face's
// tokenizers applies it: lowest-rank pair first, leftmost among equals; ignore_merges (a piece
// that is itself a token is kept whole), byte_fallback (<0xNN> tokens), unk_token and fuse_unk,
// continuing_subword_prefix and end_of_word_suffix. Results per piece are cached.
// `dropout` is ignored: encoding is always deterministic.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {

class BpeModel {
 public:
  /// Parses tokenizer.json's "model"; TokenizerError names the field (model.type,
  /// model.vocab, model.merges[i], model.unk_token) and what to do.
  explicit BpeModel(const JsonField& model);

  /// Appends the ids of one pre-token.
  void tokenize(const std::string& piece, std::vector<int64_t>& out) const;
  std::optional<int64_t> token_to_id(const std::string& token) const;
  /// The token of an id, or nullptr when the vocabulary has no such id.
  const std::string* id_to_token(int64_t id) const;
  /// One past the largest id of the vocabulary.
  int64_t id_limit() const { return static_cast<int64_t>(tokens_.size()); }
  std::optional<int64_t> unk_id() const;

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  void parse_vocab(const JsonField& vocab);
  void parse_merges(const JsonField& merges);
  /// Symbols of a piece before merging (chars, byte fallback, unk).
  void initial_symbols(const std::string& piece, std::vector<int32_t>& ids) const;
  void merge_symbols(std::vector<int32_t>& ids) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> tokens_;  ///< by id; empty where the vocabulary has a gap
  std::vector<bool> present_;        ///< whether tokens_[id] is a vocabulary entry
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int32_t, 256> byte_tokens_{};  ///< id of "<0xNN>", or -1
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string prefix_;  ///< continuing_subword_prefix
  std::string suffix_;  ///< end_of_word_suffix

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace apportion::tok
