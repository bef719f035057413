// SPDX-License-Identifier: GPL-3.0-or-later
// Byte-level BPE's byte <-> code point map (bytes_to_unicode of GPT-2's encoder.py).
#include "core/tokenizer/byte_level.h"

#include <array>

#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

/// Code points stand for bytes up to U+0143.
constexpr char32_t kMaxMapped = 0x144;

struct ByteMap {
  std::array<char32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8{};
  std::array<int16_t, kMaxMapped> to_byte{};
  ByteMap() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_cp[b] = printable ? static_cast<char32_t>(b) : next++;
      utf8_append(to_utf8[b], to_cp[b]);
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

std::string byte_level_encode(std::string_view bytes) {
  const ByteMap& m = byte_map();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += m.to_utf8[b];
  return out;
}

std::optional<uint8_t> byte_level_byte(char32_t cp) {
  if (cp >= kMaxMapped) return std::nullopt;
  const int16_t b = byte_map().to_byte[cp];
  if (b < 0) return std::nullopt;
  return static_cast<uint8_t>(b);
}

bool byte_level_decode(std::string_view token, std::string& out) {
  const size_t mark = out.size();
  size_t i = 0;
  while (i < token.size()) {
    const auto b = byte_level_byte(utf8_next(token, i));
    if (!b) {
      out.resize(mark);
      return false;
    }
    out.push_back(static_cast<char>(*b));
  }
  return true;
}

}  // namespace apportion::tok
