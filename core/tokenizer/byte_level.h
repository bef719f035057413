// SPDX-License-Identifier: GPL-3.0-or-later
// GPT-2's byte-to-unicode map used by byte-level BPE (GPT-2, LLaMA-3, Qwen): every byte gets a
// printable code point (printable Latin-1 maps to itself, the rest to U+0100…U+0143), so any
// byte string becomes a string of vocabulary characters, and back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apportion::tok {

/// The UTF-8 of the code point standing for each byte of `bytes`, concatenated.
std::string byte_level_encode(std::string_view bytes);
/// The byte a code point stands for, or nullopt when it is not in the map.
std::optional<uint8_t> byte_level_byte(char32_t cp);
/// Appends the bytes `token` stands for; false (and nothing appended) when one of its code
/// points is not in the map.
bool byte_level_decode(std::string_view token, std::string& out);

}  // namespace apportion::tok
