// SPDX-License-Identifier: GPL-3.0-or-later
// PcreRegex: a compiled PCRE2 pattern (UTF + UCP, JIT when available) that lists all
// non-overlapping matches, standing in for the Oniguruma regexes of Hugging Face tokenizers.
// \s and \S are rewritten to Oniguruma's Unicode set (PCRE2's differs at U+0085 and U+180E).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace apportion::tok {

struct RegexMatch {
  size_t start = 0;  ///< byte offset of the first byte
  size_t end = 0;    ///< byte offset one past the last byte
};

class PcreRegex {
 public:
  /// Compiles `pattern`; throws TokenizerError "regex error at offset N: …" when invalid.
  explicit PcreRegex(const std::string& pattern);
  ~PcreRegex();
  PcreRegex(const PcreRegex&) = delete;
  PcreRegex& operator=(const PcreRegex&) = delete;

  /// All non-overlapping matches in well-formed UTF-8 `text`, left to right. After an empty
  /// match the search resumes one character later (Oniguruma's find_iter).
  std::vector<RegexMatch> find_all(std::string_view text) const;
  /// The pattern as written in the tokenizer file.
  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

/// `pattern` with \s and \S rewritten to Oniguruma's Unicode \s (U+0009-U+000D, U+0085, Z).
std::string oniguruma_compatible(const std::string& pattern);

}  // namespace apportion::tok
