// SPDX-License-Identifier: GPL-3.0-or-later
// ICU-backed normalization, lowercase and character classes for the tokenizers.
#include "core/tokenizer/unicode_text.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include "core/common/error.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

const icu::Normalizer2& normalizer_for(NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::Nfc:
      n = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::Nfd:
      n = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::Nfkc:
      n = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::Nfkd:
      n = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || n == nullptr) {
    throw TokenizerError(std::string("ICU normalizer unavailable (") + u_errorName(status) +
                         "); reinstall libicu");
  }
  return *n;
}

}  // namespace

std::string unicode_normalize(std::string_view text, NormalForm form) {
  const icu::Normalizer2& n = normalizer_for(form);
  UErrorCode status = U_ZERO_ERROR;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (n.isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
  n.normalizeUTF8(0, piece, sink, nullptr, status);
  if (U_FAILURE(status)) {
    throw TokenizerError(std::string("Unicode normalization failed (") + u_errorName(status) + ")");
  }
  return out;
}

std::string unicode_lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const char32_t cp = utf8_next(text, i);
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
      continue;
    }
    // One code point at a time: full mappings (İ -> i̇) but never the final-sigma context.
    UErrorCode status = U_ZERO_ERROR;
    icu::StringByteSink<std::string> sink(&out);
    icu::CaseMap::utf8ToLower(
        "", 0, icu::StringPiece(text.data() + start, static_cast<int32_t>(i - start)), sink,
        nullptr, status);
    if (U_FAILURE(status)) out.append(text.substr(start, i - start));
  }
  return out;
}

bool is_unicode_whitespace(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

bool is_word_char(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL)) {
    return true;
  }
  const int32_t mask = U_GET_GC_MASK(c);
  return (mask & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

bool is_numeric_char(char32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_N_MASK) != 0;
}

bool is_combining_mark(char32_t cp) {
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_M_MASK) != 0;
}

}  // namespace apportion::tok
