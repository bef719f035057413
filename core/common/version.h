// SPDX-License-Identifier: GPL-3.0-or-later
// Version string of this build (set by CMake).
#pragma once

namespace apportion {
/// The project version, e.g. "0.1.0".
inline constexpr const char* kVersion = AP_VERSION;
}  // namespace apportion
