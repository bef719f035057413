// SPDX-License-Identifier: GPL-3.0-or-later
// Added/special token matching (Hugging Face added_vocabulary.rs semantics).
#include "core/tokenizer/added_vocabulary.h"

#include "core/tokenizer/unicode_text.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

/// The code point that ends at byte `end` of well-formed UTF-8 `s` (end > 0).
char32_t char_before(const std::string& s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return utf8_next(s, start);
}

char32_t char_at(const std::string& s, size_t pos) { return utf8_next(s, pos); }

}  // namespace

void AddedVocabulary::Trie::insert(const std::string& key, int token) {
  int node = 0;
  for (unsigned char c : key) {
    auto it = nodes[node].children.find(c);
    if (it == nodes[node].children.end()) {
      nodes.push_back(Node{});
      const int child = static_cast<int>(nodes.size()) - 1;
      nodes[node].children.emplace(c, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  if (nodes[node].token < 0) nodes[node].token = token;  // the first token of a content wins
}

std::pair<int, size_t> AddedVocabulary::Trie::longest(const std::string& text, size_t pos) const {
  std::pair<int, size_t> best{-1, 0};
  int node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto& children = nodes[node].children;
    auto it = children.find(static_cast<unsigned char>(text[i]));
    if (it == children.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) best = {nodes[node].token, i + 1 - pos};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens,
                                 const std::function<std::string(const std::string&)>& normalize)
    : tokens_(std::move(tokens)) {
  for (size_t k = 0; k < tokens_.size(); ++k) {
    const AddedToken& t = tokens_[k];
    by_id_.emplace(t.id, k);
    by_content_.emplace(t.content, k);
    if (t.content.empty()) continue;
    if (t.normalized) {
      const std::string key = normalize ? normalize(t.content) : t.content;
      if (!key.empty()) normalized_trie_.insert(key, static_cast<int>(k));
    } else {
      raw_trie_.insert(t.content, static_cast<int>(k));
    }
  }
}

std::vector<TextSegment> AddedVocabulary::split(const std::string& text, bool normalized) const {
  const Trie& trie = normalized ? normalized_trie_ : raw_trie_;
  std::vector<TextSegment> out;
  if (trie.nodes[0].children.empty()) {
    out.push_back({text, -1, 0});
    return out;
  }
  size_t emitted = 0;  // end of what is already in `out`
  size_t pos = 0;
  while (pos < text.size()) {
    const auto [index, length] = trie.longest(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<size_t>(index)];
    size_t start = pos, stop = pos + length;
    pos = stop;  // matches never overlap, even a discarded one
    if (token.single_word) {
      const bool word_before = start > 0 && is_word_char(char_before(text, start));
      const bool word_after = stop < text.size() && is_word_char(char_at(text, stop));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      size_t s = start;
      while (s > emitted && is_unicode_whitespace(char_before(text, s))) {
        size_t back = s - 1;
        while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
        s = back;
      }
      start = s;
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_unicode_whitespace(utf8_next(text, next))) break;
        stop = next;
      }
      pos = stop;
    }
    if (start > emitted) out.push_back({text.substr(emitted, start - emitted), -1, emitted});
    out.push_back({std::string(), token.id, start});
    emitted = stop;
  }
  if (emitted < text.size() || out.empty()) {
    out.push_back({text.substr(emitted), -1, emitted});
  }
  return out;
}

const AddedToken* AddedVocabulary::find_id(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int64_t> AddedVocabulary::find_content(const std::string& content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

}  // namespace apportion::tok
