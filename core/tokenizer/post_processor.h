// SPDX-License-Identifier: GPL-3.0-or-later
// PostProcessor: tokenizer.json's "post_processor" (TemplateProcessing, ByteLevel, Sequence,
// BertProcessing, RobertaProcessing) for single sequences: the special ids it adds around the
// encoded text when add_special_tokens is true (e.g. LLaMA's BOS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {

class PostProcessor {
 public:
  /// Parses a post_processor object (null: adds nothing); TokenizerError names unsupported
  /// types and fields.
  static PostProcessor parse(const JsonField& node);
  PostProcessor() = default;

  /// The ids of a single sequence with the special ids added.
  std::vector<int64_t> apply(std::vector<int64_t> ids) const;
  /// The first special id placed before the sequence (the BOS of LLaMA-style templates).
  std::optional<int64_t> leading_special() const;
  /// The first special id placed after the sequence.
  std::optional<int64_t> trailing_special() const;

 private:
  void parse_into(const JsonField& node);
  bool has_template_ = false;
  std::vector<int64_t> before_;  ///< special ids before $A
  std::vector<int64_t> after_;   ///< special ids after $A
};

}  // namespace apportion::tok
