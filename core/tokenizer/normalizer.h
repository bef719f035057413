// SPDX-License-Identifier: GPL-3.0-or-later
// Normalizer: tokenizer.json's "normalizer" (Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend,
// Replace, Strip, StripAccents), applied to each stretch of text between added tokens.
#pragma once

#include <memory>
#include <string>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  /// The normalized form of one stretch of well-formed UTF-8 text.
  virtual std::string normalize(std::string text) const = 0;
};

/// Parses a normalizer object (null -> nullptr). TokenizerError names the field of an
/// unsupported type such as "Precompiled" or "BertNormalizer".
std::unique_ptr<Normalizer> parse_normalizer(const JsonField& node);

}  // namespace apportion::tok
