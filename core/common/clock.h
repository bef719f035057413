// SPDX-License-Identifier: GPL-3.0-or-later
// Wall-clock helpers: integer milliseconds since the epoch, as stored in the run store.
#pragma once

#include <chrono>
#include <cstdint>

namespace apportion {
/// Milliseconds since the Unix epoch.
inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace apportion
