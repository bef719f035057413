// SPDX-License-Identifier: GPL-3.0-or-later
// SentencePieceTokenizer: libsentencepiece behind the Tokenizer interface.
#include "core/tokenizer/sentencepiece_tokenizer.h"

#include "core/common/error.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path,
                                               const FolderTokenConfig& folder)
    : path_(path), sp_(std::make_unique<SentencePieceModel>(path)) {
  std::vector<AddedToken> specials;
  for (int id = 0; id < sp_->piece_size(); ++id) {
    if (sp_->is_control(id) || sp_->is_unknown(id)) {
      const std::string piece = sp_->id_to_piece(id);
      if (!piece.empty()) specials.push_back({piece, id, /*special=*/true});
    }
  }
  specials_ = AddedVocabulary(std::move(specials), nullptr);
  add_bos_ = folder.add_bos_token.value_or(true);
  add_eos_ = folder.add_eos_token.value_or(false);
  std::optional<int64_t> pad;
  if (folder.pad_token) pad = token_to_id(*folder.pad_token);
  if (!pad && sp_->pad_id() >= 0) pad = sp_->pad_id();
  if (!pad) pad = folder.pad_token_id;
  pad_id_ = pad.value_or(0);
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text,
                                                    bool add_special_tokens) const {
  std::vector<int64_t> ids;
  if (add_special_tokens && add_bos_ && sp_->bos_id() >= 0) ids.push_back(sp_->bos_id());
  for (const TextSegment& seg : specials_.split(utf8_lossy(text), /*normalized=*/false)) {
    if (seg.token_id >= 0) {
      ids.push_back(seg.token_id);
      continue;
    }
    if (seg.text.empty()) continue;
    const std::vector<int> piece_ids = sp_->encode(seg.text);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }
  if (add_special_tokens && add_eos_ && sp_->eos_id() >= 0) ids.push_back(sp_->eos_id());
  return ids;
}

bool SentencePieceTokenizer::is_special(int64_t id) const {
  const int i = static_cast<int>(id);
  return sp_->is_control(i) || sp_->is_unknown(i);
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids,
                                           bool skip_special_tokens) const {
  std::string text;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    text += sp_->decode(run);
    run.clear();
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size()) {
      throw TokenizerError("token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is not in the vocabulary of " + path_ + " (" +
                           std::to_string(vocab_size()) +
                           " ids); decode ids made with this tokenizer");
    }
    if (is_special(ids[i])) {
      flush();
      if (!skip_special_tokens) text += sp_->id_to_piece(static_cast<int>(ids[i]));
      continue;
    }
    run.push_back(static_cast<int>(ids[i]));
  }
  flush();
  return text;
}

int64_t SentencePieceTokenizer::vocab_size() const { return sp_->piece_size(); }

std::optional<int64_t> SentencePieceTokenizer::bos_id() const {
  if (sp_->bos_id() < 0) return std::nullopt;
  return sp_->bos_id();
}

std::optional<int64_t> SentencePieceTokenizer::eos_id() const {
  if (sp_->eos_id() < 0) return std::nullopt;
  return sp_->eos_id();
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return std::nullopt;
  return sp_->id_to_piece(static_cast<int>(id));
}

std::optional<int64_t> SentencePieceTokenizer::token_to_id(const std::string& token) const {
  const int id = sp_->piece_to_id(token);
  if (id < 0 || id >= sp_->piece_size() || sp_->id_to_piece(id) != token) return std::nullopt;
  return id;
}

}  // namespace apportion::tok
