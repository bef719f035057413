// SPDX-License-Identifier: GPL-3.0-or-later
// BuiltinByteTokenizer: ByteTokenizer wrapped as a Tokenizer.
#include "core/tokenizer/builtin_byte_tokenizer.h"

#include <cstdio>

#include "core/common/error.h"

namespace apportion::tok {
namespace {

const char* special_name(int64_t id) {
  switch (id) {
    case ByteTokenizer::kPad:
      return "<pad>";
    case ByteTokenizer::kBos:
      return "<bos>";
    case ByteTokenizer::kEos:
      return "<eos>";
    default:
      return nullptr;
  }
}

}  // namespace

std::vector<int64_t> BuiltinByteTokenizer::encode(const std::string& text,
                                                  bool add_special_tokens) const {
  std::vector<int64_t> ids = bytes_.encode(text);
  if (add_special_tokens) ids.insert(ids.begin(), ByteTokenizer::kBos);
  return ids;
}

std::string BuiltinByteTokenizer::decode(const std::vector<int64_t>& ids,
                                         bool skip_special_tokens) const {
  std::string text;
  std::vector<int64_t> run;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= ByteTokenizer::kVocabSize) {
      throw TokenizerError("token id " + std::to_string(id) + " at position " + std::to_string(i) +
                           " is outside the byte vocabulary [0, " +
                           std::to_string(ByteTokenizer::kVocabSize) +
                           "); decode ids made with the byte tokenizer");
    }
    if (id < 256) {
      run.push_back(id);
      continue;
    }
    text += bytes_.decode(run);
    run.clear();
    if (!skip_special_tokens) text += special_name(id);
  }
  return text + bytes_.decode(run);
}

std::optional<std::string> BuiltinByteTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= ByteTokenizer::kVocabSize) return std::nullopt;
  if (const char* name = special_name(id)) return std::string(name);
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "<0x%02X>", static_cast<unsigned>(id));
  return std::string(buffer);
}

std::optional<int64_t> BuiltinByteTokenizer::token_to_id(const std::string& token) const {
  for (int64_t id = 0; id < ByteTokenizer::kVocabSize; ++id) {
    if (id_to_token(id) == token) return id;
  }
  return std::nullopt;
}

}  // namespace apportion::tok
