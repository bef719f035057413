// SPDX-License-Identifier: GPL-3.0-or-later
// UTF-8 helpers of the tokenizers: code point iteration and encoding, and the lossy repair of
// ill-formed input (each maximal ill-formed subpart becomes U+FFFD, as Rust's
// String::from_utf8_lossy and the WHATWG decoder do, so decoded text matches Hugging Face's).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apportion::tok {

/// Code point at s[i] of well-formed UTF-8; advances i past it.
char32_t utf8_next(std::string_view s, size_t& i);
/// Byte length of the well-formed sequence whose lead byte is `lead`.
size_t utf8_length(unsigned char lead);
/// Appends the UTF-8 encoding of `cp`.
void utf8_append(std::string& out, char32_t cp);
/// Length of the well-formed UTF-8 prefix of `bytes` (bytes.size() when all is well-formed).
size_t utf8_valid_prefix(std::string_view bytes);
/// `bytes` with each maximal ill-formed subpart replaced by U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace apportion::tok
