// SPDX-License-Identifier: GPL-3.0-or-later
// PreTokenizer: tokenizer.json's "pre_tokenizer" (Sequence, Split, ByteLevel, Metaspace, Digits,
// Whitespace, WhitespaceSplit). It cuts normalized text into the pieces BPE sees, and the
// byte-level and Metaspace ones also rewrite them (bytes -> GPT-2 alphabet, ' ' -> '▁').
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {

/// One piece of text on its way to the model.
struct PreToken {
  std::string text;
  bool at_start = false;  ///< starts at offset 0 of the encoded text (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Splits and rewrites the pieces in place.
  virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

/// Parses a pre_tokenizer object (null -> nullptr); TokenizerError names the field of an
/// unsupported type or option.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonField& node);

/// GPT-2's pre-tokenization regex (ByteLevel with use_regex true).
extern const char* const kGpt2Pattern;

}  // namespace apportion::tok
