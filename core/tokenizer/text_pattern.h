// SPDX-License-Identifier: GPL-3.0-or-later
// TextPattern: the {"String": …} / {"Regex": …} patterns of tokenizer.json (Split, Replace),
// and the split behaviours of Hugging Face's NormalizedString::split (Removed, Isolated,
// MergedWithPrevious, MergedWithNext, Contiguous).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/json_field.h"
#include "core/tokenizer/pcre_regex.h"

namespace apportion::tok {

class TextPattern {
 public:
  /// Parses {"String": "…"} or {"Regex": "…"}; TokenizerError names the field.
  static TextPattern parse(const JsonField& node);
  static TextPattern literal(std::string text);
  /// Every code point for which `predicate` holds is one match.
  static TextPattern chars(std::function<bool(char32_t)> predicate);

  /// Non-overlapping matches, left to right (an empty literal matches nothing).
  std::vector<RegexMatch> find_all(std::string_view text) const;
  /// `text` with every match replaced by `content`.
  std::string replace_all(std::string_view text, const std::string& content) const;

 private:
  std::string literal_;
  std::shared_ptr<const PcreRegex> regex_;
  std::function<bool(char32_t)> predicate_;
};

enum class SplitBehavior {
  Removed,
  Isolated,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous,
};

/// Parses "Removed", "Isolated", … (TokenizerError for anything else).
SplitBehavior parse_split_behavior(const JsonField& node);

/// The byte ranges of the parts of a text of `size` bytes split at `matches`, as
/// NormalizedString::split does; empty parts are dropped. With `invert`, the non-matching
/// stretches play the role of the matches.
std::vector<RegexMatch> split_ranges(size_t size,
                                     const std::vector<RegexMatch>& matches,
                                     SplitBehavior behavior,
                                     bool invert);

}  // namespace apportion::tok
