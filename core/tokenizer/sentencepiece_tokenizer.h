// SPDX-License-Identifier: GPL-3.0-or-later
// SentencePieceTokenizer: a tokenizer.model read by libsentencepiece (loaded at run time through
// SentencePieceModel), used when a model folder
// has no tokenizer.json. Like Hugging Face's slow LlamaTokenizer: control and unknown pieces
// written in the text (<s>, </s>, <unk>) are split out first and each stretch between them is
// encoded on its own; add_special_tokens adds BOS (unless tokenizer_config.json's
// add_bos_token is false) and EOS (only when add_eos_token is true).
#pragma once

#include <memory>
#include <string>

#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/folder_config.h"
#include "core/tokenizer/sentencepiece_library.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion::tok {

class SentencePieceTokenizer : public Tokenizer {
 public:
  /// Loads `path`; TokenizerError names the file when it is missing or not a model.
  SentencePieceTokenizer(const std::string& path, const FolderTokenConfig& folder);
  ~SentencePieceTokenizer() override;

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override;
  std::optional<int64_t> bos_id() const override;
  std::optional<int64_t> eos_id() const override;
  int64_t pad_id() const override { return pad_id_; }
  std::optional<std::string> id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  std::string kind() const override { return "sentencepiece-model"; }

 private:
  bool is_special(int64_t id) const;

  std::string path_;
  std::unique_ptr<SentencePieceModel> sp_;
  AddedVocabulary specials_;  ///< control and unknown pieces, matched in text
  bool add_bos_ = true;
  bool add_eos_ = false;
  int64_t pad_id_ = 0;
};

}  // namespace apportion::tok
