// SPDX-License-Identifier: GPL-3.0-or-later
// HfTokenizer: a Hugging Face tokenizer.json with a BPE model (byte-level as in GPT-2, LLaMA-3
// and Qwen, or SentencePiece-style as in LLaMA-2 and Mistral), run through the same pipeline as
// Hugging Face's tokenizers: added tokens, normalizer, pre-tokenizer, BPE, post-processor;
// decoding through the decoder chain.
//
// Input text that is not well-formed UTF-8 is repaired first (each ill-formed subsequence
// becomes U+FFFD, like Python's errors="replace"): HF tokenizers only accept Unicode strings.
#pragma once

#include <memory>
#include <string>

#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/folder_config.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/post_processor.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/token_decoder.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion::tok {

class HfTokenizer : public Tokenizer {
 public:
  /// Loads `path` (a tokenizer.json); `folder` supplies BOS/EOS/PAD names and ids.
  /// TokenizerError names the file, the JSON path and what to do.
  HfTokenizer(const std::string& path, const FolderTokenConfig& folder);

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> bos_id() const override { return bos_id_; }
  std::optional<int64_t> eos_id() const override { return eos_id_; }
  int64_t pad_id() const override { return pad_id_; }
  std::optional<std::string> id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  std::string kind() const override { return kind_; }

 private:
  void parse_added_tokens(const JsonField& list);
  void resolve_special_ids(const nlohmann::json& root, const FolderTokenConfig& folder);
  /// Normalizes, pre-tokenizes and BPE-encodes one stretch between added tokens.
  void encode_stretch(const std::string& text, bool at_start, std::vector<int64_t>& ids) const;

  std::string path_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  PostProcessor post_processor_;
  std::unique_ptr<TokenDecoder> decoder_;
  AddedVocabulary added_;
  std::string kind_;
  int64_t vocab_size_ = 0;
  std::optional<int64_t> bos_id_;
  std::optional<int64_t> eos_id_;
  int64_t pad_id_ = 0;
};

}  // namespace apportion::tok
