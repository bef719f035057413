// SPDX-License-Identifier: GPL-3.0-or-later
// PcreRegex: PCRE2 (8-bit, UTF, UCP, JIT) match iteration for the tokenizer regexes.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/tokenizer/pcre_regex.h"

#include <pcre2.h>

#include "core/common/error.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {

struct PcreRegex::Impl {
  pcre2_code* code = nullptr;
};

PcreRegex::PcreRegex(const std::string& pattern) : pattern_(pattern), impl_(new Impl) {
  const std::string compiled = oniguruma_compatible(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(),
                              PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error_code, buffer, sizeof(buffer));
    throw TokenizerError("regex error at offset " + std::to_string(error_offset) + ": " +
                         reinterpret_cast<const char*>(buffer));
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
}

PcreRegex::~PcreRegex() {
  if (impl_ && impl_->code) pcre2_code_free(impl_->code);
}

std::vector<RegexMatch> PcreRegex::find_all(std::string_view text) const {
  std::vector<RegexMatch> matches;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (data == nullptr) throw TokenizerError("out of memory for regex match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset <= text.size()) {
    const int rc =
        pcre2_match(impl_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(data);
      PCRE2_UCHAR buffer[256];
      pcre2_get_error_message(rc, buffer, sizeof(buffer));
      throw TokenizerError("regex /" + pattern_ +
                           "/ failed: " + reinterpret_cast<const char*>(buffer));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    const size_t start = ov[0], end = ov[1];
    matches.push_back({start, end});
    if (end > start) {
      offset = end;
    } else if (start >= text.size()) {
      break;
    } else {
      offset = start + utf8_length(static_cast<unsigned char>(text[start]));
    }
  }
  pcre2_match_data_free(data);
  return matches;
}

namespace {
/// Oniguruma's Unicode \s: U+0009-U+000D, U+0085 and the separators (Zs, Zl, Zp). PCRE2's UCP
/// \s lacks U+0085 and matches U+180E, which is no longer a space separator.
constexpr const char* kOnigSpace = "\\x{09}-\\x{0D}\\x{85}\\p{Z}";
}  // namespace

std::string oniguruma_compatible(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 's') {
        out += in_class ? kOnigSpace : std::string("[") + kOnigSpace + "]";
      } else if (next == 'S' && !in_class) {
        out += std::string("[^") + kOnigSpace + "]";
      } else {
        out += c;
        out += next;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace apportion::tok
