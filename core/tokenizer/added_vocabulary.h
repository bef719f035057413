// SPDX-License-Identifier: GPL-3.0-or-later
// AddedVocabulary: the added and special tokens of a tokenizer, found in text before anything
// else, as Hugging Face's AddedVocabulary does: leftmost-longest matching, with the single_word,
// lstrip and rstrip options; normalized tokens are matched in normalized text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace apportion::tok {

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

/// A stretch of text, or an added token found in it.
struct TextSegment {
  std::string text;       ///< the text (empty for a token)
  int64_t token_id = -1;  ///< >= 0 for an added token
  size_t offset = 0;      ///< byte offset of the stretch in the text that was split
};

class AddedVocabulary {
 public:
  /// `normalize` turns the content of normalized tokens into the form they take in normalized
  /// text (nullptr: no normalizer).
  AddedVocabulary(std::vector<AddedToken> tokens,
                  const std::function<std::string(const std::string&)>& normalize);
  AddedVocabulary() = default;

  /// Splits raw text at the non-normalized tokens (pass normalized=false) or normalized text at
  /// the normalized ones (true).
  std::vector<TextSegment> split(const std::string& text, bool normalized) const;
  const AddedToken* find_id(int64_t id) const;
  std::optional<int64_t> find_content(const std::string& content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  /// A byte trie over the token contents for one matching set.
  struct Trie {
    struct Node {
      std::map<unsigned char, int> children;
      int token = -1;  ///< index into tokens_, or -1
    };
    std::vector<Node> nodes{Node{}};
    void insert(const std::string& key, int token);
    /// Longest key starting at text[pos]: (token index, length) or token -1.
    std::pair<int, size_t> longest(const std::string& text, size_t pos) const;
  };

  std::vector<AddedToken> tokens_;
  std::unordered_map<int64_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  Trie raw_trie_;
  Trie normalized_trie_;
};

}  // namespace apportion::tok
