// SPDX-License-Identifier: GPL-3.0-or-later
// HfTokenizer: loading tokenizer.json and the encode/decode pipeline.
#include "core/tokenizer/hf_tokenizer.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

/// Whether any "type" member in the JSON tree equals `type`.
bool uses_type(const nlohmann::json& j, const std::string& type) {
  if (j.is_object()) {
    auto it = j.find("type");
    if (it != j.end() && it->is_string() && it->get<std::string>() == type) return true;
    for (const auto& [key, value] : j.items()) {
      if (uses_type(value, type)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& value : j) {
      if (uses_type(value, type)) return true;
    }
  }
  return false;
}

}  // namespace

HfTokenizer::HfTokenizer(const std::string& path, const FolderTokenConfig& folder) : path_(path) {
  const nlohmann::json root_json = read_json_file(path);
  const JsonField root(root_json, path, "");
  root.require_object();
  model_ = std::make_unique<BpeModel>(root.at("model"));
  if (auto n = root.find("normalizer")) normalizer_ = parse_normalizer(*n);
  if (auto p = root.find("pre_tokenizer")) pre_tokenizer_ = parse_pre_tokenizer(*p);
  if (auto p = root.find("post_processor")) post_processor_ = PostProcessor::parse(*p);
  if (auto d = root.find("decoder")) decoder_ = parse_decoder(*d);
  if (auto a = root.find("added_tokens")) parse_added_tokens(*a);

  const bool byte_level =
      uses_type(root_json.value("pre_tokenizer", nlohmann::json()), "ByteLevel") ||
      uses_type(root_json.value("decoder", nlohmann::json()), "ByteLevel");
  kind_ = byte_level ? "bpe-bytelevel" : "bpe-sentencepiece";
  vocab_size_ = model_->id_limit();
  for (const AddedToken& t : added_.tokens()) vocab_size_ = std::max(vocab_size_, t.id + 1);
  resolve_special_ids(root_json, folder);
}

void HfTokenizer::parse_added_tokens(const JsonField& list) {
  std::vector<AddedToken> tokens;
  for (size_t i = 0; i < list.array_size(); ++i) {
    const JsonField entry = list.at(i);
    AddedToken t;
    t.id = entry.at("id").as_int();
    if (t.id < 0) entry.at("id").fail("must not be negative", "the file is corrupt");
    if (t.id >= (int64_t{1} << 24)) {
      entry.at("id").fail("id " + std::to_string(t.id) + " is beyond any vocabulary (16M ids)",
                          "the file is corrupt");
    }
    t.content = entry.at("content").as_string();
    if (t.content.empty()) entry.at("content").fail("must not be empty", "the file is corrupt");
    if (utf8_valid_prefix(t.content) != t.content.size()) {
      entry.at("content").fail("is not valid UTF-8", "the file is corrupt");
    }
    t.special = entry.get_bool("special", false);
    t.single_word = entry.get_bool("single_word", false);
    t.lstrip = entry.get_bool("lstrip", false);
    t.rstrip = entry.get_bool("rstrip", false);
    t.normalized = entry.get_bool("normalized", !t.special);
    tokens.push_back(std::move(t));
  }
  const Normalizer* normalizer = normalizer_.get();
  added_ = AddedVocabulary(std::move(tokens), [normalizer](const std::string& s) {
    return normalizer ? normalizer->normalize(s) : s;
  });
}

void HfTokenizer::resolve_special_ids(const nlohmann::json& root, const FolderTokenConfig& folder) {
  auto named = [&](const std::optional<std::string>& name) -> std::optional<int64_t> {
    if (!name) return std::nullopt;
    return token_to_id(*name);
  };
  bos_id_ = named(folder.bos_token);
  if (!bos_id_) bos_id_ = post_processor_.leading_special();
  if (!bos_id_) bos_id_ = folder.bos_token_id;
  eos_id_ = named(folder.eos_token);
  if (!eos_id_) eos_id_ = folder.eos_token_id;
  if (!eos_id_) eos_id_ = post_processor_.trailing_special();

  std::optional<int64_t> pad;
  auto padding = root.find("padding");
  if (padding != root.end() && padding->is_object()) {
    auto id = padding->find("pad_id");
    if (id != padding->end() && id->is_number_integer()) {
      pad = json_to_integer<int64_t>(*id);
      if (!pad || *pad < 0) {
        throw TokenizerError(path_ + ": padding.pad_id " + id->dump() +
                             " is not a token id; fix or remove the padding section");
      }
    }
  }
  if (!pad) pad = named(folder.pad_token);
  if (!pad) pad = folder.pad_token_id;
  pad_id_ = pad.value_or(0);
}

void HfTokenizer::encode_stretch(const std::string& text,
                                 bool at_start,
                                 std::vector<int64_t>& ids) const {
  const std::string normalized = normalizer_ ? normalizer_->normalize(text) : text;
  for (const TextSegment& seg : added_.split(normalized, /*normalized=*/true)) {
    if (seg.token_id >= 0) {
      ids.push_back(seg.token_id);
      continue;
    }
    if (seg.text.empty()) continue;
    std::vector<PreToken> pieces{{seg.text, at_start && seg.offset == 0}};
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    for (const PreToken& piece : pieces) model_->tokenize(piece.text, ids);
  }
}

std::vector<int64_t> HfTokenizer::encode(const std::string& text, bool add_special_tokens) const {
  const std::string input = utf8_lossy(text);
  std::vector<int64_t> ids;
  ids.reserve(input.size() / 3 + 4);
  for (const TextSegment& seg : added_.split(input, /*normalized=*/false)) {
    if (seg.token_id >= 0) {
      ids.push_back(seg.token_id);
    } else if (!seg.text.empty()) {
      encode_stretch(seg.text, seg.offset == 0, ids);
    }
  }
  return add_special_tokens ? post_processor_.apply(std::move(ids)) : ids;
}

std::string HfTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::vector<DecodePiece> pieces;
  pieces.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (const AddedToken* added = added_.find_id(ids[i])) {
      if (!(skip_special_tokens && added->special)) pieces.push_back({added->content, true});
      continue;
    }
    const std::string* token = model_->id_to_token(ids[i]);
    if (token == nullptr) {
      throw TokenizerError("token id " + std::to_string(ids[i]) + " at position " +
                           std::to_string(i) + " is not in the vocabulary of " + path_ + " (" +
                           std::to_string(vocab_size_) +
                           " ids); decode ids made with this tokenizer");
    }
    pieces.push_back({*token, false});
  }
  return run_decoder(decoder_.get(), std::move(pieces));
}

std::optional<std::string> HfTokenizer::id_to_token(int64_t id) const {
  if (const AddedToken* added = added_.find_id(id)) return added->content;
  if (const std::string* token = model_->id_to_token(id)) return *token;
  return std::nullopt;
}

std::optional<int64_t> HfTokenizer::token_to_id(const std::string& token) const {
  if (auto id = added_.find_content(token)) return id;
  return model_->token_to_id(token);
}

}  // namespace apportion::tok
