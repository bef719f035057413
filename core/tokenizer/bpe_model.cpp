// SPDX-License-Identifier: GPL-3.0-or-later
// BPE as in Hugging Face tokenizers (models/bpe/model.rs and word.rs), with a piece cache.
#include "core/tokenizer/bpe_model.h"

#include <cstdio>
#include <functional>
#include <queue>

#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

/// Cache limits: pieces longer than this are not cached, and the cache stops growing at
/// kCacheEntries (Hugging Face's policy; typical text reuses a few thousand words).
constexpr size_t kCacheMaxPiece = 256;
constexpr size_t kCacheEntries = 200000;
/// Largest id accepted in a vocabulary (guards the id -> token table against absurd ids).
constexpr int64_t kMaxVocabId = 16 * 1024 * 1024;

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

BpeModel::BpeModel(const JsonField& model) {
  model.require_object();
  if (auto type = model.find("type")) {
    const std::string t = type->as_string();
    if (t != "BPE") {
      type->fail("unsupported \"" + t + "\"",
                 "Apportion reads BPE tokenizer.json files (LLaMA, Mistral, Qwen, GPT-2) and "
                 "SentencePiece tokenizer.model files; convert the tokenizer or use one of those");
    }
  }
  parse_vocab(model.at("vocab"));
  parse_merges(model.at("merges"));
  if (auto unk = model.find("unk_token")) {
    const std::string token = unk->as_string();
    auto it = vocab_.find(token);
    if (it == vocab_.end()) {
      unk->fail("\"" + token + "\" is not in model.vocab",
                "the file is corrupt; re-download it or set unk_token to null");
    }
    unk_id_ = it->second;
  }
  fuse_unk_ = model.get_bool("fuse_unk", false);
  byte_fallback_ = model.get_bool("byte_fallback", false);
  ignore_merges_ = model.get_bool("ignore_merges", false);
  prefix_ = model.get_string("continuing_subword_prefix", "");
  suffix_ = model.get_string("end_of_word_suffix", "");
  byte_tokens_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = vocab_.find(name);
    if (it != vocab_.end()) byte_tokens_[b] = it->second;
  }
}

void BpeModel::parse_vocab(const JsonField& vocab) {
  if (!vocab.value().is_object()) {
    vocab.fail("expected an object {token: id}, found " + json_kind(vocab.value()),
               "the file is corrupt or not a BPE tokenizer.json");
  }
  if (vocab.value().empty()) vocab.fail("is empty", "the file is corrupt; re-download it");
  vocab_.reserve(vocab.value().size());
  int64_t limit = 0;
  for (const auto& [token, id_value] : vocab.value().items()) {
    if (!id_value.is_number_integer() || id_value.get<int64_t>() < 0 ||
        id_value.get<int64_t>() >= kMaxVocabId) {
      JsonField(id_value, vocab.file(), vocab.path() + "[\"" + token + "\"]")
          .fail("expected a token id (an integer from 0), found " + id_value.dump(),
                "the file is corrupt");
    }
    const int64_t id = id_value.get<int64_t>();
    vocab_[token] = static_cast<int32_t>(id);
    limit = std::max(limit, id + 1);
  }
  tokens_.assign(static_cast<size_t>(limit), std::string());
  present_.assign(static_cast<size_t>(limit), false);
  for (const auto& [token, id] : vocab_) {
    tokens_[static_cast<size_t>(id)] = token;
    present_[static_cast<size_t>(id)] = true;
  }
}

void BpeModel::parse_merges(const JsonField& merges) {
  const size_t n = merges.array_size();
  merges_.reserve(n);
  for (size_t rank = 0; rank < n; ++rank) {
    const JsonField entry = merges.at(rank);
    std::string left, right;
    if (entry.value().is_string()) {
      const std::string line = entry.as_string();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        entry.fail("\"" + line + "\" is not two tokens separated by one space",
                   "the file is corrupt; re-download it");
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (entry.value().is_array() && entry.value().size() == 2) {
      left = entry.at(0).as_string();
      right = entry.at(1).as_string();
    } else {
      entry.fail(
          "expected \"left right\" or [\"left\", \"right\"], found " + json_kind(entry.value()),
          "the file is corrupt");
    }
    auto lookup = [&](const std::string& token) {
      auto it = vocab_.find(token);
      if (it == vocab_.end()) {
        entry.fail("token \"" + token + "\" is not in model.vocab",
                   "the merges do not belong to this vocabulary; re-download tokenizer.json");
      }
      return it->second;
    };
    const int32_t l = lookup(left), r = lookup(right);
    const int32_t merged = lookup(left + right);
    merges_.emplace(pair_key(l, r), Merge{static_cast<int32_t>(rank), merged});
  }
}

std::optional<int64_t> BpeModel::token_to_id(const std::string& token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int64_t id) const {
  if (id < 0 || id >= id_limit() || !present_[static_cast<size_t>(id)]) return nullptr;
  return &tokens_[static_cast<size_t>(id)];
}

std::optional<int64_t> BpeModel::unk_id() const {
  if (unk_id_ < 0) return std::nullopt;
  return unk_id_;
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::initial_symbols(const std::string& piece, std::vector<int32_t>& ids) const {
  int32_t pending_unk = -1;  // an unknown run not yet emitted (fuse_unk joins runs)
  size_t i = 0;
  std::string symbol;
  while (i < piece.size()) {
    const size_t start = i;
    utf8_next(piece, i);
    symbol.clear();
    if (start > 0) symbol += prefix_;
    symbol.append(piece, start, i - start);
    if (i == piece.size()) symbol += suffix_;
    auto it = vocab_.find(symbol);
    if (it != vocab_.end()) {
      if (pending_unk >= 0) ids.push_back(pending_unk), pending_unk = -1;
      ids.push_back(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : symbol) all = all && byte_tokens_[b] >= 0;
      if (all) {
        if (pending_unk >= 0) ids.push_back(pending_unk), pending_unk = -1;
        for (unsigned char b : symbol) ids.push_back(byte_tokens_[b]);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk >= 0 && !fuse_unk_) ids.push_back(pending_unk);
      pending_unk = unk_id_;
    }
    // Without an unk token the character is dropped, as Hugging Face does.
  }
  if (pending_unk >= 0) ids.push_back(pending_unk);
}

void BpeModel::merge_symbols(std::vector<int32_t>& ids) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int k = 0; k < n; ++k) prev[k] = k - 1, next[k] = k + 1 < n ? k + 1 : -1;
  struct Candidate {
    int32_t rank;
    int pos;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  for (int k = 0; k + 1 < n; ++k) {
    if (const Merge* m = find_merge(ids[k], ids[k + 1])) queue.push({m->rank, k});
  }
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    if (!alive[c.pos] || next[c.pos] < 0) continue;
    const int right = next[c.pos];
    const Merge* m = find_merge(ids[c.pos], ids[right]);
    if (m == nullptr || m->rank != c.rank) continue;  // stale: the pair has changed
    ids[c.pos] = m->new_id;
    alive[right] = false;
    next[c.pos] = next[right];
    if (next[c.pos] >= 0) prev[next[c.pos]] = c.pos;
    if (prev[c.pos] >= 0) {
      if (const Merge* l = find_merge(ids[prev[c.pos]], ids[c.pos])) {
        queue.push({l->rank, prev[c.pos]});
      }
    }
    if (next[c.pos] >= 0) {
      if (const Merge* r = find_merge(ids[c.pos], ids[next[c.pos]])) queue.push({r->rank, c.pos});
    }
  }
  std::vector<int32_t> merged;
  for (int k = 0; k >= 0; k = next[k]) merged.push_back(ids[k]);
  ids = std::move(merged);
}

void BpeModel::tokenize(const std::string& piece, std::vector<int64_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    auto it = vocab_.find(piece);
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = piece.size() <= kCacheMaxPiece;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  initial_symbols(piece, ids);
  merge_symbols(ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheEntries) cache_.emplace(piece, std::move(ids));
  }
}

}  // namespace apportion::tok
