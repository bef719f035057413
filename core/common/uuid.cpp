// SPDX-License-Identifier: GPL-3.0-or-later
// Random UUID v4 generation from std::random_device.
#include "core/common/uuid.h"

#include <array>
#include <cstdint>
#include <random>

namespace apportion {

std::string make_uuid_hex() {
  static thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seq{device(), device(), device(), device()};
    return std::mt19937_64(seq);
  }()};
  std::array<uint8_t, 16> bytes{};
  for (auto& b : bytes) b = static_cast<uint8_t>(engine() & 0xffu);
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0fu) | 0x40u);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3fu) | 0x80u);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

}  // namespace apportion
