// SPDX-License-Identifier: GPL-3.0-or-later
// BuiltinByteTokenizer: the tiny backbone's ByteTokenizer (ids 0-255 = bytes, 256 PAD, 257 BOS,
// 258 EOS) behind the Tokenizer interface. Any bytes encode as themselves (no UTF-8 repair);
// add_special_tokens adds BOS only (as LLaMA does); special tokens have no text form to match.
// Token strings: "<0xNN>" for bytes, "<pad>", "<bos>", "<eos>" for the specials.
#pragma once

#include "core/tokenizer/byte_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion::tok {

class BuiltinByteTokenizer : public Tokenizer {
 public:
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override { return ByteTokenizer::kVocabSize; }
  std::optional<int64_t> bos_id() const override { return ByteTokenizer::kBos; }
  std::optional<int64_t> eos_id() const override { return ByteTokenizer::kEos; }
  int64_t pad_id() const override { return ByteTokenizer::kPad; }
  std::optional<std::string> id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  std::string kind() const override { return "byte"; }

 private:
  ByteTokenizer bytes_;
};

}  // namespace apportion::tok
