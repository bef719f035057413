// SPDX-License-Identifier: GPL-3.0-or-later
// Unicode operations the Hugging Face normalizers and pre-tokenizers need, backed by ICU:
// NFC/NFD/NFKC/NFKD, per-character lowercase (Rust's char::to_lowercase) and the character
// classes of Rust's char and regex crates (whitespace, \w, numeric, combining marks).
#pragma once

#include <string>
#include <string_view>

namespace apportion::tok {

enum class NormalForm {
  Nfc,
  Nfd,
  Nfkc,
  Nfkd,
};

/// `text` (well-formed UTF-8) in the normal form.
std::string unicode_normalize(std::string_view text, NormalForm form);
/// Lowercase, one code point at a time with the full mappings (no final-sigma context).
std::string unicode_lowercase(std::string_view text);
/// Unicode White_Space (Rust char::is_whitespace, regex \s).
bool is_unicode_whitespace(char32_t cp);
/// Rust regex \w: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
bool is_word_char(char32_t cp);
/// Rust char::is_numeric: general categories Nd, Nl, No.
bool is_numeric_char(char32_t cp);
/// General category M (Mn, Mc, Me): what StripAccents removes.
bool is_combining_mark(char32_t cp);

}  // namespace apportion::tok
