// SPDX-License-Identifier: GPL-3.0-or-later
// ByteTokenizer: UTF-8 bytes as ids 0..255; PAD/BOS/EOS are skipped when decoding.
#include "core/tokenizer/byte_tokenizer.h"

#include "core/common/error.h"

namespace apportion {

std::vector<int64_t> ByteTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text) {
    ids.push_back(static_cast<int64_t>(c));
  }
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids[i];
    AP_CHECK_AS(DataError, id >= 0 && id < kVocabSize, "token id ", id, " at position ", i,
                " is outside the byte vocabulary [0, ", kVocabSize, ")");
    if (id < 256) {
      text.push_back(static_cast<char>(static_cast<unsigned char>(id)));
    }
  }
  return text;
}

}  // namespace apportion
