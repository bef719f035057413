// SPDX-License-Identifier: GPL-3.0-or-later
// The tiny backbone's tokenizer: one token per UTF-8 byte (ids 0–255) plus PAD, BOS and EOS.
// Real HF tokenizers come later; this one needs no files and round-trips any text exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

class ByteTokenizer {
 public:
  static constexpr int64_t kPad = 256;  ///< padding id (never a loss target)
  static constexpr int64_t kBos = 257;  ///< beginning of sequence
  static constexpr int64_t kEos = 258;  ///< end of sequence
  static constexpr int64_t kVocabSize = 259;

  /// Bytes of `text` as ids (no BOS/EOS).
  std::vector<int64_t> encode(const std::string& text) const;
  /// Ids back to text; special ids are skipped. Throws DataError on an id outside the vocabulary.
  std::string decode(const std::vector<int64_t>& ids) const;
};

}  // namespace apportion
